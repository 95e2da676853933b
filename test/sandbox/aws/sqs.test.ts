import { createHash } from 'crypto';
import {
  ChangeMessageVisibilityCommand, DeleteMessageCommand, GetQueueUrlCommand, ListQueuesCommand, MessageNotInflight, QueueDoesNotExist,
  ReceiptHandleIsInvalid, ReceiveMessageCommand, SendMessageCommand, SQSClient, SQSServiceException,
} from '@aws-sdk/client-sqs';
import { errorOf as errorOfCall } from './helpers';
import { SqsSimulator } from '../../../sandbox/aws/sqs';
import { ScaledClock } from '../../../sandbox/common/time';

// 1 simulated second = 1 ms: the five-minute de-duplication interval passes in 300 ms.
const clock = new ScaledClock(0.001);
const sim = new SqsSimulator({ clock, seed: 42 });
let sqs: SQSClient;

beforeAll(async () => {
  await sim.start();
  sqs = new SQSClient({ endpoint: sim.url, region: 'us-east-1', credentials: { accessKeyId: 'AKIDSANDBOX', secretAccessKey: 'sandbox' } });
  sim.createQueue('plain', { visibilityTimeoutSeconds: 600 });
  sim.createQueue('pools.fifo', { visibilityTimeoutSeconds: 600 });
  sim.createQueue('dedup.fifo');
});
afterAll(async () => {
  sqs.destroy();
  await sim.stop();
});

const errorOf = (promise: Promise<unknown>) => errorOfCall<SQSServiceException>(promise);

