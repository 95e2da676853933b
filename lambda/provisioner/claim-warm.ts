// A pool with demand takes stopped instances of its config's warm pool before it launches cold ones:
// each is claimed with a conditional write (warm → booting, into this pool and scope), then started.
// An instance EC2 will not start is given up (terminated) and its demand launched cold by the caller
// in the same reconcile, so no job waits on a failed start.
import { ProvisionerDeps } from './deps';
import { ConcurrentReconcileError } from './errors';
import { StartResult } from '../core/compute';
import { PoolRecord, RECENT_LAUNCH_WINDOW_MS } from '../core/pool';
import { buildWarmPoolMessage } from '../core/pool-message';
import { RunnerRecord, scopeOf } from '../core/runner';
import { RunnerConfig } from '../core/runner-config';
import { chooseClaims, warmPoolIdOf } from '../core/warm-pool';

export interface ClaimOutcome {
  /** The pool as saved afterwards. */
  readonly pool: PoolRecord;
  /** Warm instances claimed and started: demand met without a launch. */
  readonly started: number;
}

/**
 * Claims and starts up to `wanted` parked instances for `pool`. The claimed instances are written to
 * the pool item's recent launches first (the index may not list them in this pool for a moment), so
 * a concurrent reconcile of the pool counts them and launches nothing for the same jobs.
 */
export async function claimWarm(
  deps: ProvisionerDeps, pool: PoolRecord, config: RunnerConfig, wanted: number, imageId: string | undefined,
): Promise<ClaimOutcome> {
  const parked = await deps.runners.listPoolRunners(warmPoolIdOf(config.name), 'warm');
  const candidates = chooseClaims(parked, wanted, imageId);
  if (candidates.length === 0) return { pool, started: 0 };

  const now = deps.clock.now();
  const scope = scopeOf({ scope: pool.scope, instanceId: candidates[0].instanceId, poolId: pool.poolId });
  const noted: PoolRecord = {
    ...pool,
    recentLaunches: [
      ...pool.recentLaunches.filter((l) => now - l.launchedAt < RECENT_LAUNCH_WINDOW_MS),
      ...candidates.map((c) => ({ instanceId: c.instanceId, market: c.market, launchedAt: now })),
    ],
  };
  if (!(await deps.pools.savePool(noted, now))) throw new ConcurrentReconcileError(pool.poolId);
  const saved = { ...noted, version: noted.version + 1 };

  const claimed: RunnerRecord[] = [];
  for (const candidate of candidates) {
    // Conditional on `warm`: another pool's claim, or the warm pool retiring it, wins or loses whole.
    const runner = await deps.runners.transitionRunner(
      candidate.instanceId, ['warm'], 'booting', { claim: { poolId: pool.poolId, scope, at: now } }, now,
    );
    if (runner) claimed.push(runner);
  }
  if (claimed.length === 0) return { pool: saved, started: 0 };

  const result = await startQuietly(deps, claimed.map((r) => r.instanceId));
  for (const failure of result.failed) {
    deps.logger.warn('a claimed warm pool instance did not start; giving it up and launching cold', {
      pool: pool.poolId, instance: failure.instanceId, code: failure.code, errorMessage: failure.message,
    });
  }
  await giveUp(deps, result.failed.map((f) => f.instanceId));
  deps.metrics.warmStarted(config.name, result.started.length);
  deps.metrics.warmStartFailed(result.failed.length);
  for (const id of result.started) deps.logger.info('started a warm pool instance for the pool\'s jobs', { pool: pool.poolId, instance: id });
  // The warm pool is one instance short per claim: refill it now rather than at the next sweep.
  await deps.queue.send(buildWarmPoolMessage(config.name, 'warm-claimed', `${pool.poolId}@${now}`)).catch((error: Error) =>
    deps.logger.warn('could not ask for a warm pool refill; the reconciler asks within a minute', { config: config.name, error: error.message }));
  return { pool: saved, started: result.started.length };
}

/**
 * StartInstances; when the call itself fails (no answer, a timeout), whether the instances started
 * is unknown: they are given up like refused ones, which terminating makes true either way.
 */
async function startQuietly(deps: ProvisionerDeps, instanceIds: string[]): Promise<StartResult> {
  try {
    return await deps.compute.start(instanceIds);
  } catch (error) {
    return { started: [], failed: instanceIds.map((instanceId) => ({ instanceId, code: (error as Error).name, message: (error as Error).message })) };
  }
}

/** Claimed instances that will not start: retired and terminated; they hold no registration. */
async function giveUp(deps: ProvisionerDeps, instanceIds: readonly string[]): Promise<void> {
  if (instanceIds.length === 0) return;
  const now = deps.clock.now();
  for (const id of instanceIds) await deps.runners.transitionRunner(id, ['booting'], 'retiring', { retireReason: 'start-failed' }, now);
  await deps.compute.terminate(instanceIds);
  deps.metrics.retired('start-failed', instanceIds.length);
}
