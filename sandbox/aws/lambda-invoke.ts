// One Lambda invocation as the service performs it: the event and the result cross a JSON
// boundary (the handler never shares objects with the caller), the function has a timeout on the
// simulated clock, and the handler gets a Context like the Node.js runtime's.
import type { Context } from 'aws-lambda';
import { AwsIds } from './ids';
import { SimClock } from '../common/time';

/** A Lambda handler as lambda/handlers/*.ts export it. */
export type LambdaHandler<Event, Result> = (event: Event, context: Context) => Result | Promise<Result>;

export interface FunctionSettings {
  readonly functionName: string;
  readonly region: string;
  readonly accountId: string;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
}

/** Lambda's defaults for a function the sandbox does not describe further. */
export const DEFAULT_FUNCTION_SETTINGS = { timeoutSeconds: 3, memoryMb: 128 } as const;

export type InvokeFailureKind =
  /** The handler threw or rejected (`errorType` is its error's name). */
  | 'Unhandled'
  /** The function ran past its timeout ("Task timed out after 3.00 seconds"). */
  | 'TimedOut'
  /** The result could not be serialized to JSON (Runtime.MarshalError). */
  | 'InvalidResponse';

export type InvokeOutcome =
  | { readonly ok: true; readonly requestId: string; readonly result: unknown }
  | { readonly ok: false; readonly requestId: string; readonly kind: InvokeFailureKind; readonly error: Error };

export function functionArn(settings: FunctionSettings): string {
  return `arn:aws:lambda:${settings.region}:${settings.accountId}:function:${settings.functionName}`;
}

/** Invokes `handler` once; never throws: a failure is reported in the outcome, as Lambda does. */
export async function invokeFunction(
  handler: LambdaHandler<never, unknown>,
  event: unknown,
  settings: FunctionSettings,
  clock: SimClock,
  ids: AwsIds,
): Promise<InvokeOutcome> {
  const requestId = ids.uuid();
  const timeoutMs = settings.timeoutSeconds * 1000;
  const deadline = clock.now() + timeoutMs;
  const context = lambdaContext(settings, requestId, () => Math.max(0, Math.round(deadline - clock.now())));
  // The handler receives a copy that went through JSON, as it would over the wire.
  const wireEvent = JSON.parse(JSON.stringify(event)) as never;

  let cancelTimer: () => void = () => undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    cancelTimer = clock.after(timeoutMs, () => resolve('timeout'));
  });
  // Settles either way, so a handler that fails after its timeout raises no unhandled rejection
  // (it keeps running in this process, where a real sandbox would be frozen).
  const running = Promise.resolve()
    .then(() => handler(wireEvent, context))
    .then((value) => ({ value }), (thrown: unknown) => ({ thrown }));
  try {
    const settled = await Promise.race([running, timedOut]);
    if (settled === 'timeout') {
      return { ok: false, requestId, kind: 'TimedOut', error: new Error(`Task timed out after ${settings.timeoutSeconds.toFixed(2)} seconds`) };
    }
    if ('thrown' in settled) {
      const error = settled.thrown instanceof Error ? settled.thrown : new Error(String(settled.thrown));
      return { ok: false, requestId, kind: 'Unhandled', error };
    }
    try {
      const json = JSON.stringify(settled.value ?? null);
      return { ok: true, requestId, result: JSON.parse(json) as unknown };
    } catch (cause) {
      const error = new Error(`Runtime.MarshalError: Unable to marshal response: ${(cause as Error).message}`, { cause });
      return { ok: false, requestId, kind: 'InvalidResponse', error };
    }
  } finally {
    cancelTimer();
  }
}

function lambdaContext(settings: FunctionSettings, requestId: string, remaining: () => number): Context {
  const fail = (): never => {
    throw new Error('the sandbox does not support the callback-style context methods; return a promise');
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: settings.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: functionArn(settings),
    memoryLimitInMB: String(settings.memoryMb),
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${settings.functionName}`,
    logStreamName: `sandbox/[$LATEST]${requestId.replace(/-/g, '')}`,
    getRemainingTimeInMillis: remaining,
    done: fail,
    fail,
    succeed: fail,
  };
}
