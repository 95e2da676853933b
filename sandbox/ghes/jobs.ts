// Workflow runs and their jobs: queued → in_progress → completed, assignment to idle runners the way
// GitHub routes them (reference/github.md 8), re-runs as new attempts, cancellation, lost runners.
import { Directory, Repo } from './directory';
import { ForbiddenError, GhesSimulatorError, NotFoundError } from './errors';
import { JobConclusion, JobOutcome, JobRecord, RunnerRecord, RunRecord } from './model';
import { DEFAULT_GROUP_NAME } from './payloads';
import { RunnerRegistry } from './runners';
import { SimTime } from './sim-time';
import { SeededRandom } from '../common/random';

export interface JobSpec {
  /** @default `job-<n>` */
  readonly name?: string;
  /** The `runs-on` labels, as a workflow would write them. */
  readonly labels: readonly string[];
  /** How long the job runs once a runner has it (simulated ms). */
  readonly durationMs: number;
  /** @default 'success' */
  readonly outcome?: JobOutcome;
}

export interface WorkflowRunSpec {
  /** `owner/name`, or a name in the organization. */
  readonly repo: string;
  /** @default 'CI' */
  readonly workflowName?: string;
  /** @default 'main' */
  readonly headBranch?: string;
  readonly jobs: readonly JobSpec[];
}

export type JobEvent = { readonly action: 'queued' | 'in_progress' | 'completed'; readonly job: JobRecord };

/**
 * The 403 messages of POST …/jobs/{id}/rerun (Basic Error body, GHES OpenAPI). GitHub re-runs jobs of
 * a finished run only: while any job of the current attempt is queued or running the answer is
 * "This workflow is already running" (cli/cli#9221 shows the 403 for a run with a job still
 * running; reference/github.md 5 lists the observed wording). Runs older than 30 days cannot be
 * re-run (docs, "Re-running workflows and jobs").
 */
export const RERUN_MESSAGES = {
  alreadyRunning: 'This workflow is already running',
  cannotRetry: 'This workflow run cannot be retried',
  notCurrentAttempt: 'Only jobs from the current attempt can be re-run',
} as const;

export interface JobBoardDeps {
  readonly time: SimTime;
  readonly rng: SeededRandom;
  readonly directory: Directory;
  readonly runners: RunnerRegistry;
  /** A busy runner that stops renewing its job for this long is lost: the job fails. */
  readonly lostRunnerTimeoutMs: number;
  /** A job handed to a runner that does not acquire it within this time is queued again (GitHub: 60 s). */
  readonly acquireTimeoutMs: number;
  /** A job queued this long fails (GitHub: 24 h). */
  readonly queuedTimeoutMs: number;
  /** Runs older than this cannot be re-run (GitHub: 30 days). */
  readonly rerunWindowMs: number;
  readonly onEvent: (event: JobEvent) => void;
}

export class JobBoard {
  private readonly jobs = new Map<number, JobRecord>();
  private readonly queue: JobRecord[] = [];
  /** Per job: the queued timeout, and the acquire or lost-runner timeout of its runner. */
  private readonly queueTimers = new Map<number, () => void>();
  private readonly runTimers = new Map<number, () => void>();
  private nextRunId = 1_000_001;
  private nextJobId = 20_000_001;

  constructor(private readonly deps: JobBoardDeps) {}

  createRun(spec: WorkflowRunSpec): { run: RunRecord; jobs: JobRecord[] } {
    const repo = this.deps.directory.repoByFullName(spec.repo);
    if (spec.jobs.length === 0) throw new GhesSimulatorError('a workflow run needs at least one job');
    let sha = '';
    for (let i = 0; i < 40; i++) sha += this.deps.rng.integer(0, 15).toString(16);
    const run: RunRecord = {
      id: this.nextRunId++,
      repo,
      workflowName: spec.workflowName ?? 'CI',
      headBranch: spec.headBranch ?? 'main',
      headSha: sha,
      createdAt: this.deps.time.now(),
      attempt: 1,
      jobIds: [],
    };
    const jobs = spec.jobs.map((j, i) =>
      this.enqueue(run, 1, j.name ?? `job-${i + 1}`, j.labels, j.durationMs, j.outcome ?? 'success'),
    );
    this.schedule();
    return { run, jobs };
  }

  get(id: number): JobRecord | undefined {
    return this.jobs.get(id);
  }

  all(): JobRecord[] {
    return [...this.jobs.values()];
  }

  /** A job of this repository, or GitHub's 404. */
  find(repo: Repo, id: number): JobRecord {
    const job = this.jobs.get(id);
    if (!job || job.run.repo !== repo) throw new NotFoundError();
    return job;
  }

  /** POST …/jobs/{id}/rerun: a new job record in a new attempt of the run, queued again. */
  rerun(repo: Repo, id: number): JobRecord {
    const job = this.find(repo, id);
    const run = job.run;
    if (job.rerunAs !== undefined) throw new ForbiddenError(RERUN_MESSAGES.notCurrentAttempt);
    const latest = run.jobIds.map((j) => this.jobs.get(j)!).filter((j) => j.rerunAs === undefined);
    if (latest.some((j) => j.status !== 'completed')) throw new ForbiddenError(RERUN_MESSAGES.alreadyRunning);
    if (this.deps.time.now() - run.createdAt > this.deps.rerunWindowMs) throw new ForbiddenError(RERUN_MESSAGES.cannotRetry);
    run.attempt += 1;
    const again = this.enqueue(run, run.attempt, job.name, job.labels, job.durationMs, job.outcome);
    job.rerunAs = again.id;
    this.schedule();
    return again;
  }

