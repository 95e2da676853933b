// Jobs whose webhook we may have missed: queued in our table for long, or in progress longer than
// any runner lives. GitHub is asked about a few of them per run, oldest first, and each job at most
// once per recheck interval, so a job that is simply waiting for capacity costs little.
import { GitHubJob } from '../core/github';
import { FINISHED_JOB_RETENTION_SECONDS, JOB_STATE_RANK, JobRecord, JobState, JobTransition } from '../core/job';
import { JobCheck, jobCheckKey } from '../core/reconciler-state';

export interface StuckJobLimits {
  /** A queued job older than this is asked about. */
  readonly queuedForMs: number;
  /** An in-progress job older than this is asked about (longer than a runner may live). */
  readonly inProgressForMs: number;
  /** The same job is asked about at most once in this interval. */
  readonly recheckAfterMs: number;
  readonly maxChecksPerRun: number;
}

/** The jobs to ask GitHub about, oldest first, at most `maxChecksPerRun`. */
export function selectStuckJobs(jobs: readonly JobRecord[], checks: readonly JobCheck[], now: number, limits: StuckJobLimits): JobRecord[] {
  const checkedAt = new Map(checks.map((c) => [jobCheckKey(c.key), c.checkedAt]));
  return jobs
    .filter((job) => {
      const since = Date.parse(job.state === 'queued' ? job.createdAt : job.updatedAt);
      const threshold = job.state === 'queued' ? limits.queuedForMs : limits.inProgressForMs;
      if (job.state === 'completed' || !(now - since > threshold)) return false;
      const last = checkedAt.get(jobCheckKey(job.key));
      return last === undefined || now - last >= limits.recheckAfterMs;
    })
    .sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt) || a.key.jobId - b.key.jobId)
    .slice(0, Math.max(0, limits.maxChecksPerRun));
}

/**
 * The transition that brings our job up to what GitHub says, or undefined when GitHub agrees (or
 * the job is only waiting: `queued`, `waiting`, `pending`, `requested`). A job GitHub does not
 * know (404: deleted with its run, or no longer visible to the App) can never run on our runners:
 * it is completed as cancelled, which frees its demand.
 */
export function repairFromGitHub(job: JobRecord, github: GitHubJob | undefined, now: number): JobTransition | undefined {
  let to: JobState;
  let conclusion: string | undefined;
  let runnerName: string | undefined;
  if (github === undefined) {
    to = 'completed';
    conclusion = 'cancelled';
  } else if (github.status === 'completed') {
    to = 'completed';
    conclusion = github.conclusion ?? undefined;
    runnerName = github.runnerName ?? undefined;
  } else if (github.status === 'in_progress') {
    to = 'in_progress';
    runnerName = github.runnerName ?? undefined;
  } else {
    return undefined;
  }
  if (JOB_STATE_RANK[to] <= JOB_STATE_RANK[job.state]) return undefined;
  return {
    key: job.key,
    to,
    rank: JOB_STATE_RANK[to],
    runnerName,
    conclusion,
    at: now,
    expiresAt: to === 'completed' ? Math.floor(now / 1000) + FINISHED_JOB_RETENTION_SECONDS : undefined,
  };
}

/** `owner` and `repo` of a job's `owner/name`. */
export function repoOf(job: JobRecord): { owner: string; repo: string } {
  const slash = job.repo.indexOf('/');
  return { owner: job.repo.slice(0, slash), repo: job.repo.slice(slash + 1) };
}
