// The default event bus of EventBridge in process: rules with event patterns (event-pattern.ts)
// deliver matching events asynchronously to Lambda targets with the two retry layers AWS has
// (eventbridge-delivery.ts); schedule rules (`rate(1 minute)`, on the simulated clock) invoke
// their targets with the Scheduled Event. Service events (the EC2 simulator's) come in whole
// through publish(); PutEvents entries are stamped here like the service stamps them.
import type { EventBridgeEvent } from 'aws-lambda';
import { EventPattern, matchesPattern, validatePattern } from './event-pattern';
import { deliver, DeliveryCounts, DeliveryRecord, EventBridgeTarget, validateTarget } from './eventbridge-delivery';
import { AwsIds } from './ids';
import { ratePeriodMs } from './schedule-expression';
import { SeededRandom } from '../common/random';
import { ScaledClock, SimClock } from '../common/time';

export type { EventBridgeTarget, DeliveryRecord } from './eventbridge-delivery';
export type { EventPattern } from './event-pattern';

export interface EventBridgeOptions {
  /** @default a real-time ScaledClock */
  readonly clock?: SimClock;
  /** @default 1 */
  readonly seed?: number;
  /** @default 'us-east-1' */
  readonly region?: string;
  /** @default '123456789012' */
  readonly accountId?: string;
}

export interface RuleOptions<Event = EventBridgeEvent<string, unknown>> {
  readonly name: string;
  /** The pattern as EventBridge takes it (`detail-type`; a top-level `detailType` is accepted as CDK spells it). */
  readonly eventPattern?: EventPattern;
  /** `rate(<n> minute[s]|hour[s]|day[s])`; the first event fires one period after the rule is put. */
  readonly scheduleExpression?: string;
  readonly targets: readonly EventBridgeTarget<Event>[];
}

/** A PutEvents entry, as the API takes it (Detail is a JSON string). */
export interface PutEventsEntry {
  readonly Source: string;
  readonly DetailType: string;
  readonly Detail: string;
  readonly Resources?: readonly string[];
  /** @default now */
  readonly Time?: Date;
}

export interface PutEventsResult {
  readonly FailedEntryCount: number;
  readonly Entries: readonly ({ readonly EventId: string } | { readonly ErrorCode: string; readonly ErrorMessage: string })[];
}

export interface EventBridgeCounts extends DeliveryCounts {
  /** Events that reached the bus (published, put, or fired by a schedule). */
  events: number;
  /** Events that matched no rule. */
  unmatched: number;
  /** Deliveries started: one per matching rule and target. */
  deliveries: number;
  scheduledEvents: number;
}

interface Rule {
  readonly name: string;
  readonly arn: string;
  readonly pattern?: EventPattern;
  readonly targets: readonly EventBridgeTarget<never>[];
  cancelSchedule: () => void;
}

export class EventBridgeSimulator {
  readonly clock: SimClock;
  readonly region: string;
  readonly accountId: string;
  readonly counts: EventBridgeCounts = {
    events: 0,
    unmatched: 0,
    deliveries: 0,
    scheduledEvents: 0,
    deliveryAttempts: 0,
    deliveryFailures: 0,
    invocations: 0,
    functionErrors: 0,
    succeeded: 0,
    dropped: 0,
  };
  private readonly rules = new Map<string, Rule>();
  private readonly ids: AwsIds;
  private readonly random: SeededRandom;
  private readonly timers = new Set<() => void>();
  private readonly running = new Set<Promise<void>>();
  private readonly listeners = new Set<(record: DeliveryRecord) => void>();
  private readonly forcedFailures: { ruleName?: string; remaining: number }[] = [];
  private handOverFailureRate = 0;
  private stopped = false;

  constructor(options: EventBridgeOptions = {}) {
    this.clock = options.clock ?? new ScaledClock(1);
    this.region = options.region ?? 'us-east-1';
    this.accountId = options.accountId ?? '123456789012';
    const random = new SeededRandom(options.seed ?? 1);
    this.ids = new AwsIds(random.fork('eventbridge-ids'));
    this.random = random.fork('eventbridge-faults');
  }

  /** Creates a rule on the default bus and returns its ARN. */
  putRule<Event = EventBridgeEvent<string, unknown>>(options: RuleOptions<Event>): string {
    if (this.rules.has(options.name)) throw new Error(`rule "${options.name}" exists already`);
    if ((options.eventPattern === undefined) === (options.scheduleExpression === undefined)) {
      throw new Error(`rule "${options.name}" needs exactly one of eventPattern and scheduleExpression`);
    }
    options.targets.forEach(validateTarget);
    let pattern: EventPattern | undefined;
    if (options.eventPattern) {
      const { detailType, ...rest } = options.eventPattern as EventPattern & { detailType?: unknown };
      pattern = detailType === undefined ? rest : { ...rest, 'detail-type': detailType };
      validatePattern(pattern);
    }
    const period = options.scheduleExpression === undefined ? undefined : ratePeriodMs(options.scheduleExpression);
    const rule: Rule = {
      name: options.name, arn: `arn:aws:events:${this.region}:${this.accountId}:rule/${options.name}`, pattern, targets: options.targets, cancelSchedule: () => {},
    };
    this.rules.set(rule.name, rule);
    if (period !== undefined) this.startSchedule(rule, period);
    return rule.arn;
  }

