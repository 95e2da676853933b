// The lifecycle function's logic on the real adapters: DynamoDB (dynalite), EC2 (the simulator,
// whose emitted EventBridge events are the input) and GitHub (the GHES simulator through Octokit).
// DynamoDB and EC2 calls sign as the lifecycle function's role, decided by IAM against what the
// construct grants it.
import { warmPoolIdOf } from '../../../lambda/core/warm-pool';
import { InterruptedJobUnknownError } from '../../../lambda/lifecycle/errors';
import { handleLifecycleEvent, LifecycleDeps } from '../../../lambda/lifecycle/handle-instance-event';
import { STATE_CHANGE } from '../../../lambda/lifecycle/instance-event';
import { DynamoReconcilerStore } from '../../../lambda/state/dynamo-reconciler-store';
import { DynamoRunnerStore } from '../../../lambda/state/dynamo-runner-store';
import { DynamoStateStore } from '../../../lambda/state/dynamo-state-store';
import { Ec2InstanceEvent } from '../../../sandbox/ec2';
import { LifecycleMetricName } from '../../../src/contracts/metrics';
import {
  Ec2Harness, GhesHarness, GITHUB_HOST, LABELS, MANAGED_BY, POOL, RecordingMetrics, recordJob, runnerRecord, startEc2, startGhes, waitFor,
} from '../reconciler/harness';
import { grantedRole } from '../support/construct-grants';
import { DynamoTestEngine, startDynalite } from '../support/dynalite';
import { InMemoryPoolQueue, ManualClock, silentLogger } from '../support/in-memory-ports';

const isWarning = (e: Ec2InstanceEvent) => e['detail-type'] === 'EC2 Spot Instance Interruption Warning';
const isState = (state: string) => (e: Ec2InstanceEvent) => e['detail-type'] === STATE_CHANGE && (e.detail as { state: string }).state === state;

const role = grantedRole('lifecycle', { managedBy: MANAGED_BY });
let engine: DynamoTestEngine;
let ec2: Ec2Harness;
let ghes: GhesHarness;
let tableName: string;
let runners: DynamoRunnerStore;
let jobs: DynamoStateStore;
let reconcilerState: DynamoReconcilerStore;
let queue: InMemoryPoolQueue;
let metrics: RecordingMetrics<LifecycleMetricName>;
let deps: LifecycleDeps;

beforeAll(async () => {
  engine = await startDynalite({ asRole: role });
  // A simulated second is 50 ms: the two-minute spot notice lasts 6 s, longer than any handler run here.
  ec2 = await startEc2(0.05, {}, role);
  ghes = await startGhes();
});
afterAll(async () => {
  await ghes.stop();
  await ec2.stop();
  await engine.stop();
});
beforeEach(async () => {
  tableName = await engine.createStateTable();
  runners = new DynamoRunnerStore(engine.client, tableName);
  jobs = new DynamoStateStore(engine.client, tableName);
  reconcilerState = new DynamoReconcilerStore(engine.client, tableName);
  queue = new InMemoryPoolQueue();
  metrics = new RecordingMetrics();
  deps = {
    runners,
    pools: runners,
    jobs,
    queue,
    compute: ec2.fleet,
    github: ghes.github,
    reconcilerState,
    clock: new ManualClock(),
    logger: silentLogger(),
    metrics,
  };
});

/** A spot instance with a JIT registration and a runner item in `state`. */
async function registeredRunner(state: 'registered' | 'busy', job?: number) {
  const instanceId = await ec2.launch('spot');
  const jit = await ghes.register(instanceId);
  const at = deps.clock.now();
  await runners.putRunner(runnerRecord(instanceId, state, at, {
    runnerId: jit.runnerId, runnerName: jit.runnerName, registeredAt: at, ...(job ? { job: { githubHost: GITHUB_HOST, jobId: job } } : {}),
  }));
  return { instanceId, ...jit };
}

function resetCalls(): void {
  ghes.sim.resetApiCalls();
  ec2.sim.resetApiCalls();
}

