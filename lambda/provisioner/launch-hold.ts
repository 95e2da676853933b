// A pool's launch hold as the provisioner applies it (core/launch-hold.ts has the rules): the
// launches it allows now, and the hold dropped from the pool item once it is lifted.
import { ProvisionerDeps } from './deps';
import { ConcurrentReconcileError } from './errors';
import { launchesUnderHold } from '../core/launch-hold';
import { PoolRecord } from '../core/pool';
import { RunnerView } from '../core/runner';

/**
 * The launches the pool may make of the `wanted` its demand asks for, under its launch hold; the pool
 * as saved without the hold once a runner registered again (a warm pool: an instance parked) or its
 * demand is gone. `demand`: the pool's queued jobs, or the instances a warm pool lacks.
 */
export async function underHold(
  deps: ProvisionerDeps, pool: PoolRecord, supply: readonly RunnerView[], demand: number, wanted: number, now: number, log: Record<string, unknown>,
): Promise<{ pool: PoolRecord; allowed: number }> {
  const hold = pool.launchHold;
  const decision = launchesUnderHold(hold, supply, demand, wanted, now);
  if (!hold) return { pool, allowed: decision.allowed };
  if (decision.lifted) {
    const { launchHold: _lifted, ...rest } = pool;
    if (!(await deps.pools.savePool(rest, now))) throw new ConcurrentReconcileError(pool.poolId);
    deps.logger.info(demand === 0 ? 'the pool wants no launch any more: its launch hold is dropped' : 'a runner came up again: the pool\'s launch hold is lifted', {
      ...log, reason: hold.reason, refusals: hold.refusals,
    });
    return { pool: { ...rest, version: rest.version + 1 }, allowed: decision.allowed };
  }
  if (decision.allowed < wanted) {
    deps.metrics.launchesHeld(hold.reason, wanted - decision.allowed);
    deps.logger.warn('launches held: the pool\'s runners were turned away for a reason only an operator fixes (see the register function\'s log)', {
      ...log, reason: hold.reason, wanted, allowed: decision.allowed, refusals: hold.refusals, until: new Date(hold.until).toISOString(),
    });
  }
  return { pool, allowed: decision.allowed };
}
