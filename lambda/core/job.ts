// A job's life as the control plane tracks it: queued → in_progress → completed, moving forward
// only. Webhooks arrive late, twice and out of order (GitHub documents all three), so a transition
// applies only when it moves a job to a later state; anything else changes nothing.

import { JobOrigin, Pool } from './routing';

export type JobState = 'queued' | 'in_progress' | 'completed';

/** Ranks order the states; a transition applies only to a job whose rank is lower (or that does not exist). */
export const JOB_STATE_RANK: Readonly<Record<JobState, number>> = { queued: 1, in_progress: 2, completed: 3 };

/** Finished jobs are kept a week (as long as GitHub keeps deliveries), then expire by TTL. */
export const FINISHED_JOB_RETENTION_SECONDS = 7 * 24 * 60 * 60;

/**
 * The state a `workflow_job` action moves a job to, or `undefined` for actions that do not move
 * it: `waiting` (an environment protection rule holds the job; it is queued once released) and
 * any action GitHub adds later.
 */
export function jobStateForAction(action: string): JobState | undefined {
  return action === 'queued' || action === 'in_progress' || action === 'completed' ? action : undefined;
}

/** Queued and in-progress jobs count against their pool; completed ones do not. */
export function isActive(state: JobState): boolean {
  return state !== 'completed';
}

/** Job ids are unique per GitHub host only, so the host is part of a job's identity. */
export interface JobKey {
  readonly githubHost: string;
  readonly jobId: number;
}

/** What a validated `workflow_job` delivery says about one job. */
export interface JobEvent {
  readonly key: JobKey;
  readonly state: JobState;
  readonly runId: number;
  /** Absent in payloads of older GHES releases. */
  readonly runAttempt?: number;
  readonly origin: JobOrigin;
  /** The `runs-on` labels as sent. */
  readonly labels: readonly string[];
  /** The runner that took the job (in_progress, completed); absent while queued and for jobs never acquired. */
  readonly runnerName?: string;
  readonly conclusion?: string;
  /** The App installation the delivery came from (`installation.id`): the one that registers the job's runner. */
  readonly installationId?: number;
  /** `workflow_name`: the workflow's `name:`, or its file path when it has none; null in some payloads. */
  readonly workflowName?: string;
}

/** Attributes a job gets when it is first seen; never changed by later transitions. */
export interface JobCreation {
  readonly runId: number;
  readonly runAttempt?: number;
  /** `owner/name` as sent. */
  readonly repo: string;
  readonly org?: string;
  readonly labels: readonly string[];
  readonly pool: Pool;
  readonly installationId?: number;
  readonly workflowName?: string;
}

/** A single-item conditional write: move `key` to `to` if that is forward. */
export interface JobTransition {
  readonly key: JobKey;
  readonly to: JobState;
  readonly rank: number;
  /**
   * How to create the job if it is not known yet. Absent when the event's labels route to no
   * config: then only a job already known (routed when it was queued) moves.
   */
  readonly create?: JobCreation;
  readonly runnerName?: string;
  readonly conclusion?: string;
  /** When the transition happens, epoch milliseconds. */
  readonly at: number;
  /** Expiry of a completed job, epoch seconds. */
  readonly expiresAt?: number;
}

/** A job as stored. */
export interface JobRecord {
  readonly key: JobKey;
  readonly state: JobState;
  readonly runId: number;
  readonly runAttempt?: number;
  readonly repo: string;
  readonly org?: string;
  readonly labels: readonly string[];
  /** The pool the job was routed to when first seen; it keeps it even if configs change later. */
  readonly pool: Pool;
  /** The App installation its first delivery came from; absent for jobs recorded before it was kept. */
  readonly installationId?: number;
  /** The workflow the job belongs to (`workflow_name`), for cost allocation; absent when no payload named one. */
  readonly workflowName?: string;
  readonly runnerName?: string;
  readonly conclusion?: string;
  /** ISO 8601. */
  readonly createdAt: string;
  readonly updatedAt: string;
  /** Epoch seconds; set once the job completed. */
  readonly expiresAt?: number;
}

export interface JobTransitionResult {
  /** Whether the write moved the job (or created it). */
  readonly changed: boolean;
  /** The job after the write; absent when it is unknown and the transition could not create it. */
  readonly job?: JobRecord;
}

/** The transition a job event asks for. `pool` is the routing result; `now` is epoch milliseconds. */
export function planJobTransition(event: JobEvent, pool: Pool | undefined, now: number): JobTransition {
  const { owner, repo, org } = event.origin;
  return {
    key: event.key,
    to: event.state,
    rank: JOB_STATE_RANK[event.state],
    create: pool && {
      runId: event.runId,
      runAttempt: event.runAttempt,
      repo: `${owner}/${repo}`,
      org,
      labels: event.labels,
      pool,
      installationId: event.installationId,
      workflowName: event.workflowName,
    },
    runnerName: event.runnerName,
    conclusion: event.conclusion,
    at: now,
    expiresAt: isActive(event.state) ? undefined : Math.floor(now / 1000) + FINISHED_JOB_RETENTION_SECONDS,
  };
}

/**
 * The reference semantics of a transition, which every job store implements (the DynamoDB store
 * as one conditional UpdateItem): forward only, creation attributes fixed at first sight,
 * runner name and conclusion updated when the event carries them.
 */
export function applyJobTransition(current: JobRecord | undefined, t: JobTransition): JobTransitionResult {
  const at = new Date(t.at).toISOString();
  if (current === undefined) {
    if (t.create === undefined) return { changed: false };
    const c = t.create;
    return {
      changed: true,
      job: stripUndefined({
        key: t.key,
        state: t.to,
        runId: c.runId,
        runAttempt: c.runAttempt,
        repo: c.repo,
        org: c.org,
        labels: [...c.labels],
        pool: c.pool,
        installationId: c.installationId,
        workflowName: c.workflowName,
        runnerName: t.runnerName,
        conclusion: t.conclusion,
        createdAt: at,
        updatedAt: at,
        expiresAt: t.expiresAt,
      }),
    };
  }
  if (JOB_STATE_RANK[current.state] >= t.rank) return { changed: false, job: current };
  return {
    changed: true,
    job: stripUndefined({
      ...current,
      state: t.to,
      runnerName: t.runnerName ?? current.runnerName,
      conclusion: t.conclusion ?? current.conclusion,
      updatedAt: at,
      expiresAt: t.expiresAt ?? current.expiresAt,
    }),
  };
}

function stripUndefined<T extends object>(record: T): T {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined)) as T;
}