describe('spot interruption warning', () => {
  test('an idle runner is retired, deregistered and terminated at once, and its pool is told', async () => {
    // Arrange
    const { instanceId, runnerName } = await registeredRunner('registered');
    ec2.sim.interrupt(instanceId);
    const warning = await ec2.nextEvent(instanceId, isWarning);
    resetCalls();

    // Act
    const outcome = await handleLifecycleEvent(warning, deps);

    // Assert
    expect(outcome).toBe('retired');
    expect(await runners.getRunner(instanceId)).toMatchObject({ state: 'retiring', retireReason: 'interrupted' });
    expect(ghes.sim.runners().map((r) => r.name)).not.toContain(runnerName);
    expect(ghes.portCalls()).toEqual({ 'DELETE /orgs/{org}/actions/runners/{runner_id}': 1 });
    expect(ec2.sim.apiCalls().byAction).toEqual({ TerminateInstances: 1 });
    // Terminated by us now, not reclaimed by spot two minutes later.
    expect(ec2.sim.instance(instanceId)!.stateReason?.code).toBe('Client.UserInitiatedShutdown');
    expect(queue.messages).toEqual([expect.objectContaining({ poolId: POOL.poolId, reason: 'spot-interruption', deliveryId: warning.id })]);
    expect(metrics.total('SpotInterruptions', { runner: 'idle' })).toBe(1);
  });

  test('then the instance\'s shutdown closes the runner without asking GitHub again', async () => {
    // Arrange
    const { instanceId } = await registeredRunner('registered');
    ec2.sim.interrupt(instanceId);
    await handleLifecycleEvent(await ec2.nextEvent(instanceId, isWarning), deps);
    const shuttingDown = await ec2.nextEvent(instanceId, isState('shutting-down'));
    const terminated = await ec2.nextEvent(instanceId, isState('terminated'));
    queue.messages.length = 0;
    resetCalls();

    // Act
    const outcomes = [await handleLifecycleEvent(shuttingDown, deps), await handleLifecycleEvent(terminated, deps)];

    // Assert
    expect(outcomes).toEqual(['closed', 'already-gone']);
    expect(await runners.getRunner(instanceId)).toMatchObject({ state: 'gone' });
    expect(ghes.sim.apiCalls().total).toBe(0);
    expect(queue.messages.map((m) => m.reason)).toEqual(['instance-state']);
  });

  test('a busy runner has its job marked on the pool and is left running', async () => {
    // Arrange
    const { instanceId } = await registeredRunner('busy', 7001);
    const before = await runners.getRunner(instanceId);
    ec2.sim.interrupt(instanceId);
    const warning = await ec2.nextEvent(instanceId, isWarning);
    resetCalls();

    // Act: the warning, and a duplicate of it.
    const outcomes = [await handleLifecycleEvent(warning, deps), await handleLifecycleEvent(warning, deps)];

    // Assert
    expect(outcomes).toEqual(['job-marked', 'job-marked']);
    expect((await runners.getPool(POOL.poolId))!.interruptedJobs).toEqual([{ githubHost: GITHUB_HOST, jobId: 7001 }]);
    expect(await runners.getRunner(instanceId)).toEqual(before);
    expect(ghes.sim.apiCalls().total).toBe(0);
    expect(ec2.sim.apiCalls().total).toBe(0);
    expect(ec2.sim.instance(instanceId)!.state).toBe('running');
    expect(queue.messages).toEqual([]);
    expect(metrics.total('SpotInterruptions', { runner: 'busy' })).toBe(1);
  });

  test('an idle runner that took a job just before the warning has that job marked instead', async () => {
    // Arrange: GitHub hands the job to the runner; our table has seen the in_progress event but not linked the runner yet.
    const { instanceId, runnerName, encodedJitConfig } = await registeredRunner('registered');
    ghes.sim.startRunner(encodedJitConfig);
    const jobId = ghes.sim.queueJob('app', LABELS, 10 * 60_000);
    await ghes.sim.waitForJob(jobId, 'in_progress');
    await recordJob(jobs, jobId, 'in_progress', deps.clock.now(), runnerName);
    ec2.sim.interrupt(instanceId);
    const warning = await ec2.nextEvent(instanceId, isWarning);
    resetCalls();

    // Act
    const outcome = await handleLifecycleEvent(warning, deps);

    // Assert
    expect(outcome).toBe('job-marked');
    expect((await runners.getPool(POOL.poolId))!.interruptedJobs).toEqual([{ githubHost: GITHUB_HOST, jobId }]);
    expect(await runners.getRunner(instanceId)).toMatchObject({ state: 'registered' });
    expect(ghes.portCalls()).toEqual({ 'DELETE /orgs/{org}/actions/runners/{runner_id}': 1 });
    expect(ec2.sim.apiCalls().total).toBe(0);
  });
  test('a booting runner is retired and terminated without a GitHub call: it holds no registration', async () => {
    // Arrange
    const instanceId = await ec2.launch('spot');
    await runners.putRunner(runnerRecord(instanceId, 'booting', deps.clock.now()));
    ec2.sim.interrupt(instanceId);
    const warning = await ec2.nextEvent(instanceId, isWarning);
    resetCalls();
    const factoryCallsBefore = ghes.factoryCalls();

    // Act
    const outcome = await handleLifecycleEvent(warning, deps);

    // Assert
    expect(outcome).toBe('retired');
    expect(await runners.getRunner(instanceId)).toMatchObject({ state: 'retiring', retireReason: 'interrupted' });
    expect(ghes.factoryCalls()).toBe(factoryCallsBefore);
    expect(ec2.sim.apiCalls().byAction).toEqual({ TerminateInstances: 1 });
    expect(queue.messages.map((m) => m.reason)).toEqual(['spot-interruption']);
  });

  test('an idle runner that took a job no event has named yet keeps its instance, and the warning fails to be retried', async () => {
    // Arrange: GitHub has handed the runner a job; no in_progress event has reached our table yet.
    const { instanceId, encodedJitConfig } = await registeredRunner('registered');
    ghes.sim.startRunner(encodedJitConfig);
    await ghes.sim.waitForJob(ghes.sim.queueJob('app', LABELS, 10 * 60_000), 'in_progress');
    const before = await runners.getRunner(instanceId);
    ec2.sim.interrupt(instanceId);
    const warning = await ec2.nextEvent(instanceId, isWarning);
    resetCalls();

    // Act
    const outcome = handleLifecycleEvent(warning, deps);

    // Assert
    await expect(outcome).rejects.toBeInstanceOf(InterruptedJobUnknownError);
    expect(await runners.getRunner(instanceId)).toEqual(before);
    expect(await runners.getPool(POOL.poolId)).toBeUndefined();
    expect(ec2.sim.apiCalls().total).toBe(0);
  });
});

