// Delivering one event to one Lambda target, in two layers as AWS does:
// 1. EventBridge hands the event to Lambda's asynchronous invoke. Only when that fails (injected
//    here as throttling) does the target's RetryPolicy apply: up to `retryAttempts` retries with
//    exponential backoff and jitter, within `maximumEventAgeSeconds`.
//    https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-retry-policy.html
// 2. Lambda runs the function; a function error is retried by Lambda's asynchronous invocation,
//    by default twice, one minute and then two minutes later — not by EventBridge's RetryPolicy.
//    https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html
import type { EventBridgeEvent } from 'aws-lambda';
import { AwsIds } from './ids';
import { DEFAULT_FUNCTION_SETTINGS, FunctionSettings, invokeFunction, InvokeOutcome, LambdaHandler } from './lambda-invoke';
import { SeededRandom } from '../common/random';
import { SimClock } from '../common/time';

/**
 * A Lambda target. `Event` is what the handler declares it takes (the reconciler's handler takes
 * `Partial<ScheduledEvent>`); the simulator always passes a whole EventBridge envelope.
 */
export interface EventBridgeTarget<Event = EventBridgeEvent<string, unknown>> {
  readonly handler: LambdaHandler<Event, unknown>;
  /** @default '<rule name>-target' */
  readonly functionName?: string;
  /** @default 3 (Lambda's default) */
  readonly functionTimeoutSeconds?: number;
  /** @default 128 */
  readonly memoryMb?: number;
  /** RetryPolicy.MaximumRetryAttempts (0–185): retries of a failed hand-over to Lambda. @default 185 */
  readonly retryAttempts?: number;
  /** RetryPolicy.MaximumEventAgeInSeconds (60–86400). @default 86400 */
  readonly maximumEventAgeSeconds?: number;
  /** The function's asynchronous MaximumRetryAttempts (0–2): retries of a function error. @default 2 */
  readonly asyncRetryAttempts?: number;
}

export interface DeliveryCounts {
  /** Hand-overs attempted (first tries and RetryPolicy retries). */
  deliveryAttempts: number;
  /** Hand-overs that failed (injected throttling). */
  deliveryFailures: number;
  /** Function invocations, including Lambda's retries. */
  invocations: number;
  functionErrors: number;
  /** Events whose function finally succeeded. */
  succeeded: number;
  /** Events given up: RetryPolicy exhausted or event too old, or the function failed every async attempt. */
  dropped: number;
}

export interface DeliveryRecord {
  readonly ruleName: string;
  readonly event: EventBridgeEvent<string, unknown>;
  readonly attempt: number;
  readonly outcome: InvokeOutcome;
}

export interface DeliveryDeps {
  readonly clock: SimClock;
  readonly ids: AwsIds;
  readonly random: SeededRandom;
  readonly region: string;
  readonly accountId: string;
  readonly counts: DeliveryCounts;
  /** True when this hand-over should fail (fault injection). */
  readonly handOverFails: (ruleName: string) => boolean;
  /** Every function invocation, as it ends. */
  readonly onInvocation: (record: DeliveryRecord) => void;
  /** Keeps track of scheduled work so stop() can cancel it and idle() can wait for it. */
  readonly schedule: (delayMs: number, work: () => Promise<void> | void) => void;
}

/** Lambda's asynchronous retry waits: one minute, then two. */
const ASYNC_RETRY_DELAYS_MS = [60_000, 120_000];
/** [GAP] EventBridge documents "exponential back off and jitter" without numbers: 1 s doubling, at most 5 min, equal jitter. */
const BACKOFF_BASE_MS = 1000;
const BACKOFF_CAP_MS = 300_000;

export function validateTarget(target: EventBridgeTarget<never>): void {
  const check = (name: string, value: number | undefined, min: number, max: number) => {
    if (value !== undefined && (!Number.isInteger(value) || value < min || value > max)) {
      throw new Error(`${name} must be an integer from ${min} to ${max}, got ${value}`);
    }
  };
  check('retryAttempts', target.retryAttempts, 0, 185);
  check('maximumEventAgeSeconds', target.maximumEventAgeSeconds, 60, 86_400);
  check('asyncRetryAttempts', target.asyncRetryAttempts, 0, 2);
}

export function functionSettingsFor(ruleName: string, target: EventBridgeTarget<never>, deps: Pick<DeliveryDeps, 'region' | 'accountId'>): FunctionSettings {
  return {
    functionName: target.functionName ?? `${ruleName}-target`,
    region: deps.region,
    accountId: deps.accountId,
    timeoutSeconds: target.functionTimeoutSeconds ?? DEFAULT_FUNCTION_SETTINGS.timeoutSeconds,
    memoryMb: target.memoryMb ?? DEFAULT_FUNCTION_SETTINGS.memoryMb,
  };
}

/** Starts delivering `event` (asynchronously: nothing runs before this returns). */
export function deliver(ruleName: string, target: EventBridgeTarget<never>, event: EventBridgeEvent<string, unknown>, deps: DeliveryDeps): void {
  const settings = functionSettingsFor(ruleName, target, deps);
  const retryAttempts = target.retryAttempts ?? 185;
  const maxAgeMs = (target.maximumEventAgeSeconds ?? 86_400) * 1000;
  const asyncRetries = target.asyncRetryAttempts ?? 2;
  const firstTry = deps.clock.now();

  const handOver = (retry: number): void => {
    deps.counts.deliveryAttempts++;
    if (!deps.handOverFails(ruleName)) {
      deps.schedule(0, () => run(0));
      return;
    }
    deps.counts.deliveryFailures++;
    const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** retry);
    const delay = ceiling / 2 + deps.random.next() * (ceiling / 2);
    if (retry >= retryAttempts || deps.clock.now() + delay - firstTry > maxAgeMs) {
      deps.counts.dropped++;
      return;
    }
    deps.schedule(delay, () => handOver(retry + 1));
  };

  const run = async (attempt: number): Promise<void> => {
    deps.counts.invocations++;
    const outcome = await invokeFunction(target.handler, event, settings, deps.clock, deps.ids);
    deps.onInvocation({ ruleName, event, attempt, outcome });
    if (outcome.ok) {
      deps.counts.succeeded++;
      return;
    }
    deps.counts.functionErrors++;
    if (attempt >= asyncRetries) {
      deps.counts.dropped++;
      return;
    }
    deps.schedule(ASYNC_RETRY_DELAYS_MS[attempt], () => run(attempt + 1));
  };

  deps.schedule(0, () => handOver(0));
}
