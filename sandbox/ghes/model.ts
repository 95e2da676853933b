// The simulator's records of runners, workflow runs and jobs, shared by the registry, the job board,
// the runner service and the JSON builders.
import { Account, Repo } from './directory';

/** Where a runner is registered: one repository, or the organization. */
export type Scope = { readonly kind: 'repo'; readonly repo: Repo } | { readonly kind: 'org'; readonly org: Account };

export function scopeName(scope: Scope): string {
  return scope.kind === 'repo' ? `repo:${scope.repo.fullName}` : `org:${scope.org.login}`;
}

export interface RunnerLabel {
  readonly id: number;
  readonly name: string;
  readonly type: 'read-only' | 'custom';
}

export interface RunnerRecord {
  readonly id: number;
  readonly name: string;
  readonly scope: Scope;
  readonly labels: readonly RunnerLabel[];
  readonly groupId: number;
  readonly workFolder: string;
  /** What the runner proves on connect; carried in the JIT config, never in an API response. */
  readonly secret: string;
  readonly createdAt: number;
  /** `unknown` and null until the runner first connects (reference/github.md 4). */
  os: string;
  version: string | null;
  sessionId?: string;
  lastSeenAt?: number;
  /** Set while the runner runs a job: the runner is busy. */
  jobId?: number;
  removed: boolean;
}

export type JobStatus = 'queued' | 'in_progress' | 'completed';
export type JobConclusion = 'success' | 'failure' | 'cancelled';
export type JobOutcome = 'success' | 'failure';

export interface JobAssignment {
  readonly runnerId: number;
  readonly runnerName: string;
  readonly groupId: number;
  readonly groupName: string;
}

export interface RunRecord {
  readonly id: number;
  readonly repo: Repo;
  readonly workflowName: string;
  readonly headBranch: string;
  readonly headSha: string;
  readonly createdAt: number;
  attempt: number;
  readonly jobIds: number[];
}

export interface JobRecord {
  readonly id: number;
  readonly run: RunRecord;
  readonly runAttempt: number;
  readonly name: string;
  /** The `runs-on` labels as written in the workflow. */
  readonly labels: readonly string[];
  /** How long the job runs once a runner has it (simulated ms). */
  readonly durationMs: number;
  /** What the job's steps conclude when the runner finishes it undisturbed. */
  readonly outcome: JobOutcome;
  readonly createdAt: number;
  status: JobStatus;
  conclusion: JobConclusion | null;
  startedAt: number;
  completedAt: number | null;
  assignment?: JobAssignment;
  /** The id of the job of the next attempt, once this one was re-run. */
  rerunAs?: number;
}
