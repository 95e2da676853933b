import { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { waitFor } from './helpers';
import { buildPoolMessageFor } from '../../../lambda/core/pool-message';
import { SqsPoolQueue } from '../../../lambda/queue/sqs-pool-queue';
import { SqsSimulator } from '../../../sandbox/aws/sqs';
import { ScaledClock } from '../../../sandbox/common/time';

// The handlers build `new SQSClient({})` and find the endpoint in AWS_ENDPOINT_URL_SQS, as the
// sandbox will configure them.
const sim = new SqsSimulator({ clock: new ScaledClock(0.01), seed: 11 });
const saved = { ...process.env };

beforeAll(async () => {
  await sim.start();
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_SQS: sim.url, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'AKIDSANDBOX', AWS_SECRET_ACCESS_KEY: 'sandbox',
  });
});
afterAll(async () => {
  process.env = saved;
  await sim.stop();
});

test('the control plane\'s pool queue adapter, configured from the environment alone, reaches the provisioner\'s mapping once per pool event', async () => {
  sim.createQueue('PoolQueue.fifo', { visibilityTimeoutSeconds: 720 });
  const client = new SQSClient({});
  const queue = new SqsPoolQueue(client, sim.queueUrl('PoolQueue.fifo'));
  const pool = { poolId: 'acme#linux', configName: 'linux', scope: { kind: 'org', org: 'acme' } } as const;
  const records: SQSRecord[] = [];
  const mapping = sim.createEventSourceMapping({ queue: 'PoolQueue.fifo', handler: async (event) => { records.push(...event.Records); } });

  await queue.send(buildPoolMessageFor(pool, 'reconciler', 'run-1'));
  await queue.send(buildPoolMessageFor(pool, 'reconciler', 'run-1'));
  await waitFor(() => records.length === 1 && sim.queue('PoolQueue.fifo').peek().length === 0);
  await mapping.stop();
  client.destroy();

  // Two sends, one message: the duplicate was accepted and dropped, the message deleted after its invocation.
  expect(records).toHaveLength(1);
  expect(records[0].attributes.MessageGroupId).toBe('acme#linux');
  expect(JSON.parse(records[0].body)).toMatchObject({ poolId: 'acme#linux', reason: 'reconciler' });
  expect(sim.apiCalls().byAction.SendMessage).toBe(2);
});
