// The warm pool on the real engines: dynalite for state, the EC2 simulator (CreateFleet from the warm
// launch template, the OS power-off that stops an instance, StartInstances with its refusals) behind
// the real EC2Client, every call signed as the provisioner's role as the construct grants it with a
// warm pool.
import { Harness, HarnessOptions, POOL, provisionerRole, runnerConfig, startHarness, WARM_LAUNCH_TEMPLATE_ID } from './harness';
import { releaseInstances } from '../../../lambda/core/fleet-cap';
import { emptyPool } from '../../../lambda/core/pool';
import { buildWarmPoolMessage } from '../../../lambda/core/pool-message';
import { ImageSource } from '../../../lambda/core/ports';
import { RunnerRecord } from '../../../lambda/core/runner';
import { RunnerConfig } from '../../../lambda/core/runner-config';
import { warmPoolIdOf } from '../../../lambda/core/warm-pool';
import { reconcilePool } from '../../../lambda/provisioner/reconcile-pool';
import { reconcileWarmPool } from '../../../lambda/provisioner/reconcile-warm-pool';
import { holdLaunches } from '../../../lambda/register/hold-launches';
import { DynamoFleetStore } from '../../../lambda/state/dynamo-fleet-store';
import { DynamoRunnerStore } from '../../../lambda/state/dynamo-runner-store';
import { DynamoTestEngine, startDynalite } from '../support/dynalite';
import { silentLogger } from '../support/in-memory-ports';

const WARM_POOL_ID = warmPoolIdOf(POOL.configName);
const AMI = 'ami-0aaaaaaaaaaaaaaa1';
const NEW_AMI = 'ami-0bbbbbbbbbbbbbbb2';

let engine: DynamoTestEngine;
let h: Harness;
let currentAmi: string | undefined = AMI;
/** The image parameter as the pipeline writes it, read at each reconcile. */
const images: ImageSource = { imageIdFor: async () => currentAmi };

beforeAll(async () => { engine = await startDynalite({ asRole: provisionerRole({ warmPools: true }) }); });
afterAll(async () => { await engine.stop(); });
afterEach(async () => { await h?.stop(); });

function warmConfig(overrides: Partial<RunnerConfig> = {}): RunnerConfig {
  return runnerConfig({ image: { parameterName: '/test/image/x64' }, maxRunners: 20, warmPool: { size: 5 }, ...overrides });
}

async function start(options: HarnessOptions = {}): Promise<Harness> {
  currentAmi = AMI;
  h = await startHarness(engine, { configs: [warmConfig()], images, ...options });
  return h;
}

const warmMessage = () => buildWarmPoolMessage(POOL.configName, 'reconciler', 'test');
const calls = () => h.sim.apiCalls().byAction;
const warmRunners = () => h.runners.listPoolRunners(WARM_POOL_ID);

async function waitFor(check: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error('condition not met in time');
}

/**
 * Fills the warm pool and lets every instance do what its first boot does: power off (the register
 * endpoint's 410), stop (shutdown behaviour stop), and park (what the lifecycle function writes on `stopped`).
 */
async function parkedPool(): Promise<RunnerRecord[]> {
  await reconcileWarmPool(h.deps, warmMessage());
  const warming = await warmRunners();
  for (const runner of warming) {
    await waitFor(() => h.sim.instance(runner.instanceId)?.state === 'running');
    h.sim.poweroff(runner.instanceId);
  }
  for (const runner of warming) {
    await waitFor(() => h.sim.instance(runner.instanceId)?.state === 'stopped');
    await h.runners.transitionRunner(runner.instanceId, ['warming'], 'warm', {}, h.clock.now());
  }
  h.sim.resetApiCalls();
  return warmRunners();
}

