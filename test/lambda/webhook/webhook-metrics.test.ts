import { Metrics } from '@aws-lambda-powertools/metrics';
import { PowertoolsWebhookMetrics } from '../../../lambda/webhook/webhook-metrics';
import { capturePrinted } from '../support/in-memory-ports';

type Emf = { _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[] } } & Record<string, unknown>;

describe('webhook metrics as CloudWatch EMF', () => {
  test('accepted job events are counted by config and action, ignored events by reason', async () => {
    const printed = await capturePrinted(async () => {
      const metrics = new PowertoolsWebhookMetrics(new Metrics({ namespace: 'EphemeralRunners', serviceName: 'webhook' }));
      metrics.jobEventAccepted('linux-x64', 'queued');
      metrics.eventIgnored('unmatched');
      metrics.jobStarted('linux-x64', 12);
    });

    const emf = printed.join('').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Emf);
    expect(emf).toHaveLength(3);
    expect(emf[0]._aws.CloudWatchMetrics[0]).toMatchObject({ Namespace: 'EphemeralRunners', Metrics: [{ Name: 'AcceptedJobEvents' }] });
    expect(emf[0]).toMatchObject({ config: 'linux-x64', action: 'queued', AcceptedJobEvents: 1 });
    expect(emf[1]).toMatchObject({ reason: 'unmatched', IgnoredEvents: 1 });
    expect(emf[2]._aws.CloudWatchMetrics[0].Metrics).toEqual([{ Name: 'JobWaitSeconds', Unit: 'Seconds' }]);
    expect(emf[2]).toMatchObject({ config: 'linux-x64', JobWaitSeconds: 12 });
  });

  test('a wait whose runner is known is published again under the warm or cold start\'s name, with the same config', async () => {
    const printed = await capturePrinted(async () => {
      const metrics = new PowertoolsWebhookMetrics(new Metrics({ namespace: 'EphemeralRunners', serviceName: 'webhook' }));
      metrics.jobStarted('linux-x64', 9, 'warm');
      metrics.jobStarted('linux-x64', 21, 'cold');
    });

    const emf = printed.join('').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Emf);
    expect(emf.map((e) => e._aws.CloudWatchMetrics[0].Metrics)).toEqual([
      [{ Name: 'JobWaitSeconds', Unit: 'Seconds' }],
      [{ Name: 'JobWaitSecondsWarmStart', Unit: 'Seconds' }],
      [{ Name: 'JobWaitSeconds', Unit: 'Seconds' }],
      [{ Name: 'JobWaitSecondsColdStart', Unit: 'Seconds' }],
    ]);
    expect(emf.map((e) => e._aws.CloudWatchMetrics[0].Dimensions)).toEqual(Array(4).fill([['service', 'config']]));
    expect(emf[1]).toMatchObject({ config: 'linux-x64', JobWaitSecondsWarmStart: 9 });
    expect(emf[3]).toMatchObject({ config: 'linux-x64', JobWaitSecondsColdStart: 21 });
    expect(printed.join('')).not.toMatch(/"level":"WARN"|Warning/i);
  });
});
