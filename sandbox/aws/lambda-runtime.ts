// Lambda's execution environments for a sandbox's functions: each function's bundle runs in environments of its own
// (lambda-environment.ts), one invocation at a time each, side by side with the simulators and the other functions. A cold
// start is a new environment loading the bundle (the init phase); a warm one is reused. Concurrency is Lambda's: reserved,
// or the account's unreserved share; the machine's caps are the sandbox's.
import { randomUUID } from 'crypto';
import * as os from 'os';
import type { Context } from 'aws-lambda';
import { Environment, InvocationContext } from './lambda-environment';

/**
 * The account's concurrency: 1,000 in a Region by default, shared by the functions without reserved
 * concurrency (https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html).
 */
export const ACCOUNT_CONCURRENCY = 1000;
/**
 * Environments this machine holds at once, all functions together: measured at 30 MB (webhook) to 65 MB (provisioner,
 * register) resident each, 128 stay under 8 GB. A 1000-job burst over 5 s keeps the webhook, register and lifecycle
 * functions at about 60 each (the report's `functions` shows the peaks); with fewer, their environments evict one another
 * and each eviction is another cold start. An invocation beyond it waits for an environment.
 */
export const SANDBOX_ENVIRONMENTS = 128;
/**
 * Environments in their init phase at once: one per core. Lambda inits each environment on hardware of its own; here 50 at once
 * share two cores, each takes 50 times longer and the invocations waiting on them fail, so an invocation waits for an init slot
 * or for a warm environment, whichever is free first.
 */
export const SANDBOX_INITS = os.cpus().length;

/** A function as the template deploys it. */
export interface FunctionDeployment {
  readonly name: string;
  /** The bundle's index.js (its `handler` export). */
  readonly bundle: string;
  /** process.env inside its environments. */
  readonly environment: Readonly<Record<string, string>>;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  /** ReservedConcurrentExecutions, or the event source mapping's ScalingConfig.MaximumConcurrency; unset: the account's unreserved concurrency. */
  readonly concurrency?: number;
}

/** Per function: invocations, environments started (cold starts), the most in flight at once, throttles, and waits for the sandbox's cap. */
export interface FunctionCounts { invocations: number; coldStarts: number; peakConcurrency: number; throttled: number; waitedForEnvironment: number }

/** Lambda's answer to an invocation beyond the function's concurrency (HTTP 429, `Rate Exceeded.`). */
export class TooManyRequestsException extends Error {
  public readonly name = 'TooManyRequestsException';
}

/** An error the handler threw or the runtime reported (`Runtime.ExitError`, `Runtime.ImportModuleError`), as Lambda names it to the caller. */
export class FunctionError extends Error {
  constructor(readonly errorType: string, message: string) {
    super(message);
    this.name = errorType;
  }
}

/** `log`: where the environments' stdout and stderr go (default: the sandbox's stderr); the sandbox's caps default to {@link SANDBOX_ENVIRONMENTS}, {@link SANDBOX_INITS}. */
export interface RuntimeOptions {
  readonly timeScale: number;
  readonly region: string;
  readonly accountId: string;
  readonly log?: NodeJS.WritableStream;
  readonly maxEnvironments?: number;
  readonly maxInits?: number;
}

/** The execution environments of a sandbox's functions. */
export class LambdaRuntime {
  private readonly functions = new Map<string, FunctionDeployment>();
  private readonly environments = new Set<Environment>();
  private readonly inFlight = new Map<string, number>();
  private readonly waiting: Array<{ readonly fn: FunctionDeployment; readonly take: (env: Environment | undefined) => void }> = [];
  private readonly counts: Record<string, FunctionCounts> = {};
  /** V8's code cache of each bundle, from its first environment. */
  private readonly codeCache = new Map<string, Uint8Array>();
  private initializing = 0;
  private stopped = false;

  constructor(private readonly options: RuntimeOptions) {}

  deploy(fn: FunctionDeployment): void {
    this.functions.set(fn.name, fn);
    this.counts[fn.name] = { invocations: 0, coldStarts: 0, peakConcurrency: 0, throttled: 0, waitedForEnvironment: 0 };
  }

  /** Invokes a function synchronously: its result (through JSON), or the error it threw ({@link FunctionError}) or Lambda's throttle. */
  async invoke(name: string, event: unknown, caller?: Context): Promise<unknown> {
    const fn = this.functions.get(name);
    if (!fn) throw new Error(`no function ${name} is deployed; deployed: ${[...this.functions.keys()].join(', ')}`);
    const counts = this.counts[name];
    counts.invocations++;
    if (!this.hasConcurrency(fn)) {
      counts.throttled++;
      throw new TooManyRequestsException('Rate Exceeded.');
    }
    // Concurrency counts invocations from the moment they hold an environment (take): one waiting for the sandbox's caps would
    // run at once in Lambda, so it throttles nothing (else a slow machine's backlog would throttle what Lambda serves).
    const env = await this.environmentFor(fn);
    try {
      // An init that failed leaves no environment: the next invocation starts a new one.
      const initError = await env.ready;
      if (initError) void env.discard();
      const context = contextFor(fn, caller, this.options);
      const answer = initError ?? await env.run({ event, context });
      this.release(env);
      if ('result' in answer) return JSON.parse(answer.result) as unknown;
      throw new FunctionError(answer.errorType, answer.errorMessage);
    } finally {
      this.inFlight.set(name, (this.inFlight.get(name) ?? 1) - 1);
    }
  }

