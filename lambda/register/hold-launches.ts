// A refusal only an operator can fix holds the pool's launches (core/launch-hold.ts): the register
// endpoint records it on the pool item, where the provisioner reads it before it launches.
import { Logger } from '../common/logger';
import { HoldReason, holdAfterRefusal, LaunchHold } from '../core/launch-hold';
import { updatePool } from '../core/pool';
import { Clock, PoolStore } from '../core/ports';

/** Conditional writes lost to the provisioner's before giving up; the next refusal tries again. */
const MAX_ATTEMPTS = 3;

/**
 * Records (or lengthens) the hold of `poolId` after a refusal for `reason`. Best effort: a failure
 * is logged, the instance is still told to power off, and the next refused instance records it.
 */
export async function holdLaunches(poolId: string, reason: HoldReason, deps: { pools: PoolStore; clock: Clock; logger: Logger }): Promise<void> {
  const now = deps.clock.now();
  let hold: LaunchHold | undefined;
  try {
    // The provisioner saved the pool before it launched this runner: a missing item is no pool of ours.
    const outcome = await updatePool(deps.pools, poolId, (pool) => {
      hold = pool && holdAfterRefusal(pool.launchHold, reason, now);
      return hold && { ...pool!, launchHold: hold };
    }, now, MAX_ATTEMPTS);
    if (outcome === 'saved') {
      deps.logger.warn('launches of the pool held until the cause is fixed', { poolId, reason, refusals: hold!.refusals, until: new Date(hold!.until).toISOString() });
    } else if (outcome === 'contended') {
      deps.logger.warn('could not record the pool\'s launch hold: its item kept changing; the next refusal records it', { poolId, reason });
    }
  } catch (error) {
    deps.logger.warn('could not record the pool\'s launch hold; the next refusal records it', { poolId, reason, error: error as Error });
  }
}