describe('instance state changes', () => {
  test('an instance shutting down closes its idle runner without a GitHub call: gone, pool told, scope left to the ghost sweep; later events change nothing', async () => {
    // Arrange: a runner that never got a job; its registration is still at GitHub.
    const { instanceId, runnerName } = await registeredRunner('registered');
    const running = await ec2.nextEvent(instanceId, isState('running'));
    ec2.sim.poweroff(instanceId);
    const shuttingDown = await ec2.nextEvent(instanceId, isState('shutting-down'));
    const terminated = await ec2.nextEvent(instanceId, isState('terminated'));
    resetCalls();

    // Act
    const first = await handleLifecycleEvent(shuttingDown, deps);
    const closed = await runners.getRunner(instanceId);
    const later = [
      await handleLifecycleEvent(terminated, deps),
      await handleLifecycleEvent(terminated, deps), // EventBridge delivers at least once
      await handleLifecycleEvent(running, deps), // and in no promised order
    ];

    // Assert
    expect(first).toBe('closed');
    expect(closed).toMatchObject({ state: 'gone', version: 2 });
    expect(ghes.sim.apiCalls().total).toBe(0);
    expect(ghes.sim.runners().map((r) => r.name)).toContain(runnerName); // the sweep's to delete
    // The scope's ghost sweep is due at once.
    const now = deps.clock.now();
    expect((await reconcilerState.load()).state.scopes).toEqual([{ scope: POOL.scope, lastActiveAt: now, ghostsLeftAt: now }]);
    expect(metrics.total('RegistrationsLeftToSweep', { reason: 'idle' })).toBe(1);
    expect(queue.messages).toEqual([expect.objectContaining({ poolId: POOL.poolId, reason: 'instance-state' })]);
    expect(later).toEqual(['already-gone', 'already-gone', 'ignored']);
    expect(await runners.getRunner(instanceId)).toEqual(closed);
    expect(metrics.total('RunnersClosed', { from: 'registered' })).toBe(1);
  });

  test('a runner that ran its job while its webhooks were lost is closed without a GitHub call; GitHub removed its registration itself', async () => {
    // Arrange: GitHub ran a job on the runner, but the control plane never heard of it (still `registered`).
    const { instanceId, runnerName, encodedJitConfig } = await registeredRunner('registered');
    const started = ghes.sim.startRunner(encodedJitConfig);
    const jobId = ghes.sim.queueJob('app', LABELS, 50);
    await ghes.sim.waitForJob(jobId, 'completed');
    await started.exit;
    ec2.sim.poweroff(instanceId);
    const shuttingDown = await ec2.nextEvent(instanceId, isState('shutting-down'));
    resetCalls();

    // Act
    const outcome = await handleLifecycleEvent(shuttingDown, deps);

    // Assert
    expect(outcome).toBe('closed');
    expect(ghes.sim.apiCalls().total).toBe(0);
    expect(ghes.sim.runners().map((r) => r.name)).not.toContain(runnerName);
    expect(await runners.getRunner(instanceId)).toMatchObject({ state: 'gone' });
  });

  test('a busy runner whose job completed is closed without a GitHub call: GitHub removed the JIT runner itself', async () => {
    // Arrange
    const instanceId = await ec2.launch('on-demand');
    await recordJob(jobs, 7002, 'completed', deps.clock.now(), `er-${instanceId}`);
    await runners.putRunner(runnerRecord(instanceId, 'busy', deps.clock.now(), {
      market: 'on-demand', runnerId: 999, runnerName: `er-${instanceId}`, job: { githubHost: GITHUB_HOST, jobId: 7002 },
    }));
    ec2.sim.poweroff(instanceId);
    const shuttingDown = await ec2.nextEvent(instanceId, isState('shutting-down'));
    resetCalls();

    // Act
    const outcome = await handleLifecycleEvent(shuttingDown, deps);

    // Assert
    expect(outcome).toBe('closed');
    expect(ghes.sim.apiCalls().total).toBe(0);
    expect(queue.messages.map((m) => m.reason)).toEqual(['instance-state']);
  });

  test('a runner that dies mid-job is closed without a GitHub call (GitHub would answer busy), and its scope handed to the ghost sweep', async () => {
    // Arrange: the instance dies mid-job; GitHub has not noticed yet.
    const { instanceId, runnerName, encodedJitConfig } = await registeredRunner('registered');
    ghes.sim.startRunner(encodedJitConfig);
    const jobId = ghes.sim.queueJob('app', LABELS, 10 * 60_000);
    await ghes.sim.waitForJob(jobId, 'in_progress');
    await runners.transitionRunner(instanceId, ['registered'], 'busy', { job: { githubHost: GITHUB_HOST, jobId } }, deps.clock.now());
    ec2.sim.poweroff(instanceId);
    const shuttingDown = await ec2.nextEvent(instanceId, isState('shutting-down'));
    resetCalls();

    // Act
    const outcome = await handleLifecycleEvent(shuttingDown, deps);

    // Assert
    expect(outcome).toBe('closed');
    expect(ghes.sim.apiCalls().total).toBe(0);
    expect(await runners.getRunner(instanceId)).toMatchObject({ state: 'gone' });
    expect(ghes.sim.runners().find((r) => r.name === runnerName)).toMatchObject({ busy: true });
    // GitHub removes it with its job: the scope stays recent, for the sweep's backstop only (no ghost marked).
    expect((await reconcilerState.load()).state.scopes).toEqual([{ scope: POOL.scope, lastActiveAt: deps.clock.now(), sweptAt: deps.clock.now() }]);
  });

  test('a burst of ending runners marks their scope for the ghost sweep once, not once per runner', async () => {
    // Arrange: two busy runners of one scope end within a minute.
    const ids = [await ec2.launch('on-demand'), await ec2.launch('on-demand')];
    for (const [n, id] of ids.entries()) {
      await runners.putRunner(runnerRecord(id, 'busy', deps.clock.now(), {
        market: 'on-demand', runnerId: 900 + n, runnerName: `er-${id}`, job: { githubHost: GITHUB_HOST, jobId: 7100 + n },
      }));
    }
    const events = [];
    for (const id of ids) {
      ec2.sim.poweroff(id);
      events.push(await ec2.nextEvent(id, isState('shutting-down')));
    }

    // Act
    await handleLifecycleEvent(events[0], deps);
    const afterFirst = await reconcilerState.load();
    await handleLifecycleEvent(events[1], deps);

    // Assert: the second close found the scope marked and wrote nothing.
    expect(afterFirst.state.scopes.map((s) => s.scope)).toEqual([POOL.scope]);
    expect((await reconcilerState.load()).version).toBe(afterFirst.version);
    expect(await runners.getRunner(ids[1])).toMatchObject({ state: 'gone' });
  });

  test('a retired runner is closed without a second DELETE: the retirement deleted its registration', async () => {
    // Arrange: retired as surplus (the provisioner deletes the registration, then terminates).
    const { instanceId, runnerId } = await registeredRunner('registered');
    await ghes.github().then((github) => github.deleteRunner(POOL.scope, runnerId));
    await runners.transitionRunner(instanceId, ['registered'], 'retiring', { retireReason: 'surplus' }, deps.clock.now());
    await ec2.fleet.terminate([instanceId]);
    const shuttingDown = await ec2.nextEvent(instanceId, isState('shutting-down'));
    resetCalls();

    // Act
    const outcome = await handleLifecycleEvent(shuttingDown, deps);

    // Assert
    expect(outcome).toBe('closed');
    expect(ghes.sim.apiCalls().total).toBe(0);
    expect(await runners.getRunner(instanceId)).toMatchObject({ state: 'gone' });
    expect(metrics.total('RegistrationsLeftToSweep')).toBe(0);
  });
  test('a stopped runner instance is closed and terminated: it would never run a job again', async () => {
    // Arrange
    const instanceId = await ec2.launch('on-demand', 'stops');
    await runners.putRunner(runnerRecord(instanceId, 'booting', deps.clock.now(), { market: 'on-demand' }));
    ec2.sim.poweroff(instanceId);
    const stopped = await ec2.nextEvent(instanceId, isState('stopped'));
    resetCalls();

    // Act
    const outcome = await handleLifecycleEvent(stopped, deps);

    // Assert
    expect(outcome).toBe('closed');
    expect(ec2.sim.apiCalls().byAction).toEqual({ TerminateInstances: 1 });
    await waitFor(() => ec2.sim.instance(instanceId)?.state === 'terminated');
    expect(ghes.sim.apiCalls().total).toBe(0);
  });
});