  removeRule(name: string): void {
    this.rules.get(name)?.cancelSchedule();
    this.rules.delete(name);
  }

  /** An event from an AWS service, already in its envelope (version, id, detail-type, source, …). */
  publish(event: EventBridgeEvent<string, unknown>): number {
    if (this.stopped) return 0;
    this.counts.events++;
    let started = 0;
    for (const rule of this.rules.values()) {
      if (!rule.pattern || !matchesPattern(rule.pattern, event)) continue;
      for (const target of rule.targets) {
        this.startDelivery(rule, target, event);
        started++;
      }
    }
    if (started === 0) this.counts.unmatched++;
    return started;
  }

  /** PutEvents on the default bus: each entry is stamped with an id, account, region and time. */
  putEvents(entries: readonly PutEventsEntry[]): PutEventsResult {
    const results = entries.map((entry) => {
      if (!entry.Source || !entry.DetailType) return { ErrorCode: 'InvalidArgument', ErrorMessage: 'Parameters Source and DetailType are required.' };
      if (entry.Source.startsWith('aws.')) {
        return { ErrorCode: 'NotAuthorizedForSourceException', ErrorMessage: `Not authorized for the source ${entry.Source}.` };
      }
      let detail: unknown;
      try {
        detail = JSON.parse(entry.Detail);
      } catch {
        detail = undefined;
      }
      if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) {
        return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
      }
      const id = this.ids.uuid();
      this.publish({
        'version': '0',
        id,
        'detail-type': entry.DetailType,
        'source': entry.Source,
        'account': this.accountId,
        'time': eventTime(entry.Time?.getTime() ?? this.clock.now()),
        'region': this.region,
        'resources': [...(entry.Resources ?? [])],
        'detail': detail,
      });
      return { EventId: id };
    });
    return { FailedEntryCount: results.filter((r) => 'ErrorCode' in r).length, Entries: results };
  }

  /** Makes the next `count` hand-overs to Lambda fail (of one rule's targets, or any), so the RetryPolicy applies. */
  failNextHandOvers(count: number, ruleName?: string): void {
    this.forcedFailures.push({ ruleName, remaining: count });
  }

  /** Probability that a hand-over to Lambda fails, seeded. */
  setHandOverFailureRate(rate: number): void {
    this.handOverFailureRate = rate;
  }

  /** Called after every function invocation. */
  onInvocation(listener: (record: DeliveryRecord) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves once no delivery, retry or invocation is pending (schedules aside). */
  async idle(): Promise<void> {
    while (this.timers.size > 0 || this.running.size > 0) {
      await Promise.all([...this.running]);
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }

  /** Cancels schedules and pending retries, and waits for the invocations running. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const rule of this.rules.values()) rule.cancelSchedule();
    for (const cancel of [...this.timers]) cancel();
    this.timers.clear();
    await Promise.all([...this.running]);
  }

  private startDelivery(rule: Rule, target: EventBridgeTarget<never>, event: EventBridgeEvent<string, unknown>): void {
    this.counts.deliveries++;
    deliver(rule.name, target, event, {
      clock: this.clock,
      ids: this.ids,
      random: this.random,
      region: this.region,
      accountId: this.accountId,
      counts: this.counts,
      handOverFails: (ruleName) => this.handOverFails(ruleName),
      onInvocation: (record) => {
        for (const listener of [...this.listeners]) listener(record);
      },
      schedule: (delayMs, work) => this.schedule(delayMs, work),
    });
  }

  private startSchedule(rule: Rule, periodMs: number): void {
    const start = this.clock.now();
    let n = 0;
    const arm = () => {
      n++;
      rule.cancelSchedule = this.clock.after(start + n * periodMs - this.clock.now(), fire);
    };
    const fire = () => {
      if (this.stopped || !this.rules.has(rule.name)) return;
      this.counts.scheduledEvents++;
      this.counts.events++;
      const event: EventBridgeEvent<'Scheduled Event', Record<string, never>> = {
        'version': '0',
        'id': this.ids.uuid(),
        'detail-type': 'Scheduled Event',
        'source': 'aws.events',
        'account': this.accountId,
        'time': eventTime(start + n * periodMs),
        'region': this.region,
        'resources': [rule.arn],
        'detail': {},
      };
      for (const target of rule.targets) this.startDelivery(rule, target, event);
      arm();
    };
    arm();
  }

  private schedule(delayMs: number, work: () => Promise<void> | void): void {
    if (this.stopped) return;
    const cancel = this.clock.after(delayMs, () => {
      this.timers.delete(cancel);
      const run = Promise.resolve().then(work)
        .catch((error: unknown) => console.error('EventBridge simulator: delivery error', error))
        .finally(() => this.running.delete(run));
      this.running.add(run);
    });
    this.timers.add(cancel);
  }

  private handOverFails(ruleName: string): boolean {
    const forced = this.forcedFailures.find((f) => f.remaining > 0 && (f.ruleName === undefined || f.ruleName === ruleName));
    if (forced) {
      forced.remaining--;
      return true;
    }
    return this.random.chance(this.handOverFailureRate);
  }
}

/** EventBridge `time` has second precision: `2026-01-01T12:00:00Z`. */
function eventTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}
