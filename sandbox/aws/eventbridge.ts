// EventBridge's default bus in process: rules deliver events matching their patterns (service events, e.g. the EC2
// simulator's, come whole through publish()) asynchronously to Lambda targets, whose errors Lambda retries; schedule
// rules (`rate(1 minute)`, on the simulated clock) invoke their targets with the Scheduled Event.
import type { EventBridgeEvent } from 'aws-lambda';
import { AwsContext, awsContext, AwsSimulatorOptions } from './ids';
import { invokeFunction, LambdaFunction } from './lambda-invoke';

export type EventPattern = { readonly [key: string]: unknown };

/**
 * `eventPattern` as the template holds it, or `scheduleExpression` `rate(<n> minute[s]|hour[s]|day[s])`, whose first event fires one period
 * after the rule is put; Lambda `targets` (named `<rule name>-target` by default) get a whole envelope, `Event` is what their handlers declare.
 */
export type RuleOptions<Event = EventBridgeEvent<string, unknown>> = { readonly name: string; readonly targets: readonly LambdaFunction<Event>[] }
  & ({ readonly eventPattern: EventPattern } | { readonly scheduleExpression: string });

export class InvalidEventPatternError extends Error {
  constructor(message: string) {
    super(`Event pattern is not valid. Reason: ${message}`);
    this.name = 'InvalidEventPatternError';
  }
}

/** Lambda's asynchronous retries of a function error: by default twice, one minute and then two later. */
const ASYNC_RETRY_DELAYS_MS = [60_000, 120_000];
const RATE_UNIT_MS: Record<string, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };

type Rule = { readonly arn: string; readonly pattern?: EventPattern; readonly targets: readonly LambdaFunction<never>[] };

export class EventBridgeSimulator {
  private readonly aws: AwsContext;
  private readonly rules: Rule[] = [];
  /** Cancel functions of pending deliveries and retries, and of the schedules' next events. */
  private readonly timers = new Set<() => void>();
  private readonly schedules = new Set<() => void>();
  private readonly running = new Set<Promise<void>>();
  /** ARNs of deleted rules: their schedules fire no more. */
  private readonly deleted = new Set<string>();
  private stopped = false;

  constructor(options: AwsSimulatorOptions = {}) {
    this.aws = awsContext(options, 'eventbridge-ids');
  }

  /** Creates a rule on the default bus and returns its ARN. */
  putRule<Event = EventBridgeEvent<string, unknown>>(options: RuleOptions<Event>): string {
    const pattern = 'eventPattern' in options ? options.eventPattern : undefined;
    if (pattern) validatePattern(pattern);
    const period = 'scheduleExpression' in options ? ratePeriodMs(options.scheduleExpression) : undefined;
    const rule = {
      arn: `arn:aws:events:${this.aws.region}:${this.aws.accountId}:rule/${options.name}`,
      pattern,
      targets: options.targets.map((target) => ({ functionName: `${options.name}-target`, ...target })),
    };
    this.rules.push(rule);
    if (period !== undefined) this.startSchedule(rule, period);
    return rule.arn;
  }

  /** Deletes a rule: no event matches it and its schedule fires no more; deliveries already handed over run on. */
  deleteRule(name: string): void {
    const arn = `arn:aws:events:${this.aws.region}:${this.aws.accountId}:rule/${name}`;
    this.deleted.add(arn);
    this.rules.splice(0, this.rules.length, ...this.rules.filter((rule) => rule.arn !== arn));
  }

  /** An event from an AWS service, already in its envelope (version, id, detail-type, source, …); returns the deliveries started. */
  publish(event: EventBridgeEvent<string, unknown>): number {
    const matching = this.stopped ? [] : this.rules.filter((rule) => rule.pattern && matchesPattern(rule.pattern, event));
    for (const rule of matching) for (const target of rule.targets) this.deliver(target, event);
    return matching.reduce((n, rule) => n + rule.targets.length, 0);
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
    for (const cancel of [...this.timers, ...this.schedules]) cancel();
    this.timers.clear();
    await Promise.all([...this.running]);
  }

