// What a pool's jobs tell the provisioner about its runners: which runner took which job, and
// which jobs a spot interruption failed and must run again.
import { ProvisionerDeps } from './deps';
import { markJobRunnerBusy } from '../core/busy-runner';
import { RerunResult } from '../core/github';
import { JobKey, JobRecord } from '../core/job';
import { InterruptedJob, nextRerunWait, PoolRecord } from '../core/pool';
import { PoolMessage } from '../core/pool-message';
import { instanceIdOfRunner, RunnerRecord } from '../core/runner';

/**
 * Marks busy the runners that in-progress jobs name (the webhook does so as each job starts; this
 * is the backstop). A runner this pool lists as past registered needs no write. When the write
 * loses to a concurrent one (the webhook marking the same runner busy, most often), the runner is
 * read again and seen busy: listed as idle, it would count as supply for a job it already runs,
 * and the pool would retire a runner another job needs.
 */
export async function linkBusyRunners(
  deps: ProvisionerDeps, message: PoolMessage, inProgress: readonly JobRecord[], runners: readonly RunnerRecord[],
): Promise<RunnerRecord[]> {
  const byId = new Map(runners.map((r) => [r.instanceId, r]));
  for (const job of inProgress) {
    const instanceId = instanceIdOfRunner(deps.settings.runnerNamePrefix, job.runnerName);
    const listed = instanceId === undefined ? undefined : byId.get(instanceId);
    if (!instanceId || (listed && listed.state !== 'booting' && listed.state !== 'registered')) continue;
    const busy = await markJobRunnerBusy(deps, deps.settings.runnerNamePrefix, job, message.deliveryId);
    if (!busy) {
      // Whatever the record says once read again, GitHub says this runner runs the job: not supply.
      const current = listed && await deps.runners.getRunner(instanceId);
      if (current) byId.set(instanceId, current.state === 'booting' || current.state === 'registered' ? { ...current, state: 'busy', job: job.key } : current);
      continue;
    }
    if (listed) byId.set(instanceId, busy);
    deps.logger.info('runner took a job', { pool: busy.poolId, instance: instanceId, runner: job.runnerName, job: job.key.jobId });
  }
  return [...byId.values()];
}

/**
 * Jobs that were running on a reclaimed spot instance: once GitHub completes one as failed, it is
 * re-run, and the pool owes the new attempt on-demand capacity. Jobs that succeeded anyway, or
 * that GitHub forgot, are dropped from the list. GitHub re-runs a job only once its workflow run has
 * finished: while another job of the run is queued or running it answers 403 "This workflow is
 * already running", so such a job stays on the list and is asked again with backoff (RERUN_RETRY),
 * as is one GitHub could not be asked about (an outage, a rate limit); after a day it is given up.
 */
export async function rerunInterruptedJobs(deps: ProvisionerDeps, pool: PoolRecord): Promise<PoolRecord> {
  if (pool.interruptedJobs.length === 0) return pool;
  const now = deps.clock.now();
  const keep: InterruptedJob[] = [];
  let credits = 0;
  let githubUnavailable = false;
  for (const entry of pool.interruptedJobs) {
    if (githubUnavailable || (entry.rerunWait && now < entry.rerunWait.nextAttemptAt)) {
      keep.push(entry);
      continue;
    }
    const key: JobKey = { githubHost: entry.githubHost, jobId: entry.jobId };
    const job = await deps.jobs.getJob(key);
    if (job && job.state !== 'completed') {
      keep.push(entry);
      continue;
    }
    if (job?.conclusion !== 'failure') continue;
    const log = { pool: pool.poolId, job: key.jobId, repo: job.repo };
    const [owner, repo] = job.repo.split('/');
    let result: RerunResult;
    try {
      result = await (await deps.github()).rerunJob(owner, repo, key.jobId);
    } catch (error) {
      // Not GitHub's answer: ask again later, and ask nothing more of GitHub in this reconcile.
      githubUnavailable = true;
      deps.logger.warn('could not ask GitHub to re-run a job failed by a spot interruption; will retry', { ...log, error: (error as Error).message });
      result = { outcome: 'run-in-progress', reason: (error as Error).message };
    }
    if (result.outcome === 'rerun') {
      credits++;
      deps.metrics.rerun();
      deps.logger.info('re-ran a job failed by a spot interruption', log);
    } else if (result.outcome === 'refused') {
      // Already re-run (by a person, or a reconcile that lost the race below), too old, or no actions: write permission.
      deps.metrics.rerunRefused();
      deps.logger.warn('GitHub refused to re-run a job failed by a spot interruption', { ...log, reason: result.reason });
    } else {
      const wait = nextRerunWait(entry.rerunWait, now);
      if (wait) {
        keep.push({ ...key, rerunWait: wait });
        if (!githubUnavailable) {
          deps.metrics.rerunDeferred();
          deps.logger.info('the job\'s workflow run has not finished; re-running it later', {
            ...log, reason: result.reason, attempts: wait.attempts, nextAttemptAt: new Date(wait.nextAttemptAt).toISOString(),
          });
        }
      } else {
        deps.metrics.rerunAbandoned();
        deps.logger.warn('gave up re-running a job failed by a spot interruption: its run did not finish in time; re-run it by hand', {
          ...log,
          reason: result.reason,
          waitingSince: new Date(entry.rerunWait?.since ?? now).toISOString(),
          attempts: entry.rerunWait?.attempts ?? 0,
        });
      }
    }
  }
  if (credits === 0 && JSON.stringify(keep) === JSON.stringify(pool.interruptedJobs)) return pool;
  const next = { ...pool, interruptedJobs: keep, spot: { ...pool.spot, onDemandCredits: pool.spot.onDemandCredits + credits } };
  // A lost race only delays the re-run to the next reconcile: GitHub refuses a second re-run of
  // the same attempt (403), so no job runs twice.
  return (await deps.pools.savePool(next, deps.clock.now())) ? { ...next, version: next.version + 1 } : pool;
}
