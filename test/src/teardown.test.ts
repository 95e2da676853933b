import { Match, Template } from 'aws-cdk-lib/assertions';
import { RunnerConfig } from '../../src';
import { synthRunners } from './support/synth';

const WARM: RunnerConfig = { name: 'linux-x64', labels: ['linux', 'x64'], instanceTypes: ['m7i.large'], maxRunners: 8, warmPool: { size: 5 } };
const COLD: RunnerConfig = { name: 'linux-large', labels: ['linux', 'x64', 'large'], instanceTypes: ['m7i.xlarge'] };

type Resource = { Type: string; DependsOn?: string[]; Properties: Record<string, any> };

function teardownOf(t: Template): [string, Resource] {
  const found = Object.entries(t.findResources('Custom::InstanceTeardown'));
  expect(found).toHaveLength(1);
  return found[0] as [string, Resource];
}

function functionOf(t: Template, service: string): [string, Resource] {
  return Object.entries(t.findResources('AWS::Lambda::Function'))
    .find(([, f]) => f.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME === service) as [string, Resource];
}

describe('the instance teardown', () => {
  const template = synthRunners([WARM, COLD]);

  test('exists only when a runner config keeps a warm pool', () => {
    teardownOf(template);
    const cold = synthRunners([COLD]);
    cold.resourceCountIs('Custom::InstanceTeardown', 0);
    expect(functionOf(cold, 'teardown')).toBeUndefined();
  });

  test('is served by its function outside any VPC, answering within five minutes', () => {
    const [, resource] = teardownOf(template);
    const [functionId, fn] = functionOf(template, 'teardown');
    expect(resource.Properties.ServiceToken).toEqual({ 'Fn::GetAtt': [functionId, 'Arn'] });
    expect(resource.Properties.ServiceTimeout).toBe('300');
    expect(fn.Properties.VpcConfig).toBeUndefined();
    // The sweep ends 20 s before the function's timeout, which is within the service timeout.
    expect(fn.Properties.Timeout).toBe(240);
    expect(fn.Properties.Environment.Variables.MANAGED_BY).toMatch(/^er-[0-9a-f]{10}$/);
  });

  test('is deleted after the provisioner, its event source mapping and launch policy, and the reconciler\'s schedule', () => {
    const [teardownId] = teardownOf(template);
    const dependsOnTeardown = (type: string, id: RegExp) => {
      const found = Object.entries(template.findResources(type)).filter(([logicalId]) => id.test(logicalId));
      expect(found.length).toBeGreaterThan(0);
      for (const [, r] of found) expect(r.DependsOn ?? []).toContain(teardownId);
    };
    dependsOnTeardown('AWS::Lambda::EventSourceMapping', /^RunnersProvisioner/);
    dependsOnTeardown('AWS::Lambda::Function', /^RunnersProvisioner/);
    dependsOnTeardown('AWS::IAM::ManagedPolicy', /^RunnersProvisioner.*LaunchPolicy/);
    dependsOnTeardown('AWS::IAM::Policy', /^RunnersProvisioner/);
    dependsOnTeardown('AWS::Events::Rule', /^RunnersReconcilerSchedule/);
    // Its own function and role stay until it is deleted.
    const [, resource] = teardownOf(template);
    const [functionId] = functionOf(template, 'teardown');
    expect(resource.DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/^RunnersTeardownHandlerRole/)]));
    expect(JSON.stringify(template.findResources('AWS::Lambda::Function')[functionId].DependsOn ?? [])).not.toContain(teardownId);
  });

  test('its function may list instances, terminate only the deployment\'s, and describe only its own stack', () => {
    const [, fn] = functionOf(template, 'teardown');
    const roleId = fn.Properties.Role['Fn::GetAtt'][0];
    const statements = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((p) => p.Properties.Roles.some((r: { Ref: string }) => r.Ref === roleId))
      .flatMap((p) => p.Properties.PolicyDocument.Statement);
    const actions = statements.flatMap((s) => [s.Action].flat()).sort();
    expect(actions).toEqual(['cloudformation:DescribeStacks', 'ec2:DescribeInstances', 'ec2:TerminateInstances', 'logs:CreateLogStream', 'logs:PutLogEvents'].sort());
    expect(statements).toContainEqual(expect.objectContaining({ Action: 'ec2:DescribeInstances', Resource: '*' }));
    expect(statements).toContainEqual(expect.objectContaining({
      Action: 'ec2:TerminateInstances',
      Condition: { StringEquals: { 'aws:ResourceTag/ephemeral-runners:managed-by': fn.Properties.Environment.Variables.MANAGED_BY } },
    }));
    expect(statements).toContainEqual(expect.objectContaining({ Action: 'cloudformation:DescribeStacks', Resource: { Ref: 'AWS::StackId' } }));
    template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: 'teardown' }) } });
  });
});
