// The provisioner's side of the deployment-wide cap (core/fleet-cap.ts): before a launch it takes
// slots from the fleet record, in the arrival order of the jobs that wait across pools, and wakes the
// pools owed slots it leaves free; after the launch it binds the slots to the instances EC2 started
// and frees the ones it did not use.
import { randomBytes } from 'crypto';
import { ProvisionerDeps } from './deps';
import { ConcurrentReconcileError } from './errors';
import { bindReservation, FleetCap, FleetRecord, owedSlots, SlotGrant, sameFleet, takeSlots } from '../core/fleet-cap';
import { buildPoolMessageFor } from '../core/pool-message';
import { Pool, RunnerScope } from '../core/routing';

/** A scoped pool, or a warm pool (no scope). */
type SlotHolder = { readonly poolId: string; readonly configName: string; readonly scope?: RunnerScope };

/** Saves of the record tried before giving up (the message is retried): pools contend for one item. */
const SAVE_ATTEMPTS = 8;

/**
 * After a lost race, a short random pause before reading again, so that pools that lost together do
 * not collide again (at most 25 ms × attempts: well within the provisioner's time).
 */
const backOff = (attempt: number) => new Promise((resolve) => setTimeout(resolve, Math.random() * 25 * (attempt + 1)));

export interface TakenSlots {
  readonly granted: number;
  /** Of the jobs asking, those that wait for a slot. */
  readonly waiting: number;
  readonly reservation: string;
}

/**
 * Takes the slots `arrivals` (the queue times of the jobs the pool would launch for, oldest first)
 * are owed; with no arrivals, withdraws the pool's waiting demand. `background`: a warm pool refill,
 * which takes only what no waiting job is owed.
 */
export async function takeFleetSlots(
  deps: ProvisionerDeps, cap: FleetCap, pool: SlotHolder, arrivals: readonly number[], background = false,
): Promise<TakenSlots> {
  const reservation = `${pool.poolId}#${randomBytes(8).toString('hex')}`;
  for (let attempt = 0; attempt < SAVE_ATTEMPTS; attempt++) {
    const fleet = await cap.store.getFleet();
    const now = deps.clock.now();
    const grant: SlotGrant = takeSlots(fleet, cap.maxInstances, { pool, arrivals, reservation, background, now });
    if ((grant.granted > 0 || !sameFleet(fleet, grant.fleet)) && !(await cap.store.saveFleet(grant.fleet, now))) {
      await backOff(attempt);
      continue;
    }
    await wake(deps, grant.wake, pool.poolId);
    if (grant.waiting > 0) {
      deps.logger.info('jobs wait for a slot under maxInstances', {
        pool: pool.poolId, granted: grant.granted, waiting: grant.waiting, leases: grant.fleet.leases.length, maxInstances: cap.maxInstances,
      });
    }
    return { granted: grant.granted, waiting: grant.waiting, reservation };
  }
  throw new ConcurrentReconcileError(pool.poolId);
}

/**
 * The launch returned these instances: the reservation's slots become theirs, the rest are free and
 * go to the pools owed them. Best effort past a few lost races: the reconciler's heal binds by EC2's list.
 */
export async function bindFleetSlots(
  deps: ProvisionerDeps, cap: FleetCap, pool: SlotHolder, reservation: string, instanceIds: readonly string[],
): Promise<void> {
  for (let attempt = 0; attempt < SAVE_ATTEMPTS; attempt++) {
    const fleet = await cap.store.getFleet();
    const now = deps.clock.now();
    const bound: FleetRecord = bindReservation(fleet, reservation, pool.poolId, instanceIds, now);
    if (!sameFleet(fleet, bound) && !(await cap.store.saveFleet(bound, now))) {
      await backOff(attempt);
      continue;
    }
    const freed = fleet.leases.length > bound.leases.length;
    if (freed) await wake(deps, owedSlots(bound, cap.maxInstances, now).owed, pool.poolId);
    return;
  }
  deps.logger.warn('could not bind launched instances to their slots; the reconciler\'s sweep does', { pool: pool.poolId, reservation });
}

/** Hands the pools owed a slot to the provisioner now, rather than at the reconciler's next sweep. */
async function wake(deps: ProvisionerDeps, pools: readonly Pool[], by: string): Promise<void> {
  for (const owed of pools) {
    if (owed.poolId === by) continue;
    // A correlation of its own: SQS drops a message whose pool, reason and correlation it saw in the last five minutes.
    await deps.queue.send(buildPoolMessageFor(owed, 'fleet-slot', `${by}#${randomBytes(6).toString('hex')}`));
  }
}