describe('warm pool instances', () => {
  const WARM_POOL_ID = warmPoolIdOf(POOL.configName);

  /** An instance of the warm launch template (shutdown behaviour stop), recorded as warming: its first boot. */
  async function warmingRunner() {
    const instanceId = await ec2.launch('on-demand', 'stops');
    await runners.putRunner(runnerRecord(instanceId, 'warming', deps.clock.now(), { market: 'on-demand', poolId: WARM_POOL_ID, scope: undefined }));
    return instanceId;
  }

  test('a warming instance that powers off parks on `stopped`: not terminated, no GitHub call, no pool message', async () => {
    // Arrange
    const instanceId = await warmingRunner();
    ec2.sim.poweroff(instanceId);
    const stopping = await ec2.nextEvent(instanceId, isState('stopping'));
    const stopped = await ec2.nextEvent(instanceId, isState('stopped'));
    resetCalls();

    // Act
    const outcomes = [];
    for (const event of [stopping, stopped, stopped]) outcomes.push(await handleLifecycleEvent(event, deps));

    // Assert
    expect(outcomes).toEqual(['ignored', 'parked', 'parked']);
    expect(await runners.getRunner(instanceId)).toMatchObject({ state: 'warm', poolId: WARM_POOL_ID });
    expect(ec2.sim.instance(instanceId)?.state).toBe('stopped');
    expect(ec2.sim.apiCalls().total).toBe(0);
    expect(ghes.sim.apiCalls().total).toBe(0);
    expect(queue.messages).toEqual([]);
    expect(metrics.total('WarmInstancesParked')).toBe(1);
  });

  test('a stop event older than the instance\'s claim is its warm-up\'s own, delivered late: the claimed instance is not terminated', async () => {
    // Arrange
    const instanceId = await warmingRunner();
    ec2.sim.poweroff(instanceId);
    const stopped = await ec2.nextEvent(instanceId, isState('stopped'));
    await handleLifecycleEvent(stopped, deps);
    const claimedAt = Date.parse(stopped.time) + 5_000;
    await runners.transitionRunner(instanceId, ['warm'], 'booting', { claim: { poolId: POOL.poolId, scope: POOL.scope, at: claimedAt } }, claimedAt);
    resetCalls();

    // Act
    const outcome = await handleLifecycleEvent(stopped, deps);

    // Assert
    expect(outcome).toBe('stale-event');
    expect(await runners.getRunner(instanceId)).toMatchObject({ state: 'booting', poolId: POOL.poolId, scope: POOL.scope, launchedAt: claimedAt });
    expect(ec2.sim.apiCalls().total).toBe(0);
  });

  test('a claimed instance that stops after its job is closed and terminated like any runner', async () => {
    // Arrange
    const instanceId = await warmingRunner();
    const claimedAt = deps.clock.now() - 60_000;
    await runners.transitionRunner(instanceId, ['warming'], 'booting', { claim: { poolId: POOL.poolId, scope: POOL.scope, at: claimedAt } }, claimedAt);
    ec2.sim.poweroff(instanceId);
    const stopped = await ec2.nextEvent(instanceId, isState('stopped'));
    resetCalls();

    // Act
    const outcome = await handleLifecycleEvent(stopped, deps);

    // Assert
    expect(outcome).toBe('closed');
    expect(ec2.sim.apiCalls().byAction).toEqual({ TerminateInstances: 1 });
    expect(queue.messages).toEqual([expect.objectContaining({ poolId: POOL.poolId, reason: 'instance-state' })]);
  });

  test('a warm instance that is terminated is closed without GitHub, and its warm pool is told to refill', async () => {
    // Arrange
    const instanceId = await warmingRunner();
    await ec2.fleet.terminate([instanceId]);
    const terminated = await ec2.nextEvent(instanceId, isState('terminated'));
    resetCalls();

    // Act
    const outcome = await handleLifecycleEvent(terminated, deps);

    // Assert
    expect(outcome).toBe('closed');
    expect((await runners.getRunner(instanceId))?.state).toBe('gone');
    expect(ghes.sim.apiCalls().total).toBe(0);
    expect(queue.messages).toEqual([
      expect.objectContaining({ kind: 'warm-pool', poolId: WARM_POOL_ID, configName: POOL.configName, reason: 'instance-state' }),
    ]);
  });
});

