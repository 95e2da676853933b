import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { synthRunners } from './support/synth';
import { EphemeralRunners, EphemeralRunnersProps, RunnerConfig } from '../../src';
import { UNBOUND_FLEET_CAP_WARNING } from '../../src/private';

const X64: RunnerConfig = { name: 'linux-x64', labels: ['linux', 'x64'], instanceTypes: ['m7i.large'], maxRunners: 10 };
const LARGE: RunnerConfig = { name: 'linux-large', labels: ['linux', 'x64', 'large'], instanceTypes: ['m7i.xlarge'], maxRunners: 5 };

function variablesOf(t: Template, service: string): Record<string, unknown> {
  const fn = Object.values(t.findResources('AWS::Lambda::Function')).find((f) => f.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME === service);
  return fn!.Properties.Environment.Variables;
}

function synthErrors(props: Partial<EphemeralRunnersProps>): string {
  try {
    synthRunners([X64, LARGE], props);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected synth to fail');
}

function stackWith(props: Partial<EphemeralRunnersProps>): Stack {
  const stack = new Stack(new App(), 'Test');
  const vpc = new ec2.Vpc(stack, 'Vpc', { natGateways: 0, subnetConfiguration: [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC }] });
  new EphemeralRunners(stack, 'Runners', { github: { url: 'https://ghes.example.com', appId: '12' }, vpc, runnerConfigs: [X64, LARGE], ...props });
  return stack;
}

describe('maxInstances', () => {
  test('reaches the provisioner, the lifecycle function and the reconciler in their environment', () => {
    const template = synthRunners([X64, LARGE], { maxInstances: 12 });
    for (const service of ['provisioner', 'lifecycle', 'reconciler']) expect(variablesOf(template, service).MAX_INSTANCES).toBe('12');
    expect(variablesOf(template, 'webhook').MAX_INSTANCES).toBeUndefined();
  });

  test('unset, no function reads a cap and no alarm or widget is made for it', () => {
    const template = synthRunners([X64, LARGE]);
    expect(variablesOf(template, 'provisioner').MAX_INSTANCES).toBeUndefined();
    expect(Object.keys(template.findResources('AWS::CloudWatch::Alarm')).filter((id) => id.includes('JobsWaitingOnFleetCap'))).toEqual([]);
    expect(JSON.stringify(template.findResources('AWS::CloudWatch::Dashboard'))).not.toContain('JobsWaitingOnFleetCap');
  });

  test('set, an alarm on jobs waiting on it, a dashboard graph against it, and TooManyInstances at the cap', () => {
    const template = synthRunners([X64, LARGE], { maxInstances: 12 });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'JobsWaitingOnFleetCap',
      Namespace: 'EphemeralRunners',
      Statistic: 'Maximum',
      Threshold: 1,
      EvaluationPeriods: 3,
      Period: 300,
      Dimensions: [{ Name: 'service', Value: 'reconciler' }],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'LiveInstances', Threshold: 13 });
    expect(JSON.stringify(template.findResources('AWS::CloudWatch::Dashboard'))).toContain('JobsWaitingOnFleetCap');
  });

  test.each([0, -1, 2.5, 1001])('%p is refused at synth, naming the prop, the value and the fix', (value) => {
    expect(synthErrors({ maxInstances: value })).toMatch(new RegExp(`maxInstances is ${value}; give a whole number from 1 to 1000, or leave it out`));
  });

  test('at least the configs\' maxRunners summed, synth warns that it never binds within one scope', () => {
    Annotations.fromStack(stackWith({ maxInstances: 15 })).hasWarning('*', Match.stringLikeRegexp(
      `maxInstances \\(15\\) is at least the sum of the runner configs' maxRunners \\(15\\).*\\[ack: ${UNBOUND_FLEET_CAP_WARNING}\\]`));
    expect(Annotations.fromStack(stackWith({ maxInstances: 14 })).findWarning('*', Match.stringLikeRegexp('maxInstances'))).toEqual([]);
  });
});