describe('warm pool refill', () => {
  test('an empty warm pool is filled to its size: on-demand instances of the warm launch template, recorded as warming with their image', async () => {
    await start();

    const report = await reconcileWarmPool(h.deps, warmMessage());

    expect(report.launched).toBe(5);
    expect(calls()).toMatchObject({ CreateFleet: 1 });
    const instances = h.sim.instances();
    expect(instances).toHaveLength(5);
    for (const instance of instances) {
      expect(instance.market).toBe('on-demand');
      expect(instance.launchTemplate.launchTemplateId).toBe(WARM_LAUNCH_TEMPLATE_ID);
    }
    const runners = await warmRunners();
    expect(runners.map((r) => [r.state, r.imageId, r.scope])).toEqual(Array(5).fill(['warming', AMI, undefined]));
    expect(h.metrics.warmLaunches).toBe(5);
    expect(h.metrics.launches).toEqual({});
  });

  test('a full pool launches nothing, whatever the message says', async () => {
    await start();
    await parkedPool();

    await reconcileWarmPool(h.deps, warmMessage());
    await reconcileWarmPool(h.deps, warmMessage());

    expect(calls().CreateFleet ?? 0).toBe(0);
    expect(h.sim.instances().filter((i) => i.state === 'stopped')).toHaveLength(5);
  });

  test('a new runner image replaces the parked instances of the old one', async () => {
    await start();
    const parked = await parkedPool();
    currentAmi = NEW_AMI;

    await reconcileWarmPool(h.deps, warmMessage());

    for (const runner of parked) expect((await h.runners.getRunner(runner.instanceId))).toMatchObject({ state: 'retiring', retireReason: 'stale-image' });
    await waitFor(() => parked.every((r) => h.sim.instance(r.instanceId)?.state === 'terminated'));
    const fresh = (await warmRunners()).filter((r) => r.state === 'warming');
    expect(fresh.map((r) => r.imageId)).toEqual(Array(5).fill(NEW_AMI));
  });

  test('outside its schedule the pool is emptied: every parked instance terminated, none launched', async () => {
    await start();
    const parked = await parkedPool();
    // Working hours of a time zone where it is never the hour now: an always-off schedule.
    const hour = new Date(h.clock.now()).getUTCHours();
    h.configs.configs = [warmConfig({ warmPool: { size: 5, schedule: { timeZone: 'UTC', weekdays: [1, 2, 3, 4, 5, 6, 7], startHour: (hour + 1) % 23, endHour: (hour + 1) % 23 + 1 } } })];

    await reconcileWarmPool(h.deps, warmMessage());

    expect(calls().CreateFleet ?? 0).toBe(0);
    await waitFor(() => parked.every((r) => h.sim.instance(r.instanceId)?.state === 'terminated'));
    for (const runner of parked) expect((await h.runners.getRunner(runner.instanceId))?.retireReason).toBe('surplus');
  });

  test('a warm pool taken out of the config is emptied', async () => {
    await start();
    const parked = await parkedPool();
    h.configs.configs = [warmConfig({ warmPool: undefined })];

    await reconcileWarmPool(h.deps, warmMessage());

    await waitFor(() => parked.every((r) => h.sim.instance(r.instanceId)?.state === 'terminated'));
    expect(calls().CreateFleet ?? 0).toBe(0);
  });

  test('a warm pool taken out of the config while held, with a launch under way, leaves the pool index: the reconciler stops handing it over', async () => {
    // Arrange: the warm pool's item holds a hold and a pending launch, so the index lists it.
    await start();
    const now = h.clock.now();
    const hold = { reason: 'runner-missing' as const, refusals: 1, refusedAt: now, until: now + 60_000 };
    const pendingLaunch = { clientToken: 'er-test-warm-1', market: 'on-demand' as const, count: 1, instanceTypes: ['m7i.large'], warm: true, startedAt: now };
    expect(await h.runners.savePool({ ...emptyPool(WARM_POOL_ID, POOL.configName, undefined), launchHold: hold, pendingLaunch }, now)).toBe(true);
    const index = new DynamoRunnerStore(engine.operator, h.tableName);
    expect(await index.listActivePools()).toContain(WARM_POOL_ID);
    h.configs.configs = [warmConfig({ warmPool: undefined })];

    // Act
    await reconcileWarmPool(h.deps, warmMessage());

    // Assert
    const pool = await h.runners.getPool(WARM_POOL_ID);
    expect(pool?.launchHold).toBeUndefined();
    expect(pool?.pendingLaunch).toBeUndefined();
    expect(await index.listActivePools()).not.toContain(WARM_POOL_ID);
  });

  test('the refill stops at maxRunners, counting the config\'s instances running jobs in its pools', async () => {
    await start({ configs: [warmConfig({ maxRunners: 7 })] });
    for (let job = 1; job <= 4; job++) await h.queueJob(job);
    await reconcilePool(h.deps, h.message()); // 4 cold: the pool was empty

    const report = await reconcileWarmPool(h.deps, warmMessage());

    expect(report.launched).toBe(3);
    expect(h.sim.instances()).toHaveLength(7);
  });
});

