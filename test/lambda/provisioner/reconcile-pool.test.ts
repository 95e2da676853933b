import { Harness, HarnessOptions, POOL, PREFIX, provisionerRole, runnerConfig, startHarness } from './harness';
import { ComputePort } from '../../../lambda/core/compute';
import { GitHubPort } from '../../../lambda/core/github';
import { emptyPool } from '../../../lambda/core/pool';
import { DemandNotMetError } from '../../../lambda/provisioner/errors';
import { reconcilePool } from '../../../lambda/provisioner/reconcile-pool';
import { DEFAULT_INSTANCE_TYPES } from '../../../sandbox/ec2';
import { DynamoTestEngine, startDynalite } from '../support/dynalite';

let engine: DynamoTestEngine;
let h: Harness;

// The provisioner's role, as the construct grants it: its DynamoDB and EC2 calls are decided by IAM.
beforeAll(async () => { engine = await startDynalite({ asRole: provisionerRole() }); });
afterAll(async () => { await engine.stop(); });
afterEach(async () => { await h?.stop(); });

async function start(options: HarnessOptions = {}): Promise<Harness> {
  h = await startHarness(engine, options);
  return h;
}

const liveInstances = () => h.sim.instances().filter((i) => i.state !== 'terminated' && i.state !== 'shutting-down');
const createFleetCalls = () => h.sim.apiCalls().byAction.CreateFleet ?? 0;

