// The SQS adapter through the real SDK client, against a minimal JSON 1.0 endpoint.

import { createHash } from 'node:crypto';
import { SQSClient } from '@aws-sdk/client-sqs';
import { buildPoolMessage, parsePoolMessage } from '../../../lambda/core/pool-message';
import { SqsPoolQueue } from '../../../lambda/queue/sqs-pool-queue';
import { AwsJsonStub, startAwsJsonStub, TEST_CLIENT_CONFIG } from '../support/aws-json-stub';

let stub: AwsJsonStub;

beforeAll(async () => {
  // The SDK checks MD5OfMessageBody, as SQS computes it.
  stub = await startAwsJsonStub(({ body }) => ({
    body: { MessageId: 'm-1', MD5OfMessageBody: createHash('md5').update(String(body.MessageBody)).digest('hex') },
  }));
});
afterAll(async () => {
  await stub.stop();
});

test('a pool message is sent to the queue as JSON the provisioner reads back', async () => {
  const sqs = new SQSClient({ ...TEST_CLIENT_CONFIG, endpoint: stub.endpoint });
  const queueUrl = `${stub.endpoint}/123456789012/pools`;
  const message = buildPoolMessage({ poolId: 'octo-org#linux-x64', configName: 'linux-x64', scope: { kind: 'org', org: 'octo-org' } }, 'queued', 'guid-1');

  await new SqsPoolQueue(sqs, queueUrl).send(message);

  expect(stub.requests).toHaveLength(1);
  expect(stub.requests[0].operation).toBe('SendMessage');
  expect(stub.requests[0].body.QueueUrl).toBe(queueUrl);
  expect(parsePoolMessage(String(stub.requests[0].body.MessageBody))).toEqual(message);
  sqs.destroy();
});

test('messages of one pool share a FIFO group, and the same event twice has the same deduplication id', async () => {
  const sqs = new SQSClient({ ...TEST_CLIENT_CONFIG, endpoint: stub.endpoint });
  const queue = new SqsPoolQueue(sqs, `${stub.endpoint}/123456789012/pools.fifo`);
  const pool = { poolId: 'octo-org#linux-x64', configName: 'linux-x64', scope: { kind: 'org' as const, org: 'octo-org' } };
  const before = stub.requests.length;

  await queue.send(buildPoolMessage(pool, 'queued', 'guid-1'));
  await queue.send(buildPoolMessage(pool, 'queued', 'guid-1'));
  await queue.send(buildPoolMessage(pool, 'queued', 'guid-2'));

  const sent = stub.requests.slice(before).map((r) => r.body);
  expect(sent.map((b) => b.MessageGroupId)).toEqual(['octo-org#linux-x64', 'octo-org#linux-x64', 'octo-org#linux-x64']);
  expect(sent[0].MessageDeduplicationId).toEqual(sent[1].MessageDeduplicationId);
  expect(sent[2].MessageDeduplicationId).not.toEqual(sent[0].MessageDeduplicationId);
  sqs.destroy();
});
