import { createHash } from 'crypto';
import {
  ChangeMessageVisibilityCommand, ListQueuesCommand, MessageNotInflight, QueueDoesNotExist,
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
  sim.createQueue('plain.fifo', { visibilityTimeoutSeconds: 600 });
  sim.createQueue('pools.fifo', { visibilityTimeoutSeconds: 600 });
  sim.createQueue('dedup.fifo');
});
afterAll(async () => {
  sqs.destroy();
  await sim.stop();
});

const errorOf = (promise: Promise<unknown>) => errorOfCall<SQSServiceException>(promise);
let sends = 0;
/** A SendMessage to a FIFO queue, each in its own group unless told otherwise. */
const fifo = (queue: string, body: string, extra: Record<string, unknown> = {}) =>
  new SendMessageCommand({ QueueUrl: sim.queueUrl(queue), MessageBody: body, MessageGroupId: `g${++sends}`, MessageDeduplicationId: `d${sends}`, ...extra });

describe('SQS JSON protocol through @aws-sdk/client-sqs', () => {
  test('a message sent comes back with the body MD5 the SDK verifies and its system attributes', async () => {
    const url = sim.queueUrl('plain.fifo');

    const sent = await sqs.send(fifo('plain.fifo', '{"pool":"linux-x64"}'));
    const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, MessageSystemAttributeNames: ['All'] }));

    expect(sent.MD5OfMessageBody).toBe(createHash('md5').update('{"pool":"linux-x64"}').digest('hex'));
    expect(received.Messages).toHaveLength(1);
    const [message] = received.Messages!;
    expect(message).toMatchObject({ MessageId: sent.MessageId, Body: '{"pool":"linux-x64"}', MD5OfBody: sent.MD5OfMessageBody });
    expect(message.Attributes).toMatchObject({ ApproximateReceiveCount: '1', SenderId: expect.any(String), SentTimestamp: expect.stringMatching(/^\d+$/) });
    sim.queue('plain.fifo').delete(message.ReceiptHandle!);
  });

  test('what the sandbox does not model, an operation or a parameter, is refused rather than ignored', async () => {
    const withAttributes = fifo('plain.fifo', 'x', { MessageAttributes: { a: { DataType: 'String', StringValue: 'b' } } });
    const longPoll = new ReceiveMessageCommand({ QueueUrl: sim.queueUrl('plain.fifo'), WaitTimeSeconds: 20 });

    const errors = [await errorOf(sqs.send(new ListQueuesCommand({}))), await errorOf(sqs.send(withAttributes)), await errorOf(sqs.send(longPoll))];

    expect(errors.map((e) => e.name)).toEqual(['UnsupportedOperation', 'UnsupportedOperation', 'UnsupportedOperation']);
    expect(sim.queue('plain.fifo').peek()).toEqual([]);
  });

  test('a FIFO message without MessageGroupId is refused with MissingParameter', async () => {
    const error = await errorOf(sqs.send(new SendMessageCommand({ QueueUrl: sim.queueUrl('pools.fifo'), MessageBody: 'x', MessageDeduplicationId: 'd1' })));

    expect(error.name).toBe('MissingParameter');
    expect(error.message).toBe('The request must contain the parameter MessageGroupId.');
    expect(error.$metadata.httpStatusCode).toBe(400);
  });

  test.each([
    ['a FIFO message without de-duplication id or content-based de-duplication', { MessageGroupId: 'g' }],
    ['a message group id with spaces', { MessageGroupId: 'a b', MessageDeduplicationId: 'd' }],
  ])('%s is refused with InvalidParameterValue', async (_what, input) => {
    const heldBefore = sim.queue('pools.fifo').peek().length;

    const error = await errorOf(sqs.send(new SendMessageCommand({ ...input, QueueUrl: sim.queueUrl('pools.fifo'), MessageBody: 'x' })));

    expect(error.name).toBe('InvalidParameterValue');
    expect(sim.queue('pools.fifo').peek()).toHaveLength(heldBefore);
  });

  test('an unknown queue is QueueDoesNotExist', async () => {
    const error = await errorOf(sqs.send(new SendMessageCommand({ QueueUrl: `${sim.url}/123456789012/missing`, MessageBody: 'x' })));

    expect(error).toBeInstanceOf(QueueDoesNotExist);
  });

  test('a receipt handle that SQS did not issue is ReceiptHandleIsInvalid; one no longer in flight is MessageNotInflight', async () => {
    const url = sim.queueUrl('plain.fifo');
    await sqs.send(fifo('plain.fifo', 'handle me'));
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
    expect(sim.queue('dedup.fifo').peek()).toHaveLength(2);
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
    sim.queue('pools.fifo').delete(a1.ReceiptHandle!);
    const [afterDelete] = await receiveOne();

    expect(a1.Body).toBe('a1');
    expect(next.Body).toBe('b1');
    expect(whileA1InFlight).toEqual([]);
    expect(afterDelete.Body).toBe('a2');
  });
});
