import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { EphemeralRunnersProps, RunnerArchitecture, RunnerMachineImage } from '../../src';
import { synthRunners } from './support/synth';
import { TEST_CA_BUNDLE, TEST_CA_FIRST_LINE } from './support/test-ca';

function synth(props: Partial<EphemeralRunnersProps> = {}, extra?: (stack: Stack) => Partial<EphemeralRunnersProps>): Template {
  return synthRunners([
    { name: 'linux-x64', labels: ['linux', 'x64'], maxRunners: 20 },
    { name: 'linux-x64-large', labels: ['linux', 'x64', 'large'], maxRunners: 5 },
  ], (stack) => ({ ...props, ...extra?.(stack) }));
}

const alarmsOf = (template: Template) => Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((a) => a.Properties);

describe('monitoring', () => {
  const template = synth();

  test('both dead-letter queues alarm on their first message', () => {
    const dlqAlarms = alarmsOf(template).filter((a) => a.MetricName === 'ApproximateNumberOfMessagesVisible');
    expect(dlqAlarms).toHaveLength(2);
    for (const a of dlqAlarms) expect(a).toMatchObject({ Namespace: 'AWS/SQS', Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', TreatMissingData: 'notBreaching' });
    const queues = dlqAlarms.map((a) => JSON.stringify(a.Dimensions));
    expect(queues.some((q) => q.includes('RunnersDeadLetterQueue'))).toBe(true);
    expect(queues.some((q) => q.includes('EventDeadLetterQueue'))).toBe(true);
  });

  test('jobs queued too long, too many instances and function errors alarm; idle (no data) is healthy', () => {
    const alarms = alarmsOf(template);
    expect(alarms.find((a) => a.MetricName === 'OldestQueuedJobSeconds')).toMatchObject({
      Namespace: 'EphemeralRunners', Dimensions: [{ Name: 'service', Value: 'reconciler' }], Statistic: 'Maximum', Threshold: 900, TreatMissingData: 'notBreaching',
    });
    // The default ceiling is the configs' maxRunners together (20 + 5).
    expect(alarms.find((a) => a.MetricName === 'LiveInstances')).toMatchObject({ Statistic: 'Maximum', Threshold: 26 });
    const errors = alarms.find((a) => String(a.AlarmDescription).startsWith('A control-plane function failed'))!;
    const expression = errors.Metrics.find((m: { Expression?: string }) => m.Expression !== undefined).Expression as string;
    expect(expression.split(' + ').sort()).toEqual(['lifecycle', 'provisioner', 'reconciler', 'register', 'webhook']);
    expect(errors.Metrics.filter((m: { MetricStat?: { Metric: { MetricName: string } } }) => m.MetricStat?.Metric.MetricName === 'Errors')).toHaveLength(5);
    expect(alarms).toHaveLength(8);
    for (const a of alarms) expect(a.AlarmActions).toBeUndefined();
  });

  test('a runner image older than the server\'s runner alarms, for each architecture built, and shows on the dashboard; with an AMI of one\'s own, neither', () => {
    const behind = (t: Template) => alarmsOf(t).filter((a) => String(a.AlarmDescription).startsWith('A runner image holds a runner older'));
    const twoArchitectures = synthRunners([
      { name: 'x64', labels: ['linux', 'x64'] },
      { name: 'arm', labels: ['linux', 'arm64'], architecture: RunnerArchitecture.ARM64 },
    ]);
    const ownAmi = synth({ machineImage: RunnerMachineImage.fromAmiIds('ami-0123456789abcdef0') });

    const [alarm] = behind(twoArchitectures);
    type Watched = { Expression?: string; MetricStat?: { Metric: { MetricName: string; Dimensions: unknown[] }; Stat: string } };
    const watched = alarm.Metrics as Watched[];
    const stats = watched.flatMap((m) => (m.MetricStat ? [[m.MetricStat.Metric.MetricName, m.MetricStat.Stat, m.MetricStat.Metric.Dimensions]] : []));
    expect(watched.find((m) => m.Expression)!.Expression!.split(' + ').sort()).toEqual(['arm64', 'x64']);
    expect(stats).toHaveLength(2);
    expect(stats).toEqual(expect.arrayContaining([
      ['RunnerImagesBehind', 'Maximum', expect.arrayContaining([{ Name: 'architecture', Value: 'x64' }, { Name: 'service', Value: 'reconciler' }])],
      ['RunnerImagesBehind', 'Maximum', expect.arrayContaining([{ Name: 'architecture', Value: 'arm64' }, { Name: 'service', Value: 'reconciler' }])],
    ]));
    expect(alarm).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', TreatMissingData: 'notBreaching' });
    expect(JSON.stringify(Object.values(twoArchitectures.findResources('AWS::CloudWatch::Dashboard'))[0].Properties.DashboardBody)).toContain('RunnerImagesBehind');
    expect(behind(ownAmi)).toEqual([]);
    expect(JSON.stringify(Object.values(ownAmi.findResources('AWS::CloudWatch::Dashboard'))[0].Properties.DashboardBody)).not.toContain('RunnerImagesBehind');
  });

  test('launch errors no retry fixes alarm: spot that cannot be bought at all, and misconfigured launches', () => {
    const launchAlarms = alarmsOf(template).filter((a) => a.MetricName === 'LaunchErrors');
    expect(launchAlarms.map((a) => a.Dimensions).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))).toEqual([
      [{ Name: 'kind', Value: 'config' }, { Name: 'service', Value: 'provisioner' }],
      [{ Name: 'kind', Value: 'spot' }, { Name: 'service', Value: 'provisioner' }],
    ]);
    for (const a of launchAlarms) expect(a).toMatchObject({ Namespace: 'EphemeralRunners', Statistic: 'Sum', Threshold: 1, TreatMissingData: 'notBreaching' });
  });

  test('a dashboard shows the flow: jobs, waits, launches, spot trouble, repairs, errors, dead letters', () => {
    const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
    const body = JSON.stringify(dashboard.Properties.DashboardBody);
    for (const metric of ['AcceptedJobEvents', 'JobWaitSeconds', 'JobWaitSecondsWarmStart', 'JobWaitSecondsColdStart', 'InstancesLaunched', 'LaunchErrors', 'OnDemandFallbacks', 'LaunchesHeld', 'SpotInterruptions',
      'InterruptedJobsRerun', 'OrphansTerminated', 'GhostsDeleted', 'StuckJobsRepaired', 'DeliveriesRedelivered', 'Errors', 'ApproximateNumberOfMessagesVisible']) {
      expect({ metric, shown: body.includes(metric) }).toEqual({ metric, shown: true });
    }
    expect(body).toMatch(/p95/);
  });

  test('alarms go to the SNS topic given, both ways; the thresholds can be set; the dashboard can be left out', () => {
    const t = synth({}, (stack) => ({
      monitoring: { alarmTopic: new sns.Topic(stack, 'Alarms'), queuedTooLong: Duration.minutes(5), maxInstances: 100, dashboard: false },
    }));
    t.resourceCountIs('AWS::CloudWatch::Dashboard', 0);
    const alarms = alarmsOf(t);
    for (const a of alarms) {
      expect(a.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^Alarms/) }]);
      expect(a.OKActions).toEqual([{ Ref: expect.stringMatching(/^Alarms/) }]);
    }
    expect(alarms.find((a) => a.MetricName === 'OldestQueuedJobSeconds')).toMatchObject({ Threshold: 300 });
    expect(alarms.find((a) => a.MetricName === 'LiveInstances')).toMatchObject({ Threshold: 101 });
  });

  test('the lifecycle function sends what it failed after every retry to the dead-letter queue of its events', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: 'lifecycle' }) },
      DeadLetterConfig: { TargetArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('EventDeadLetterQueue'), 'Arn'] } },
    });
  });
});

