import fc from 'fast-check';
import {
  bindReservation, EMPTY_FLEET, FLEET_TIMING, FleetRecord, healFleet, owedSlots, releaseInstances, takeSlots, waitingJobs,
} from '../../../lambda/core/fleet-cap';
import { Pool } from '../../../lambda/core/routing';

const NOW = 1_800_000_000_000;
const pool = (name: string): Pool => ({ poolId: `octo-org#${name}`, configName: name, scope: { kind: 'org', org: 'octo-org' } });
const A = pool('a');
const B = pool('b');
const C = pool('c');
const lease = (instanceId: string, poolId = A.poolId, at = NOW) => ({ poolId, instanceId, at });
const fleetOf = (leases: number, waiting: FleetRecord['waiting'] = []): FleetRecord =>
  ({ version: 3, leases: Array.from({ length: leases }, (_, n) => lease(`i-${n}`)), waiting });

describe('takeSlots', () => {
  test('with room, a pool takes a slot for each of its jobs, as reservations', () => {
    const grant = takeSlots(EMPTY_FLEET, 5, { pool: A, arrivals: [NOW - 3, NOW - 2], reservation: 'r1', now: NOW });

    expect(grant.granted).toBe(2);
    expect(grant.waiting).toBe(0);
    expect(grant.fleet.leases).toEqual([{ poolId: A.poolId, reservation: 'r1', at: NOW }, { poolId: A.poolId, reservation: 'r1', at: NOW }]);
    expect(grant.fleet.waiting).toEqual([]);
  });

  test('at the cap, nothing is granted and the jobs are recorded waiting, by their arrival', () => {
    const grant = takeSlots(fleetOf(5), 5, { pool: A, arrivals: [NOW - 9, NOW - 8], reservation: 'r1', now: NOW });

    expect(grant.granted).toBe(0);
    expect(grant.waiting).toBe(2);
    expect(grant.fleet.leases).toHaveLength(5);
    expect(grant.fleet.waiting).toEqual([{ ...A, arrivals: [NOW - 9, NOW - 8], at: NOW }]);
  });

  test('a free slot goes to the older waiting job of another pool: it stays free, and that pool is woken', () => {
    const fleet = fleetOf(4, [{ ...B, arrivals: [NOW - 60_000], at: NOW - 1000 }]);

    const grant = takeSlots(fleet, 5, { pool: A, arrivals: [NOW - 1000], reservation: 'r1', now: NOW });

    expect(grant.granted).toBe(0);
    expect(grant.wake).toEqual([B]);
    expect(grant.fleet.leases).toHaveLength(4);
    expect(grant.fleet.waiting.map((w) => w.poolId).sort()).toEqual([A.poolId, B.poolId].sort());
  });

  test('slots are shared out by arrival across pools: the older jobs of each pool first', () => {
    const fleet = fleetOf(2, [{ ...B, arrivals: [NOW - 50, NOW - 10], at: NOW }, { ...C, arrivals: [NOW - 30], at: NOW }]);

    // 3 free slots; arrivals in order: B-50, A-40, C-30, A-20, B-10.
    const grant = takeSlots(fleet, 5, { pool: A, arrivals: [NOW - 40, NOW - 20], reservation: 'r1', now: NOW });

    expect(grant.granted).toBe(1);
    expect(grant.wake.map((p) => p.poolId).sort()).toEqual([B.poolId, C.poolId].sort());
    expect(grant.fleet.waiting.find((w) => w.poolId === A.poolId)?.arrivals).toEqual([NOW - 20]);
  });

  test('ties in arrival go to the lower pool id', () => {
    const fleet = fleetOf(4, [{ ...A, arrivals: [NOW - 5], at: NOW }]);
    expect(takeSlots(fleet, 5, { pool: B, arrivals: [NOW - 5], reservation: 'r', now: NOW }).granted).toBe(0);
    const fleetB = fleetOf(4, [{ ...B, arrivals: [NOW - 5], at: NOW }]);
    expect(takeSlots(fleetB, 5, { pool: A, arrivals: [NOW - 5], reservation: 'r', now: NOW }).granted).toBe(1);
  });

  test('waiting demand not refreshed for longer than its staleness holds nobody back, and is dropped', () => {
    const fleet = fleetOf(4, [{ ...B, arrivals: [NOW - 600_000], at: NOW - FLEET_TIMING.waitingStaleMs - 1 }]);

    const grant = takeSlots(fleet, 5, { pool: A, arrivals: [NOW - 1000], reservation: 'r1', now: NOW });

    expect(grant.granted).toBe(1);
    expect(grant.fleet.waiting).toEqual([]);
  });

  test('a pool asking for nothing withdraws its waiting demand', () => {
    const fleet = fleetOf(5, [{ ...A, arrivals: [NOW - 9], at: NOW }, { ...B, arrivals: [NOW - 8], at: NOW }]);

    const grant = takeSlots(fleet, 5, { pool: A, arrivals: [], reservation: 'r1', now: NOW });

    expect(grant.granted).toBe(0);
    expect(grant.fleet.waiting.map((w) => w.poolId)).toEqual([B.poolId]);
  });

  test('a warm pool refill (background) takes only slots no waiting job is owed, and records no demand', () => {
    const warm = { poolId: '@warm#a', configName: 'a' };
    const fleet = fleetOf(2, [{ ...B, arrivals: [NOW - 8, NOW - 7], at: NOW }]);

    const grant = takeSlots(fleet, 5, { pool: warm, arrivals: [Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER], reservation: 'w', now: NOW });

    expect(grant.granted).toBe(1);
    expect(grant.fleet.waiting.map((w) => w.poolId)).toEqual([B.poolId]);
    expect(takeSlots(fleetOf(3, fleet.waiting), 5, { pool: warm, arrivals: [1], reservation: 'w', now: NOW }).granted).toBe(0);
  });

  test('over the cap (a heal found more instances than slots), nothing is granted', () => {
    expect(takeSlots(fleetOf(7), 5, { pool: A, arrivals: [NOW], reservation: 'r', now: NOW }).granted).toBe(0);
  });
});

