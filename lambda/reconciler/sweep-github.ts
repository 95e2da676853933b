// The GitHub side of a run, each step within the run's call budget: stuck jobs checked against
// GitHub, failed webhook deliveries redelivered, ghost registrations deleted.
import { listingStart, nextCursor, planRedeliveries, recordRedelivery, Redelivery } from './deliveries';
import { ghostCandidates } from './ghosts';
import { hasNoLiveRunner } from './orphans';
import type { Run } from './run';
import { repairFromGitHub, repoOf, selectStuckJobs } from './stuck-jobs';
import { ReconcilerMetric } from '../../src/contracts/metrics';
import { EnterpriseCredentialError, GitHubAppNotInstalledError, GitHubJob, GitHubRateLimitedError } from '../core/github';
import { JobKey } from '../core/job';
import { jobCheckKey, markGhostsLeft, markSwept, ReconcilerState, scopesDueForGhostSweep } from '../core/reconciler-state';
import { RunnerScope } from '../core/routing';

export async function repairStuckJobs(run: Run): Promise<void> {
  const { jobs, logger, metrics, settings } = run.deps;
  const active = (await Promise.all(run.pools.map((pool) => jobs.listActiveJobs(pool.poolId)))).flat();
  // How long the longest-waiting job has been queued: the alarm on jobs queued too long reads it.
  const oldestQueuedAt = Math.min(...active.filter((j) => j.state === 'queued').map((j) => Date.parse(j.createdAt)));
  if (Number.isFinite(oldestQueuedAt)) {
    metrics.count(ReconcilerMetric.OLDEST_QUEUED_JOB_SECONDS, Math.max(1, Math.round((run.now - oldestQueuedAt) / 1000)));
  }
  const selected = selectStuckJobs(active, run.state.jobChecks, run.now, {
    queuedForMs: run.limits.stuckQueuedJobMs,
    inProgressForMs: settings.maxLifetimeMs + run.limits.stuckInProgressGraceMs,
    recheckAfterMs: run.limits.jobRecheckMs,
    maxChecksPerRun: run.limits.maxStuckJobChecksPerRun,
  });
  for (const job of selected) {
    if (!run.budget.take()) break;
    const { owner, repo } = repoOf(job);
    const fields = { jobId: job.key.jobId, githubHost: job.key.githubHost, repo: job.repo, poolId: job.pool.poolId, jobState: job.state };
    let answer: GitHubJob | undefined;
    try {
      answer = await (await run.github()).getJob(owner, repo, job.key.jobId);
    } catch (error) {
      if (!(error instanceof GitHubAppNotInstalledError)) throw error;
      // Not ours to judge: the App may be installed again. Asked again after the recheck interval.
      run.state = recordCheck(run, job.key);
      logger.warn('cannot ask GitHub about a stuck job: the App is not installed on its repository', { ...fields, error });
      continue;
    }
    run.summary.stuckJobsChecked++;
    run.state = recordCheck(run, job.key);
    const transition = repairFromGitHub(job, answer, run.now);
    if (!transition) {
      logger.info('stuck job is still waiting on GitHub', { ...fields, githubStatus: answer?.status });
      continue;
    }
    const result = await jobs.applyJobTransition(transition);
    if (result.changed) run.summary.stuckJobsRepaired++;
    logger.warn('stuck job brought up to date with GitHub: a webhook was missed', {
      ...fields, githubStatus: answer?.status ?? 'not-found', to: transition.to, conclusion: transition.conclusion, changed: result.changed,
    });
  }
  metrics.count(ReconcilerMetric.STUCK_JOBS_CHECKED, run.summary.stuckJobsChecked);
  metrics.count(ReconcilerMetric.STUCK_JOBS_REPAIRED, run.summary.stuckJobsRepaired);
}