describe('a GitHub server behind a private CA', () => {
  const template = synth({ github: { url: 'https://ghes.example.com', appId: '12', caCertificatesPem: TEST_CA_BUNDLE } });

  test('the functions that call GitHub trust the CA through a layer and NODE_EXTRA_CA_CERTS; the webhook function needs neither', () => {
    template.resourceCountIs('AWS::Lambda::LayerVersion', 1);
    const functions = Object.values(template.findResources('AWS::Lambda::Function'))
      .filter((f) => f.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME !== undefined);
    const trusting = functions.filter((f) => f.Properties.Environment.Variables.NODE_EXTRA_CA_CERTS === '/opt/ephemeral-runners/ca-bundle.pem');
    expect(trusting.map((f) => f.Properties.Environment.Variables.POWERTOOLS_SERVICE_NAME).sort()).toEqual(['lifecycle', 'provisioner', 'reconciler', 'register']);
    for (const f of trusting) expect(f.Properties.Layers).toHaveLength(1);
  });

  test('the runner image trusts it too', () => {
    const ca = Object.values(template.findResources('AWS::ImageBuilder::Component')).find((c) => String(c.Properties.Name).endsWith('-ca-certificates'));
    expect(String(ca?.Properties.Data)).toContain(TEST_CA_FIRST_LINE);
  });

  test('something that is not PEM is refused with what to give', () => {
    expect(() => synth({ github: { url: 'https://ghes.example.com', appId: '12', caCertificatesPem: 'not a certificate' } })).toThrow(/github\.caCertificatesPem holds no PEM block; give one or more PEM certificates/);
  });
});
