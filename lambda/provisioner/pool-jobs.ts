// What a pool's jobs tell the provisioner about its runners: which runner took which job, and
// which jobs a spot interruption failed and must run again.
import { ProvisionerDeps } from './deps';
import { markJobRunnerBusy } from '../core/busy-runner';
import { JobRecord } from '../core/job';
import { PoolRecord } from '../core/pool';
import { PoolMessage } from '../core/pool-message';
import { instanceIdOfRunner, RunnerRecord } from '../core/runner';

/**
 * Marks busy the runners that in-progress jobs name (the webhook does so as each job starts; this
 * is the backstop). A runner this pool lists as past registered needs no write.
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
    if (!busy) continue;
    if (listed) byId.set(instanceId, busy);
    deps.logger.info('runner took a job', { pool: busy.poolId, instance: instanceId, runner: job.runnerName, job: job.key.jobId });
  }
  return [...byId.values()];
}

/**
 * Jobs that were running on a reclaimed spot instance: once GitHub completes one as failed, it is
 * re-run, and the pool owes the new attempt on-demand capacity. Jobs that succeeded anyway, or
 * that GitHub forgot, are dropped from the list.
 */
export async function rerunInterruptedJobs(deps: ProvisionerDeps, pool: PoolRecord): Promise<PoolRecord> {
  if (pool.interruptedJobs.length === 0) return pool;
  const keep = [];
  let credits = 0;
  for (const key of pool.interruptedJobs) {
    const job = await deps.jobs.getJob(key);
    if (job && job.state !== 'completed') {
      keep.push(key);
      continue;
    }
    if (job?.conclusion !== 'failure') continue;
    const [owner, repo] = job.repo.split('/');
    const github = await deps.github();
    if (await github.rerunJob(owner, repo, key.jobId)) {
      credits++;
      deps.metrics.rerun();
      deps.logger.info('re-ran a job failed by a spot interruption', { pool: pool.poolId, job: key.jobId });
    } else {
      // Already re-run (a reconcile that lost the race below), too old, or no actions: write permission.
      deps.metrics.rerunRefused();
      deps.logger.warn('GitHub refused to re-run a job failed by a spot interruption', { pool: pool.poolId, job: key.jobId });
    }
  }
  const next = { ...pool, interruptedJobs: keep, spot: { ...pool.spot, onDemandCredits: pool.spot.onDemandCredits + credits } };
  // A lost race only delays the re-run to the next reconcile: GitHub refuses a second re-run of
  // the same attempt (403), so no job runs twice.
  return (await deps.pools.savePool(next, deps.clock.now())) ? { ...next, version: next.version + 1 } : pool;
}
