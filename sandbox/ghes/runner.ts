// The runner's side of the simulated instance. The real runner talks to the Actions service, not the
// REST API; here the private runner service under /_runner stands for it (never counted as API calls,
// never faulted): create a session with the secret from the JIT config, long-poll for a job, acquire
// it, renew it while running it, report its result. `SimulatedRunner` is what `run.sh --jitconfig X`
// of a simulated instance runs: one job, as a JIT runner does, and `kill()` is the instance terminated.
import { Actions, JobConclusion, JobRecord, REGISTRATION_DELETED, RunnerRecord, Waiter } from './actions';
import { GhesApiError, JitConfigError, notFound, RunnerProtocolError } from './errors';
import { SimTime } from './sim-time';
import { SeededRandom } from '../common/random';
import { SimClock } from '../common/time';

export const RUNNER_SERVICE_PATH = '/_runner';

// --- the JIT config --------------------------------------------------------------------------
// Like the real one it is base64 of a JSON map from file name (.runner, .credentials,
// .credentials_rsaparams) to that file's base64 content. The real runner proves itself with the RSA
// key in .credentials_rsaparams; the simulated one carries a shared secret there instead.

/** What a simulated runner needs from its config. */
export interface JitRunnerSettings {
  readonly agentId: number;
  readonly agentName: string;
  /** The runner service: `http://127.0.0.1:PORT/_runner`. */
  readonly serverUrl: string;
  readonly gitHubUrl: string;
  readonly workFolder: string;
  readonly secret: string;
}

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64');

export function encodeJitConfig(runner: RunnerRecord, serverUrl: string, gitHubUrl: string): string {
  return b64({
    '.runner': b64({
      agentId: runner.id,
      agentName: runner.name,
      poolId: 1,
      poolName: 'Default',
      serverUrl,
      gitHubUrl,
      workFolder: runner.workFolder,
      ephemeral: true,
      disableUpdate: false,
      useV2Flow: true,
    }),
    '.credentials': b64({
      scheme: 'OAuth',
      data: { clientId: `runner-${runner.id}`, authorizationUrl: `${serverUrl}/oauth2/token`, requireFipsCryptography: 'False' },
    }),
    '.credentials_rsaparams': b64({ simulatedSecret: runner.secret }),
  });
}

export function decodeJitConfig(encoded: string): JitRunnerSettings {
  let files: Record<string, Record<string, unknown>>;
  try {
    const map = JSON.parse(Buffer.from(encoded.trim(), 'base64').toString('utf8')) as Record<string, string>;
    files = Object.fromEntries(['.runner', '.credentials', '.credentials_rsaparams'].map((name) => {
      if (typeof map[name] !== 'string') throw new JitConfigError(`the JIT config has no ${name} file`);
      return [name, JSON.parse(Buffer.from(map[name], 'base64').toString('utf8')) as Record<string, unknown>];
    }));
  } catch (err) {
    if (err instanceof JitConfigError) throw err;
    throw new JitConfigError('the JIT config is not base64 of a JSON map of runner files', { cause: err });
  }
  const { agentId, agentName, serverUrl, gitHubUrl, workFolder } = files['.runner'];
  const secret = files['.credentials_rsaparams'].simulatedSecret;
  if (typeof agentId !== 'number' || typeof serverUrl !== 'string' || typeof secret !== 'string') {
    throw new JitConfigError('the JIT config lacks agentId, serverUrl or the credentials');
  }
  return { agentId, agentName, serverUrl, gitHubUrl, workFolder, secret } as JitRunnerSettings;
}

// --- the runner service ----------------------------------------------------------------------

/** What the runner receives for a job: enough to run it for its duration and report its outcome. */
interface JobMessage {
  readonly jobId: number;
  readonly name: string;
  readonly durationMs: number;
  readonly outcome: 'success' | 'failure';
}

/** The open HTTP connection of a long poll. */
export interface Connection {
  alive(): boolean;
  onClose(listener: () => void): void;
}

type RunnerAnswer = { readonly status: number; readonly body?: unknown };

