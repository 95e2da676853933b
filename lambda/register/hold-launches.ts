// A refusal only an operator can fix holds the pool's launches (core/launch-hold.ts): the register
// endpoint records it on the pool item, where the provisioner reads it before it launches.
import { Logger } from '../common/logger';
import { HoldReason, holdAfterRefusal } from '../core/launch-hold';
import { Clock, PoolStore } from '../core/ports';

/** Conditional writes lost to the provisioner's before giving up; the next refusal tries again. */
const MAX_ATTEMPTS = 3;

/**
 * Records (or lengthens) the hold of `poolId` after a refusal for `reason`. Best effort: a failure
 * is logged, the instance is still told to power off, and the next refused instance records it.
 */
export async function holdLaunches(poolId: string, reason: HoldReason, deps: { pools: PoolStore; clock: Clock; logger: Logger }): Promise<void> {
  try {
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const pool = await deps.pools.getPool(poolId);
      // The provisioner saved the pool before it launched this runner: a missing item is no pool of ours.
      if (!pool) return;
      const now = deps.clock.now();
      const hold = holdAfterRefusal(pool.launchHold, reason, now);
      if (!hold) return;
      if (await deps.pools.savePool({ ...pool, launchHold: hold }, now)) {
        deps.logger.warn('launches of the pool held until the cause is fixed', { poolId, reason, refusals: hold.refusals, until: new Date(hold.until).toISOString() });
        return;
      }
    }
    deps.logger.warn('could not record the pool\'s launch hold: its item kept changing; the next refusal records it', { poolId, reason });
  } catch (error) {
    deps.logger.warn('could not record the pool\'s launch hold; the next refusal records it', { poolId, reason, error: error as Error });
  }
}
