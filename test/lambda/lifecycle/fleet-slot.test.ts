// Under maxInstances, an instance that ends frees its slot, and the pool whose waiting job was queued
// first is woken at once. On dynalite and the EC2 simulator, signed as the lifecycle function's role.
import { FleetRecord } from '../../../lambda/core/fleet-cap';
import { PoolMessage } from '../../../lambda/core/pool-message';
import { handleLifecycleEvent, LifecycleDeps } from '../../../lambda/lifecycle/handle-instance-event';
import { STATE_CHANGE } from '../../../lambda/lifecycle/instance-event';
import { DynamoFleetStore } from '../../../lambda/state/dynamo-fleet-store';
import { DynamoReconcilerStore } from '../../../lambda/state/dynamo-reconciler-store';
import { DynamoRunnerStore } from '../../../lambda/state/dynamo-runner-store';
import { DynamoStateStore } from '../../../lambda/state/dynamo-state-store';
import { Ec2InstanceEvent } from '../../../sandbox/ec2';
import { LifecycleMetricName } from '../../../src/contracts/metrics';
import { Ec2Harness, GhesHarness, MANAGED_BY, RecordingMetrics, runnerRecord, startEc2, startGhes } from '../reconciler/harness';
import { grantedRole } from '../support/construct-grants';
import { DynamoTestEngine, startDynalite } from '../support/dynalite';
import { InMemoryPoolQueue, ManualClock, silentLogger } from '../support/in-memory-ports';

const isState = (state: string) => (e: Ec2InstanceEvent) => e['detail-type'] === STATE_CHANGE && (e.detail as { state: string }).state === state;
const scope = { kind: 'org' as const, org: 'octo-org' };

const role = grantedRole('lifecycle', { managedBy: MANAGED_BY });
let engine: DynamoTestEngine;
let env: { ec2: Ec2Harness; ghes: GhesHarness };
let store: DynamoFleetStore;
let queue: InMemoryPoolQueue;
let runners: DynamoRunnerStore;
let deps: LifecycleDeps;

beforeAll(async () => {
  engine = await startDynalite({ asRole: role });
  env = { ec2: await startEc2(0.05, {}, role), ghes: await startGhes() };
});
afterAll(async () => {
  await env.ghes.stop();
  await env.ec2.stop();
  await engine.stop();
});
beforeEach(async () => {
  const tableName = await engine.createStateTable();
  store = new DynamoFleetStore(engine.client, tableName);
  runners = new DynamoRunnerStore(engine.client, tableName);
  queue = new InMemoryPoolQueue();
  deps = {
    runners,
    pools: runners,
    jobs: new DynamoStateStore(engine.client, tableName),
    queue,
    compute: env.ec2.fleet,
    github: env.ghes.github,
    reconcilerState: new DynamoReconcilerStore(engine.client, tableName),
    clock: new ManualClock(),
    logger: silentLogger(),
    metrics: new RecordingMetrics<LifecycleMetricName>(),
    fleet: { maxInstances: 2, store },
  };
});

test('an instance shutting down frees its slot and wakes the pool whose waiting job was queued first; a repeated event frees nothing more', async () => {
  // Arrange: two instances hold both slots; pools b and c wait, c's job queued first.
  const ended = await env.ec2.launch('spot');
  const now = deps.clock.now();
  await runners.putRunner(runnerRecord(ended, 'registered', now));
  const waiting: FleetRecord['waiting'] = [
    { poolId: 'octo-org#b', configName: 'b', scope, arrivals: [now - 1000], at: now },
    { poolId: 'octo-org#c', configName: 'c', scope, arrivals: [now - 5000], at: now },
  ];
  const leases = [{ poolId: 'octo-org#a', instanceId: ended, at: now }, { poolId: 'octo-org#a', instanceId: 'i-0000000000000other', at: now }];
  expect(await store.saveFleet({ version: 0, leases, waiting }, now)).toBe(true);
  env.ec2.sim.poweroff(ended);
  const shuttingDown = await env.ec2.nextEvent(ended, isState('shutting-down'));
  const terminated = await env.ec2.nextEvent(ended, isState('terminated'));

  // Act
  await handleLifecycleEvent(shuttingDown, deps);
  await handleLifecycleEvent(terminated, deps);
  await handleLifecycleEvent(shuttingDown, deps);

  // Assert
  const fleet = await store.getFleet();
  expect(fleet.leases.map((l) => l.instanceId)).toEqual(['i-0000000000000other']);
  const woken = queue.messages.filter((m) => m.reason === 'fleet-slot') as PoolMessage[];
  expect(woken.map((m) => m.poolId)).toEqual(['octo-org#c']);
  // The ended runner's own pool is handed over too, as always.
  expect(queue.messages.filter((m) => m.reason === 'instance-state')).toHaveLength(1);
});

test('a stopped instance keeps its slot: it can be started again', async () => {
  const instanceId = await env.ec2.launch('spot');
  const now = deps.clock.now();
  await runners.putRunner({ ...runnerRecord(instanceId, 'warming', now) });
  await store.saveFleet({ version: 0, leases: [{ poolId: 'octo-org#a', instanceId, at: now }], waiting: [] }, now);

  await handleLifecycleEvent({
    'version': '0',
    'id': 'e-1',
    'detail-type': STATE_CHANGE,
    'source': 'aws.ec2',
    'account': '123456789012',
    'time': new Date(now).toISOString(),
    'region': 'us-east-1',
    'resources': [],
    'detail': { 'instance-id': instanceId, 'state': 'stopped' },
  }, deps);

  expect((await store.getFleet()).leases.map((l) => l.instanceId)).toEqual([instanceId]);
});