describe('bindReservation and releaseInstances', () => {
  test('a launch binds its reservation to the instances it got; unused reserved slots are free again', () => {
    const reserved = takeSlots(EMPTY_FLEET, 5, { pool: A, arrivals: [1, 2, 3], reservation: 'r1', now: NOW }).fleet;

    const bound = bindReservation(reserved, 'r1', A.poolId, ['i-1', 'i-2'], NOW + 1);

    expect(bound.leases).toEqual([lease('i-1', A.poolId, NOW + 1), lease('i-2', A.poolId, NOW + 1)]);
  });

  test('binding an instance the heal already leased does not count it twice', () => {
    const fleet: FleetRecord = { version: 1, leases: [lease('i-1'), { poolId: A.poolId, reservation: 'r1', at: NOW }], waiting: [] };
    expect(bindReservation(fleet, 'r1', A.poolId, ['i-1'], NOW).leases).toEqual([lease('i-1')]);
  });

  test('an ended instance frees its slot, owed to the oldest waiting job across pools; a repeated end changes nothing', () => {
    const fleet = fleetOf(5, [{ ...A, arrivals: [NOW - 5], at: NOW }, { ...B, arrivals: [NOW - 9], at: NOW }]);

    const released = releaseInstances(fleet, ['i-2']);

    expect(released.leases).toHaveLength(4);
    expect(owedSlots(released, 5, NOW)).toEqual({ free: 1, owed: [B] });
    expect(releaseInstances(released, ['i-2'])).toEqual(released);
  });
});

