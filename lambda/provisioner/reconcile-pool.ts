// Reconciles one pool: loads its jobs, runners and record, asks the pure decision (core/reconcile)
// what to do, and applies it with conditional writes. Level-triggered: whatever message brought
// the pool here, the answer depends only on the state, so running it twice changes nothing.
import { claimWarm } from './claim-warm';
import { tagStartedJobs } from './cost-tags';
import { ProvisionerDeps } from './deps';
import { DemandNotMetError } from './errors';
import { launch, recoverPendingLaunch } from './launch';
import { linkBusyRunners, rerunInterruptedJobs } from './pool-jobs';
import { withRecentLaunches } from './recent-launches';
import { retire } from './retire';
import { JobRecord } from '../core/job';
import { fallBackNow, planLaunch } from '../core/launch-plan';
import { emptyPool, PoolRecord } from '../core/pool';
import { PoolMessage } from '../core/pool-message';
import { reconcile, Retirement, stillQueued } from '../core/reconcile';
import { RunnerConfig } from '../core/runner-config';

export interface PoolReport {
  readonly poolId: string;
  readonly queued: number;
  /** Instances launched cold, or into a warm pool. */
  readonly launched: number;
  /** Stopped warm pool instances started for the pool's jobs. */
  readonly warmStarted?: number;
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

  // Read in the order jobs and runners move (queued, then in progress, then busy runners), so that a
  // job starting meanwhile is seen started by a later read, and dropped from the demand.
  const queuedRead = await deps.jobs.listActiveJobs(poolId, 'queued');
  const inProgress = await deps.jobs.listActiveJobs(poolId, 'in_progress');
  const runners = await linkBusyRunners(deps, message, inProgress, await deps.runners.listPoolRunners(poolId));
  await tagStartedJobs(deps, runners, inProgress);
  const now = deps.clock.now();
  // The runners of recent launches the index does not show yet are read from their items: one of
  // them may already be busy with a job still read as queued, which is then no demand either.
  const supply = await withRecentLaunches(deps, runners, pool, now);
  const queued = stillQueued(queuedRead, inProgress, supply);
  const decision = reconcile({
    limits: { maxRunners: config.maxRunners, bootTimeoutMs: deps.settings.bootTimeoutMs, maxLifetimeMs: deps.settings.maxLifetimeMs },
    queuedJobs: queued.length,
    runners: supply,
    pendingLaunches: 0,
    now,
  });

  const retired = await retire(deps, runners, decision.retire);
  let launched = 0;
  let warmStarted = 0;
  if (decision.launch > 0) {
    const image = await imageFor(deps, config, queued.length, log);
    if (image.ready) {
      // Stopped instances first: a start takes seconds where a cold launch and boot takes minutes.
      if (config.warmPool) {
        const claim = await claimWarm(deps, pool, config, decision.launch, image.imageId);
        pool = claim.pool;
        warmStarted = claim.started;
      }
      const cold = decision.launch - warmStarted;
      if (cold > 0) launched = await launchFor(deps, pool, config, cold, image.imageId);
      await prepareGitHub(deps, message, queued, log);
    }
  }

  if (queued.length + runners.length > 0) await touch(deps, poolId, now);
  deps.logger.info('reconciled pool', {
    ...log,
    queued: queued.length,
    inProgress: inProgress.length,
    runners: runners.length,
    launched,
    warmStarted,
    retired,
    deferred: decision.deferred,
  });
  return { poolId, queued: queued.length, launched, warmStarted, retired, deferred: decision.deferred };
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

/**
 * While the instances just launched or started boot, gets the installation token they will
 * register with into the shared cache: the first of them to register then finds it, instead of
 * every cold register container minting one. Best effort: a failure costs only that saving.
 */
async function prepareGitHub(deps: ProvisionerDeps, message: PoolMessage, queued: readonly JobRecord[], log: Record<string, unknown>): Promise<void> {
  try {
    const installationId = queued.find((j) => j.installationId !== undefined)?.installationId;
    await (await deps.github()).prepare(message.scope, installationId);
  } catch (error) {
    deps.logger.warn('could not get the installation token ahead of registration; the runners get it themselves', { ...log, error: error as Error });
  }
}

/** Records that the pool was active, for the reconciler's sweeps of recently active scopes. */
async function touch(deps: ProvisionerDeps, poolId: string, now: number): Promise<void> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const pool = await deps.pools.getPool(poolId);
    if (!pool || now - pool.lastActiveAt < 60_000) return;
    if (await deps.pools.savePool({ ...pool, lastActiveAt: now }, now)) return;
  }
}
