// The provisioner under the deployment's maxInstances, on dynalite and the EC2 simulator, signed as
// the provisioner's role: pools reconciled at once never launch past the cap, and a freed slot goes
// to the pool whose waiting job was queued first.
import { Harness, HarnessOptions, provisionerRole, runnerConfig, startHarness } from './harness';
import { releaseInstances } from '../../../lambda/core/fleet-cap';
import { isWarmPoolMessage, PoolMessage } from '../../../lambda/core/pool-message';
import { Pool } from '../../../lambda/core/routing';
import { ConcurrentReconcileError } from '../../../lambda/provisioner/errors';
import { reconcilePool } from '../../../lambda/provisioner/reconcile-pool';
import { DynamoFleetStore } from '../../../lambda/state/dynamo-fleet-store';
import { DynamoTestEngine, startDynalite } from '../support/dynalite';

let engine: DynamoTestEngine;
let h: Harness;

beforeAll(async () => { engine = await startDynalite({ asRole: provisionerRole() }); });
afterAll(async () => { await engine.stop(); });
afterEach(async () => { await h?.stop(); });

const NAMES = ['a', 'b', 'c', 'd'];
const pools: Pool[] = NAMES.map((name) => ({ poolId: `octo-org#${name}`, configName: name, scope: { kind: 'org', org: 'octo-org' } }));
const configs = NAMES.map((name) => runnerConfig({ name, labels: ['linux', name], runnerLabels: ['self-hosted', 'linux', name], maxRunners: 10 }));

async function start(options: HarnessOptions = {}): Promise<Harness> {
  h = await startHarness(engine, { configs, ...options });
  return h;
}

const liveInstances = () => h.sim.instances().filter((i) => !['shutting-down', 'terminated'].includes(i.state));
const fleet = () => new DynamoFleetStore(engine.client, h.tableName);
const wokenPools = () => h.queue.messages.filter((m): m is PoolMessage => !isWarmPoolMessage(m) && m.reason === 'fleet-slot').map((m) => m.poolId);

/** Queues `count` jobs in each pool, one second apart, round robin over the pools (job ids from `first`). */
async function queueRoundRobin(count: number, first = 1): Promise<void> {
  let id = first;
  for (let n = 0; n < count; n++) {
    for (const pool of pools) {
      await h.queueJob(id++, pool);
      h.clock.advance(1000);
    }
  }
}

/** An instance of `pool` ends: EC2 terminates it and the lifecycle function frees its slot. */
async function endOneInstanceOf(pool: Pool): Promise<void> {
  const [runner] = await h.runners.listPoolRunners(pool.poolId);
  await h.deps.compute.terminate([runner.instanceId]);
  await h.runners.transitionRunner(runner.instanceId, [runner.state], 'gone', {}, h.clock.now());
  const record = await fleet().getFleet();
  expect(await fleet().saveFleet(releaseInstances(record, [runner.instanceId]), h.clock.now())).toBe(true);
}

