// What `run.sh --jitconfig X` runs: the real runner talks to the Actions service, the simulated one to the simulator in-process (never
// an API call, never faulted). It connects with its JIT config's secret, runs one job with renewals, reports it; `kill()` is termination.
import { Actions, JobConclusion, JobRecord, RunnerRecord } from './actions';
import { GhesApiError, GhesSimulatorError } from './errors';
import { HookStep, runHook, RunnerHooks } from './job-hooks';
import { SimClock } from '../common/time';

// --- the JIT config: like the real one, base64 of a JSON map from file name (.runner, .credentials, .credentials_rsaparams) to the
// file's base64 content; where the real runner keeps its RSA key (.credentials_rsaparams), the simulated one carries a shared secret.

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64');

export function encodeJitConfig(runner: RunnerRecord, gitHubUrl: string): string {
  const serverUrl = `${gitHubUrl}/_services/pipelines`;
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

/** What a simulated runner needs from its config. */
export function decodeJitConfig(encoded: string): { agentId: number; agentName: string; workFolder: string; secret: string } {
  const decode = (text: string): Record<string, unknown> => JSON.parse(Buffer.from(text, 'base64').toString('utf8')) as Record<string, unknown>;
  try {
    const files = decode(encoded.trim()) as Record<string, string>;
    const runner = decode(files['.runner']);
    const secret = decode(files['.credentials_rsaparams']).simulatedSecret;
    if (typeof runner.agentId === 'number' && typeof secret === 'string') {
      return { agentId: runner.agentId, agentName: String(runner.agentName), workFolder: String(runner.workFolder), secret };
    }
  } catch (err) {
    throw new GhesSimulatorError('the JIT config is not base64 of a JSON map of runner files', { cause: err });
  }
  throw new GhesSimulatorError('the JIT config lacks agentId or the credentials');
}

// --- the simulated runner --------------------------------------------------------------------

/** How often a running job is renewed (the real runner: every 60 s). */
const RENEW_INTERVAL_MS = 60_000;

export interface RunnerExit {
  /** 0 after a job ran, 1 on an error or a removed registration, 137 when killed. */
  readonly exitCode: number;
  readonly reason: 'completed' | 'cancelled' | 'removed' | 'killed' | 'error';
  readonly jobId?: number;
  readonly conclusion?: JobConclusion;
  readonly error?: Error;
}

/** The registration is gone: the runner exits. */
class Removed extends Error {}

export class SimulatedRunner {
  readonly settings: ReturnType<typeof decodeJitConfig>;
  state: 'starting' | 'idle' | 'busy' | 'exited' = 'starting';
  /** The job the runner took, once it has one. */
  job?: number;
  private killed = false;
  /** Ends the current wait, if any: the runner waits for one thing at a time. */
  private endWait?: () => void;

  /** Throws GhesSimulatorError when the config cannot be decoded, as run.sh would fail at once. */
  constructor(
    encodedJitConfig: string,
    private readonly actions: Actions,
    private readonly clock: SimClock,
    /** The files ACTIONS_RUNNER_HOOK_JOB_STARTED / _COMPLETED named in the runner's environment. */
    private readonly hooks: RunnerHooks = {},
  ) {
    this.settings = decodeJitConfig(encodedJitConfig);
  }

  /** Stops the runner where it is, without telling anyone: an instance being terminated. */
  kill(): void {
    this.killed = true;
    this.endWait?.();
  }

  /** Runs until the runner exits; never rejects. */
  async run(): Promise<RunnerExit> {
    const exit = await this.work().catch((error: unknown): RunnerExit => {
      if (this.killed) return { exitCode: 137, reason: 'killed', jobId: this.job };
      // Removed before it had a job, the runner exits with 1; with one, the job was cancelled.
      if (error instanceof Removed || (error instanceof GhesApiError && error.status === 404)) {
        if (this.job === undefined) return { exitCode: 1, reason: 'removed' };
        return { exitCode: 0, reason: 'cancelled', jobId: this.job, conclusion: 'cancelled' };
      }
      return { exitCode: 1, reason: 'error', jobId: this.job, error: error instanceof Error ? error : new Error(String(error)) };
    });
    this.state = 'exited';
    return exit;
  }

  private async work(): Promise<RunnerExit> {
    const runner = this.actions.connect(this.settings.agentId, this.settings.secret);
    this.state = 'idle';
    // Listens until a job is handed over or the registration is removed.
    const job = await this.abortable<JobRecord>((resolve, reject) =>
      this.actions.listen(runner, (offered) => (offered === 'removed' ? reject(new Removed()) : resolve(offered))));
    this.job = job.id;
    this.state = 'busy';
    // The job-started hook runs once the job is assigned, before its steps; a failure fails the job
    // and its steps never run. The job-completed hook runs after the steps, always (the ADR's
    // `always()`), after a failed started hook too; its failure fails the job as well.
    const setUp = await this.runHook('Set up runner', this.hooks.started, job);
    let conclusion: JobConclusion = job.outcome;
    if (setUp && setUp.exitCode !== 0) conclusion = 'failure';
    else await this.runSteps(job, runner);
    const complete = await this.runHook('Complete runner', this.hooks.completed, job);
    if (complete && complete.exitCode !== 0) conclusion = 'failure';
    this.actions.finish(job, runner, conclusion);
    return { exitCode: 0, reason: 'completed', jobId: job.id, conclusion };
  }

  /** The job's steps: its duration, renewing the job every minute as the runner does. */
  private async runSteps(job: JobRecord, runner: RunnerRecord): Promise<void> {
    for (let remaining = job.durationMs; remaining > 0;) {
      const step = Math.min(remaining, RENEW_INTERVAL_MS);
      await this.abortable<void>((resolve) => this.clock.after(step, resolve));
      remaining -= step;
      if (remaining > 0 && this.actions.renew(job, runner).cancelled) throw new Removed();
    }
  }

  /** Runs one hook (when set) with the job's default variables, recording it on the job. */
  private async runHook(name: HookStep['name'], file: string | undefined, job: JobRecord): Promise<HookStep | undefined> {
    if (file === undefined || file === '') return undefined;
    const env = {
      CI: 'true',
      GITHUB_ACTIONS: 'true',
      GITHUB_REPOSITORY: job.run.repo.fullName,
      GITHUB_RUN_ID: String(job.run.id),
      GITHUB_RUN_ATTEMPT: String(job.runAttempt),
      GITHUB_JOB: job.name,
      RUNNER_NAME: this.settings.agentName,
    };
    const step = await this.abortable<HookStep>((resolve) => {
      let kill = () => {};
      void runHook(name, file, env, (k) => { kill = k; }).then(resolve);
      return () => kill();
    });
    job.hookSteps = [...(job.hookSteps ?? []), step];
    return step;
  }

  /** A wait that `kill()` ends: `start` begins it and returns what cancels it. */
  private abortable<T>(start: (resolve: (value: T) => void, reject: (error: Error) => void) => () => void): Promise<T> {
    return new Promise((resolve, reject) => {
      if (this.killed) return reject(new Error('killed'));
      const cancel = start(resolve, reject);
      this.endWait = () => {
        cancel();
        reject(new Error('killed'));
      };
    });
  }
}