describe('healFleet', () => {
  test('leases instances EC2 lists without one, drops ended ones past the grace and crashed reservations', () => {
    const old = NOW - FLEET_TIMING.reservationGraceMs - 1;
    const fleet: FleetRecord = {
      version: 4,
      leases: [
        lease('i-live'),
        lease('i-ended', A.poolId, NOW - FLEET_TIMING.leaseGraceMs - 1),
        lease('i-young'),
        { poolId: A.poolId, reservation: 'crashed', at: old },
        { poolId: A.poolId, reservation: 'in-flight', at: NOW - 1000 },
      ],
      waiting: [{ ...B, arrivals: [1], at: NOW - FLEET_TIMING.waitingStaleMs - 1 }],
    };

    const healed = healFleet(fleet, [{ instanceId: 'i-live' }, { instanceId: 'i-unleased', poolId: B.poolId }], NOW);

    expect(healed.version).toBe(4);
    expect(healed.leases).toEqual([
      lease('i-live'),
      lease('i-young'),
      { poolId: A.poolId, reservation: 'in-flight', at: NOW - 1000 },
      lease('i-unleased', B.poolId),
    ]);
    expect(healed.waiting).toEqual([]);
  });

  test('counts the jobs waiting across pools', () => {
    expect(waitingJobs(fleetOf(0, [{ ...A, arrivals: [1, 2], at: NOW }, { ...B, arrivals: [3], at: NOW }]), NOW)).toBe(3);
  });
});

describe('concurrent pools never hold more slots than the cap', () => {
  // Each step: a pool reads the record, another may save in between (the lock then refuses the first
  // save, which reads again), instances end. The leases never exceed the cap, whatever the order.
  test('any interleaving of grants, binds and releases', () => {
    const step = fc.oneof(
      fc.record({ kind: fc.constant('take' as const), pool: fc.integer({ min: 0, max: 3 }), jobs: fc.integer({ min: 0, max: 6 }), stale: fc.boolean() }),
      fc.record({ kind: fc.constant('bind' as const), used: fc.integer({ min: 0, max: 3 }) }),
      fc.record({ kind: fc.constant('end' as const), index: fc.nat() }),
    );
    fc.assert(fc.property(fc.integer({ min: 1, max: 8 }), fc.array(step, { maxLength: 40 }), (cap, steps) => {
      const pools = [A, B, C, pool('d')];
      let stored: FleetRecord = EMPTY_FLEET;
      let next = 0;
      const reservations: string[] = [];
      const save = (fleet: FleetRecord) => {
        if (fleet.version !== stored.version) return false;
        stored = { ...fleet, version: fleet.version + 1 };
        return true;
      };
      for (const s of steps) {
        if (s.kind === 'take') {
          const stale = stored;
          // Another pool saved in between: this save must fail and be retried on fresh state.
          const first = takeSlots(stale, cap, { pool: pools[s.pool], arrivals: Array(s.jobs).fill(NOW + next), reservation: `r${next}`, now: NOW });
          if (s.stale) save(takeSlots(stored, cap, { pool: pools[(s.pool + 1) % 4], arrivals: [NOW], reservation: `x${next}`, now: NOW }).fleet);
          if (!save(first.fleet)) save(takeSlots(stored, cap, { pool: pools[s.pool], arrivals: Array(s.jobs).fill(NOW + next), reservation: `r${next}`, now: NOW }).fleet);
          reservations.push(`r${next}`, `x${next}`);
        } else if (s.kind === 'bind' && reservations.length > 0) {
          const r = reservations.shift()!;
          const held = stored.leases.filter((l) => l.reservation === r).length;
          const ids = Array.from({ length: Math.min(held, s.used) }, () => `i-${next++}`);
          save(bindReservation(stored, r, A.poolId, ids, NOW));
        } else if (s.kind === 'end') {
          const instances = stored.leases.filter((l) => l.instanceId);
          if (instances.length > 0) save(releaseInstances(stored, [instances[s.index % instances.length].instanceId!]));
        }
        next++;
        if (stored.leases.length > cap) return false;
      }
      return true;
    }));
  });
});
