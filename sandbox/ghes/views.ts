// Read-only snapshots of jobs and runners for the simulator's programmatic API and events, so callers
// never hold (or mutate) the simulator's own records.
import { JobConclusion, JobRecord, JobStatus, RunnerRecord, scopeName } from './model';

export interface JobView {
  readonly id: number;
  readonly runId: number;
  readonly runAttempt: number;
  /** `owner/name` */
  readonly repo: string;
  readonly name: string;
  readonly labels: readonly string[];
  readonly status: JobStatus;
  readonly conclusion: JobConclusion | null;
  /** The runner that took the job, once one did. */
  readonly runnerId?: number;
  readonly runnerName?: string;
  readonly durationMs: number;
  readonly outcome: 'success' | 'failure';
  /** Simulated epoch ms. */
  readonly createdAt: number;
  readonly startedAt: number;
  readonly completedAt: number | null;
  /** The job id of the re-run attempt, if the job was re-run. */
  readonly rerunAs?: number;
}

export interface RunnerView {
  readonly id: number;
  readonly name: string;
  /** `repo:owner/name` or `org:login` */
  readonly scope: string;
  readonly labels: readonly string[];
  readonly status: 'online' | 'offline';
  /** Whether the runner is long-polling right now, so a queued job can be handed to it at once. */
  readonly listening: boolean;
  readonly busy: boolean;
  readonly jobId?: number;
  /** Whether a runner ever connected with this registration's JIT config. */
  readonly connected: boolean;
  readonly createdAt: number;
}

export function jobView(job: JobRecord): JobView {
  return {
    id: job.id,
    runId: job.run.id,
    runAttempt: job.runAttempt,
    repo: job.run.repo.fullName,
    name: job.name,
    labels: [...job.labels],
    status: job.status,
    conclusion: job.conclusion,
    runnerId: job.assignment?.runnerId,
    runnerName: job.assignment?.runnerName,
    durationMs: job.durationMs,
    outcome: job.outcome,
    createdAt: job.createdAt,
    startedAt: job.startedAt,
    completedAt: job.completedAt,
    rerunAs: job.rerunAs,
  };
}

export function runnerView(runner: RunnerRecord, status: 'online' | 'offline', listening: boolean): RunnerView {
  return {
    id: runner.id,
    name: runner.name,
    scope: scopeName(runner.scope),
    labels: runner.labels.map((l) => l.name),
    status,
    listening,
    busy: runner.jobId !== undefined,
    jobId: runner.jobId,
    connected: runner.version !== null,
    createdAt: runner.createdAt,
  };
}
