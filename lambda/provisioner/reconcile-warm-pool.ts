// Keeps one config's warm pool at its target: launches the deficit (on-demand, from the warm launch
// template), retires instances that did not park in time, were built from an older image, or are
// surplus (schedule off, size lowered, warm pool or config removed). Asked by the reconciler every
// sweep and by a pool that just claimed warm instances. No GitHub call: warm instances register nowhere.
import { ProvisionerDeps } from './deps';
import { bindFleetSlots, takeFleetSlots } from './fleet-slots';
import { launch, recoverPendingLaunch } from './launch';
import { underHold } from './launch-hold';
import { withRecentLaunches } from './recent-launches';
import type { PoolReport } from './reconcile-pool';
import { retire } from './retire';
import { emptyPool, PoolRecord, updatePool } from '../core/pool';
import { WarmPoolMessage } from '../core/pool-message';
import { Retirement } from '../core/reconcile';
import { RunnerRecord, RunnerState } from '../core/runner';
import { configOfWarmPoolId, planWarmPool, warmPoolTarget } from '../core/warm-pool';

/** States of a scoped pool's runners that hold an instance: with the warm pool's, bounded by maxRunners. */
const HOLDING_INSTANCE: readonly RunnerState[] = ['booting', 'registered', 'busy', 'retiring'];

export async function reconcileWarmPool(deps: ProvisionerDeps, message: WarmPoolMessage): Promise<PoolReport> {
  const { poolId, configName } = message;
  const log = { pool: poolId, reason: message.reason, correlation: message.deliveryId };
  const config = (await deps.configs.loadConfigs()).find((c) => c.name === configName);
  const runners = await deps.runners.listPoolRunners(poolId);
  const report = { poolId, queued: 0, launched: 0, retired: 0, deferred: 0 };

  if (!config?.warmPool) {
    // The warm pool (or its config) was removed: nothing may stay parked.
    const retirements = runners.filter((r) => r.state === 'warming' || r.state === 'warm')
      .map((r): Retirement => ({ instanceId: r.instanceId, reason: 'surplus', action: 'terminate' }));
    const retired = await retire(deps, runners, retirements);
    if (retired > 0) deps.logger.info('warm pool no longer configured; emptied it', { ...log, retired });
    // A launch it had under way, or a hold, is moot: without them the item leaves the pool index, so
    // the reconciler stops handing the pool over. The instances of that launch, unrecorded, are the
    // orphan sweep's once older than the boot timeout.
    await updatePool(deps.pools, poolId, (pool) => (pool && (pool.pendingLaunch || pool.launchHold)
      ? { ...pool, pendingLaunch: undefined, launchHold: undefined }
      : undefined), deps.clock.now(), 3);
    return { ...report, retired };
  }

  let pool: PoolRecord = (await deps.pools.getPool(poolId)) ?? emptyPool(poolId, configName, undefined);
  if (pool.pendingLaunch) pool = await recoverPendingLaunch(deps, pool, config);

  // Warm instances boot the config's current image; without one (the first image is still being
  // built, or its parameter was deleted) nothing launches, and nothing is judged stale.
  const imageId = config.image ? await deps.images.imageIdFor(config.image) : undefined;
  const imageReady = !config.image || imageId !== undefined;
  const now = deps.clock.now();
  const supply = await withRecentLaunches(deps, runners, pool, now, 'warming');
  const decision = planWarmPool({
    target: warmPoolTarget(config.warmPool, now),
    runners: supply,
    scopedRunners: await scopedRunnersOf(deps, configName),
    maxRunners: config.maxRunners,
    bootTimeoutMs: deps.settings.bootTimeoutMs,
    currentImageId: imageId,
    now,
  });
  const retired = await retire(deps, runners, decision.retire.map((r) => ({ ...r, action: 'terminate' as const })));
  // Held after an instance found no runner on its image (register endpoint): one probe at a time.
  const held = await underHold(deps, pool, supply, decision.launch, decision.launch, now, log);
  pool = held.pool;
  let launched = 0;
  if (held.allowed > 0 && !imageReady) {
    deps.logger.warn('runner image not ready: the warm pool is not filled until its parameter holds an AMI id', { ...log, imageParameter: config.image?.parameterName });
  } else if (held.allowed > 0) {
    // Under maxInstances a refill takes only slots no waiting job is owed: jobs come first.
    const refill = Array<number>(held.allowed).fill(Number.MAX_SAFE_INTEGER);
    const slots = deps.fleet && await takeFleetSlots(deps, deps.fleet, { poolId, configName }, refill, true);
    const count = slots ? slots.granted : held.allowed;
    if (count > 0) {
      const outcome = await launch(deps, pool, config, 'on-demand', count, imageId);
      launched = outcome.instances.length;
      if (slots) await bindFleetSlots(deps, deps.fleet!, { poolId, configName }, slots.reservation, outcome.instances.map((i) => i.instanceId));
      for (const error of outcome.errors) deps.logger.warn('warm pool launch error; the next sweep tries again', { ...log, code: error.code, kind: error.kind });
    }
  }
  deps.logger.info('reconciled warm pool', {
    ...log,
    target: warmPoolTarget(config.warmPool, now),
    runners: runners.length,
    launched,
    retired,
    retireReasons: decision.retire.map((r) => r.reason),
  });
  return { ...report, launched, retired };
}

/**
 * The config's instances in its scoped pools. The pool index is scanned for the config's pools (it
 * holds only what is active, so the scan costs in proportion to what runs) and each is listed.
 */
async function scopedRunnersOf(deps: ProvisionerDeps, configName: string): Promise<number> {
  const pools = (await deps.runners.listActivePools()).filter((id) => id.endsWith(`#${configName}`) && configOfWarmPoolId(id) === undefined);
  let count = 0;
  for (const id of pools) {
    const runners: RunnerRecord[] = await deps.runners.listPoolRunners(id);
    count += runners.filter((r) => HOLDING_INSTANCE.includes(r.state)).length;
  }
  return count;
}
