// Under maxInstances, each reconciler run makes the fleet record agree with EC2 (a lost lifecycle
// event, a launch that crashed before binding) and publishes the jobs waiting on the cap. On
// dynalite and the EC2 simulator, signed as the reconciler's role.
import { Ec2Harness, GhesHarness, MANAGED_BY, PREFIX, RecordingMetrics, runnerRecord, startEc2, startGhes } from './harness';
import { FLEET_TIMING } from '../../../lambda/core/fleet-cap';
import { PoolMessage } from '../../../lambda/core/pool-message';
import { ReconcilerDeps, runReconciler } from '../../../lambda/reconciler/run-reconciler';
import { DynamoFleetStore } from '../../../lambda/state/dynamo-fleet-store';
import { DynamoReconcilerStore } from '../../../lambda/state/dynamo-reconciler-store';
import { DynamoRunnerStore } from '../../../lambda/state/dynamo-runner-store';
import { DynamoStateStore } from '../../../lambda/state/dynamo-state-store';
import { ReconcilerMetric, ReconcilerMetricName } from '../../../src/contracts/metrics';
import { grantedRole } from '../support/construct-grants';
import { DynamoTestEngine, startDynalite } from '../support/dynalite';
import { InMemoryPoolQueue, ManualClock, silentLogger } from '../support/in-memory-ports';

const role = grantedRole('reconciler', { managedBy: MANAGED_BY });
const scope = { kind: 'org' as const, org: 'octo-org' };
let engine: DynamoTestEngine;
let ghes: GhesHarness;
let ec2: Ec2Harness;

beforeAll(async () => {
  engine = await startDynalite({ asRole: role });
  ghes = await startGhes();
  ec2 = await startEc2(0.001, {}, role);
});
afterAll(async () => {
  await ec2.stop();
  await ghes.stop();
  await engine.stop();
});

test('a run leases the live instances, drops the lease of one whose end was never seen and a crashed launch\'s reservation, wakes the pool owed the freed slot, and counts the waiting jobs', async () => {
  // Arrange: cap 2. One live instance with a lease, one live without (its launch crashed before
  // binding), a lease of an instance that ended unseen and a stale reservation; pool b waits.
  const tableName = await engine.createStateTable();
  const store = new DynamoFleetStore(engine.client, tableName);
  const runners = new DynamoRunnerStore(engine.client, tableName);
  const queue = new InMemoryPoolQueue();
  const metrics = new RecordingMetrics<ReconcilerMetricName>();
  const clock = new ManualClock(Date.now());
  const [leased, unleased] = [await ec2.launch('spot'), await ec2.launch('spot')];
  for (const id of [leased, unleased]) await runners.putRunner(runnerRecord(id, 'registered', clock.now()));
  const old = clock.now() - FLEET_TIMING.reservationGraceMs - 1;
  await store.saveFleet({
    version: 0,
    leases: [
      { poolId: 'octo-org#a', instanceId: leased, at: old },
      { poolId: 'octo-org#a', instanceId: 'i-0123456789abcdef0', at: old },
      { poolId: 'octo-org#a', reservation: 'octo-org#a#crashed', at: old },
    ],
    waiting: [{ poolId: 'octo-org#b', configName: 'b', scope, arrivals: [clock.now() - 3000, clock.now() - 2000], at: clock.now() }],
  }, old);
  const deps: ReconcilerDeps = {
    settings: { runnerNamePrefix: PREFIX, bootTimeoutMs: 10 * 60_000, maxLifetimeMs: 60 * 60_000 },
    runners,
    jobs: new DynamoStateStore(engine.client, tableName),
    queue,
    compute: ec2.fleet,
    github: ghes.github,
    state: new DynamoReconcilerStore(engine.client, tableName),
    clock,
    logger: silentLogger(),
    metrics,
    fleet: { maxInstances: 2, store },
  };

  // Act
  const summary = await runReconciler(deps, 'run-1');

  // Assert
  expect(summary.failedSteps).toEqual([]);
  const fleet = await store.getFleet();
  expect(fleet.leases.map((l) => l.instanceId).sort()).toEqual([leased, unleased].sort());
  // Both slots are held by live instances: nothing is owed yet, so b is not woken; its jobs are counted.
  expect(queue.messages.filter((m) => m.reason === 'fleet-slot')).toEqual([]);
  expect(metrics.total(ReconcilerMetric.JOBS_WAITING_ON_FLEET_CAP)).toBe(2);

  // An instance ends and its event is lost: the next run frees its slot (past the grace) and wakes b.
  await ec2.fleet.terminate([unleased]);
  clock.advance(FLEET_TIMING.leaseGraceMs + 1);
  await runReconciler(deps, 'run-2');

  expect((await store.getFleet()).leases.map((l) => l.instanceId)).toEqual([leased]);
  expect((queue.messages.filter((m) => m.reason === 'fleet-slot') as PoolMessage[]).map((m) => m.poolId)).toEqual(['octo-org#b']);
});