describe('events the function does not act on', () => {
  test('every event of an instance that is not a runner of ours writes nothing and calls neither GitHub nor EC2', async () => {
    // Arrange: somebody else's spot instance is interrupted, then shuts down.
    const instanceId = await ec2.launch('spot');
    ec2.sim.interrupt(instanceId);
    await ec2.nextEvent(instanceId, isWarning);
    ec2.sim.poweroff(instanceId);
    await ec2.nextEvent(instanceId, isState('terminated'));
    const events = ec2.events.filter((e) => e.detail['instance-id'] === instanceId);
    resetCalls();
    const factoryCallsBefore = ghes.factoryCalls();

    // Act
    const outcomes = [];
    for (const event of events) outcomes.push(await handleLifecycleEvent(event, deps));

    // Assert
    expect(outcomes).toEqual(['ignored', 'ignored', 'unknown-instance', 'unknown-instance', 'unknown-instance']);
    expect(await engine.scan(tableName)).toEqual([]);
    expect(ghes.factoryCalls()).toBe(factoryCallsBefore);
    expect(ghes.sim.apiCalls().total).toBe(0);
    expect(ec2.sim.apiCalls().total).toBe(0);
    expect(queue.messages).toEqual([]);
  });

  test('a malformed EC2 event is dropped with a metric; an event of another kind is ignored', async () => {
    // Arrange
    const malformed = { 'id': 'e-1', 'source': 'aws.ec2', 'detail-type': STATE_CHANGE, 'detail': { 'instance-id': 'not-an-id', 'state': 'terminated' } };
    const other = { 'id': 'e-2', 'source': 'aws.ec2', 'detail-type': 'EC2 Instance Rebalance Recommendation', 'detail': { 'instance-id': 'i-0123456789abcdef0' } };

    // Act
    const outcomes = [await handleLifecycleEvent(malformed, deps), await handleLifecycleEvent(other, deps)];

    // Assert
    expect(outcomes).toEqual(['ignored', 'ignored']);
    expect(metrics.total('MalformedEvents')).toBe(1);
    expect(metrics.total('IgnoredEvents')).toBe(1);
    expect(await engine.scan(tableName)).toEqual([]);
  });
});

describe('the lifecycle function\'s role', () => {
  test('without ec2:TerminateInstances, which the construct grants, an interrupted idle runner is not terminated: EC2 refuses with UnauthorizedOperation', async () => {
    // Arrange
    const { instanceId } = await registeredRunner('registered');
    ec2.sim.interrupt(instanceId);
    const warning = await ec2.nextEvent(instanceId, isWarning);
    resetCalls();

    // Act
    const handled = role.without(['ec2:TerminateInstances'], () => handleLifecycleEvent(warning, deps));

    // Assert: the event fails (Lambda retries it) and the instance runs on until spot reclaims it.
    await expect(handled).rejects.toThrow();
    expect(ec2.sim.apiCalls().errorsByCode).toEqual({ UnauthorizedOperation: 1 });
    expect(ec2.sim.instance(instanceId)!.state).toBe('running');
  });
});
