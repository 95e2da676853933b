// Self-hosted runners and the jobs GitHub routes to them (reference/github.md 8): JIT registration, online while listening, jobs going
// queued → in_progress → completed, re-runs as new attempts, cancellation, lost runners, and a JIT runner's removal after its one job,
// through the API, or when it never connects (reference/github.md 4).
import { randomHex, Repo } from './directory';
import { GhesApiError, GhesSimulatorError, notFound } from './errors';
import type { HookStep } from './job-hooks';
import { SimTime } from './sim-time';
import { SeededRandom } from '../common/random';

/** Labels GitHub types `read-only`: the ones a runner applies to itself. Compared case-insensitively. */
const BUILT_IN_LABELS = new Set(['self-hosted', 'linux', 'windows', 'macos', 'x64', 'arm', 'arm64']);
/** Repositories have only the Default group; organizations and the enterprise have it and the groups made with `createGroup`. */
export const DEFAULT_GROUP = { id: 1, name: 'Default' } as const;

/**
 * A runner group of an organization or the enterprise. Every group here is visible to all repositories (organization) or all
 * organizations (enterprise); `selected` visibility and workflow restrictions are not modelled.
 * https://docs.github.com/en/enterprise-server@3.19/actions/how-tos/manage-runners/self-hosted-runners/manage-access
 */
export interface RunnerGroup {
  readonly id: number;
  readonly name: string;
}
/** The runner software version a simulated runner reports on connect. */
export const RUNNER_VERSION = '2.328.0';
const REGISTRATION_DELETED = 'The runner registration has been deleted from the server.';

export interface RunnerRecord {
  readonly id: number;
  readonly name: string;
  /** Where it is registered: `repo:owner/name`, `org:login` or `enterprise:slug`. */
  readonly scope: string;
  readonly groupId: number;
  readonly labels: readonly { readonly id: number; readonly name: string; readonly type: 'read-only' | 'custom' }[];
  readonly workFolder: string;
  /** What the runner proves on connect; carried in the JIT config, never in an API response. */
  readonly secret: string;
  /** Whether a runner connected with the JIT config; os and version are unknown until then (reference/github.md 4). */
  connected: boolean;
  lastSeenAt?: number;
  /** Set while the runner runs a job: the runner is busy. */
  jobId?: number;
}

export type JobStatus = 'queued' | 'in_progress' | 'completed';
export type JobConclusion = 'success' | 'failure' | 'cancelled';

export interface RunRecord {
  readonly id: number;
  readonly repo: Repo;
  readonly headSha: string;
  /** The workflow's `name:` (its file path when it has none): `workflow_name` in the job's webhooks. */
  readonly workflowName: string;
  attempt: number;
}

export interface JobRecord extends Required<JobSpec> {
  readonly id: number;
  readonly run: RunRecord;
  readonly runAttempt: number;
  readonly createdAt: number;
  status: JobStatus;
  conclusion: JobConclusion | null;
  startedAt: number;
  completedAt: number | null;
  runnerId?: number;
  runnerName?: string;
  /** The group of the runner that took it. */
  runnerGroup?: RunnerGroup;
  /** The id of the job of the next attempt, once this one was re-run. */
  rerunAs?: number;
  /** The runner's job hooks that ran for this job, in order (the log's "Set up runner" / "Complete runner"). */
  hookSteps?: HookStep[];
}

export interface JobSpec {
  /** @default `job-<n>` */
  readonly name?: string;
  /** The `runs-on` labels, as a workflow would write them. */
  readonly labels: readonly string[];
  /** How long the job runs once a runner has it (simulated ms). */
  readonly durationMs: number;
  /** What the job's steps conclude when the runner finishes it undisturbed. @default 'success' */
  readonly outcome?: 'success' | 'failure';
}

export interface WorkflowRunSpec {
  /** `owner/name`, or a name in the organization. */
  readonly repo: string;
  /** @default 'CI' */
  readonly workflowName?: string;
  readonly jobs: readonly JobSpec[];
}

/** A runner listening for a job is handed one, or told that its registration is gone. */
type Deliver = (job: JobRecord | 'removed') => void;

