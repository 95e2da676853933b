import { createHash } from 'crypto';
import { ChangeMessageVisibilityCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { waitFor } from './helpers';
import { SqsSimulator } from '../../../sandbox/aws/sqs';
import { ScaledClock } from '../../../sandbox/common/time';

// 1 simulated second = 100 ms: visibility timeouts of seconds pass quickly, while an SDK call from
// a handler (a few real ms, tens on a busy machine) stays well inside the shortest of them (2 s).
const clock = new ScaledClock(0.1);
const sim = new SqsSimulator({ clock, seed: 3, region: 'eu-west-1' });
let sqs: SQSClient;

beforeAll(async () => {
  await sim.start();
  sqs = new SQSClient({ endpoint: sim.url, region: 'eu-west-1', credentials: { accessKeyId: 'AKIDSANDBOX', secretAccessKey: 'sandbox' } });
});
afterAll(async () => {
  sqs.destroy();
  await sim.stop();
});

/** Sends each body as a message of its own group, or of the group `group` names. */
async function sendAll(queue: string, bodies: string[], group: (body: string) => string = (body) => body): Promise<void> {
  for (const body of bodies) {
    const input = { QueueUrl: sim.queueUrl(queue), MessageBody: body, MessageGroupId: group(body), MessageDeduplicationId: body };
    await sqs.send(new SendMessageCommand(input));
  }
}
const drained = (queue: string) => () => sim.queue(queue).peek().length === 0;

// These tests wait on real timers (at most 15 s each for what takes milliseconds); the simulated
// clock never fires a timer before its simulated due time, so the bounds below hold however loaded.

describe('SQS event source mapping', () => {
  let invalidQueues = 0;

  test('the handler gets the SQS event and context Lambda builds for a FIFO queue', async () => {
    sim.createQueue('shape.fifo');
    await sqs.send(new SendMessageCommand({
      QueueUrl: sim.queueUrl('shape.fifo'),
      MessageBody: '{"poolId":"p1"}',
      MessageGroupId: 'p1',
      MessageDeduplicationId: 'dedup-1',
    }));
    const seen: { event: SQSEvent; context: Context }[] = [];

    const mapping = sim.createEventSourceMapping({
      queue: 'shape.fifo',
      functionName: 'provisioner',
      handler: async (event, context) => {
        seen.push({ event, context });
      },
    });
    await waitFor(drained('shape.fifo'));
    await mapping.stop();

    const [record] = seen[0].event.Records;
    expect(seen[0].event.Records).toHaveLength(1);
    expect(record).toEqual({
      messageId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      receiptHandle: expect.stringMatching(/^AQEB/),
      body: '{"poolId":"p1"}',
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: expect.stringMatching(/^\d{13}$/),
        SenderId: expect.any(String),
        ApproximateFirstReceiveTimestamp: expect.stringMatching(/^\d{13}$/),
        SequenceNumber: expect.stringMatching(/^\d{20}$/),
        MessageGroupId: 'p1',
        MessageDeduplicationId: 'dedup-1',
      },
      messageAttributes: {},
      md5OfBody: createHash('md5').update('{"poolId":"p1"}').digest('hex'),
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:shape.fifo',
      awsRegion: 'eu-west-1',
    } satisfies SQSRecord);
    expect(seen[0].context).toMatchObject({ functionName: 'provisioner', invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:provisioner' });
    expect(sim.queue('shape.fifo').peek()).toEqual([]);
  });

  test('only the messages reported in batchItemFailures come back, with receive count 2', async () => {
    sim.createQueue('partial.fifo', { visibilityTimeoutSeconds: 5 });
    await sendAll('partial.fifo', ['a', 'b', 'c']);
    const deliveries: { body: string; count: string }[] = [];

    const mapping = sim.createEventSourceMapping({
      queue: 'partial.fifo',
      handler: async (event): Promise<SQSBatchResponse> => {
        deliveries.push(...event.Records.map((r) => ({ body: r.body, count: r.attributes.ApproximateReceiveCount })));
        const b = event.Records.find((r) => r.body === 'b' && r.attributes.ApproximateReceiveCount === '1');
        return { batchItemFailures: b ? [{ itemIdentifier: b.messageId }] : [] };
      },
    });
    await waitFor(() => deliveries.length === 4 && drained('partial.fifo')(), 15_000, 'the redelivery of b');
    await mapping.stop();

    expect(deliveries).toEqual([{ body: 'a', count: '1' }, { body: 'b', count: '1' }, { body: 'c', count: '1' }, { body: 'b', count: '2' }]);
  });

  test('a failed message whose visibility the handler shortened comes back after that, not the queue\'s timeout', async () => {
    sim.createQueue('retry-soon.fifo', { visibilityTimeoutSeconds: 600 });
    await sendAll('retry-soon.fifo', ['pool-1']);
    const receivedAt: number[] = [];

    const mapping = sim.createEventSourceMapping({
      queue: 'retry-soon.fifo',
      handler: async (event): Promise<SQSBatchResponse> => {
        receivedAt.push(clock.now());
        if (receivedAt.length > 1) return { batchItemFailures: [] };
        const [record] = event.Records;
        await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: sim.queueUrl('retry-soon.fifo'), ReceiptHandle: record.receiptHandle, VisibilityTimeout: 5 }));
        return { batchItemFailures: [{ itemIdentifier: record.messageId }] };
      },
    });
    await waitFor(() => receivedAt.length === 2, 15_000, 'the retry');
    await mapping.stop();

    const waitedSeconds = (receivedAt[1] - receivedAt[0]) / 1000;
    expect(waitedSeconds).toBeGreaterThanOrEqual(5);
    expect(waitedSeconds).toBeLessThan(300);
  });

  test('a message that keeps failing moves to the dead-letter queue on the receive after maxReceiveCount', async () => {
    sim.createQueue('parked.fifo');
    sim.createQueue('work.fifo', { visibilityTimeoutSeconds: 2, deadLetterQueue: { queue: 'parked.fifo', maxReceiveCount: 3 } });
    await sendAll('work.fifo', ['poison'], () => 'g');
    const counts: string[] = [];

    const mapping = sim.createEventSourceMapping({
      queue: 'work.fifo',
      handler: async (event) => {
        counts.push(event.Records[0].attributes.ApproximateReceiveCount);
        throw new Error('always fails');
      },
    });
    await waitFor(() => sim.queue('parked.fifo').peek().length === 1, 15_000, 'the redrive');
    await mapping.stop();
    const parked = await sqs.send(new ReceiveMessageCommand({ QueueUrl: sim.queueUrl('parked.fifo'), MessageSystemAttributeNames: ['All'] }));

    expect(counts).toEqual(['1', '2', '3']);
    expect(sim.queue('work.fifo').peek()).toEqual([]);
    expect(parked.Messages?.[0]).toMatchObject({ Body: 'poison' });
    expect(parked.Messages?.[0].Attributes).toMatchObject({
      DeadLetterQueueSourceArn: 'arn:aws:sqs:eu-west-1:123456789012:work.fifo', MessageGroupId: 'g', ApproximateReceiveCount: '4',
    });
  });

  test('a throwing handler fails the whole batch: every message comes back', async () => {
    sim.createQueue('all-or-nothing.fifo', { visibilityTimeoutSeconds: 2 });
    await sendAll('all-or-nothing.fifo', ['x', 'y', 'z']);
    const batches: string[][] = [];

    const mapping = sim.createEventSourceMapping({
      queue: 'all-or-nothing.fifo',
      handler: async (event) => {
        batches.push(event.Records.map((r) => `${r.body}${r.attributes.ApproximateReceiveCount}`));
        if (batches.length === 1) throw new Error('the database is down');
      },
    });
    await waitFor(() => batches.length === 2 && drained('all-or-nothing.fifo')(), 15_000, 'the second batch');
    await mapping.stop();

    expect(batches).toEqual([['x1', 'y1', 'z1'], ['x2', 'y2', 'z2']]);
  });

  test.each([
    ['an item identifier that is not in the batch', { batchItemFailures: [{ itemIdentifier: 'not-a-message' }] }],
    ['an entry with the wrong key', { batchItemFailures: [{ id: 'x' }] }],
    ['a string', 'ok'],
  ])('an answer with %s fails the whole batch', async (_what, answer) => {
    const name = `invalid-${++invalidQueues}.fifo`;
    sim.createQueue(name, { visibilityTimeoutSeconds: 2 });
    await sendAll(name, ['one', 'two']);
    let calls = 0;

    const mapping = sim.createEventSourceMapping({
      queue: name, handler: async () => (++calls === 1 ? answer : null),
    });
    await waitFor(() => calls === 2 && drained(name)(), 15_000, 'the retry');
    await mapping.stop();

    // The first answer deleted nothing: both messages came back, and the second (null) deleted them.
    expect(calls).toBe(2);
  });

  test('a handler that runs past the function timeout fails its batch', async () => {
    sim.createQueue('slow.fifo', { visibilityTimeoutSeconds: 20 });
    await sendAll('slow.fifo', ['s']);
    let calls = 0;

    const mapping = sim.createEventSourceMapping({
      queue: 'slow.fifo',
      functionTimeoutSeconds: 3,
      handler: async () => {
        if (++calls === 1) await clock.sleep(10_000);
      },
    });
    await waitFor(() => calls === 2 && drained('slow.fifo')(), 15_000, 'the retry');
    await mapping.stop();

    expect(calls).toBe(2);
  });

  test('FIFO groups are processed in parallel while each group runs one invocation at a time, in order', async () => {
    sim.createQueue('groups.fifo', { visibilityTimeoutSeconds: 60 });
    const bodies = ['a1', 'b1', 'c1', 'a2', 'b2', 'c2', 'a3', 'b3', 'c3'];
    await sendAll('groups.fifo', bodies, (body) => body[0]);
    const active = new Map<string, number>();
    let overall = 0;
    let maxOverall = 0;
    let maxPerGroup = 0;
    const order: string[] = [];

    const mapping = sim.createEventSourceMapping({
      queue: 'groups.fifo',
      batchSize: 1,
      handler: async (event) => {
        const body = event.Records[0].body;
        const group = body[0];
        active.set(group, (active.get(group) ?? 0) + 1);
        overall++;
        maxOverall = Math.max(maxOverall, overall);
        maxPerGroup = Math.max(maxPerGroup, active.get(group)!);
        await clock.sleep(2000);
        order.push(body);
        active.set(group, active.get(group)! - 1);
        overall--;
      },
    });
    await waitFor(() => order.length === bodies.length, 15_000, 'every message');
    await mapping.stop();

    expect(maxOverall).toBe(3);
    expect(maxPerGroup).toBe(1);
    for (const group of ['a', 'b', 'c']) expect(order.filter((b) => b[0] === group)).toEqual([`${group}1`, `${group}2`, `${group}3`]);
  });

  test('without ReportBatchItemFailures a returned failure list is ignored and everything is deleted', async () => {
    sim.createQueue('no-report.fifo', { visibilityTimeoutSeconds: 2 });
    await sendAll('no-report.fifo', ['k']);
    let calls = 0;

    const mapping = sim.createEventSourceMapping({
      queue: 'no-report.fifo',
      reportBatchItemFailures: false,
      handler: async (event) => {
        calls++;
        return { batchItemFailures: [{ itemIdentifier: event.Records[0].messageId }] };
      },
    });
    await waitFor(drained('no-report.fifo'));
    await mapping.stop();

    expect(calls).toBe(1);
  });
});
