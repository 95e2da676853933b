// The deployment-wide cap on live instances (`maxInstances`), as pure decisions over one record: a
// lease per live instance (or per instance of a launch under way), and the demand of the pools that
// wait for a lease, by the arrival of their jobs. The record is one item, saved with an optimistic
// lock, so concurrent reconciles of different pools can never together hold more leases than the cap.
// Level-triggered: the reconciler heals it from EC2's list of instances, so a lost event or a crash
// between a reservation and its launch costs a slot for minutes at most, never for good.
import { Pool, RunnerScope } from './routing';

/** A slot held: by an instance, or by one instance of a launch under way (its reservation). */
export interface FleetLease {
  readonly poolId: string;
  /** Set once the instance exists. */
  readonly instanceId?: string;
  /** The reservation a launch took before calling EC2; replaced by instance ids once it returns. */
  readonly reservation?: string;
  /** Epoch ms the lease was taken (or the reservation bound). */
  readonly at: number;
}

/** A pool's jobs that wait for a lease. */
export interface WaitingDemand extends Pool {
  /** When each waiting job was queued (epoch ms), oldest first. */
  readonly arrivals: readonly number[];
  /** Epoch ms the pool last recorded it: a pool that stops refreshing it (its jobs gone) stops holding others back. */
  readonly at: number;
}

export interface FleetRecord {
  /** Optimistic lock: every save expects the version read. 0 for a record never saved. */
  readonly version: number;
  readonly leases: readonly FleetLease[];
  readonly waiting: readonly WaitingDemand[];
}

export const EMPTY_FLEET: FleetRecord = { version: 0, leases: [], waiting: [] };

export const FLEET_TIMING = {
  /**
   * Waiting demand not refreshed for this long is ignored: its pool is reconciled at least every
   * sweep (a minute) while it has queued jobs, so only a pool whose jobs went stays this stale.
   */
  waitingStaleMs: 3 * 60_000,
  /**
   * A reservation not bound to instances for this long is left to EC2's truth: longer than a
   * provisioner run may take (its function's timeout), so only a crash's reservation gets this old.
   */
  reservationGraceMs: 5 * 60_000,
  /** An instance's lease is kept this long even while EC2's (eventually consistent) list does not show it. */
  leaseGraceMs: 2 * 60_000,
} as const;

/** What a pool asks for. */
export interface SlotRequest {
  /** A scoped pool, or a warm pool (no scope), which asks in the background only. */
  readonly pool: { readonly poolId: string; readonly configName: string; readonly scope?: RunnerScope };
  /** When each job the pool would launch for was queued (epoch ms), oldest first. */
  readonly arrivals: readonly number[];
  /** Names the leases taken, so that the launch can bind them to its instances. */
  readonly reservation: string;
  /**
   * Demand of no job (a warm pool refill): it takes only slots no waiting job is owed, and records
   * no waiting demand of its own.
   */
  readonly background?: boolean;
  readonly now: number;
}

export interface SlotGrant {
  /** The record to save (version unchanged: the store expects it). */
  readonly fleet: FleetRecord;
  /** Slots taken: the launch may start this many instances. */
  readonly granted: number;
  /** Of the request, the jobs that wait for a slot. */
  readonly waiting: number;
  /** Other pools owed free slots (their jobs are older): to be woken, not left to the periodic sweep. */
  readonly wake: readonly Pool[];
}

/** Free slots, and the pools owed them: the oldest waiting jobs, across pools, get the first. */
export function owedSlots(fleet: FleetRecord, maxInstances: number, now: number): { free: number; owed: Pool[] } {
  const free = Math.max(0, maxInstances - fleet.leases.length);
  const queue = fresh(fleet.waiting, now).flatMap((w) => w.arrivals.map((at) => ({ at, pool: w })));
  queue.sort(byArrival);
  return { free, owed: distinctPools(queue.slice(0, free).map((q) => q.pool)) };
}

/**
 * Grants a pool the free slots its jobs are owed. A job of another pool that was queued earlier and
 * waits is owed a slot first: that slot is left free and its pool is woken. Ties in arrival go to
 * the lower pool id, so every reader of the record agrees.
 */
export function takeSlots(fleet: FleetRecord, maxInstances: number, request: SlotRequest): SlotGrant {
  const { pool, now } = request;
  const background = request.background === true || pool.scope === undefined;
  const others = fresh(fleet.waiting, now).filter((w) => w.poolId !== pool.poolId);
  const free = Math.max(0, maxInstances - fleet.leases.length);
  const queue = others.flatMap((w) => w.arrivals.map((at) => ({ at, pool: w as Pool })));
  if (!background) queue.push(...request.arrivals.map((at) => ({ at, pool: pool as Pool })));
  queue.sort(byArrival);
  const head = queue.slice(0, free);
  const granted = background
    ? Math.min(request.arrivals.length, Math.max(0, free - queue.length))
    : head.filter((q) => q.pool.poolId === pool.poolId).length;
  const wake = distinctPools(head.map((q) => q.pool).filter((p) => p.poolId !== pool.poolId));

  const remaining = background ? [] : request.arrivals.slice(granted);
  const waiting: WaitingDemand[] = remaining.length > 0
    ? [...others, { poolId: pool.poolId, configName: pool.configName, scope: pool.scope!, arrivals: remaining, at: now }]
    : others;
  const leases = [...fleet.leases, ...Array.from({ length: granted }, () => ({ poolId: pool.poolId, reservation: request.reservation, at: now }))];
  return { fleet: { version: fleet.version, leases, waiting: waiting.map(stripWaiting) }, granted, waiting: remaining.length, wake };
}