  /** Per function, what its environments did. */
  report(): Readonly<Record<string, FunctionCounts>> {
    return Object.fromEntries(Object.entries(this.counts).map(([name, c]) => [name, { ...c }]));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const w of this.waiting.splice(0)) w.take(undefined);
    await Promise.all([...this.environments].map((env) => env.discard()));
  }

  /** Within the function's reserved concurrency, or the account's unreserved concurrency all unreserved functions share. */
  private hasConcurrency(fn: FunctionDeployment): boolean {
    if (fn.concurrency !== undefined) return (this.inFlight.get(fn.name) ?? 0) < fn.concurrency;
    const functions = [...this.functions.values()];
    const reserved = functions.reduce((n, f) => n + (f.concurrency ?? 0), 0);
    const unreservedInFlight = functions.filter((f) => f.concurrency === undefined).reduce((n, f) => n + (this.inFlight.get(f.name) ?? 0), 0);
    return unreservedInFlight < ACCOUNT_CONCURRENCY - reserved;
  }

  /** A warm environment of the function, a new one (a cold start) while the machine holds more, or the next one freed. */
  private environmentFor(fn: FunctionDeployment): Promise<Environment> {
    if (this.stopped) return Promise.reject(new Error('the sandbox is stopping'));
    const taken = this.take(fn);
    if (taken) return Promise.resolve(taken);
    this.counts[fn.name].waitedForEnvironment++;
    return new Promise((resolve, reject) => this.waiting.push({ fn, take: (env) => (env ? resolve(env) : reject(new Error('the sandbox is stopping'))) }));
  }

  private take(fn: FunctionDeployment): Environment | undefined {
    // One that waited for the sandbox's caps while its function filled its reserved concurrency waits on for one of its own.
    if (fn.concurrency !== undefined && (this.inFlight.get(fn.name) ?? 0) >= fn.concurrency) return undefined;
    const env = this.warmOrNew(fn);
    if (env) {
      const running = (this.inFlight.get(fn.name) ?? 0) + 1;
      this.inFlight.set(fn.name, running);
      this.counts[fn.name].peakConcurrency = Math.max(this.counts[fn.name].peakConcurrency, running);
    }
    return env;
  }

  private warmOrNew(fn: FunctionDeployment): Environment | undefined {
    const idle = [...this.environments].filter((env) => !env.busy);
    const warm = idle.find((env) => env.fn === fn);
    if (warm) {
      warm.busy = true;
      return warm;
    }
    if (this.initializing >= (this.options.maxInits ?? SANDBOX_INITS)) return undefined;
    // At the machine's cap, an idle environment of another function makes room (Lambda reclaims idle environments too).
    if (this.environments.size >= (this.options.maxEnvironments ?? SANDBOX_ENVIRONMENTS)) {
      if (idle.length === 0) return undefined;
      this.environments.delete(idle[0]);
      void idle[0].worker.terminate();
    }
    this.counts[fn.name].coldStarts++;
    const env = new Environment(fn, {
      timeScale: this.options.timeScale,
      log: this.options.log ?? process.stderr,
      cache: this.codeCache.get(fn.bundle),
      cached: (cache) => this.codeCache.set(fn.bundle, cache),
      gone: (gone) => {
        if (this.environments.delete(gone) && !this.stopped) this.pump();
      },
    });
    this.environments.add(env);
    this.initializing++;
    void env.ready.then(() => {
      this.initializing--;
      this.pump();
    });
    return env;
  }

  private release(env: Environment): void {
    env.busy = false;
    this.pump();
  }

  /** Hands freed room to the invocations waiting, oldest first. */
  private pump(): void {
    for (const waiter of [...this.waiting]) {
      const env = this.take(waiter.fn);
      if (!env) continue;
      this.waiting.splice(this.waiting.indexOf(waiter), 1);
      waiter.take(env);
    }
  }
}

/**
 * The Context of an invocation: the caller's request id; the time left is the function's timeout from the moment the environment
 * runs it, as the timeout limits the Invoke phase and not the init before it
 * (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html#runtimes-lifecycle-invoke).
 */
function contextFor(fn: FunctionDeployment, caller: Context | undefined, { region, accountId }: RuntimeOptions): InvocationContext {
  const awsRequestId = caller?.awsRequestId ?? randomUUID();
  return {
    functionName: fn.name,
    awsRequestId,
    invokedFunctionArn: `arn:aws:lambda:${region}:${accountId}:function:${fn.name}`,
    memoryLimitInMB: String(fn.memoryMb),
    logGroupName: `/aws/lambda/${fn.name}`,
    logStreamName: `sandbox/[$LATEST]${awsRequestId.replace(/-/g, '')}`,
    remainingMs: fn.timeoutSeconds * 1000,
  };
}