describe('provisioner', () => {
  test('queued jobs get one instance each, from one CreateFleet call, recorded as booting runners', async () => {
    await start();
    await h.queueJob(1);
    await h.queueJob(2);
    await h.queueJob(3);

    const report = await reconcilePool(h.deps, h.message());

    expect(report).toMatchObject({ queued: 3, launched: 3, retired: 0 });
    expect(createFleetCalls()).toBe(1);
    expect(liveInstances()).toHaveLength(3);
    const runners = await h.runners.listPoolRunners('octo-org#linux-x64');
    expect(runners.map((r) => r.state)).toEqual(['booting', 'booting', 'booting']);
    expect(new Set(runners.map((r) => r.instanceId))).toEqual(new Set(liveInstances().map((i) => i.instanceId)));
  });

  test('a duplicate message launches nothing: the second reconcile finds the pool balanced', async () => {
    await start();
    await h.queueJob(1);
    await reconcilePool(h.deps, h.message());
    await reconcilePool(h.deps, h.message());
    expect(createFleetCalls()).toBe(1);
    expect(liveInstances()).toHaveLength(1);
  });

  test('a job whose runner another job took still gets a runner', async () => {
    await start();
    await h.queueJob(1);
    await reconcilePool(h.deps, h.message());
    const [taken] = await h.runners.listPoolRunners('octo-org#linux-x64');
    // Job 2 arrives and GitHub hands it the runner launched for job 1.
    await h.queueJob(2);
    await h.moveJob(2, 'in_progress', { runnerName: `${PREFIX}${taken.instanceId}` });

    const report = await reconcilePool(h.deps, h.message());

    expect(report.launched).toBe(1);
    expect((await h.runners.getRunner(taken.instanceId))?.state).toBe('busy');
    expect(liveInstances()).toHaveLength(2);
  });

  test('a job that starts while the pool is read is no demand: its busy runner is seen, its queued item is not counted, nothing launches', async () => {
    // Arrange: the runner launched for job 1 took it; the runner item says so, the job item not yet.
    await start();
    await h.queueJob(1);
    await reconcilePool(h.deps, h.message());
    const [runner] = await h.runners.listPoolRunners('octo-org#linux-x64');
    await h.runners.transitionRunner(runner.instanceId, ['booting'], 'busy', { job: { githubHost: 'ghes.example.com', jobId: 1 } }, Date.now());

    // Act
    const report = await reconcilePool(h.deps, h.message());

    // Assert
    expect(report).toMatchObject({ queued: 0, launched: 0, retired: 0 });
    expect(createFleetCalls()).toBe(1);
    expect(liveInstances()).toHaveLength(1);
  });

  test('a runner its started job names stays busy to the pool even when marking it loses to a concurrent write: no runner another job needs is retired', async () => {
    // Arrange: two jobs, a runner each. Job 1 started on the first runner (registered, not yet marked busy).
    await start();
    await h.queueJob(1);
    await h.queueJob(2);
    await reconcilePool(h.deps, h.message());
    const [first, second] = (await h.runners.listPoolRunners('octo-org#linux-x64')).sort((a, b) => a.instanceId.localeCompare(b.instanceId));
    await h.runners.transitionRunner(first.instanceId, ['booting'], 'registered', { runnerName: `${PREFIX}${first.instanceId}` }, Date.now());
    await h.moveJob(1, 'in_progress', { runnerName: `${PREFIX}${first.instanceId}` });
    // While the provisioner marks it busy, the register function stores its GitHub runner id: the provisioner's conditional write loses.
    let raced = false;
    const runners = Object.assign(Object.create(h.runners) as typeof h.runners, {
      getRunner: async (instanceId: string) => {
        const read = await h.runners.getRunner(instanceId);
        if (instanceId === first.instanceId && !raced) {
          raced = true;
          await h.runners.transitionRunner(first.instanceId, ['registered'], 'registered', { runnerId: 7 }, Date.now());
        }
        return read;
      },
    });

    // Act
    const report = await reconcilePool({ ...h.deps, runners }, h.message());

    // Assert: job 2 still has the second runner.
    expect(raced).toBe(true);
    expect(report).toMatchObject({ queued: 1, launched: 0, retired: 0 });
    expect((await h.runners.getRunner(second.instanceId))?.state).toBe('booting');
    expect(liveInstances()).toHaveLength(2);
  });

  test('a job still read as queued whose runner the index does not show yet, but the pool\'s recent launches do, busy with it: nothing launches', async () => {
    // Arrange: the runner launched for job 1 took it; its item says so, the job item not yet, and
    // the pool index lags (eventually consistent) and lists no runner at all.
    await start();
    await h.queueJob(1);
    await reconcilePool(h.deps, h.message());
    const [runner] = await h.runners.listPoolRunners('octo-org#linux-x64');
    await h.runners.transitionRunner(runner.instanceId, ['booting'], 'busy', { job: { githubHost: 'ghes.example.com', jobId: 1 } }, Date.now());
    const laggingIndex = Object.assign(Object.create(h.runners) as typeof h.runners, { listPoolRunners: async () => [] });

    // Act
    const report = await reconcilePool({ ...h.deps, runners: laggingIndex }, h.message());

    // Assert
    expect(report).toMatchObject({ queued: 0, launched: 0, retired: 0 });
    expect(createFleetCalls()).toBe(1);
  });

  test('a job cancelled while its instance boots frees its demand, and the instance is terminated at once', async () => {
    await start();
    await h.queueJob(1);
    await reconcilePool(h.deps, h.message());
    await h.moveJob(1, 'completed', { conclusion: 'cancelled' });

    const report = await reconcilePool(h.deps, h.message());

    expect(report.retired).toBe(1);
    const [runner] = await h.runners.listPoolRunners('octo-org#linux-x64');
    expect(runner).toMatchObject({ state: 'retiring', retireReason: 'surplus' });
    expect(liveInstances()).toHaveLength(0);
  });

  test('a crash between the launch and its state write does not launch twice: the next reconcile adopts the same instances', async () => {
    let crash = true;
    await start({
      compute: (inner): ComputePort => ({
        ...inner,
        launch: async (request) => {
          const result = await inner.launch(request);
          if (crash) {
            crash = false;
            throw new Error('the function timed out right after CreateFleet answered');
          }
          return result;
        },
        terminate: (ids) => inner.terminate(ids),
        listInstances: () => inner.listInstances(),
        findLaunch: (token) => inner.findLaunch(token),
      }),
    });
    await h.queueJob(1);
    await h.queueJob(2);
    await expect(reconcilePool(h.deps, h.message())).rejects.toThrow(/timed out/);
    expect(liveInstances()).toHaveLength(2);
    expect(await h.runners.listPoolRunners('octo-org#linux-x64')).toHaveLength(0);

    const report = await reconcilePool(h.deps, h.message());

    expect(report.launched).toBe(0);
    expect(liveInstances()).toHaveLength(2);
    const runners = await h.runners.listPoolRunners('octo-org#linux-x64');
    expect(new Set(runners.map((r) => r.instanceId))).toEqual(new Set(liveInstances().map((i) => i.instanceId)));
    expect((await h.runners.getPool('octo-org#linux-x64'))?.pendingLaunch).toBeUndefined();
  });

  test('SPOT_PREFERRED: spot capacity errors are retried, then the shortfall falls back to on-demand', async () => {
    await start({ ec2: { capacity: { rules: [{ market: 'spot', available: 0 }] } } });
    await h.queueJob(1);

    await expect(reconcilePool(h.deps, h.message())).rejects.toBeInstanceOf(DemandNotMetError);
    expect(liveInstances()).toHaveLength(0);
    const report = await reconcilePool(h.deps, h.message());

    expect(report.launched).toBe(1);
    expect(liveInstances().map((i) => i.market)).toEqual(['on-demand']);
    expect(h.metrics.fallbacks).toBe(1);
    // For a while after, the pool buys on-demand straight away.
    await h.queueJob(2);
    await reconcilePool(h.deps, h.message());
    expect(liveInstances().map((i) => i.market)).toEqual(['on-demand', 'on-demand']);
  });

  test('SPOT_ONLY never buys on-demand; the demand waits and is retried', async () => {
    await start({ configs: [runnerConfig({ spot: 'SPOT_ONLY' })], ec2: { capacity: { rules: [{ market: 'spot', available: 0 }] } } });
    await h.queueJob(1);
    for (let i = 0; i < 4; i++) await expect(reconcilePool(h.deps, h.message())).rejects.toBeInstanceOf(DemandNotMetError);
    expect(liveInstances()).toHaveLength(0);
    h.sim.capacity.setCapacity({ market: 'spot', available: 10 });
    expect((await reconcilePool(h.deps, h.message())).launched).toBe(1);
    expect(liveInstances().map((i) => i.market)).toEqual(['spot']);
  });

  test('SPOT_PREFERRED: an error that stops spot but not on-demand falls back at once, in the same reconcile', async () => {
    // The account's spot instance limit: no capacity will appear, and on-demand is unaffected.
    await start({ ec2: { faults: { capacityErrors: [{ market: 'spot', code: 'MaxSpotInstanceCountExceeded' }] } } });
    await h.queueJob(1);

    const report = await reconcilePool(h.deps, h.message());

    expect(report.launched).toBe(1);
    expect(liveInstances().map((i) => i.market)).toEqual(['on-demand']);
    expect(h.metrics.errors).toContain('spot');
    expect(h.metrics.fallbacks).toBe(1);
  });

  test('SPOT_ONLY: an error that stops spot launches nothing on-demand and is counted as a spot error, which the SpotUnavailable alarm watches', async () => {
    await start({ configs: [runnerConfig({ spot: 'SPOT_ONLY' })], ec2: { faults: { capacityErrors: [{ market: 'spot', code: 'MaxSpotInstanceCountExceeded' }] } } });
    await h.queueJob(1);

    await expect(reconcilePool(h.deps, h.message())).rejects.toBeInstanceOf(DemandNotMetError);

    expect(liveInstances()).toHaveLength(0);
    expect(new Set(h.metrics.errors)).toEqual(new Set(['spot']));
  });

  test('instance types that no Availability Zone of the subnets offers are a configuration error, not a shortage to retry', async () => {
    // A real type that none of the simulator's zones offers: every override answers InvalidFleetConfiguration.
    await start({ configs: [runnerConfig({ instanceTypes: ['m6a.large'] })], ec2: { faults: { unofferedInstanceTypes: [{ instanceType: 'm6a.large' }] } } });
    await h.queueJob(1);

    await expect(reconcilePool(h.deps, h.message())).rejects.toBeInstanceOf(DemandNotMetError);

    expect(liveInstances()).toHaveLength(0);
    expect(new Set(h.metrics.errors)).toEqual(new Set(['config']));
    // Not a spot shortage: the breaker stays closed, so nothing is bought on-demand instead.
    expect(h.metrics.fallbacks).toBe(0);
  });

  test('ON_DEMAND_ONLY launches on-demand', async () => {
    await start({ configs: [runnerConfig({ spot: 'ON_DEMAND_ONLY' })] });
    await h.queueJob(1);
    await reconcilePool(h.deps, h.message());
    expect(liveInstances().map((i) => i.market)).toEqual(['on-demand']);
  });

  test('attribute-based selection: EC2 chooses types within the vCPU and memory ranges, of the config\'s architecture only', async () => {
    const requirements = { vCpuMin: 2, vCpuMax: 4, memoryMiBMin: 8192, memoryMiBMax: 16384 };
    await start({
      configs: [
        runnerConfig({ instanceTypes: [], instanceRequirements: requirements, spot: 'ON_DEMAND_ONLY' }),
        runnerConfig({ name: 'linux-arm64', parameterName: '/test/runner-configs/linux-arm64', labels: ['arm64', 'linux'], runnerLabels: ['self-hosted', 'linux', 'arm64'], architecture: 'arm64', instanceTypes: [], instanceRequirements: requirements, spot: 'ON_DEMAND_ONLY' }),
      ],
    });
    await h.queueJob(1);
    await h.queueJob(2);
    await reconcilePool(h.deps, h.message());
    const armPool = { poolId: 'octo-org#linux-arm64', configName: 'linux-arm64', scope: { kind: 'org' as const, org: 'octo-org' } };
    await h.queueJob(3, armPool);
    await reconcilePool(h.deps, h.message(armPool));

    const launched = liveInstances();
    expect(launched).toHaveLength(3);
    for (const i of launched) {
      const type = DEFAULT_INSTANCE_TYPES.find((t) => t.name === i.instanceType)!;
      expect(type.vcpus).toBeGreaterThanOrEqual(2);
      expect(type.vcpus).toBeLessThanOrEqual(4);
      expect(type.memoryMiB).toBeGreaterThanOrEqual(8192);
      expect(type.architecture).toBe(i.tags['ephemeral-runners:config'] === 'linux-arm64' ? 'arm64' : 'x86_64');
    }
    expect(launched.filter((i) => i.tags['ephemeral-runners:config'] === 'linux-arm64')).toHaveLength(1);
  });

  test('EC2 throttling fails the reconcile for a retry, and the retry launches', async () => {
    await start();
    await h.queueJob(1);
    h.sim.faults.throttleNext(1, 'CreateFleet');
    await expect(reconcilePool(h.deps, h.message())).rejects.toBeInstanceOf(DemandNotMetError);
    expect(h.metrics.errors).toContain('throttle');
    expect((await reconcilePool(h.deps, h.message())).launched).toBe(1);
  });

  test('maxRunners bounds the pool; the rest waits for a runner to finish', async () => {
    await start({ configs: [runnerConfig({ maxRunners: 2 })] });
    for (let id = 1; id <= 5; id++) await h.queueJob(id);
    const report = await reconcilePool(h.deps, h.message());
    expect(report).toMatchObject({ launched: 2, deferred: 3 });
    expect(liveInstances()).toHaveLength(2);
  });

  test('an instance that never registers within the boot timeout is terminated and replaced', async () => {
    await start();
    await h.queueJob(1);
    await reconcilePool(h.deps, h.message());
    const [first] = await h.runners.listPoolRunners('octo-org#linux-x64');
    h.clock.advance(11 * 60_000);

    const report = await reconcilePool(h.deps, h.message());

    expect(report).toMatchObject({ retired: 1, launched: 1 });
    expect((await h.runners.getRunner(first.instanceId))?.retireReason).toBe('boot-timeout');
    expect(liveInstances()).toHaveLength(1);
    expect(liveInstances()[0].instanceId).not.toBe(first.instanceId);
  });

  test('a pool whose config was removed retires its idle runners and launches nothing', async () => {
    await start();
    await h.queueJob(1);
    await reconcilePool(h.deps, h.message());
    h.configs.configs = [];
    const report = await reconcilePool(h.deps, h.message());
    expect(report).toMatchObject({ launched: 0, retired: 1 });
    expect(liveInstances()).toHaveLength(0);
  });
});

