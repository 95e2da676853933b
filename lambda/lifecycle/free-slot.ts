// An instance ends (shutting down or terminated): under the deployment's maxInstances its slot is
// free, and the pool whose waiting job was queued first is owed it — woken now, not at the next
// sweep. Idempotent: a repeated event finds no lease and wakes nobody; a lost one is healed by the
// reconciler from EC2's list of instances.
import type { LifecycleDeps } from './deps';
import { LifecycleConflictError } from './errors';
import { owedSlots, releaseInstances } from '../core/fleet-cap';
import { buildPoolMessageFor } from '../core/pool-message';

const SAVE_ATTEMPTS = 8;

/** The states after which an instance never runs again: EC2 stops billing it at `shutting-down`. */
export const SLOT_FREEING_STATES: readonly string[] = ['shutting-down', 'terminated'];

export async function freeFleetSlot(instanceId: string, eventId: string, deps: LifecycleDeps): Promise<void> {
  const cap = deps.fleet;
  if (!cap) return;
  for (let attempt = 0; attempt < SAVE_ATTEMPTS; attempt++) {
    const fleet = await cap.store.getFleet();
    if (!fleet.leases.some((l) => l.instanceId === instanceId)) return;
    const now = deps.clock.now();
    const released = releaseInstances(fleet, [instanceId]);
    if (!(await cap.store.saveFleet(released, now))) continue;
    const { owed } = owedSlots(released, cap.maxInstances, now);
    for (const pool of owed) await deps.queue.send(buildPoolMessageFor(pool, 'fleet-slot', `${eventId}#${instanceId}`));
    deps.logger.info('instance ended: its slot under maxInstances is free', { leases: released.leases.length, woken: owed.map((p) => p.poolId) });
    return;
  }
  throw new LifecycleConflictError('fleet cap item', SAVE_ATTEMPTS);
}