/** A connected runner not heard from for this long shows `offline`. */
const OFFLINE_AFTER_MS = 2 * 60_000;

export class Actions {
  private readonly runners = new Map<number, RunnerRecord>();
  /** Every job by id, in creation order. */
  readonly jobs = new Map<number, JobRecord>();
  private readonly waiters = new Map<number, { readonly since: number; readonly deliver: Deliver }>();
  private readonly labelIds = new Map<string, number>();
  /** Pending timeouts by `jit:<runner>`, `queued:<job>` and `lost:<job>`. */
  private readonly timers = new Map<string, () => void>();
  /** Runner groups beyond Default, by scope (`org:login` or `enterprise:slug`). */
  private readonly groups = new Map<string, RunnerGroup[]>();
  /** Group ids are unique on the instance; 1 is every scope's Default. */
  private nextGroupId = 2;
  private nextRunnerId = 1;
  private nextRunId = 1_000_001;
  private nextJobId = 20_000_001;

  /** `timeouts`: simulated ms until a JIT runner that never connects is removed, a silent busy runner is lost, a queued job fails. */
  constructor(
    private readonly time: SimTime,
    private readonly rng: { readonly runners: SeededRandom; readonly jobs: SeededRandom },
    private readonly timeouts: Readonly<Record<'jitMs' | 'lostRunnerMs' | 'queuedMs', number>>,
    private readonly onJob: (action: JobStatus, job: JobRecord) => void,
  ) {}

  // --- runners -------------------------------------------------------------------------------

  /** A runner group made in the organization's or the enterprise's settings. Names are unique per scope, compared case-insensitively. */
  createGroup(scope: string, name: string): RunnerGroup {
    if (this.groupsOf(scope).some((g) => g.name.toLowerCase() === name.toLowerCase())) {
      throw new GhesSimulatorError(`${scope} already has a runner group named ${name}`);
    }
    const group = { id: this.nextGroupId++, name };
    this.groups.set(scope, [...(this.groups.get(scope) ?? []), group]);
    return group;
  }

  /** The scope's runner groups, Default first; a repository has Default only. */
  groupsOf(scope: string): RunnerGroup[] {
    return [DEFAULT_GROUP, ...(scope.startsWith('repo:') ? [] : this.groups.get(scope) ?? [])];
  }

  register(scope: string, request: { name: string; labels: readonly string[]; workFolder: string; groupId: number }): RunnerRecord {
    // A group the scope does not have is not found, as any resource the caller cannot see.
    if (!this.groupsOf(scope).some((g) => g.id === request.groupId)) throw notFound();
    if (this.list(scope).some((r) => r.name.toLowerCase() === request.name.toLowerCase())) {
      throw new GhesApiError(409, `Already exists - A runner with the name ${request.name} already exists.`);
    }
    const runner: RunnerRecord = {
      id: this.nextRunnerId++,
      name: request.name,
      scope,
      groupId: request.groupId,
      labels: request.labels
        .filter((l, i, names) => names.findIndex((m) => m.toLowerCase() === l.toLowerCase()) === i).map((name) => this.label(name)),
      workFolder: request.workFolder,
      secret: randomHex(this.rng.runners, 40),
      connected: false,
    };
    this.runners.set(runner.id, runner);
    this.setTimer(`jit:${runner.id}`, this.timeouts.jitMs, () => this.remove(runner));
    return runner;
  }

  /** Runners (of one scope) in registration order. */
  list(scope?: string): RunnerRecord[] {
    return [...this.runners.values()].filter((r) => scope === undefined || r.scope === scope);
  }

  /** DELETE …/runners/{id}: 404 for a runner of another scope, 422 while the runner runs a job (reference/github.md 4). */
  deleteRunner(scope: string, id: number): void {
    const runner = this.runners.get(id);
    if (!runner || runner.scope !== scope) throw notFound();
    if (runner.jobId !== undefined) throw new GhesApiError(422, `Bad request - Runner "${runner.name}" is still running a job`);
    this.remove(runner);
  }

  status(runner: RunnerRecord): 'online' | 'offline' {
    const seen = runner.lastSeenAt;
    const recent = this.runners.has(runner.id) && seen !== undefined && this.time.now() - seen <= OFFLINE_AFTER_MS;
    return this.waiters.has(runner.id) || recent ? 'online' : 'offline';
  }