export async function redeliverFailed(run: Run): Promise<void> {
  const { logger, metrics } = run.deps;
  const limits = run.limits;
  // Every page is a call of the run's budget; the redeliveries take what is left of it.
  const maxPages = Math.min(limits.maxDeliveryPagesPerRun, run.budget.remaining);
  if (maxPages < 1 || !run.budget.take(maxPages)) {
    logger.warn('GitHub call budget spent before the deliveries could be read; the next run reads them', { budget: run.budget.limit });
    return;
  }
  const github = await run.github();
  run.state = { ...run.state, deliveriesReadAt: run.now };
  const listing = await github.listDeliveries(listingStart(run.state.deliveriesCursor, run.now, limits), maxPages);
  run.budget.refund(maxPages - listing.pages);
  const deliveries = listing.deliveries;
  if (!listing.complete) {
    // Newest first: the older deliveries since the cursor are read by the next runs, which start there again.
    logger.warn('more webhook deliveries since the last look than one run reads; the next run reads on from the same point', {
      listed: deliveries.length, pages: listing.pages,
    });
    metrics.count(ReconcilerMetric.DELIVERIES_LIST_TRUNCATED);
  }
  const maxPerRun = Math.min(limits.maxPerRun, run.budget.remaining);
  const plan = planRedeliveries(deliveries, run.state.redeliveries, run.now, { ...limits, maxPerRun });
  const unfinished: Redelivery[] = [...plan.deferred, ...plan.waiting];
  for (const redelivery of plan.redeliver) {
    const fields = { deliveryGuid: redelivery.guid, deliveryId: redelivery.deliveryId, action: redelivery.action };
    if (!run.budget.take()) {
      unfinished.push(redelivery);
      continue;
    }
    try {
      await github.redeliver(redelivery.deliveryId);
    } catch (error) {
      unfinished.push(redelivery);
      if (error instanceof GitHubRateLimitedError) {
        run.budget.exhaust();
        logger.warn('GitHub rate limit: redeliveries wait for the next run', fields);
      } else {
        logger.error('redelivery request failed; the next run asks again', { ...fields, error: error as Error });
      }
      continue;
    }
    run.state = { ...run.state, redeliveries: recordRedelivery(run.state.redeliveries, redelivery.guid, run.now) };
    run.summary.redelivered.push(redelivery.guid);
    const attempts = run.state.redeliveries.find((r) => r.guid === redelivery.guid)?.attempts;
    logger.warn('webhook delivery failed and was redelivered', { ...fields, attempt: attempts });
  }
  for (const redelivery of plan.exhausted) {
    logger.error('webhook delivery still failing after every redelivery; check the webhook function and its URL', {
      deliveryGuid: redelivery.guid, deliveryId: redelivery.deliveryId, attempts: limits.maxAttemptsPerGuid,
    });
  }
  metrics.count(ReconcilerMetric.DELIVERIES_REDELIVERED, run.summary.redelivered.length);
  metrics.count(ReconcilerMetric.REDELIVERIES_EXHAUSTED, plan.exhausted.length);
  // Nothing listed on the very first look: start from where that look began.
  const cursor = nextCursor(run.state.deliveriesCursor, deliveries, unfinished, limits.overlapMs, listing.complete)
    ?? run.now - limits.initialLookbackMs;
  run.state = { ...run.state, deliveriesCursor: cursor };
}

export async function deleteGhosts(run: Run): Promise<void> {
  // The most recently active scopes first: that is where leftovers are likeliest.
  const scopes = scopesDueForGhostSweep(run.state, run.now, run.limits.scopeSweepMs, run.limits.ghostSweepBackstopMs)
    .sort((a, b) => b.lastActiveAt - a.lastActiveAt);
  const live = new Set(run.live.keys());
  try {
    for (const { scope } of scopes) {
      try {
        if (!(await sweepScope(run, scope, live))) return;
        run.state = markSwept(run.state, scope, run.now);
      } catch (error) {
        if (error instanceof EnterpriseCredentialError) {
          // Registrations may be left there: the scope stays due, and is swept once the credential is fixed.
          run.deps.logger.error('cannot sweep the enterprise for ghosts: its credential is missing or refused', { enterprise: error.enterprise, error });
          continue;
        }
        if (!(error instanceof GitHubAppNotInstalledError)) throw error;
        // The App was removed from this scope: nothing of ours can be registered there any more.
        run.deps.logger.warn('cannot sweep a scope for ghosts: the App is not installed there', { scope: error.scope });
        run.state = markSwept(run.state, scope, run.now);
      }
    }
  } finally {
    run.deps.metrics.count(ReconcilerMetric.GHOSTS_DELETED, run.summary.ghostsDeleted);
  }
}

/** Deletes the scope's ghosts; false when the run's caps stop the sweep. */
async function sweepScope(run: Run, scope: RunnerScope, live: ReadonlySet<string>): Promise<boolean> {
  const { runners, logger, settings } = run.deps;
  const canDelete = () => run.summary.ghostsDeleted < run.limits.maxGhostDeletesPerRun;
  // Every page of the list is a call of the run's budget.
  const maxPages = Math.min(run.limits.maxRunnerPagesPerScope, run.budget.remaining);
  if (!canDelete() || maxPages < 1 || !run.budget.take(maxPages)) return false;
  const github = await run.github();
  const listing = await github.listRunners(scope, settings.runnerNamePrefix, maxPages);
  run.budget.refund(maxPages - listing.pages);
  if (!listing.complete) {
    // Registrations past the pages read were not seen: the scope's sweep is due again next run.
    run.state = markGhostsLeft(run.state, scope, run.now);
    logger.warn('more runner registrations in a scope than one ghost sweep reads; the next sweep reads them again', {
      scope, pages: listing.pages, listed: listing.runners.length,
    });
  }
  for (const candidate of ghostCandidates(listing.runners, settings.runnerNamePrefix, live)) {
    const runner = await runners.getRunner(candidate.instanceId);
    if (!hasNoLiveRunner(runner)) continue;
    if (!canDelete() || !run.budget.take()) {
      // Leftovers remain: the scope's sweep is due again next run.
      run.state = markGhostsLeft(run.state, scope, run.now);
      return false;
    }
    const result = await github.deleteRunner(scope, candidate.registration.id);
    if (result === 'deleted') run.summary.ghostsDeleted++;
    logger.warn('ghost registration: its instance has no live runner', {
      instanceId: candidate.instanceId,
      runnerId: candidate.registration.id,
      runnerName: candidate.registration.name,
      poolId: runner?.poolId,
      runnerState: runner?.state ?? 'none',
      result,
    });
  }
  return listing.complete;
}

function recordCheck(run: Run, key: JobKey): ReconcilerState {
  const others = run.state.jobChecks.filter((c) => jobCheckKey(c.key) !== jobCheckKey(key));
  return { ...run.state, jobChecks: [...others, { key, checkedAt: run.now }] };
}
