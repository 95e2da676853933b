import { App, Lazy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { EphemeralRunners, RunnerConfig } from '../../src';
import { MANAGED_POLICY_SIZE_LIMIT, packStatements } from '../../src/private/policy-size';

const CONFIGS: RunnerConfig[] = Array.from({ length: 12 }, (_, i) => ({ name: `config-${i}`, labels: [`team-${i}`] }));

/** The provisioner's launch policies of a fresh app with 12 configs over three subnets, after `tokensBefore` unrelated tokens. */
function launchPolicies(tokensBefore: number): Record<string, unknown> {
  for (let i = 0; i < tokensBefore; i++) Lazy.string({ produce: () => 'x' });
  const stack = new Stack(new App(), 'Test', { env: { account: '123456789012', region: 'eu-west-1' } });
  const vpc = new ec2.Vpc(stack, 'Vpc', { natGateways: 0, maxAzs: 3, subnetConfiguration: [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC }] });
  new EphemeralRunners(stack, 'Runners', { github: { url: 'https://ghes.example.com', appId: '12' }, vpc, runnerConfigs: CONFIGS });
  return Template.fromStack(stack).findResources('AWS::IAM::ManagedPolicy');
}

/** A policy document as IAM would hold it, with physical ids of the longest kind (a role name is at most 64 characters). */
function deployed(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(deployed);
  if (typeof value !== 'object' || value === null) return value;
  const v = value as Record<string, unknown>;
  if (v.Ref === 'AWS::Partition') return 'aws';
  if (typeof v.Ref === 'string') return v.Ref.includes('Subnet') ? 'subnet-0123456789abcdef0' : 'lt-0123456789abcdef0';
  if ('Fn::GetAtt' in v) return `arn:aws:iam::123456789012:role/${'r'.repeat(64)}`;
  if ('Fn::Join' in v) {
    const [separator, parts] = v['Fn::Join'] as [string, unknown[]];
    return parts.map((part) => deployed(part)).join(separator);
  }
  return Object.fromEntries(Object.entries(v).map(([k, inner]) => [k, deployed(inner)]));
}

describe('the provisioner\'s launch statements', () => {
  test('land in the same managed policies however many tokens the app made before', () => {
    const first = launchPolicies(0);
    const second = launchPolicies(20_000);

    expect(Object.keys(first).length).toBeGreaterThan(1);
    expect(second).toEqual(first);
  });

  test('with many configs, spread over managed policies that each fit IAM\'s limit once deployed, within a role\'s ten', () => {
    const documents = Object.values(launchPolicies(0)).map((p) => (p as { Properties: { PolicyDocument: unknown } }).Properties.PolicyDocument);

    expect(documents.length).toBeLessThanOrEqual(10);
    for (const document of documents) expect(JSON.stringify(deployed(document)).length).toBeLessThanOrEqual(MANAGED_POLICY_SIZE_LIMIT);
  });

  test('a statement no managed policy can hold fails synth, naming the fix', () => {
    const stack = new Stack(new App(), 'TooLarge');
    const huge = new iam.PolicyStatement({ actions: ['ec2:RunInstances'], resources: Array.from({ length: 200 }, (_, i) => `arn:aws:ec2:eu-west-1:123456789012:subnet/subnet-${i}`) });

    expect(() => packStatements(stack, [huge])).toThrow(/does not fit a managed policy \(6144\); fewer runner configs or subnets/);
  });
});