/**
 * A launch returned: its reservation's leases become its instances' leases. Slots it reserved and
 * did not use (a launch EC2 fulfilled in part) are free again.
 */
export function bindReservation(fleet: FleetRecord, reservation: string, poolId: string, instanceIds: readonly string[], now: number): FleetRecord {
  const held = new Set(fleet.leases.flatMap((l) => (l.instanceId ? [l.instanceId] : [])));
  const leases = [
    ...fleet.leases.filter((l) => l.reservation !== reservation),
    ...instanceIds.filter((id) => !held.has(id)).map((instanceId) => ({ poolId, instanceId, at: now })),
  ];
  return { ...fleet, leases };
}

/** Instances ended (shutting down or terminated): their slots are free. */
export function releaseInstances(fleet: FleetRecord, instanceIds: readonly string[]): FleetRecord {
  const ended = new Set(instanceIds);
  return { ...fleet, leases: fleet.leases.filter((l) => l.instanceId === undefined || !ended.has(l.instanceId)) };
}

/** An instance of the deployment EC2 lists as not terminated. */
export interface LiveInstance {
  readonly instanceId: string;
  readonly poolId?: string;
}

/**
 * The record made true to EC2: a lease for every live instance (an instance with none — its launch
 * crashed before binding — gets one, even past the cap, so nothing more launches until it ends);
 * leases of instances EC2 no longer lists are dropped once past the grace of its eventual
 * consistency; reservations past any launch's duration are dropped; stale waiting demand too.
 */
export function healFleet(fleet: FleetRecord, live: readonly LiveInstance[], now: number): FleetRecord {
  const liveIds = new Set(live.map((i) => i.instanceId));
  const leases = fleet.leases.filter((l) => (l.instanceId === undefined
    ? now - l.at < FLEET_TIMING.reservationGraceMs
    : liveIds.has(l.instanceId) || now - l.at < FLEET_TIMING.leaseGraceMs));
  const held = new Set(leases.flatMap((l) => (l.instanceId ? [l.instanceId] : [])));
  const unleased = live.filter((i) => !held.has(i.instanceId)).map((i) => ({ poolId: i.poolId ?? '', instanceId: i.instanceId, at: now }));
  return { version: fleet.version, leases: [...leases, ...unleased], waiting: fresh(fleet.waiting, now) };
}

/** Whether two records hold the same leases and waiting demand (a heal that changes nothing is not saved). */
export function sameFleet(a: FleetRecord, b: FleetRecord): boolean {
  return JSON.stringify([a.leases, a.waiting]) === JSON.stringify([b.leases, b.waiting]);
}

/** Jobs waiting on the cap, across pools (fresh demand only). */
export function waitingJobs(fleet: FleetRecord, now: number): number {
  return fresh(fleet.waiting, now).reduce((n, w) => n + w.arrivals.length, 0);
}

function fresh(waiting: readonly WaitingDemand[], now: number): WaitingDemand[] {
  return waiting.filter((w) => now - w.at <= FLEET_TIMING.waitingStaleMs && w.arrivals.length > 0);
}

function byArrival(a: { at: number; pool: Pool }, b: { at: number; pool: Pool }): number {
  return a.at - b.at || (a.pool.poolId < b.pool.poolId ? -1 : a.pool.poolId > b.pool.poolId ? 1 : 0);
}

function distinctPools(pools: readonly Pool[]): Pool[] {
  const seen = new Map<string, Pool>();
  for (const p of pools) if (!seen.has(p.poolId)) seen.set(p.poolId, { poolId: p.poolId, configName: p.configName, scope: p.scope });
  return [...seen.values()];
}

function stripWaiting(w: WaitingDemand): WaitingDemand {
  return { poolId: w.poolId, configName: w.configName, scope: w.scope, arrivals: w.arrivals, at: w.at };
}

/** The fleet record, saved with an optimistic lock on its version. */
export interface FleetStore {
  /** The record, read strongly consistent; {@link EMPTY_FLEET} if never saved. */
  getFleet(): Promise<FleetRecord>;
  /** Saves `fleet` as version `fleet.version + 1` if the stored version is still `fleet.version`; `false` when it is not. */
  saveFleet(fleet: FleetRecord, at: number): Promise<boolean>;
}

/** The cap and where its record lives: absent when the deployment sets no `maxInstances`. */
export interface FleetCap {
  readonly maxInstances: number;
  readonly store: FleetStore;
}