describe('maxInstances', () => {
  test('four pools reconciled at once launch no more than the cap between them; the rest of their jobs wait, recorded', async () => {
    await start({ maxInstances: 5 });
    await queueRoundRobin(3);

    const reports = await Promise.all(pools.map((pool) => reconcilePool(h.deps, h.message(pool))));

    expect(reports.reduce((n, r) => n + r.launched, 0)).toBe(5);
    expect(reports.reduce((n, r) => n + (r.fleetWaiting ?? 0), 0)).toBe(7);
    expect(liveInstances()).toHaveLength(5);
    const record = await fleet().getFleet();
    expect(record.leases.map((l) => l.instanceId).sort()).toEqual(liveInstances().map((i) => i.instanceId).sort());
    expect(record.waiting.reduce((n, w) => n + w.arrivals.length, 0)).toBe(7);
  });

  test('twelve pools reconciled at once, racing for the one record, still launch exactly the cap between them', async () => {
    const many = Array.from({ length: 12 }, (_, n) => `p${n}`);
    const manyPools: Pool[] = many.map((name) => ({ poolId: `octo-org#${name}`, configName: name, scope: { kind: 'org', org: 'octo-org' } }));
    await start({ maxInstances: 5, configs: many.map((name) => runnerConfig({ name, labels: ['linux', name], runnerLabels: ['self-hosted', 'linux', name] })) });
    for (const [n, pool] of manyPools.entries()) await h.queueJob(100 + n, pool);

    // A reconcile that loses the record's write SAVE_ATTEMPTS times in a row gives up with
    // ConcurrentReconcileError and its message comes back (the queue redelivers it): so here too,
    // until each pool has been reconciled once. How often that happens depends on the machine's speed.
    const reconcileUntilDone = async (pool: Pool) => {
      for (let delivery = 1; ; delivery++) {
        try {
          return await reconcilePool(h.deps, h.message(pool));
        } catch (e) {
          if (!(e instanceof ConcurrentReconcileError) || delivery >= 20) throw e;
        }
      }
    };
    const reports = await Promise.all(manyPools.map(reconcileUntilDone));

    expect(reports.reduce((n, r) => n + r.launched, 0)).toBe(5);
    expect(liveInstances()).toHaveLength(5);
    expect((await fleet().getFleet()).leases).toHaveLength(5);
  });

  test('without maxInstances the same pools launch for every job (the cap is what holds them)', async () => {
    await start();
    await queueRoundRobin(3);

    await Promise.all(pools.map((pool) => reconcilePool(h.deps, h.message(pool))));

    expect(liveInstances()).toHaveLength(12);
  });

  test('a freed slot goes to the pool whose waiting job was queued first, not to the pool reconciled first, which wakes it', async () => {
    await start({ maxInstances: 4 });
    // Jobs 1-4 (one per pool) fill the cap; then d's job 5 is queued before a's job 6.
    await queueRoundRobin(1);
    for (const pool of pools) await reconcilePool(h.deps, h.message(pool));
    await h.queueJob(5, pools[3]);
    h.clock.advance(1000);
    await h.queueJob(6, pools[0]);
    h.clock.advance(1000);
    await reconcilePool(h.deps, h.message(pools[3]));
    await reconcilePool(h.deps, h.message(pools[0]));
    expect(liveInstances()).toHaveLength(4);

    await endOneInstanceOf(pools[1]);
    const first = await reconcilePool(h.deps, h.message(pools[0]));

    expect(first.launched).toBe(0);
    expect(wokenPools()).toContain(pools[3].poolId);
    const owed = await reconcilePool(h.deps, h.message(pools[3]));
    expect(owed.launched).toBe(1);
    expect(liveInstances()).toHaveLength(4);
  });

  test('a pool whose waiting jobs went (cancelled) withdraws its demand, and the slot goes to the next in line', async () => {
    await start({ maxInstances: 1 });
    await h.queueJob(1, pools[0]);
    await reconcilePool(h.deps, h.message(pools[0]));
    await h.queueJob(2, pools[1]);
    h.clock.advance(1000);
    await h.queueJob(3, pools[2]);
    await reconcilePool(h.deps, h.message(pools[1]));
    await reconcilePool(h.deps, h.message(pools[2]));
    expect((await fleet().getFleet()).waiting.map((w) => w.poolId).sort()).toEqual([pools[1].poolId, pools[2].poolId]);

    // Job 2 is cancelled while it waits: its pool's reconcile withdraws its demand.
    await h.state.applyJobTransition({ key: { githubHost: 'ghes.example.com', jobId: 2 }, to: 'completed', rank: 3, at: h.clock.now(), conclusion: 'cancelled' });
    await reconcilePool(h.deps, h.message(pools[1]));
    expect((await fleet().getFleet()).waiting.map((w) => w.poolId)).toEqual([pools[2].poolId]);

    await endOneInstanceOf(pools[0]);
    const next = await reconcilePool(h.deps, h.message(pools[2]));
    expect(next.launched).toBe(1);
  });
});