describe('jobs take parked instances first', () => {
  test('five queued jobs start the five parked instances, with no launch; a sixth launches cold', async () => {
    await start();
    const parked = await parkedPool();
    for (let job = 1; job <= 6; job++) await h.queueJob(job);

    const report = await reconcilePool(h.deps, h.message());

    expect(report).toMatchObject({ queued: 6, warmStarted: 5, launched: 1 });
    expect(calls()).toMatchObject({ StartInstances: 1, CreateFleet: 1 });
    const runners = await h.runners.listPoolRunners(POOL.poolId);
    expect(runners).toHaveLength(6);
    for (const runner of parked) {
      const claimed = await h.runners.getRunner(runner.instanceId);
      expect(claimed).toMatchObject({ state: 'booting', poolId: POOL.poolId, scope: POOL.scope, launchedAt: h.clock.now(), claimedAt: h.clock.now() });
      expect(['pending', 'running']).toContain(h.sim.instance(runner.instanceId)?.state);
    }
    expect(h.metrics.warmStarts).toBe(5);
    // The warm pool is asked to refill now, not at the next sweep.
    expect(h.queue.messages).toEqual([expect.objectContaining({ kind: 'warm-pool', poolId: WARM_POOL_ID, reason: 'warm-claimed' })]);
  });

  test('a second reconcile of the same jobs starts and launches nothing more', async () => {
    await start();
    await parkedPool();
    for (let job = 1; job <= 3; job++) await h.queueJob(job);
    await reconcilePool(h.deps, h.message());

    const again = await reconcilePool(h.deps, h.message());

    expect(again).toMatchObject({ warmStarted: 0, launched: 0 });
    expect(calls()).toEqual(expect.objectContaining({ StartInstances: 1 }));
    expect(calls().CreateFleet ?? 0).toBe(0);
    expect((await warmRunners()).filter((r) => r.state === 'warm')).toHaveLength(2);
  });

  test('an instance EC2 has no capacity to start is given up, and its job launched cold in the same reconcile', async () => {
    await start({ ec2: { faults: { startCapacityErrorRate: 1 } } });
    const parked = await parkedPool();
    for (let job = 1; job <= 2; job++) await h.queueJob(job);

    const report = await reconcilePool(h.deps, h.message());

    expect(report).toMatchObject({ warmStarted: 0, launched: 2 });
    expect(h.sim.apiCalls().errorsByCode).toMatchObject({ InsufficientInstanceCapacity: expect.any(Number) });
    const givenUp = (await Promise.all(parked.map((r) => h.runners.getRunner(r.instanceId)))).filter((r) => r?.state === 'retiring');
    expect(givenUp.map((r) => r?.retireReason)).toEqual(['start-failed', 'start-failed']);
    await waitFor(() => givenUp.every((r) => h.sim.instance(r!.instanceId)?.state === 'terminated'));
    expect(h.metrics.warmStartFailures).toBe(2);
  });

  test('a parked instance that is gone behind the pool\'s back (terminated by hand) is replaced by a cold launch, and the others still start', async () => {
    await start();
    const parked = await parkedPool();
    await h.deps.compute.terminate([parked[0].instanceId]);
    await waitFor(() => h.sim.instance(parked[0].instanceId)?.state === 'terminated');
    for (let job = 1; job <= 5; job++) await h.queueJob(job);

    const report = await reconcilePool(h.deps, h.message());

    expect(report).toMatchObject({ warmStarted: 4, launched: 1 });
    expect(await h.runners.getRunner(parked[0].instanceId)).toMatchObject({ state: 'retiring', retireReason: 'start-failed' });
    expect(h.sim.instances().filter((i) => i.state === 'pending' || i.state === 'running')).toHaveLength(5);
  });

  test('a config without a warm pool never looks for one', async () => {
    await start({ configs: [warmConfig({ warmPool: undefined })] });
    await h.queueJob(1);

    const report = await reconcilePool(h.deps, h.message());

    expect(report).toMatchObject({ warmStarted: 0, launched: 1 });
    expect(calls().StartInstances ?? 0).toBe(0);
    expect(h.queue.messages).toEqual([]);
  });
});