  /** The runner's first contact, proving the secret from its JIT config; one connection per registration. */
  connect(runnerId: number, secret: string): RunnerRecord {
    const runner = this.runners.get(runnerId);
    if (!runner) throw notFound(REGISTRATION_DELETED);
    if (secret !== runner.secret) throw new GhesApiError(401, 'Bad credentials');
    if (runner.connected) throw new GhesApiError(409, `A session for this runner already exists: ${runner.name}`);
    this.clearTimer(`jit:${runner.id}`);
    runner.connected = true;
    runner.lastSeenAt = this.time.now();
    return runner;
  }

  /** The idle runner listens: it is online and eligible for a job. Returns what ends the wait (the runner killed). */
  listen(runner: RunnerRecord, deliver: Deliver): () => void {
    const waiter = { since: this.time.now(), deliver };
    runner.lastSeenAt = waiter.since;
    this.waiters.set(runner.id, waiter);
    this.schedule();
    return () => {
      if (this.waiters.get(runner.id) !== waiter) return;
      this.waiters.delete(runner.id);
      runner.lastSeenAt = this.time.now();
    };
  }

  private remove(runner: RunnerRecord): void {
    if (!this.runners.delete(runner.id)) return;
    runner.jobId = undefined;
    this.clearTimer(`jit:${runner.id}`);
    const waiter = this.waiters.get(runner.id);
    this.waiters.delete(runner.id);
    waiter?.deliver('removed');
  }

  private label(name: string): RunnerRecord['labels'][number] {
    const key = name.toLowerCase();
    if (!this.labelIds.has(key)) this.labelIds.set(key, this.labelIds.size + 1);
    return { id: this.labelIds.get(key)!, name, type: BUILT_IN_LABELS.has(key) ? 'read-only' : 'custom' };
  }

  // --- jobs ----------------------------------------------------------------------------------

  createRun(repo: Repo, spec: WorkflowRunSpec): { run: RunRecord; jobs: JobRecord[] } {
    if (spec.jobs.length === 0) throw new GhesSimulatorError('a workflow run needs at least one job');
    const run: RunRecord = { id: this.nextRunId++, repo, headSha: randomHex(this.rng.jobs, 40), workflowName: spec.workflowName ?? 'CI', attempt: 1 };
    const jobs = spec.jobs.map((j, i) => this.enqueue(run, { ...j, name: j.name ?? `job-${i + 1}`, outcome: j.outcome ?? 'success' }));
    this.schedule();
    return { run, jobs };
  }

  /** A job of this repository, or GitHub's 404. */
  jobOf(repo: Repo, id: number): JobRecord {
    const job = this.jobs.get(id);
    if (!job || job.run.repo !== repo) throw notFound();
    return job;
  }

  /** POST …/jobs/{id}/rerun: a new job in a new attempt; 403 while the current attempt runs (cli/cli#9221; reference/github.md 5). */
  rerun(repo: Repo, id: number): void {
    const job = this.jobOf(repo, id);
    const run = job.run;
    if (job.rerunAs !== undefined) throw new GhesApiError(403, 'Only jobs from the current attempt can be re-run');
    const latest = [...this.jobs.values()].filter((j) => j.run === run && j.rerunAs === undefined);
    if (latest.some((j) => j.status !== 'completed')) throw new GhesApiError(403, 'This workflow is already running');
    run.attempt += 1;
    job.rerunAs = this.enqueue(run, job).id;
    this.schedule();
  }

  /** Cancels a queued or running job; false when it had already completed. */
  cancel(id: number): boolean {
    const job = this.jobs.get(id);
    if (!job) throw new GhesSimulatorError(`no job ${id}`);
    if (job.status === 'completed') return false;
    const runner = job.runnerId === undefined ? undefined : this.runners.get(job.runnerId);
    this.complete(job, 'cancelled');
    // The runner learns of the cancellation on its next renewal; its registration ends with the job.
    if (runner) this.remove(runner);
    return true;
  }