describe('provisioner and recent launches', () => {
  test('a runner that already finished within the recent-launch window is not counted as supply: the next job gets a runner at once', async () => {
    await start();
    await h.queueJob(1);
    await reconcilePool(h.deps, h.message());
    const [first] = await h.runners.listPoolRunners('octo-org#linux-x64');
    // The short job ran and its instance ended, all within a minute of the launch.
    await h.moveJob(1, 'completed', { conclusion: 'success', runnerName: `${PREFIX}${first.instanceId}` });
    await h.runners.transitionRunner(first.instanceId, ['booting'], 'gone', {}, h.clock.now());
    await h.queueJob(2);

    const report = await reconcilePool(h.deps, h.message());

    expect(report.launched).toBe(1);
  });
});

describe('provisioner and jobs a spot interruption failed', () => {
  /** GitHub as far as re-runs go: it re-runs the jobs in `accepted`, refuses (403) the others. */
  function rerunningGitHub(accepted: number[], asked: number[]): GitHubPort {
    const unused = async (): Promise<never> => { throw new Error('not used by re-runs'); };
    return {
      prepare: unused,
      generateJitConfig: unused,
      deleteRunner: unused,
      listRunners: unused,
      getJob: unused,
      listDeliveries: unused,
      redeliver: unused,
      listRunnerDownloads: unused,
      serverRelease: () => undefined,
      rerunJob: async (_owner, _repo, jobId) => {
        asked.push(jobId);
        return accepted.includes(jobId) ? { outcome: 'rerun' } : { outcome: 'refused', reason: 'This workflow run cannot be retried' };
      },
    };
  }

  test('a failed job is re-run with on-demand capacity owed; a refused re-run is counted and dropped; a running one waits', async () => {
    const asked: number[] = [];
    await start({ github: rerunningGitHub([1], asked) });
    for (const jobId of [1, 2]) {
      await h.queueJob(jobId);
      await h.moveJob(jobId, 'completed', { runnerName: `${PREFIX}i-0aaaaaaaaaaaaaaa${jobId}`, conclusion: 'failure' });
    }
    await h.queueJob(3);
    await h.moveJob(3, 'in_progress', { runnerName: `${PREFIX}i-0aaaaaaaaaaaaaaa3` });
    const keys = [1, 2, 3].map((jobId) => ({ githubHost: 'ghes.example.com', jobId }));
    await h.runners.savePool({ ...emptyPool(POOL.poolId, POOL.configName, POOL.scope), interruptedJobs: keys }, h.clock.now());

    await reconcilePool(h.deps, h.message());

    expect(asked).toEqual([1, 2]);
    expect({ reruns: h.metrics.reruns, refused: h.metrics.rerunsRefused }).toEqual({ reruns: 1, refused: 1 });
    const pool = await h.runners.getPool(POOL.poolId);
    expect(pool?.interruptedJobs).toEqual([keys[2]]);
    expect(pool?.spot.onDemandCredits).toBe(1);
  });
});