describe('an image without a runner', () => {
  test('the warm pool is held once its instances report it, then refilled one probe at a time until one parks', async () => {
    // Arrange: the first fill; every instance finds no runner and reports it (the register endpoint
    // holds the warm pool and retires them; they power off and are closed).
    await start();
    await reconcileWarmPool(h.deps, warmMessage());
    const first = await warmRunners();
    await holdLaunches(WARM_POOL_ID, 'runner-missing', { pools: h.runners, clock: h.clock, logger: silentLogger() });
    for (const runner of first) {
      await h.runners.transitionRunner(runner.instanceId, ['warming'], 'retiring', { retireReason: 'runner-missing' }, h.clock.now());
      await h.runners.transitionRunner(runner.instanceId, ['retiring'], 'gone', {}, h.clock.now());
    }

    // Act: sweeps while held, after the hold, while the probe boots, and after it parked (a fixed image).
    const held = await reconcileWarmPool(h.deps, warmMessage());
    h.clock.advance(60_000);
    const probe = await reconcileWarmPool(h.deps, warmMessage());
    const whileProbing = await reconcileWarmPool(h.deps, warmMessage());
    const [probeRunner] = (await warmRunners()).filter((r) => r.state === 'warming');
    await h.runners.transitionRunner(probeRunner.instanceId, ['warming'], 'warm', {}, h.clock.now());
    const refilled = await reconcileWarmPool(h.deps, warmMessage());

    // Assert
    expect(first).toHaveLength(5);
    expect([held.launched, probe.launched, whileProbing.launched, refilled.launched]).toEqual([0, 1, 0, 4]);
    // Held back: 5 at first, then 4 beside the probe, and 4 while it boots.
    expect(h.metrics.held['runner-missing']).toBe(5 + 4 + 4);
    expect((await h.runners.getPool(WARM_POOL_ID))?.launchHold).toBeUndefined();
  });
});

describe('without a runner image', () => {
  test('the warm pool is not filled while the image parameter holds no AMI, and parked instances are kept', async () => {
    await start();
    const parked = await parkedPool();
    await h.deps.compute.terminate([parked[0].instanceId]);
    await h.runners.transitionRunner(parked[0].instanceId, ['warm'], 'gone', {}, h.clock.now());
    currentAmi = undefined;

    const report = await reconcileWarmPool(h.deps, warmMessage());

    expect(report).toMatchObject({ launched: 0, retired: 0 });
    expect(calls().CreateFleet ?? 0).toBe(0);
    expect((await warmRunners()).filter((r) => r.state === 'warm')).toHaveLength(4);
  });
});

describe('under maxInstances', () => {
  test('a refill takes only the slots no waiting job is owed: a freed slot goes to the queued job, not to the warm pool', async () => {
    await start({ maxInstances: 3 });
    const fleet = new DynamoFleetStore(engine.client, h.tableName);
    const live = () => h.sim.instances().filter((i) => !['shutting-down', 'terminated'].includes(i.state));

    // The warm pool (size 5) fills only up to the cap.
    expect((await reconcileWarmPool(h.deps, warmMessage())).launched).toBe(3);
    expect((await fleet.getFleet()).leases).toHaveLength(3);
    // A job finds no parked instance yet and no slot: it waits.
    await h.queueJob(1);
    expect(await reconcilePool(h.deps, h.message())).toMatchObject({ launched: 0, warmStarted: 0, fleetWaiting: 1 });

    // A warm instance ends; the refill leaves the freed slot to the waiting job, whose pool takes it.
    const [ended] = await warmRunners();
    await h.deps.compute.terminate([ended.instanceId]);
    await h.runners.transitionRunner(ended.instanceId, [ended.state], 'gone', {}, h.clock.now());
    expect(await fleet.saveFleet(releaseInstances(await fleet.getFleet(), [ended.instanceId]), h.clock.now())).toBe(true);
    expect((await reconcileWarmPool(h.deps, warmMessage())).launched).toBe(0);
    expect((await reconcilePool(h.deps, h.message())).launched).toBe(1);
    expect(live()).toHaveLength(3);
  });
});