  /** Hands one event to one target's function, asynchronously; Lambda's asynchronous invocation retries a function error (the
   * target's RetryPolicy covers failed hand-overs only, https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html). */
  private deliver(target: LambdaFunction<never>, event: EventBridgeEvent<string, unknown>): void {
    const run = async (attempt: number): Promise<void> => {
      const outcome = await invokeFunction(target, event, this.aws);
      if (!outcome.ok && attempt < ASYNC_RETRY_DELAYS_MS.length) this.schedule(ASYNC_RETRY_DELAYS_MS[attempt], () => run(attempt + 1));
    };
    this.schedule(0, () => run(0));
  }

  /** Fires the Scheduled Event every period; `time` has second precision and is the scheduled time however late the hand-over. */
  private startSchedule(rule: Rule, periodMs: number): void {
    const { clock, ids, region, accountId } = this.aws;
    const start = clock.now();
    const fire = (n: number) => {
      if (this.deleted.has(rule.arn)) return;
      this.schedule(start + (n + 1) * periodMs - clock.now(), () => fire(n + 1), this.schedules);
      const event: EventBridgeEvent<'Scheduled Event', Record<string, never>> = {
        'version': '0',
        'id': ids.uuid(),
        'detail-type': 'Scheduled Event',
        'source': 'aws.events',
        'account': accountId,
        'time': new Date(Math.floor((start + n * periodMs) / 1000) * 1000).toISOString().replace('.000Z', 'Z'),
        'region': region,
        'resources': [rule.arn],
        'detail': {},
      };
      for (const target of rule.targets) this.deliver(target, event);
    };
    this.schedule(periodMs, () => fire(1), this.schedules);
  }

  /** Runs `work` after `delayMs`, tracked so stop() can cancel it and idle() can wait for it. */
  private schedule(delayMs: number, work: () => Promise<void> | void, timers = this.timers): void {
    if (this.stopped) return;
    const cancel = this.aws.clock.after(delayMs, () => {
      timers.delete(cancel);
      const run = Promise.resolve().then(work)
        .catch((error: unknown) => console.error('EventBridge simulator: delivery error', error))
        .finally(() => this.running.delete(run));
      this.running.add(run);
    });
    timers.add(cancel);
  }
}

/** The period of `rate(1 minute)`, `rate(5 minutes)`, … (the unit singular for 1 only); cron() is not simulated (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html). */
function ratePeriodMs(expression: string): number {
  const match = /^rate\((\d+) (minute|hour|day)(s?)\)$/.exec(expression);
  const value = Number(match?.[1]);
  if (!match || value < 1 || (match[3] === 's') !== (value > 1)) {
    throw new Error(`Parameter ScheduleExpression is not valid: "${expression}" (the sandbox simulates rate(<value> <unit>), a positive value, the unit plural for more than 1)`);
  }
  return value * RATE_UNIT_MS[match[2]];
}

/**
 * Event patterns as the template's rules use them: exact values (any of a list; an array field matches when any element does) under
 * nested objects. Operators (prefix, anything-but, …) are refused, not ignored (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html).
 */
export function validatePattern(pattern: unknown, path = 'the pattern'): void {
  if (typeof pattern !== 'object' || pattern === null || Array.isArray(pattern)) {
    throw new InvalidEventPatternError(`${path} must be an array of values or an object, got ${JSON.stringify(pattern)}`);
  }
  for (const [key, value] of Object.entries(pattern)) {
    const at = path === 'the pattern' ? key : `${path}.${key}`;
    if (!Array.isArray(value)) validatePattern(value, at);
    else if (value.length === 0) throw new InvalidEventPatternError(`${at}: empty arrays are not allowed`);
    else if (value.some((v) => typeof v === 'object' && v !== null)) throw new InvalidEventPatternError(`${at}: only exact values are simulated`);
  }
}

export function matchesPattern(pattern: EventPattern, event: unknown): boolean {
  return Object.entries(pattern).every(([key, expected]) => {
    if (typeof event !== 'object' || event === null || Array.isArray(event) || !Object.hasOwn(event, key)) return false;
    const value = (event as Record<string, unknown>)[key];
    if (!Array.isArray(expected)) return matchesPattern(expected as EventPattern, value);
    return (Array.isArray(value) ? value : [value]).some((v) => expected.includes(v));
  });
}
