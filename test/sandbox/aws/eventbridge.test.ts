import type { EventBridgeEvent } from 'aws-lambda';
import { waitFor } from './helpers';
import { EventBridgeSimulator } from '../../../sandbox/aws/eventbridge';
import { ScaledClock } from '../../../sandbox/common/time';

// 1 simulated minute = 60 ms.
const clock = new ScaledClock(0.001);
const STATE_CHANGE = {
  'source': ['aws.ec2'],
  'detail-type': ['EC2 Instance State-change Notification'],
  'detail': { state: ['running', 'shutting-down', 'terminated', 'stopping', 'stopped'] },
};

function stateChange(state: string, id = 'i-0123456789abcdef0'): EventBridgeEvent<string, unknown> {
  return {
    'version': '0',
    'id': `evt-${state}-${id}`,
    'detail-type': 'EC2 Instance State-change Notification',
    'source': 'aws.ec2',
    'account': '123456789012',
    'time': '2026-01-01T12:00:00Z',
    'region': 'us-east-1',
    'resources': [`arn:aws:ec2:us-east-1:123456789012:instance/${id}`],
    'detail': { 'instance-id': id, state },
  };
}

describe('EventBridge', () => {
  let bus: EventBridgeSimulator;
  beforeEach(() => {
    bus = new EventBridgeSimulator({ clock, seed: 9 });
  });
  afterEach(() => bus.stop());

  test('a matching event reaches the rule\'s target and a non-matching one does not', async () => {
    const received: EventBridgeEvent<string, unknown>[] = [];
    bus.putRule({ name: 'StateChange', eventPattern: STATE_CHANGE, targets: [{ handler: async (event) => { received.push(event); } }] });

    const matched = bus.publish(stateChange('running'));
    const ignored = bus.publish(stateChange('pending'));
    await bus.idle();

    expect([matched, ignored]).toEqual([1, 0]);
    expect(received).toEqual([stateChange('running')]);
  });

  test('delivery is asynchronous: publish returns before the handler runs', async () => {
    let ran = false;
    bus.putRule({ name: 'Async', eventPattern: STATE_CHANGE, targets: [{ handler: async () => { ran = true; } }] });

    bus.publish(stateChange('terminated'));
    const ranDuringPublish = ran;
    await bus.idle();

    expect(ranDuringPublish).toBe(false);
    expect(ran).toBe(true);
  });

  test('a failing function is retried by Lambda\'s asynchronous invocation, one and then two minutes later', async () => {
    const attemptsAt: number[] = [];
    bus.putRule({
      name: 'Flaky',
      eventPattern: STATE_CHANGE,
      targets: [{
        handler: async () => {
          attemptsAt.push(clock.now());
          if (attemptsAt.length < 3) throw new Error('DynamoDB throttled');
        },
      }],
    });

    bus.publish(stateChange('running'));
    await bus.idle();

    expect(attemptsAt).toHaveLength(3);
    expect(attemptsAt[1] - attemptsAt[0]).toBeGreaterThanOrEqual(60_000);
    expect(attemptsAt[2] - attemptsAt[1]).toBeGreaterThanOrEqual(120_000);
  });

  test('an event whose function fails every asynchronous attempt is dropped', async () => {
    let calls = 0;
    bus.putRule({
      name: 'Broken',
      eventPattern: STATE_CHANGE,
      targets: [{
        handler: async () => {
          calls++;
          throw new Error('always');
        },
      }],
    });

    bus.publish(stateChange('stopped'));
    await bus.idle();

    // Two retries after the first attempt, then nothing more is pending.
    expect(calls).toBe(3);
  });

  test('a rate(1 minute) schedule fires the Scheduled Event every simulated minute', async () => {
    const fired: EventBridgeEvent<string, unknown>[] = [];
    const arn = bus.putRule({ name: 'Schedule', scheduleExpression: 'rate(1 minute)', targets: [{ handler: async (event) => { fired.push(event); } }] });
    const start = clock.now();

    await waitFor(() => fired.length >= 3, 15_000, 'three scheduled events');

    // Each event is stamped with its scheduled time, one period apart from the rule's creation
    // however late a busy machine hands it over.
    const times = fired.slice(0, 3).map((e) => Date.parse(e.time));
    expect([times[1] - times[0], times[2] - times[1]]).toEqual([60_000, 60_000]);
    expect(clock.now() - start).toBeGreaterThanOrEqual(180_000);
    expect(fired[0]).toEqual({
      'version': '0',
      'id': expect.stringMatching(/^[0-9a-f-]{36}$/),
      'detail-type': 'Scheduled Event',
      'source': 'aws.events',
      'account': '123456789012',
      'time': expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/),
      'region': 'us-east-1',
      'resources': [arn],
      'detail': {},
    });
    const gaps = fired.slice(1, 3).map((e, i) => Date.parse(e.time) - Date.parse(fired[i].time));
    for (const gap of gaps) expect(Math.abs(gap - 60_000)).toBeLessThanOrEqual(1000);
  });

  test.each([['rate(1 minutes)'], ['rate(5 minute)'], ['rate(0 minutes)'], ['cron(0 12 * * ? *)']])('the schedule expression %s is refused', (expression) => {
    expect(() => bus.putRule({ name: 'Bad', scheduleExpression: expression, targets: [] })).toThrow(/ScheduleExpression/);
  });

  test('stop cancels pending retries: the handler is not called again', async () => {
    // A slower clock: the one-minute retry is 600 ms away, far beyond the time stop() takes.
    bus = new EventBridgeSimulator({ clock: new ScaledClock(0.01), seed: 9 });
    let calls = 0;
    bus.putRule({ name: 'Stopped', eventPattern: STATE_CHANGE, targets: [{ handler: async () => { calls++; throw new Error('x'); } }] });

    bus.publish(stateChange('running'));
    await waitFor(() => calls === 1);
    await bus.stop();
    await new Promise((resolve) => setTimeout(resolve, 700));

    expect(calls).toBe(1);
  });
});
