// One Lambda invocation as the service performs it: the event and the result cross a JSON boundary (the handler never shares objects with the
// caller), the function has a timeout on the simulated clock, and the handler gets a Context like the Node.js runtime's.
import type { Context } from 'aws-lambda';
import type { AwsContext } from './ids';
import { SimClock } from '../common/time';

/** A Lambda handler as lambda/handlers/*.ts export it. */
export type LambdaHandler<Event, Result> = (event: Event, context: Context) => Result | Promise<Result>;

/** A function as a route, a mapping or a rule target names it. */
export interface LambdaFunction<Event> {
  readonly handler: LambdaHandler<Event, unknown>;
  /** @default 'sandbox-function' */
  readonly functionName?: string;
  /** @default 3 (Lambda's default) */
  readonly functionTimeoutSeconds?: number;
}

/** A failure: the handler threw, ran past its timeout, or returned what is not JSON (Runtime.MarshalError). */
export type InvokeOutcome = { readonly ok: true; readonly result: unknown } | { readonly ok: false };

/** Invokes `handler` once; never throws: a failure is reported in the outcome, as Lambda does. */
export async function invokeFunction(fn: LambdaFunction<never>, event: unknown, aws: AwsContext): Promise<InvokeOutcome> {
  const { clock, ids, region, accountId } = aws;
  const { functionName = 'sandbox-function', functionTimeoutSeconds: timeoutSeconds = 3 } = fn;
  const requestId = ids.uuid();
  const deadline = clock.now() + timeoutSeconds * 1000;
  const fail = (): never => {
    throw new Error('the sandbox does not support the callback-style context methods; return a promise');
  };
  const context: Context = {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:${accountId}:function:${functionName}`,
    memoryLimitInMB: '128',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `sandbox/[$LATEST]${requestId.replace(/-/g, '')}`,
    getRemainingTimeInMillis: () => Math.max(0, Math.round(deadline - clock.now())),
    done: fail,
    fail,
    succeed: fail,
  };
  // The handler receives a copy that went through JSON, as it would over the wire. The run settles
  // either way, so a handler that fails after its timeout raises no unhandled rejection (it keeps
  // running in its execution environment, where Lambda would stop it).
  const wireEvent = JSON.parse(JSON.stringify(event)) as never;
  const running = Promise.resolve().then(() => fn.handler(wireEvent, context)).then((value) => ({ value }), (thrown: unknown) => ({ thrown }));
  const settled = await withinTimeout(running, clock, timeoutSeconds * 1000);
  if (settled === 'timeout' || 'thrown' in settled) return { ok: false };
  try {
    return { ok: true, result: JSON.parse(JSON.stringify(settled.value ?? null)) as unknown };
  } catch {
    return { ok: false };
  }
}

/** `work`'s value, or 'timeout' once `timeoutMs` of simulated time pass first (a gateway's integration timeout). */
export function withinTimeout<T>(work: Promise<T>, clock: SimClock, timeoutMs: number): Promise<T | 'timeout'> {
  let cancel: () => void = () => undefined;
  const timedOut = new Promise<'timeout'>((resolve) => { cancel = clock.after(timeoutMs, () => resolve('timeout')); });
  return Promise.race([work, timedOut]).finally(() => cancel());
}
