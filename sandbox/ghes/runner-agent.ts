// The simulated runner: what `run.sh --jitconfig X` of a simulated instance runs. It decodes the JIT
// config, connects to the runner service named in it with the config's secret, long-polls for a job,
// acquires it, runs it for the job's (simulated) duration while renewing it, reports the result and
// exits — one job, as a JIT runner does. `kill()` is the instance being terminated: the runner stops.
import { RunnerProtocolError } from './errors';
import { decodeJitConfig, JitRunnerSettings } from './jit-config';
import { JobConclusion } from './model';
import type { JobMessage } from './runner-service';
import { SimClock } from '../common/time';

export interface SimulatedRunnerOptions {
  /** The scenario's clock: job durations and renew intervals are simulated time. */
  readonly clock: SimClock;
  /** How often a running job is renewed (the real runner: every 60 s). @default 60000 */
  readonly renewIntervalMs?: number;
  readonly log?: (line: string) => void;
}

export type RunnerState = 'starting' | 'idle' | 'busy' | 'exited';

export interface RunnerExit {
  /** 0 after a job ran, 1 on an error or a removed registration, 137 when killed. */
  readonly exitCode: number;
  readonly reason: 'completed' | 'cancelled' | 'removed' | 'killed' | 'error';
  readonly jobId?: number;
  readonly conclusion?: JobConclusion;
  readonly error?: Error;
}

class Killed extends Error {}

export class SimulatedRunner {
  readonly settings: JitRunnerSettings;
  private readonly abort = new AbortController();
  private current: RunnerState = 'starting';
  private jobId?: number;

  /** Throws JitConfigError when the config cannot be decoded, as run.sh would fail at once. */
  constructor(encodedJitConfig: string, private readonly options: SimulatedRunnerOptions) {
    this.settings = decodeJitConfig(encodedJitConfig);
  }

  get state(): RunnerState {
    return this.current;
  }

  /** The job the runner took, once it has one. */
  get job(): number | undefined {
    return this.jobId;
  }

  /** Stops the runner where it is, without telling anyone: an instance being terminated. */
  kill(): void {
    this.abort.abort(new Killed('killed'));
  }

  /** Runs until the runner exits; never rejects. */
  async run(): Promise<RunnerExit> {
    const exit = await this.work().catch((error: unknown): RunnerExit => {
      if (this.abort.signal.aborted) return { exitCode: 137, reason: 'killed', jobId: this.jobId };
      return { exitCode: 1, reason: 'error', jobId: this.jobId, error: error instanceof Error ? error : new Error(String(error)) };
    });
    this.current = 'exited';
    this.options.log?.(`runner ${this.settings.agentName} exited: ${exit.reason} (${exit.exitCode})`);
    return exit;
  }

  private async work(): Promise<RunnerExit> {
    const { serverUrl, agentId } = this.settings;
    const session = await this.call('POST', `${serverUrl}/sessions`, { agentId });
    if (session.status === 404) return { exitCode: 1, reason: 'removed' };
    this.expect(session, 201, 'create a session');
    const base = `${serverUrl}/sessions/${(session.body as { sessionId: string }).sessionId}`;
    this.current = 'idle';
    this.options.log?.(`runner ${this.settings.agentName} listening for jobs`);
    let job: JobMessage | undefined;
    while (!job) {
      const poll = await this.call('GET', `${base}/message`);
      if (poll.status === 404) return { exitCode: 1, reason: 'removed' };
      if (poll.status !== 200) {
        this.expect(poll, 204, 'poll for a job');
        continue;
      }
      // A job offered too late (it went to another runner meanwhile) is 409: listen again.
      const offered = poll.body as JobMessage;
      const acquired = await this.call('POST', `${base}/jobs/${offered.jobId}/acquire`);
      if (acquired.status === 404) return { exitCode: 1, reason: 'removed' };
      if (acquired.status !== 409) {
        this.expect(acquired, 200, 'acquire the job');
        job = offered;
      }
    }
    this.jobId = job.jobId;
    this.current = 'busy';
    this.options.log?.(`runner ${this.settings.agentName} running job ${job.jobId} (${job.name})`);
    if (!(await this.runJob(base, job))) return { exitCode: 0, reason: 'cancelled', jobId: job.jobId, conclusion: 'cancelled' };
    const done = await this.call('POST', `${base}/jobs/${job.jobId}/complete`, { conclusion: job.outcome });
    if (done.status === 404) return { exitCode: 0, reason: 'cancelled', jobId: job.jobId, conclusion: 'cancelled' };
    this.expect(done, 204, 'report the job result');
    return { exitCode: 0, reason: 'completed', jobId: job.jobId, conclusion: job.outcome };
  }

  /** Runs the job for its duration, renewing it; false when it was cancelled meanwhile. */
  private async runJob(base: string, job: JobMessage): Promise<boolean> {
    const interval = this.options.renewIntervalMs ?? 60_000;
    let remaining = job.durationMs;
    while (remaining > 0) {
      const step = Math.min(remaining, interval);
      await this.sleep(step);
      remaining -= step;
      if (remaining <= 0) break;
      const renew = await this.call('POST', `${base}/jobs/${job.jobId}/renew`);
      if (renew.status === 404 || (renew.body as { cancelled?: boolean }).cancelled) return false;
      this.expect(renew, 200, 'renew the job');
    }
    return true;
  }

  private sleep(simulatedMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const signal = this.abort.signal;
      if (signal.aborted) return reject(signal.reason);
      const onAbort = (): void => {
        cancel();
        reject(signal.reason);
      };
      const cancel = this.options.clock.after(simulatedMs, () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      });
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  private async call(method: string, url: string, body?: unknown): Promise<{ status: number; body: unknown }> {
    const res = await fetch(url, {
      method,
      headers: { 'authorization': `Bearer ${this.settings.secret}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: this.abort.signal,
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as unknown) : undefined };
  }

  private expect(response: { status: number; body: unknown }, status: number, what: string): void {
    if (response.status !== status) {
      const message = (response.body as { message?: string } | undefined)?.message ?? '';
      throw new RunnerProtocolError(response.status, `could not ${what}: ${response.status} ${message}`);
    }
  }
}

/** Starts a simulated runner; the handle's `exit` resolves when it exits. */
export function startSimulatedRunner(
  encodedJitConfig: string,
  options: SimulatedRunnerOptions,
): { readonly runner: SimulatedRunner; readonly exit: Promise<RunnerExit>; kill(): void } {
  const runner = new SimulatedRunner(encodedJitConfig, options);
  return { runner, exit: runner.run(), kill: () => runner.kill() };
}
