// One run of the periodic reconciler (DESIGN.md section 3.8): terminate orphan instances, bring
// long-stuck jobs up to date with GitHub, hand every active pool to the provisioner, redeliver
// failed webhook deliveries and delete ghost registrations. While nothing is active its only
// GitHub call is a read of the delivery log every quarter of an hour.
import { GitHubCallBudget } from './budget';
import { PoolIdError } from './errors';
import { healFleetCap } from './heal-fleet';
import { poolFromId } from './pool-id';
import { DEFAULT_RECONCILER_LIMITS } from './reconciler-limits';
import type { ReconcilerDeps, ReconcileSummary, Run } from './run';
import { checkRunnerVersions } from './runner-versions';
import { deleteGhosts, redeliverFailed, repairStuckJobs } from './sweep-github';
import { terminateOrphans } from './sweep-instances';
import { MetricDimension, ReconcilerMetric } from '../../src/contracts/metrics';
import { Logger } from '../common/logger';
import { SecretNotSetError } from '../core/errors';
import { GitHubPort, GitHubRateLimitedError } from '../core/github';
import { buildPoolMessageFor, buildWarmPoolMessage } from '../core/pool-message';
import {
  mergeReconcilerStates, pruneReconcilerState, recentScopes, touchScopes, updateReconcilerState, VersionedReconcilerState,
} from '../core/reconciler-state';
import { Pool } from '../core/routing';
import { RunnerRecord } from '../core/runner';
import { configOfWarmPoolId, scheduleActive } from '../core/warm-pool';

export type { ReconcilerDeps, ReconcilerSettings, ReconcileSummary, Run } from './run';

export async function runReconciler(deps: ReconcilerDeps, runId: string): Promise<ReconcileSummary> {
  deps.logger.appendKeys({ runId });
  try {
    return await reconcileOnce(deps, runId);
  } finally {
    deps.logger.resetKeys();
  }
}

async function reconcileOnce(deps: ReconcilerDeps, runId: string): Promise<ReconcileSummary> {
  const limits = { ...DEFAULT_RECONCILER_LIMITS, ...deps.limits };
  const now = deps.clock.now();
  const loaded = await deps.state.load();
  const poolIds = await deps.runners.listActivePools();
  const warmPoolIds = poolIds.filter((id) => configOfWarmPoolId(id) !== undefined);
  const pools = activePools(poolIds.filter((id) => configOfWarmPoolId(id) === undefined), deps.logger);
  const live = new Map<string, RunnerRecord>();
  // Warm pool instances are live runners too: never orphans, though no scope is active.
  for (const poolId of [...pools.map((p) => p.poolId), ...warmPoolIds]) {
    for (const runner of await deps.runners.listPoolRunners(poolId)) if (runner.state !== 'gone') live.set(runner.instanceId, runner);
  }
  let github: Promise<GitHubPort> | undefined;
  // The state item as this run last read or wrote it.
  let saved: VersionedReconcilerState = loaded;
  const run: Run = {
    deps,
    limits,
    now,
    runId,
    pools,
    warmPoolConfigs: warmPoolIds.map((id) => configOfWarmPoolId(id)!),
    live,
    budget: new GitHubCallBudget(limits.maxGitHubCallsPerRun),
    summary: emptySummary(pools.length),
    state: touchScopes(loaded.state, pools.map((p) => p.scope), now),
    github: () => (github ??= deps.github()),
  };

  await step(run, 'orphans', () => terminateOrphans(run));
  await step(run, 'fleet-cap', () => healFleetCap(run));
  // Warm pools are kept whether or not anything runs; no GitHub call is involved.
  await step(run, 'warm-pools', () => sendWarmPoolMessages(run));
  if (pools.length === 0 && recentScopes(run.state, now, limits.scopeSweepMs).length === 0) {
    run.summary.idle = true;
    // The queued event of the first job after a quiet spell may have failed too, and nothing else
    // would ever bring it back (GitHub never retries a delivery).
    const readAt = run.state.deliveriesReadAt;
    if (readAt === undefined || now - readAt >= limits.idleDeliveriesEveryMs) {
      await step(run, 'deliveries', () => redeliverWhileIdle(run), { github: true });
    }
  } else {
    // Repairs first, so the provisioner sees the corrected demand when the pool messages arrive.
    await step(run, 'stuck-jobs', () => repairStuckJobs(run), { github: true });
    await step(run, 'pool-messages', () => sendPoolMessages(run));
    const lastSweepAt = run.state.lastSweepAt;
    if (lastSweepAt === undefined || now - lastSweepAt >= limits.githubSweepEveryMs) {
      // Not read twice within a sweep interval: an idle run may have read it just before the first
      // job of a quiet spell came in.
      const readAt = run.state.deliveriesReadAt;
      if (readAt === undefined || now - readAt >= limits.githubSweepEveryMs) {
        await step(run, 'deliveries', () => redeliverFailed(run), { github: true });
      }
      // The redeliveries just asked for are counted at once: a later step that hangs until the
      // function times out must not make the next run ask for them again, spacing and cap ignored.
      saved = await saveState(run, saved);
      await step(run, 'ghosts', () => deleteGhosts(run), { github: true });
      await step(run, 'runner-versions', () => checkRunnerVersions(run), { github: true });
      run.state = { ...run.state, lastSweepAt: now };
    }
  }
  run.summary.githubCalls = run.budget.spent;
  deps.metrics.count(ReconcilerMetric.GITHUB_CALLS, run.budget.spent);
  await saveState(run, saved);
  deps.logger.info('reconciler run finished', { ...run.summary, orphansTerminated: run.summary.orphansTerminated.length, redelivered: run.summary.redelivered.length });
  return run.summary;
}

