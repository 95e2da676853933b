// Reconciles one pool: loads its jobs, runners and record, asks the pure decision (core/reconcile)
// what to do, and applies it with conditional writes. Level-triggered: whatever message brought
// the pool here, the answer depends only on the state, so running it twice changes nothing.
import { ProvisionerDeps } from './deps';
import { DemandNotMetError } from './errors';
import { launch, recoverPendingLaunch } from './launch';
import { linkBusyRunners, rerunInterruptedJobs } from './pool-jobs';
import { retire } from './retire';
import { fallBackNow, planLaunch } from '../core/launch-plan';
import { emptyPool, PoolRecord, RECENT_LAUNCH_WINDOW_MS } from '../core/pool';
import { PoolMessage } from '../core/pool-message';
import { reconcile, Retirement } from '../core/reconcile';
import { RunnerRecord, RunnerView } from '../core/runner';
import { RunnerConfig } from '../core/runner-config';

export interface PoolReport {
  readonly poolId: string;
  readonly queued: number;
  readonly launched: number;
  readonly retired: number;
  readonly deferred: number;
}

export async function reconcilePool(deps: ProvisionerDeps, message: PoolMessage): Promise<PoolReport> {
  const { poolId } = message;
  const log = { pool: poolId, reason: message.reason, correlation: message.deliveryId };
  const config = (await deps.configs.loadConfigs()).find((c) => c.name === message.configName);
  let pool: PoolRecord = (await deps.pools.getPool(poolId)) ?? emptyPool(poolId, message.configName, message.scope);

  if (!config) {
    // The config was removed: its jobs can no longer be served here, its runners go.
    deps.logger.warn('runner config no longer exists; retiring the pool\'s runners', { ...log, config: message.configName });
    const runners = await deps.runners.listPoolRunners(poolId);
    const retirements: Retirement[] = runners.filter((r) => r.state === 'booting' || r.state === 'registered')
      .map((r) => ({ instanceId: r.instanceId, reason: 'surplus', action: r.state === 'booting' ? 'terminate' : 'deregister-and-terminate' }));
    const retired = await retire(deps, runners, retirements);
    return { poolId, queued: 0, launched: 0, retired, deferred: 0 };
  }

  if (pool.pendingLaunch) pool = await recoverPendingLaunch(deps, pool, config);
  pool = await rerunInterruptedJobs(deps, pool);

  const queued = await deps.jobs.listActiveJobs(poolId, 'queued');
  const inProgress = await deps.jobs.listActiveJobs(poolId, 'in_progress');
  const runners = await linkBusyRunners(deps, message, inProgress, await deps.runners.listPoolRunners(poolId));
  const now = deps.clock.now();
  const decision = reconcile({
    limits: { maxRunners: config.maxRunners, bootTimeoutMs: deps.settings.bootTimeoutMs, maxLifetimeMs: deps.settings.maxLifetimeMs },
    queuedJobs: queued.length,
    runners: await withRecentLaunches(deps, runners, pool, now),
    pendingLaunches: 0,
    now,
  });

  const retired = await retire(deps, runners, decision.retire);
  let launched = 0;
  if (decision.launch > 0) {
    const image = await imageFor(deps, config, queued.length, log);
    if (image.ready) launched = await launchFor(deps, pool, config, decision.launch, image.imageId);
  }

  if (queued.length + runners.length > 0) await touch(deps, poolId, now);
  deps.logger.info('reconciled pool', { ...log, queued: queued.length, inProgress: inProgress.length, runners: runners.length, launched, retired, deferred: decision.deferred });
  return { poolId, queued: queued.length, launched, retired, deferred: decision.deferred };
}

/**
 * Runners launched a moment ago may be missing from the eventually consistent index; the pool item
 * remembers them, so they count as supply and are not launched twice. A strongly consistent read
 * tells a lagging index from a runner that already left it (a short job can end within the
 * window): only a launch whose runner item cannot be read yet counts as booting.
 */
async function withRecentLaunches(deps: ProvisionerDeps, runners: readonly RunnerRecord[], pool: PoolRecord, now: number): Promise<RunnerView[]> {
  const known = new Set(runners.map((r) => r.instanceId));
  const unlisted = pool.recentLaunches.filter((l) => !known.has(l.instanceId) && now - l.launchedAt < RECENT_LAUNCH_WINDOW_MS);
  if (unlisted.length === 0) return [...runners];
  const stored = await deps.runners.getRunners(unlisted.map((l) => l.instanceId));
  const recent: RunnerView[] = [];
  for (const recentLaunch of unlisted) {
    const runner = stored.get(recentLaunch.instanceId);
    if (runner) {
      if (runner.state !== 'gone') recent.push(runner);
      continue;
    }
    recent.push({ instanceId: recentLaunch.instanceId, state: 'booting', market: recentLaunch.market, launchedAt: recentLaunch.launchedAt });
  }
  return [...runners, ...recent];
}

/**
 * The AMI this launch boots. While the config's image parameter does not exist yet (the first
 * image is built after the first deploy), nothing launches and the jobs wait, logged and counted:
 * the pool stays active, so the reconciler brings it back every minute until the image is there.
 */
async function imageFor(
  deps: ProvisionerDeps, config: RunnerConfig, queued: number, log: Record<string, unknown>,
): Promise<{ ready: true; imageId: string | undefined } | { ready: false }> {
  if (!config.image) return { ready: true, imageId: undefined };
  const imageId = await deps.images.imageIdFor(config.image);
  if (imageId) return { ready: true, imageId };
  deps.metrics.jobsWaitingForImage(queued);
  deps.logger.warn('runner image not ready: jobs wait until its parameter holds an AMI id', {
    ...log, config: config.name, imageParameter: config.image.parameterName, queued,
  });
  return { ready: false };
}

/** Launches by the config's spot strategy; SPOT_PREFERRED buys the shortfall on-demand once spot keeps failing. */
async function launchFor(deps: ProvisionerDeps, pool: PoolRecord, config: RunnerConfig, count: number, imageId: string | undefined): Promise<number> {
  let launched = 0;
  let current = pool;
  const reasons: string[] = [];
  for (const part of planLaunch(count, config.spot, current.spot, deps.clock.now())) {
    const before = current.spot;
    const outcome = await launch(deps, current, config, part.market, part.count, imageId);
    current = outcome.pool;
    launched += outcome.instances.length;
    reasons.push(...outcome.errors.map((e) => e.code));
    const shortfall = part.count - outcome.instances.length;
    if (shortfall > 0 && part.market === 'spot' && fallBackNow(config.spot, before, current.spot, deps.clock.now())) {
      deps.metrics.fallback();
      deps.logger.warn('spot keeps failing or cannot be bought now; launching on-demand', { pool: pool.poolId, shortfall, reasons: outcome.errors.map((e) => e.code) });
      const fallback = await launch(deps, current, config, 'on-demand', shortfall, imageId);
      current = fallback.pool;
      launched += fallback.instances.length;
      reasons.push(...fallback.errors.map((e) => e.code));
    }
  }
  if (launched < count) throw new DemandNotMetError(pool.poolId, count - launched, [...new Set(reasons)]);
  return launched;
}

/** Records that the pool was active, for the reconciler's sweeps of recently active scopes. */
async function touch(deps: ProvisionerDeps, poolId: string, now: number): Promise<void> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const pool = await deps.pools.getPool(poolId);
    if (!pool || now - pool.lastActiveAt < 60_000) return;
    if (await deps.pools.savePool({ ...pool, lastActiveAt: now }, now)) return;
  }
}
