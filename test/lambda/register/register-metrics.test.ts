import { Metrics } from '@aws-lambda-powertools/metrics';
import { PowertoolsRegisterMetrics } from '../../../lambda/register/register-metrics';
import { capturePrinted } from '../support/in-memory-ports';

type Emf = { _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[] } } & Record<string, unknown>;

describe('register metrics as CloudWatch EMF', () => {
  test('registered runners are counted by config, refused registrations by reason', async () => {
    const printed = await capturePrinted(async () => {
      const metrics = new PowertoolsRegisterMetrics(new Metrics({ namespace: 'EphemeralRunners', serviceName: 'register' }));
      metrics.runnerRegistered('linux-x64');
      metrics.registrationRefused('surplus');
    });

    const emf = printed.join('').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Emf);
    expect(emf).toHaveLength(2);
    expect(emf[0]._aws.CloudWatchMetrics[0]).toMatchObject({ Namespace: 'EphemeralRunners', Dimensions: [expect.arrayContaining(['config'])], Metrics: [{ Name: 'RunnersRegistered' }] });
    expect(emf[0]).toMatchObject({ config: 'linux-x64', RunnersRegistered: 1 });
    expect(emf[1]._aws.CloudWatchMetrics[0]).toMatchObject({ Dimensions: [expect.arrayContaining(['reason'])], Metrics: [{ Name: 'RegistrationsRefused' }] });
    expect(emf[1]).toMatchObject({ reason: 'surplus', RegistrationsRefused: 1 });
  });
});
