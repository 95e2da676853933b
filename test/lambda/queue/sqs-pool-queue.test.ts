// The SQS adapter through the real SDK client, against a minimal JSON 1.0 endpoint.

import { createHash } from 'node:crypto';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { buildPoolMessage, parsePoolMessage } from '../../../lambda/core/pool-message';
import { poolIdOf } from '../../../lambda/core/routing';
import { messageGroupIdOf } from '../../../lambda/queue/message-group';
import { SqsPoolQueue } from '../../../lambda/queue/sqs-pool-queue';
import { SqsSimulator } from '../../../sandbox/aws/sqs';
import { ScaledClock } from '../../../sandbox/common/time';
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

describe('pools of long repository names through the SQS simulator', () => {
  // SQS limits MessageGroupId to 128 alphanumeric and punctuation characters (SendMessage API
  // reference); a repository pool id is `owner/repo#config`.
  const sim = new SqsSimulator({ clock: new ScaledClock(0.001), seed: 8 });
  let sqs: SQSClient;
  const repoPool = (owner: string, repo: string) => {
    const scope = { kind: 'repo' as const, owner, repo };
    return { poolId: poolIdOf(scope, 'linux-x64-large'), configName: 'linux-x64-large', scope };
  };

  beforeAll(async () => {
    await sim.start();
    sqs = new SQSClient({ endpoint: sim.url, region: 'us-east-1', credentials: { accessKeyId: 'AKIDSANDBOX', secretAccessKey: 'sandbox' } });
    sim.createQueue('pools.fifo', { visibilityTimeoutSeconds: 600 });
  });
  afterAll(async () => {
    sqs.destroy();
    await sim.stop();
  });

  test('a 100-character owner and repository still reach the provisioner: the group id fits SQS, the body keeps the pool id', async () => {
    const queueUrl = sim.queueUrl('pools.fifo');
    const queue = new SqsPoolQueue(sqs, queueUrl);
    const owner = `o${'w'.repeat(98)}1`;
    const pool = repoPool(owner, `r${'e'.repeat(98)}1`);
    const sibling = repoPool(owner, `r${'e'.repeat(98)}2`); // differs in the last character only

    await queue.send(buildPoolMessage(pool, 'queued', 'guid-1'));
    await queue.send(buildPoolMessage(sibling, 'queued', 'guid-2'));
    const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, MessageSystemAttributeNames: ['All'] }));

    const byPool = new Map(Messages.map((m) => [parsePoolMessage(m.Body!).poolId, m.Attributes!]));
    expect([...byPool.keys()].sort()).toEqual([pool.poolId, sibling.poolId].sort());
    const groups = [pool, sibling].map((p) => byPool.get(p.poolId)!.MessageGroupId!);
    for (const group of groups) {
      expect(group.length).toBeLessThanOrEqual(128);
      expect(group).toMatch(/^[A-Za-z0-9!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]+$/);
    }
    expect(groups[0]).not.toEqual(groups[1]);
    expect(groups[0]).toBe(messageGroupIdOf(pool.poolId)); // the same pool always maps to the same group
    expect(pool.poolId.length).toBeGreaterThan(200);
  });

  test('a pool id SQS accepts is its own group id, readable in the console', () => {
    expect(messageGroupIdOf('octo-org#linux-x64')).toBe('octo-org#linux-x64');
    const long = repoPool('octo-org', 'x'.repeat(120)).poolId;
    expect(messageGroupIdOf(long)).toMatch(/^octo-org\/x+:[0-9a-f]{64}$/);
    expect(messageGroupIdOf(long)).toHaveLength(128);
  });
});