function emptySummary(activePoolCount: number): ReconcileSummary {
  return {
    idle: false,
    activePools: activePoolCount,
    poolsMessaged: 0,
    warmPoolsMessaged: 0,
    orphansTerminated: [],
    stalledTerminated: [],
    stuckJobsChecked: 0,
    stuckJobsRepaired: 0,
    redelivered: [],
    ghostsDeleted: 0,
    githubCalls: 0,
    failedSteps: [],
  };
}

/** The deliveries step of an idle run; a deployment whose App is not set up yet has no deliveries to read. */
async function redeliverWhileIdle(run: Run): Promise<void> {
  try {
    await redeliverFailed(run);
  } catch (error) {
    if (!(error instanceof SecretNotSetError)) throw error;
    // Read again at the next quarter of an hour, not every minute until the App is set up.
    run.state = { ...run.state, deliveriesReadAt: run.now };
    run.deps.logger.info('no GitHub App set up yet: no webhook deliveries to look at', { error });
  }
}

/**
 * Runs one step; a failure is logged and counted, and the run goes on: the steps are independent,
 * and the next run (a minute later) retries. A failed GitHub step ends the run's GitHub calls,
 * whatever the cause: a rate limit (GitHub asks us to wait), an outage, a key not set — calling on
 * would only add load where it hurts.
 */
async function step(run: Run, name: string, fn: () => Promise<void>, options: { github?: boolean } = {}): Promise<void> {
  try {
    await fn();
  } catch (error) {
    if (options.github || error instanceof GitHubRateLimitedError) run.budget.exhaust();
    run.summary.failedSteps.push(name);
    run.deps.metrics.count(ReconcilerMetric.RECONCILE_STEP_FAILED, 1, { [MetricDimension.STEP]: name });
    run.deps.logger.error('reconciler step failed; the next run retries it', { step: name, error: error as Error });
  }
}

function activePools(poolIds: readonly string[], logger: Logger): Pool[] {
  const pools: Pool[] = [];
  for (const poolId of poolIds) {
    try {
      pools.push(poolFromId(poolId));
    } catch (error) {
      if (!(error instanceof PoolIdError)) throw error;
      logger.error('pool index holds an id this control plane did not write; skipped', { poolId, error });
    }
  }
  return pools;
}

async function sendPoolMessages(run: Run): Promise<void> {
  const { queue } = run.deps;
  for (let i = 0; i < run.pools.length; i += run.limits.poolMessageConcurrency) {
    const batch = run.pools.slice(i, i + run.limits.poolMessageConcurrency);
    await Promise.all(batch.map(async (pool) => {
      await queue.send(buildPoolMessageFor(pool, 'reconciler', run.runId));
      run.summary.poolsMessaged++;
    }));
  }
  run.deps.metrics.count(ReconcilerMetric.POOLS_RECONCILED, run.summary.poolsMessaged);
}

/**
 * Every warm pool its schedule keeps now, and every warm pool that still holds instances (off its
 * schedule, or its config dropped it or is gone: the provisioner then empties it), goes to the
 * provisioner, which refills, freshens or empties it. One message per config a sweep; an empty pool
 * off its schedule costs nothing, not even a message.
 */
async function sendWarmPoolMessages(run: Run): Promise<void> {
  const kept = (run.deps.warmPoolConfigs ?? []).filter((name) => scheduleActive(run.deps.warmPoolSchedules?.[name], run.now));
  const names = new Set([...kept, ...run.warmPoolConfigs]);
  for (const configName of [...names].sort()) {
    await run.deps.queue.send(buildWarmPoolMessage(configName, 'reconciler', run.runId));
    run.summary.warmPoolsMessaged++;
  }
}

/**
 * Saves what the run learnt unless nothing changed since `saved` (most idle runs write nothing). On a
 * lost race with another writer (an overlapping run, the lifecycle function), merges with what it
 * saved. Returns the item as this run now knows it: after a merge, or a failure, the version it
 * knew, so that a later save of the run merges too.
 */
async function saveState(run: Run, saved: VersionedReconcilerState): Promise<VersionedReconcilerState> {
  const next = pruneReconcilerState(run.state, run.now, run.limits);
  if (JSON.stringify(next) === JSON.stringify(saved.state)) return saved;
  try {
    if (await run.deps.state.save(next, saved.version, run.now)) return { state: next, version: saved.version + 1 };
    await updateReconcilerState(run.deps.state, (latest) => pruneReconcilerState(mergeReconcilerStates(latest, next), run.now, run.limits), run.now);
  } catch (error) {
    run.deps.logger.error('reconciler state not saved; the next run repeats some work', { error: error as Error });
    run.deps.metrics.count(ReconcilerMetric.RECONCILE_STEP_FAILED, 1, { [MetricDimension.STEP]: 'save-state' });
  }
  return saved;
}
