// The sandbox's reading of the functions' output as CloudWatch Logs reads it: EMF documents, written
// here by Powertools itself (not by this project), become metric values; documents that break the
// specification are counted, other lines pass through.
import { PassThrough } from 'stream';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { EmfRecorder } from '../../../sandbox/aws/emf';
import { capturePrinted } from '../../lambda/support/in-memory-ports';

function recorder(): { emf: EmfRecorder; forwarded: () => string } {
  const out = new PassThrough();
  const chunks: string[] = [];
  out.on('data', (c: Buffer) => chunks.push(c.toString()));
  return { emf: new EmfRecorder(out), forwarded: () => chunks.join('') };
}

async function write(emf: EmfRecorder, text: string): Promise<void> {
  await new Promise<void>((resolve, reject) => emf.write(text, (e) => (e ? reject(e) : resolve())));
}

test('Powertools\' EMF lines become values by name, with their dimensions and unit; other lines pass through, split across chunks or not', async () => {
  // Arrange: what Powertools prints for two metrics of one invocation and a single metric with a dimension of its own.
  const printed = (await capturePrinted(async () => {
    const metrics = new Metrics({ namespace: 'EphemeralRunners', serviceName: 'webhook' });
    metrics.addMetric('AcceptedJobEvents', MetricUnit.Count, 1);
    metrics.addMetric('AcceptedJobEvents', MetricUnit.Count, 1);
    metrics.singleMetric().addDimension('config', 'linux-x64').addMetric('JobWaitSeconds', MetricUnit.Seconds, 12);
    metrics.publishStoredMetrics();
  })).join('');
  const { emf, forwarded } = recorder();

  // Act: a log line, then the EMF, cut in the middle of a document.
  const text = `{"level":"INFO","message":"delivery answered"}\n${printed}`;
  await write(emf, text.slice(0, 70));
  await write(emf, text.slice(70));

  // Assert
  expect(emf.summary()).toMatchObject({
    documents: 2,
    invalid: 0,
    metrics: { AcceptedJobEvents: { samples: 2, sum: 2 }, JobWaitSeconds: { samples: 1, sum: 12, p50: 12 } },
  });
  expect(emf.values.find((v) => v.name === 'JobWaitSeconds')).toEqual({
    namespace: 'EphemeralRunners', name: 'JobWaitSeconds', dimensions: { service: 'webhook', config: 'linux-x64' }, value: 12, unit: 'Seconds',
  });
  expect(forwarded()).toBe('{"level":"INFO","message":"delivery answered"}\n');
});

test.each([
  ['no Timestamp', { _aws: { CloudWatchMetrics: [{ Namespace: 'N', Dimensions: [[]], Metrics: [{ Name: 'M' }] }] }, M: 1 }, '_aws.Timestamp'],
  ['a dimension with no member', { _aws: { Timestamp: 1, CloudWatchMetrics: [{ Namespace: 'N', Dimensions: [['config']], Metrics: [{ Name: 'M' }] }] }, M: 1 }, 'dimension config'],
  ['a value that is a string', { _aws: { Timestamp: 1, CloudWatchMetrics: [{ Namespace: 'N', Dimensions: [[]], Metrics: [{ Name: 'M' }] }] }, M: '1' }, 'metric M'],
  ['101 values', { _aws: { Timestamp: 1, CloudWatchMetrics: [{ Namespace: 'N', Dimensions: [[]], Metrics: [{ Name: 'M' }] }] }, M: Array(101).fill(1) }, 'metric M'],
  ['31 dimensions', {
    _aws: { Timestamp: 1, CloudWatchMetrics: [{ Namespace: 'N', Dimensions: [Array.from({ length: 31 }, (_, i) => `d${i}`)], Metrics: [{ Name: 'M' }] }] },
    ...Object.fromEntries(Array.from({ length: 31 }, (_, i) => [`d${i}`, 'x'])),
    M: 1,
  }, 'at most 30'],
])('a document with %s is counted invalid and yields nothing', async (_what, document, reason) => {
  const { emf, forwarded } = recorder();

  await write(emf, `${JSON.stringify(document)}\n`);

  expect(emf.summary()).toMatchObject({ documents: 1, invalid: 1, metrics: {} });
  expect(emf.summary().firstInvalid).toContain(reason);
  expect(forwarded()).toBe('');
});