describe('SQS JSON protocol through @aws-sdk/client-sqs', () => {
  test('a message sent comes back with the body MD5 the SDK verifies and its system attributes', async () => {
    const url = sim.queueUrl('plain');

    const sent = await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: '{"pool":"linux-x64"}' }));
    const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, MessageSystemAttributeNames: ['All'] }));

    expect(sent.MD5OfMessageBody).toBe(createHash('md5').update('{"pool":"linux-x64"}').digest('hex'));
    expect(received.Messages).toHaveLength(1);
    const [message] = received.Messages!;
    expect(message).toMatchObject({ MessageId: sent.MessageId, Body: '{"pool":"linux-x64"}', MD5OfBody: sent.MD5OfMessageBody });
    expect(message.Attributes).toMatchObject({ ApproximateReceiveCount: '1', SenderId: expect.any(String), SentTimestamp: expect.stringMatching(/^\d+$/) });
    await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: message.ReceiptHandle }));
  });

  test('what the sandbox does not model, an operation or message attributes, is refused rather than ignored', async () => {
    const withAttributes = new SendMessageCommand({ QueueUrl: sim.queueUrl('plain'), MessageBody: 'x', MessageAttributes: { a: { DataType: 'String', StringValue: 'b' } } });

    const errors = [await errorOf(sqs.send(new ListQueuesCommand({}))), await errorOf(sqs.send(withAttributes))];

    expect(errors.map((e) => e.name)).toEqual(['UnsupportedOperation', 'UnsupportedOperation']);
    expect(sim.queue('plain').counts.sent).toBe(1);
  });

  test('a FIFO message without MessageGroupId is refused with MissingParameter', async () => {
    const error = await errorOf(sqs.send(new SendMessageCommand({ QueueUrl: sim.queueUrl('pools.fifo'), MessageBody: 'x', MessageDeduplicationId: 'd1' })));

    expect(error.name).toBe('MissingParameter');
    expect(error.message).toBe('The request must contain the parameter MessageGroupId.');
    expect(error.$metadata.httpStatusCode).toBe(400);
  });

  test.each([
    ['a per-message delay on a FIFO queue', { QueueUrl: 'pools.fifo', MessageGroupId: 'g', MessageDeduplicationId: 'd', DelaySeconds: 5 }],
    ['a de-duplication id on a standard queue', { QueueUrl: 'plain', MessageDeduplicationId: 'd' }],
    ['a FIFO message without de-duplication id or content-based de-duplication', { QueueUrl: 'pools.fifo', MessageGroupId: 'g' }],
    ['a message group id with spaces', { QueueUrl: 'pools.fifo', MessageGroupId: 'a b', MessageDeduplicationId: 'd' }],
  ])('%s is refused with InvalidParameterValue', async (_what, input) => {
    const sentBefore = sim.queue(input.QueueUrl).counts.sent;

    const error = await errorOf(sqs.send(new SendMessageCommand({ ...input, QueueUrl: sim.queueUrl(input.QueueUrl), MessageBody: 'x' })));

    expect(error.name).toBe('InvalidParameterValue');
    expect(sim.queue(input.QueueUrl).counts.sent).toBe(sentBefore);
  });

  test('an unknown queue is QueueDoesNotExist, by URL and by name', async () => {
    const byUrl = await errorOf(sqs.send(new SendMessageCommand({ QueueUrl: `${sim.url}/123456789012/missing`, MessageBody: 'x' })));
    const byName = await errorOf(sqs.send(new GetQueueUrlCommand({ QueueName: 'missing' })));

    expect(byUrl).toBeInstanceOf(QueueDoesNotExist);
    expect(byName).toBeInstanceOf(QueueDoesNotExist);
  });

  test('a receipt handle that SQS did not issue is ReceiptHandleIsInvalid; one no longer in flight is MessageNotInflight', async () => {
    const url = sim.queueUrl('plain');
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'handle me' }));
    const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url }));
    await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: url, ReceiptHandle: Messages![0].ReceiptHandle, VisibilityTimeout: 0 }));

    const invalid = await errorOf(sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: url, ReceiptHandle: 'garbage', VisibilityTimeout: 5 })));
    const stale = new ChangeMessageVisibilityCommand({ QueueUrl: url, ReceiptHandle: Messages![0].ReceiptHandle, VisibilityTimeout: 5 });
    const notInFlight = await errorOf(sqs.send(stale));

    expect(invalid).toBeInstanceOf(ReceiptHandleIsInvalid);
    expect(notInFlight).toBeInstanceOf(MessageNotInflight);
  });

  test('a FIFO duplicate within five minutes is accepted but not delivered; after five minutes it is new', async () => {
    const url = sim.queueUrl('dedup.fifo');
    const send = () => sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'pool', MessageGroupId: 'p1', MessageDeduplicationId: 'same' }));

    const first = await send();
    const second = await send();
    const heldAfterDuplicate = sim.queue('dedup.fifo').peek().length;
    await clock.sleep(5 * 60 * 1000 + 1000);
    const third = await send();

    expect(second.MessageId).toBe(first.MessageId);
    expect(second.SequenceNumber).toBe(first.SequenceNumber);
    expect(heldAfterDuplicate).toBe(1);
    expect(third.MessageId).not.toBe(first.MessageId);
    expect(BigInt(third.SequenceNumber!)).toBeGreaterThan(BigInt(first.SequenceNumber!));
    expect(sim.queue('dedup.fifo').counts).toMatchObject({ sent: 2, deduplicated: 1 });
  });

  test('a FIFO group hands out its next message only after the earlier one is deleted', async () => {
    const url = sim.queueUrl('pools.fifo');
    for (const [group, n] of [['a', 1], ['a', 2], ['b', 1]] as const) {
      await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: `${group}${n}`, MessageGroupId: group, MessageDeduplicationId: `${group}${n}` }));
    }
    const receiveOne = async () => (await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 1 }))).Messages ?? [];

    const [a1] = await receiveOne();
    const [next] = await receiveOne();
    const whileA1InFlight = await receiveOne();
    await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: a1.ReceiptHandle }));
    const [afterDelete] = await receiveOne();

    expect(a1.Body).toBe('a1');
    expect(next.Body).toBe('b1');
    expect(whileA1InFlight).toEqual([]);
    expect(afterDelete.Body).toBe('a2');
  });

  test('a message older than the retention period is dropped, in flight or not', async () => {
    const queue = sim.createQueue('short-lived', { messageRetentionSeconds: 60, visibilityTimeoutSeconds: 600 });
    const url = sim.queueUrl(queue);
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'waiting' }));
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'taken' }));
    await sqs.send(new ReceiveMessageCommand({ QueueUrl: url }));

    await clock.sleep(61_000);
    const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10 }));

    expect(Messages).toBeUndefined();
    expect(queue.counts.expired).toBe(2);
  });

  test('a long poll returns as soon as a message is sent', async () => {
    // Its own, slower clock: the 20 s poll lasts 2 s of real time.
    const slowClock = new ScaledClock(0.1);
    const slow = new SqsSimulator({ clock: slowClock });
    await slow.start();
    const client = new SQSClient({ endpoint: slow.url, region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
    const url = slow.queueUrl(slow.createQueue('long-poll'));
    const start = slowClock.now();

    const polling = client.send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 20 }));
    await new Promise((resolve) => setTimeout(resolve, 50));
    await client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'wake up' }));
    const { Messages } = await polling;
    const waited = slowClock.now() - start;
    client.destroy();
    await slow.stop();

    expect(Messages?.map((m) => m.Body)).toEqual(['wake up']);
    expect(waited).toBeLessThan(15_000);
  });

  test('a long poll on an empty queue returns empty after WaitTimeSeconds', async () => {
    const queue = sim.createQueue('empty-poll');
    const start = clock.now();

    const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: sim.queueUrl(queue), WaitTimeSeconds: 5 }));

    expect(Messages).toBeUndefined();
    expect(clock.now() - start).toBeGreaterThanOrEqual(5000);
  });

  test('an injected fault reaches the SDK as a 500', async () => {
    sim.failNext(1, 'SendMessage');
    const client = new SQSClient({ endpoint: sim.url, region: 'us-east-1', maxAttempts: 1, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });

    const error = await errorOf(client.send(new SendMessageCommand({ QueueUrl: sim.queueUrl('plain'), MessageBody: 'x' })));
    client.destroy();

    expect(error.$metadata.httpStatusCode).toBe(500);
    expect(sim.apiCalls().errorsByCode.InternalError).toBe(1);
  });
});