  /** Cancels a queued or running job; false when it had already completed. */
  cancel(id: number): boolean {
    const job = this.jobs.get(id);
    if (!job) throw new GhesSimulatorError(`no job ${id}`);
    if (job.status === 'completed') return false;
    const runner = job.assignment ? this.deps.runners.byId(job.assignment.runnerId) : undefined;
    this.complete(job, 'cancelled');
    // The runner learns of the cancellation on its next renewal; its registration ends with the job.
    if (runner) this.releaseRunner(runner, 'its job was cancelled');
    return true;
  }

  /** Hands queued jobs, oldest first, to online idle runners whose labels contain all of the job's. */
  schedule(): void {
    for (const job of [...this.queue]) {
      const candidates = this.deps.runners.idleWaiting().filter((r) => eligible(r, job));
      // Routing precedence: repository runners first, then organization runners.
      const runner = candidates.find((r) => r.scope.kind === 'repo') ?? candidates[0];
      if (runner) this.offer(job, runner);
    }
  }

  /** The runner acquires the job it was offered: the job starts. False if it is no longer its job. */
  acquire(job: JobRecord, runner: RunnerRecord): boolean {
    if (job.status !== 'queued' || job.assignment?.runnerId !== runner.id) return false;
    job.status = 'in_progress';
    job.startedAt = this.deps.time.now();
    this.cancelTimer(this.queueTimers, job);
    this.armLostTimer(job, runner);
    this.deps.onEvent({ action: 'in_progress', job });
    return true;
  }

  /** The runner renews its lock on the job; tells it whether the job was cancelled meanwhile. */
  renew(job: JobRecord, runner: RunnerRecord): { cancelled: boolean } {
    if (job.status !== 'in_progress' || job.assignment?.runnerId !== runner.id) return { cancelled: true };
    this.deps.runners.touch(runner);
    this.armLostTimer(job, runner);
    return { cancelled: false };
  }

  /** The runner reports the job's result; its JIT registration ends with it. */
  finish(job: JobRecord, runner: RunnerRecord, conclusion: JobConclusion): void {
    if (job.status !== 'completed' && job.assignment?.runnerId === runner.id) this.complete(job, conclusion);
    this.releaseRunner(runner, 'JIT runner finished its job');
  }

  private enqueue(run: RunRecord, attempt: number, name: string, labels: readonly string[], durationMs: number, outcome: JobOutcome): JobRecord {
    const now = this.deps.time.now();
    const job: JobRecord = {
      id: this.nextJobId++,
      run,
      runAttempt: attempt,
      name,
      labels: [...labels],
      durationMs,
      outcome,
      createdAt: now,
      status: 'queued',
      conclusion: null,
      startedAt: now,
      completedAt: null,
    };
    this.jobs.set(job.id, job);
    run.jobIds.push(job.id);
    this.queue.push(job);
    this.setTimer(this.queueTimers, job, this.deps.queuedTimeoutMs, () => this.complete(job, 'failure'));
    this.deps.onEvent({ action: 'queued', job });
    return job;
  }

  /**
   * Hands the job to a listening runner. It stays `queued` (with the runner set, as GitHub shows during
   * the acquisition window) until the runner acquires it; if it does not within the acquire timeout —
   * its connection was already dead — the job is queued again for another runner (reference/github.md 8).
   */
  private offer(job: JobRecord, runner: RunnerRecord): void {
    this.queue.splice(this.queue.indexOf(job), 1);
    job.assignment = { runnerId: runner.id, runnerName: runner.name, groupId: runner.groupId, groupName: DEFAULT_GROUP_NAME };
    this.deps.runners.assign(runner, job);
    this.setTimer(this.runTimers, job, this.deps.acquireTimeoutMs, () => {
      if (job.status !== 'queued' || job.assignment?.runnerId !== runner.id) return;
      job.assignment = undefined;
      runner.jobId = undefined;
      this.queue.push(job);
      this.queue.sort((a, b) => a.id - b.id);
      this.schedule();
    });
  }

  /** GitHub's lost-runner handling: a runner gone silent mid-job fails the job after a while. */
  private armLostTimer(job: JobRecord, runner: RunnerRecord): void {
    this.setTimer(this.runTimers, job, this.deps.lostRunnerTimeoutMs, () => {
      this.complete(job, 'failure');
      this.releaseRunner(runner, 'runner lost communication with the server');
    });
  }

  private complete(job: JobRecord, conclusion: JobConclusion): void {
    const queuedAt = this.queue.indexOf(job);
    if (queuedAt >= 0) this.queue.splice(queuedAt, 1);
    this.cancelTimer(this.queueTimers, job);
    this.cancelTimer(this.runTimers, job);
    job.status = 'completed';
    job.conclusion = conclusion;
    job.completedAt = this.deps.time.now();
    this.deps.onEvent({ action: 'completed', job });
  }

  private releaseRunner(runner: RunnerRecord, reason: string): void {
    runner.jobId = undefined;
    this.deps.runners.remove(runner, reason);
  }

  private setTimer(timers: Map<number, () => void>, job: JobRecord, ms: number, fn: () => void): void {
    this.cancelTimer(timers, job);
    timers.set(job.id, this.deps.time.after(ms, () => {
      timers.delete(job.id);
      fn();
    }));
  }

  private cancelTimer(timers: Map<number, () => void>, job: JobRecord): void {
    timers.get(job.id)?.();
    timers.delete(job.id);
  }
}

function eligible(runner: RunnerRecord, job: JobRecord): boolean {
  const scope = runner.scope;
  const inScope = scope.kind === 'repo' ? scope.repo === job.run.repo : job.run.repo.owner === scope.org;
  const has = new Set(runner.labels.map((l) => l.name.toLowerCase()));
  return inScope && job.labels.every((l) => has.has(l.toLowerCase()));
}