export class RunnerService {
  /** @param pollTimeoutMs the runner's long poll is answered with "no job" (204) after this (GitHub: 50 s) */
  constructor(
    private readonly actions: Actions,
    private readonly time: SimTime,
    private readonly rng: SeededRandom,
    private readonly pollTimeoutMs: number,
  ) {}

  /** Answers one call; the runner authenticates with the secret of its JIT config as a Bearer token. */
  async handle(method: string, path: string, secret: string, body: Record<string, unknown>, connection: Connection): Promise<RunnerAnswer> {
    const [sessions, sessionId, ...rest] = path.slice(RUNNER_SERVICE_PATH.length).split('/').filter(Boolean);
    if (sessions !== 'sessions') throw notFound();
    if (method === 'POST' && sessionId === undefined) {
      if (typeof body.agentId !== 'number') throw new GhesApiError(422, 'agentId is required');
      const created = `${body.agentId}-${this.rng.integer(0, 0xffffff).toString(16)}`;
      this.actions.connect(body.agentId, secret, created);
      return { status: 201, body: { sessionId: created } };
    }
    if (sessionId === undefined) throw notFound();
    const runner = this.actions.session(sessionId, secret);
    const call = `${method} ${rest.join('/')}`;
    if (call === 'GET message') return this.poll(runner, connection);
    const [, jobId, step] = /^POST jobs\/(\d+)\/(acquire|renew|complete)$/.exec(call) ?? [];
    const job = this.actions.job(Number(jobId));
    if (!job) throw notFound();
    if (step === 'acquire') {
      if (!this.actions.acquire(job, runner)) throw new GhesApiError(409, 'The job is no longer offered to this runner.');
      return { status: 200, body: { acquired: true } };
    }
    if (step === 'renew') return { status: 200, body: this.actions.renew(job, runner) };
    if (!['success', 'failure', 'cancelled'].includes(body.conclusion as string)) {
      throw new GhesApiError(422, 'conclusion must be success, failure or cancelled');
    }
    this.actions.finish(job, runner, body.conclusion as JobConclusion);
    return { status: 204 };
  }

  /** Long poll: answered with a job as soon as one is assigned, with 204 after the poll timeout. */
  private poll(runner: RunnerRecord, connection: Connection): Promise<RunnerAnswer> {
    if (runner.jobId !== undefined) return Promise.resolve({ status: 204 });
    return new Promise((resolve) => {
      const waiter: Waiter = {
        since: this.time.now(),
        alive: () => connection.alive(),
        deliver: (job: JobRecord | 'removed') => {
          cancelTimeout();
          if (job === 'removed') resolve({ status: 404, body: notFound(REGISTRATION_DELETED).body() });
          else resolve({ status: 200, body: { jobId: job.id, name: job.name, durationMs: job.durationMs, outcome: job.outcome } as JobMessage });
        },
      };
      const cancelTimeout = this.time.after(this.pollTimeoutMs, () => {
        this.actions.stopWaiting(runner, waiter);
        resolve({ status: 204 });
      });
      // A killed runner's connection closes: it is no longer listening, so it must not get a job.
      connection.onClose(() => {
        cancelTimeout();
        this.actions.stopWaiting(runner, waiter);
      });
      this.actions.wait(runner, waiter);
    });
  }
}

// --- the simulated runner --------------------------------------------------------------------

export interface SimulatedRunnerOptions {
  /** The scenario's clock: job durations and renew intervals are simulated time. */
  readonly clock: SimClock;
  /** How often a running job is renewed (the real runner: every 60 s). @default 60000 */
  readonly renewIntervalMs?: number;
  readonly log?: (line: string) => void;
}

export interface RunnerExit {
  /** 0 after a job ran, 1 on an error or a removed registration, 137 when killed. */
  readonly exitCode: number;
  readonly reason: 'completed' | 'cancelled' | 'removed' | 'killed' | 'error';
  readonly jobId?: number;
  readonly conclusion?: JobConclusion;
  readonly error?: Error;
}

/** The registration is gone (404): the runner exits. */
class Removed extends Error {}

