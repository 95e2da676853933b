import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { EphemeralRunners, InstanceMarket, InterruptedRunner, LaunchErrorKind, RunnerStart } from '../../src';

function runnersIn(stack: Stack): EphemeralRunners {
  const vpc = new ec2.Vpc(stack, 'Vpc', { natGateways: 0, subnetConfiguration: [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC }] });
  return new EphemeralRunners(stack, 'Runners', {
    github: { url: 'https://ghes.example.com', appId: '12' },
    vpc,
    runnerConfigs: [{ name: 'linux-x64', labels: ['linux', 'x64'] }],
  });
}

describe('what a user builds on', () => {
  // A stack per test that adds to it: a stack is synthesized once.
  let stack: Stack;
  let runners: EphemeralRunners;
  beforeEach(() => {
    stack = new Stack(new App(), 'Test');
    runners = runnersIn(stack);
  });

  test('bucket.grantRead(runners) lets the runner instances read the bucket, and nothing else gets it', () => {
    const bucket = new s3.Bucket(stack, 'Artifacts');
    bucket.grantRead(runners);

    const template = Template.fromStack(stack);
    const readers = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((p) => JSON.stringify(p.Properties.PolicyDocument).includes('s3:GetObject'));
    expect(readers.map((p) => p.Properties.Roles)).toEqual([[{ Ref: stack.getLogicalId(runners.runnerRole.node.defaultChild as never) }]]);
  });

  test('db.connections.allowDefaultPortFrom(runners) opens the port to the runners\' security group', () => {
    const db = new ec2.SecurityGroup(stack, 'Database', { vpc: runners.vpc });
    const connections = new ec2.Connections({ securityGroups: [db], defaultPort: ec2.Port.tcp(5432) });
    connections.allowDefaultPortFrom(runners, 'runners');

    Template.fromStack(stack).hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      FromPort: 5432,
      GroupId: { 'Fn::GetAtt': [stack.getLogicalId(db.node.defaultChild as ec2.CfnSecurityGroup), 'GroupId'] },
      SourceSecurityGroupId: { 'Fn::GetAtt': [stack.getLogicalId(runners.runnerSecurityGroup.node.defaultChild as ec2.CfnSecurityGroup), 'GroupId'] },
    });
  });

  test('the metric methods name what the functions publish, with each metric\'s value dimension', () => {
    const spec = (m: cloudwatch.Metric) => ({ namespace: m.namespace, metricName: m.metricName, dimensions: m.dimensions, statistic: m.statistic });

    expect(spec(runners.metricJobsQueued('linux-x64'))).toEqual({
      namespace: 'EphemeralRunners', metricName: 'AcceptedJobEvents', dimensions: { service: 'webhook', config: 'linux-x64', action: 'queued' }, statistic: 'Sum',
    });
    expect(spec(runners.metricJobsStarted('linux-x64')).dimensions).toEqual({ service: 'webhook', config: 'linux-x64', action: 'in_progress' });
    expect(spec(runners.metricJobWaitTime('linux-x64'))).toEqual({
      namespace: 'EphemeralRunners', metricName: 'JobWaitSeconds', dimensions: { service: 'webhook', config: 'linux-x64' }, statistic: 'p90',
    });
    expect(spec(runners.metricJobWaitTime('linux-x64', { start: RunnerStart.WARM, statistic: 'p50' }))).toEqual({
      namespace: 'EphemeralRunners', metricName: 'JobWaitSecondsWarmStart', dimensions: { service: 'webhook', config: 'linux-x64' }, statistic: 'p50',
    });
    expect(spec(runners.metricJobWaitTime('linux-x64', { start: RunnerStart.COLD })).metricName).toBe('JobWaitSecondsColdStart');
    expect(spec(runners.metricInstancesLaunched(InstanceMarket.ON_DEMAND)).dimensions).toEqual({ service: 'provisioner', market: 'on-demand' });
    expect(spec(runners.metricLaunchErrors(LaunchErrorKind.CAPACITY)).dimensions).toEqual({ service: 'provisioner', kind: 'capacity' });
    expect(spec(runners.metricSpotInterruptions(InterruptedRunner.BUSY))).toMatchObject({ metricName: 'SpotInterruptions', dimensions: { service: 'lifecycle', runner: 'busy' } });
    expect(spec(runners.metricLiveInstances())).toEqual({
      namespace: 'EphemeralRunners', metricName: 'LiveInstances', dimensions: { service: 'reconciler' }, statistic: 'Maximum',
    });
    expect(spec(runners.metricOldestQueuedJobAge())).toMatchObject({ metricName: 'OldestQueuedJobSeconds', dimensions: { service: 'reconciler' } });
  });

  test('an alarm on a metric method watches what the construct\'s own alarm watches', () => {
    new cloudwatch.Alarm(stack, 'MyLiveInstances', { metric: runners.metricLiveInstances(), threshold: 3, evaluationPeriods: 1 });

    const alarms = Object.values(Template.fromStack(stack).findResources('AWS::CloudWatch::Alarm', { Properties: { MetricName: 'LiveInstances' } }));
    expect(alarms).toHaveLength(2); // the construct's TooManyInstances and the user's
    const watched = alarms.map((a) => JSON.stringify([a.Properties.Namespace, a.Properties.Dimensions, a.Properties.Statistic, a.Properties.Period]));
    expect(new Set(watched).size).toBe(1);
  });

  test('the metric options given win over the defaults', () => {
    const metric = runners.metricJobWaitTime('linux-x64', { statistic: 'p50', label: 'wait' });

    expect(metric.statistic).toBe('p50');
    expect(metric.label).toBe('wait');
    expect(metric.dimensions).toEqual({ service: 'webhook', config: 'linux-x64' });
  });

  test('the functions are reachable for alarms and event sources of one\'s own', () => {
    const template = Template.fromStack(stack);
    for (const [fn, service] of [[runners.webhookFunction, 'webhook'], [runners.registerFunction, 'register'], [runners.provisionerFunction, 'provisioner'],
      [runners.lifecycleFunction, 'lifecycle'], [runners.reconcilerFunction, 'reconciler']] as const) {
      const resource = template.toJSON().Resources[stack.getLogicalId(fn.node.defaultChild as never)];
      expect(resource.Properties.Environment.Variables.POWERTOOLS_SERVICE_NAME).toBe(service);
    }
  });
});
