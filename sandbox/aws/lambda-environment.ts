// One Lambda execution environment: a worker thread that loads a function's bundle (the init phase) and then runs its
// invocations one at a time, each with a Context rebuilt inside it
// (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html). A worker has its own module instance,
// process.env and event loop, as a container has; a child process would cost a whole Node.js process more.
import { Worker } from 'worker_threads';
import type { Context } from 'aws-lambda';
import type { FunctionDeployment } from './lambda-runtime';

export type Answer = { readonly result: string } | { readonly errorType: string; readonly errorMessage: string };
type Call = { readonly event: unknown; readonly context: InvocationContext };
export type InvocationContext = Pick<Context, 'functionName' | 'awsRequestId' | 'invokedFunctionArn' | 'memoryLimitInMB' | 'logGroupName' | 'logStreamName'> & { readonly remainingMs: number };

// The runtime inside an environment: the init phase loads the bundle as Node's require would (with V8's code cache of an earlier
// environment, which spares this machine's cores the compile, not the module's own init), then each message is an invocation.
const RUNTIME = `
const { parentPort, workerData: { bundle, cache, timeScale } } = require('worker_threads');
const fs = require('fs'), path = require('path'), vm = require('vm'), { createRequire } = require('module');
let handler;
try {
  const script = new vm.Script('(function (exports, require, module, __filename, __dirname) {' + fs.readFileSync(bundle, 'utf8') + '\\n})', { filename: bundle, cachedData: cache });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(bundle), module, bundle, path.dirname(bundle));
  handler = module.exports.handler;
  parentPort.postMessage({ ready: true, cache: cache ? undefined : script.createCachedData() });
} catch (e) {
  parentPort.postMessage({ errorType: 'Runtime.ImportModuleError', errorMessage: String(e && e.stack || e) });
}
parentPort.on('message', async ({ event, context: c }) => {
  const started = Date.now();
  const unsupported = () => { throw new Error('the sandbox does not support the callback-style context methods; return a promise'); };
  const context = { callbackWaitsForEmptyEventLoop: true, functionVersion: '$LATEST', ...c, remainingMs: undefined,
    getRemainingTimeInMillis: () => Math.max(0, Math.round(c.remainingMs - (Date.now() - started) / timeScale)), done: unsupported, fail: unsupported, succeed: unsupported };
  let value;
  try { value = await handler(event, context); } catch (e) {
    return parentPort.postMessage({ errorType: (e && e.name) || 'Error', errorMessage: String(e && e.message || e) });
  }
  try { parentPort.postMessage({ result: JSON.stringify(value) ?? 'null' }); } catch (e) {
    parentPort.postMessage({ errorType: 'Runtime.MarshalError', errorMessage: String(e.message) });
  }
});
`;

type Ready = { readonly ready: true; readonly cache?: Uint8Array };
/** `cache`: V8's code cache of the bundle, if an environment made one; `cached`: hears the one this environment makes; `gone`: it ended. */
export interface EnvironmentHost {
  readonly timeScale: number;
  readonly log: NodeJS.WritableStream;
  readonly cache?: Uint8Array;
  readonly cached: (cache: Uint8Array) => void;
  readonly gone: (env: Environment) => void;
}

export class Environment {
  readonly worker: Worker;
  private answer?: (answer: Answer | Ready) => void;
  /** The init phase: undefined once the handler is loaded, else its error. */
  readonly ready: Promise<Answer | undefined>;
  busy = true;
  private readonly gone: (env: Environment) => void;

  constructor(readonly fn: FunctionDeployment, runtime: EnvironmentHost) {
    const { timeScale, log, cache } = runtime;
    this.gone = runtime.gone;
    const workerData = { bundle: fn.bundle, cache, timeScale };
    this.worker = new Worker(RUNTIME, { eval: true, env: { ...fn.environment }, workerData, stdout: true, stderr: true });
    this.worker.unref();
    for (const stream of [this.worker.stdout, this.worker.stderr]) stream.on('data', (chunk: Buffer) => log.write(chunk));
    this.ready = new Promise((resolve) => {
      this.answer = (a) => {
        if ('ready' in a && a.cache) runtime.cached(a.cache);
        resolve('ready' in a ? undefined : a);
      };
    });
    this.worker.on('message', (message: Answer | Ready) => this.answer?.(message));
    // The runtime exited (an uncaught error, an unhandled rejection): Lambda reports Runtime.ExitError and starts a new environment.
    const exited = (detail: string) => {
      this.answer?.({ errorType: 'Runtime.ExitError', errorMessage: `the runtime exited: ${detail}` });
      this.answer = undefined;
      this.gone(this);
    };
    this.worker.on('error', (error) => exited(error.message));
    this.worker.on('exit', (code) => exited(`exit status ${code}`));
  }

  /** Ends the environment (after a failed init, to make room, at the sandbox's stop). */
  discard(): Promise<number> {
    this.gone(this);
    return this.worker.terminate();
  }

  /**
   * Runs one invocation to its end. The caller's timeout (aws/lambda-invoke.ts) fails the invocation on the simulated clock; the
   * handler runs on here, where Lambda would stop the environment, and the environment serves the next one when it is done.
   */
  run(call: Call): Promise<Answer> {
    return new Promise((resolve) => {
      this.answer = (answer) => {
        this.answer = undefined;
        resolve(answer as Answer);
      };
      this.worker.postMessage(call);
    });
  }
}