  /** The runner renews its lock on the job; tells it whether the job was cancelled meanwhile. */
  renew(job: JobRecord, runner: RunnerRecord): { cancelled: boolean } {
    if (job.status !== 'in_progress' || job.runnerId !== runner.id) return { cancelled: true };
    this.armLostTimer(job, runner);
    return { cancelled: false };
  }

  /** The runner reports the job's result; its JIT registration ends with it. */
  finish(job: JobRecord, runner: RunnerRecord, conclusion: JobConclusion): void {
    if (job.status !== 'completed' && job.runnerId === runner.id) this.complete(job, conclusion);
    this.remove(runner);
  }

  private enqueue(run: RunRecord, spec: Pick<JobRecord, 'name' | 'labels' | 'durationMs' | 'outcome'>): JobRecord {
    const now = this.time.now();
    const { name, labels, durationMs, outcome } = spec;
    const job: JobRecord = {
      id: this.nextJobId++,
      run,
      runAttempt: run.attempt,
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
    this.setTimer(`queued:${job.id}`, this.timeouts.queuedMs, () => this.complete(job, 'failure'));
    this.onJob('queued', job);
    return job;
  }

  /**
   * Hands each queued job, oldest first, to the longest-listening idle runner with all its labels (any case): repository runners
   * first, then the organization's, then the enterprise's, which serve repositories of organizations only
   * (https://docs.github.com/en/enterprise-server@3.19/actions/reference/runners/self-hosted-runners#routing-precedence-for-self-hosted-runners).
   */
  private schedule(): void {
    for (const job of [...this.jobs.values()].filter((j) => j.status === 'queued')) {
      const repo = job.run.repo;
      const level = (r: RunnerRecord): number => {
        if (r.scope === `repo:${repo.fullName}`) return 0;
        if (r.scope === `org:${repo.owner.login}`) return 1;
        return r.scope.startsWith('enterprise:') && repo.owner.type === 'Organization' ? 2 : -1;
      };
      const candidates = [...this.waiters.entries()]
        .sort(([, a], [, b]) => a.since - b.since)
        .map(([id]) => this.runners.get(id)!)
        .filter((r) => r.jobId === undefined && level(r) >= 0)
        .filter((r) => job.labels.every((l) => r.labels.some((have) => have.name.toLowerCase() === l.toLowerCase())));
      const runner = [0, 1, 2].map((n) => candidates.find((r) => level(r) === n)).find((r) => r !== undefined);
      if (runner) this.start(job, runner);
    }
  }

  /** Hands the job to a listening runner, which takes it at once: in-process, no offer can be lost on the way. */
  private start(job: JobRecord, runner: RunnerRecord): void {
    const waiter = this.waiters.get(runner.id)!;
    this.waiters.delete(runner.id);
    const runnerGroup = this.groupsOf(runner.scope).find((g) => g.id === runner.groupId);
    Object.assign(job, { runnerId: runner.id, runnerName: runner.name, runnerGroup, status: 'in_progress', startedAt: this.time.now() });
    runner.jobId = job.id;
    this.clearTimer(`queued:${job.id}`);
    this.armLostTimer(job, runner);
    this.onJob('in_progress', job);
    waiter.deliver(job);
  }

  /** GitHub's lost-runner handling: a runner gone silent mid-job fails the job after a while. */
  private armLostTimer(job: JobRecord, runner: RunnerRecord): void {
    runner.lastSeenAt = this.time.now();
    this.setTimer(`lost:${job.id}`, this.timeouts.lostRunnerMs, () => {
      this.complete(job, 'failure');
      this.remove(runner);
    });
  }

  private complete(job: JobRecord, conclusion: JobConclusion): void {
    this.clearTimer(`queued:${job.id}`);
    this.clearTimer(`lost:${job.id}`);
    Object.assign(job, { status: 'completed', conclusion, completedAt: this.time.now() });
    this.onJob('completed', job);
  }

  /** Every timeout's action clears its own key (the runner removed, the job completed). */
  private setTimer(key: string, ms: number, fn: () => void): void {
    this.clearTimer(key);
    this.timers.set(key, this.time.after(ms, fn));
  }

  private clearTimer(key: string): void {
    this.timers.get(key)?.();
    this.timers.delete(key);
  }
}