export class SimulatedRunner {
  readonly settings: JitRunnerSettings;
  state: 'starting' | 'idle' | 'busy' | 'exited' = 'starting';
  /** The job the runner took, once it has one. */
  job?: number;
  private readonly abort = new AbortController();

  /** Throws JitConfigError when the config cannot be decoded, as run.sh would fail at once. */
  constructor(encodedJitConfig: string, private readonly options: SimulatedRunnerOptions) {
    this.settings = decodeJitConfig(encodedJitConfig);
  }

  /** Stops the runner where it is, without telling anyone: an instance being terminated. */
  kill(): void {
    this.abort.abort();
  }

  /** Runs until the runner exits; never rejects. */
  async run(): Promise<RunnerExit> {
    const exit = await this.work().catch((error: unknown): RunnerExit => {
      if (this.abort.signal.aborted) return { exitCode: 137, reason: 'killed', jobId: this.job };
      // Removed before it had a job, the runner exits with 1; with one, the job was cancelled.
      if (error instanceof Removed) return this.job === undefined ? { exitCode: 1, reason: 'removed' } : { exitCode: 0, reason: 'cancelled', jobId: this.job };
      return { exitCode: 1, reason: 'error', jobId: this.job, error: error instanceof Error ? error : new Error(String(error)) };
    });
    this.state = 'exited';
    this.options.log?.(`runner ${this.settings.agentName} exited: ${exit.reason} (${exit.exitCode})`);
    return exit.reason === 'cancelled' ? { ...exit, conclusion: 'cancelled' } : exit;
  }

  private async work(): Promise<RunnerExit> {
    const { serverUrl, agentId, agentName } = this.settings;
    const { sessionId } = await this.call('POST', `${serverUrl}/sessions`, 201, { agentId }) as { sessionId: string };
    const base = `${serverUrl}/sessions/${sessionId}`;
    this.state = 'idle';
    this.options.log?.(`runner ${agentName} listening for jobs`);
    let job: JobMessage | undefined;
    while (!job) {
      const offered = await this.call('GET', `${base}/message`, [200, 204]) as JobMessage | undefined;
      // A job offered too late (it went to another runner meanwhile) is 409: listen again.
      if (offered && (await this.call('POST', `${base}/jobs/${offered.jobId}/acquire`, [200, 409]))) job = offered;
    }
    this.job = job.jobId;
    this.state = 'busy';
    this.options.log?.(`runner ${agentName} running job ${job.jobId} (${job.name})`);
    const interval = this.options.renewIntervalMs ?? 60_000;
    for (let remaining = job.durationMs; remaining > 0;) {
      const step = Math.min(remaining, interval);
      await this.sleep(step);
      remaining -= step;
      if (remaining <= 0) break;
      const renewed = await this.call('POST', `${base}/jobs/${job.jobId}/renew`, 200) as { cancelled: boolean };
      if (renewed.cancelled) throw new Removed();
    }
    await this.call('POST', `${base}/jobs/${job.jobId}/complete`, 204, { conclusion: job.outcome });
    return { exitCode: 0, reason: 'completed', jobId: job.jobId, conclusion: job.outcome };
  }

  private sleep(simulatedMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const signal = this.abort.signal;
      if (signal.aborted) return reject(new Error('killed'));
      const onAbort = (): void => {
        cancel();
        reject(new Error('killed'));
      };
      const cancel = this.options.clock.after(simulatedMs, () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      });
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** One call to the runner service: its JSON body (undefined when empty) if the status is one expected; 404 means removed. */
  private async call(method: string, url: string, expected: number | number[], body?: unknown): Promise<unknown> {
    const res = await fetch(url, {
      method,
      headers: { 'authorization': `Bearer ${this.settings.secret}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: this.abort.signal,
    });
    const text = await res.text();
    const json = text ? (JSON.parse(text) as { message?: string }) : undefined;
    if (res.status === 404) throw new Removed();
    if (![expected].flat().includes(res.status)) throw new RunnerProtocolError(res.status, `${method} ${url}: ${res.status} ${json?.message ?? ''}`);
    return res.status === 409 ? undefined : json;
  }
}
