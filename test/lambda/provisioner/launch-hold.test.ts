// The provisioner under a pool's launch hold (lambda/core/launch-hold.ts), which the register endpoint records when it turns a
// runner away for a reason only an operator fixes. Real DynamoDB (dynalite, with the provisioner's role) and the EC2 simulator.
import { Harness, POOL, PREFIX, provisionerRole, startHarness } from './harness';
import { LaunchHold } from '../../../lambda/core/launch-hold';
import { emptyPool } from '../../../lambda/core/pool';
import { reconcilePool } from '../../../lambda/provisioner/reconcile-pool';
import { holdLaunches } from '../../../lambda/register/hold-launches';
import { DynamoRunnerStore } from '../../../lambda/state/dynamo-runner-store';
import { DynamoTestEngine, startDynalite } from '../support/dynalite';
import { silentLogger } from '../support/in-memory-ports';

let engine: DynamoTestEngine;
let h: Harness;

beforeAll(async () => { engine = await startDynalite({ asRole: provisionerRole() }); });
afterAll(async () => { await engine.stop(); });
afterEach(async () => { await h?.stop(); });

const MINUTE = 60_000;
const createFleetCalls = () => h.sim.apiCalls().byAction.CreateFleet ?? 0;

async function heldPool(jobs: number): Promise<LaunchHold> {
  h = await startHarness(engine);
  for (let jobId = 1; jobId <= jobs; jobId++) await h.queueJob(jobId);
  const now = h.clock.now();
  const hold: LaunchHold = { reason: 'no-runner-group', refusals: 1, refusedAt: now, until: now + MINUTE };
  expect(await h.runners.savePool({ ...emptyPool(POOL.poolId, POOL.configName, POOL.scope), launchHold: hold }, now)).toBe(true);
  return hold;
}

test('a held pool launches nothing while the hold is in force, and counts what it held back', async () => {
  await heldPool(4);

  const report = await reconcilePool(h.deps, h.message());

  expect(report).toMatchObject({ queued: 4, launched: 0 });
  expect(createFleetCalls()).toBe(0);
  expect(h.metrics.held).toEqual({ 'no-runner-group': 4 });
});

test('once the hold ran out it launches one instance, none more while that probe boots, and all its demand once the probe registers', async () => {
  await heldPool(4);
  h.clock.advance(MINUTE);

  // The probe.
  expect(await reconcilePool(h.deps, h.message())).toMatchObject({ launched: 1 });
  expect(await reconcilePool(h.deps, h.message())).toMatchObject({ launched: 0 });
  const [probe] = await h.runners.listPoolRunners(POOL.poolId);

  // The operator created the group: the probe registers.
  h.clock.advance(20_000);
  await h.runners.transitionRunner(probe.instanceId, ['booting'], 'registered', { runnerName: `${PREFIX}${probe.instanceId}`, registeredAt: h.clock.now() }, h.clock.now());
  await h.runners.transitionRunner(probe.instanceId, ['registered'], 'registered', { runnerId: 7 }, h.clock.now());
  const report = await reconcilePool(h.deps, h.message());

  expect(report).toMatchObject({ queued: 4, launched: 3 });
  expect(createFleetCalls()).toBe(2);
  expect((await h.runners.getPool(POOL.poolId))?.launchHold).toBeUndefined();
});

test('a probe turned away lifts nothing: the register endpoint doubles the hold, and the pool waits it out before the next probe', async () => {
  await heldPool(2);
  h.clock.advance(MINUTE);
  await reconcilePool(h.deps, h.message());
  const [probe] = await h.runners.listPoolRunners(POOL.poolId);

  // The register endpoint claims the probe and GitHub refuses it again (no runner id).
  h.clock.advance(20_000);
  await h.runners.transitionRunner(probe.instanceId, ['booting'], 'registered', { runnerName: `${PREFIX}${probe.instanceId}`, registeredAt: h.clock.now() }, h.clock.now());
  await holdLaunches(POOL.poolId, 'no-runner-group', { pools: h.runners, clock: h.clock, logger: silentLogger() });
  const held = await reconcilePool(h.deps, h.message());
  // The probe powered off; the doubled hold runs out two minutes after its refusal.
  await h.runners.transitionRunner(probe.instanceId, ['registered'], 'gone', {}, h.clock.now());
  h.clock.advance(2 * MINUTE - 1);
  const stillHeld = await reconcilePool(h.deps, h.message());
  h.clock.advance(1);
  const next = await reconcilePool(h.deps, h.message());

  expect([held.launched, stillHeld.launched, next.launched]).toEqual([0, 0, 1]);
  expect((await h.runners.getPool(POOL.poolId))?.launchHold).toMatchObject({ reason: 'no-runner-group', refusals: 2 });
});

test('a held pool stays in the pool index for the reconciler and status; once none of its jobs waits, the hold is dropped and the pool leaves it', async () => {
  await heldPool(1);
  // As the reconciler reads the index (the provisioner's role may not scan it).
  const index = new DynamoRunnerStore(engine.operator, h.tableName);
  expect(await index.listActivePools()).toContain(POOL.poolId);

  await h.moveJob(1, 'completed');
  const report = await reconcilePool(h.deps, h.message());

  expect(report).toMatchObject({ queued: 0, launched: 0 });
  expect((await h.runners.getPool(POOL.poolId))?.launchHold).toBeUndefined();
  expect(await index.listActivePools()).not.toContain(POOL.poolId);
});
