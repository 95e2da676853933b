// The reconciler run on the real adapters: DynamoDB (dynalite), EC2 (the simulator, through
// Ec2Fleet) and GitHub (the GHES simulator through GitHubApi), with webhook deliveries to a
// loopback receiver that can be made to fail. DynamoDB and EC2 calls sign as the reconciler's role,
// decided by IAM against what the construct grants it.
import {
  Ec2Harness, GhesHarness, GITHUB_HOST, LABELS, MANAGED_BY, POOL, PREFIX, Receiver, reconcilerDeps, RecordingMetrics, recordJob,
  runnerRecord, startEc2, startGhes, startReceiver,
} from './harness';
import { PoolMessage } from '../../../lambda/core/pool-message';
import { Clock } from '../../../lambda/core/ports';
import { markGhostsLeft, updateReconcilerState } from '../../../lambda/core/reconciler-state';
import { warmPoolIdOf } from '../../../lambda/core/warm-pool';
import { ReconcilerLimits } from '../../../lambda/reconciler/reconciler-limits';
import { ReconcilerDeps, runReconciler } from '../../../lambda/reconciler/run-reconciler';
import { DynamoReconcilerStore } from '../../../lambda/state/dynamo-reconciler-store';
import { DynamoRunnerStore } from '../../../lambda/state/dynamo-runner-store';
import { DynamoStateStore } from '../../../lambda/state/dynamo-state-store';
import { ReconcilerMetricName } from '../../../src/contracts/metrics';
import { grantedRole } from '../support/construct-grants';
import { DynamoTestEngine, startDynalite } from '../support/dynalite';
import { InMemoryPoolQueue, ManualClock } from '../support/in-memory-ports';

const MINUTE = 60_000;
const BOOT_TIMEOUT = 10 * MINUTE;
const ATTEMPTS_ROUTE = 'POST /app/hook/deliveries/{delivery_id}/attempts';
const DELIVERIES_ROUTE = 'GET /app/hook/deliveries';
const JOB_ROUTE = 'GET /repos/{owner}/{repo}/actions/jobs/{job_id}';
const DELETE_ROUTE = 'DELETE /orgs/{org}/actions/runners/{runner_id}';

let engine: DynamoTestEngine;
let ghes: GhesHarness;
let ec2: Ec2Harness;
let receiver: Receiver;
let tableName: string;
let runners: DynamoRunnerStore;
let jobs: DynamoStateStore;
let state: DynamoReconcilerStore;
let queue: InMemoryPoolQueue;
let metrics: RecordingMetrics<ReconcilerMetricName>;

const role = grantedRole('reconciler', { managedBy: MANAGED_BY });

beforeAll(async () => {
  engine = await startDynalite({ asRole: role });
  receiver = await startReceiver();
  ghes = await startGhes({ webhookUrl: receiver.url });
});
afterAll(async () => {
  await ghes.stop();
  await receiver.close();
  await engine.stop();
});
beforeEach(async () => {
  // A simulated minute is 60 ms: instances age past the boot timeout within a test.
  ec2 = await startEc2(0.001, {}, role);
  tableName = await engine.createStateTable();
  runners = new DynamoRunnerStore(engine.client, tableName);
  jobs = new DynamoStateStore(engine.client, tableName);
  state = new DynamoReconcilerStore(engine.client, tableName);
  queue = new InMemoryPoolQueue();
  metrics = new RecordingMetrics();
  ghes.sim.resetApiCalls();
  receiver.fail = () => false;
});
afterEach(async () => {
  await ec2.stop();
});

function deps(clock: Clock, limits: Partial<ReconcilerLimits> = {}, warmPoolConfigs: string[] = [], warmPoolSchedules?: ReconcilerDeps['warmPoolSchedules']): ReconcilerDeps {
  return reconcilerDeps({ runners, jobs, state, ec2, ghes, queue, metrics }, clock, limits, { warmPoolConfigs, warmPoolSchedules });
}

/** GHES's clock is real time; so is this one, moved on by hand. */
function realClock(): ManualClock {
  return new ManualClock(Date.now());
}

describe('idle', () => {
  test('with no active pool and no recently active scope, a run\'s only GitHub call is a read of the delivery log, at most every 15 minutes', async () => {
    // Arrange
    const clock = realClock();

    // Act: runs a minute apart, then one 15 minutes after the first.
    const first = await runReconciler(deps(clock), 'run-1');
    clock.advance(MINUTE);
    const next = await runReconciler(deps(clock), 'run-2');
    const written = await engine.scan(tableName);
    clock.advance(14 * MINUTE);
    const later = await runReconciler(deps(clock), 'run-3');

    // Assert
    expect(first).toMatchObject({ idle: true, githubCalls: 1, failedSteps: [] });
    expect(next).toMatchObject({ idle: true, githubCalls: 0, failedSteps: [] });
    expect(later).toMatchObject({ idle: true, githubCalls: 1, failedSteps: [] });
    expect(ghes.portCalls()).toEqual({ [DELIVERIES_ROUTE]: 2 });
    // The state item alone: where the log was read to, and when.
    expect(written).toEqual([expect.objectContaining({ pk: 'RECONCILER' })]);
    expect(queue.messages).toEqual([]);
  });

  test('a job arriving a minute after an idle read of the delivery log: the first sweep does not read it again; the next one, two minutes on, does', async () => {
    // Arrange: an idle run reads the log; a minute later a pool is active.
    const clock = realClock();
    await runReconciler(deps(clock), 'run-1');
    clock.advance(MINUTE);
    await runners.putRunner(runnerRecord('i-0000000000000000b', 'registered', clock.now()));

    // Act
    const first = await runReconciler(deps(clock), 'run-2');
    const readsAfterFirst = ghes.portCalls()[DELIVERIES_ROUTE];
    clock.advance(2 * MINUTE);
    await runReconciler(deps(clock), 'run-3');

    // Assert
    expect(first).toMatchObject({ idle: false, failedSteps: [] });
    expect(readsAfterFirst).toBe(1);
    expect(ghes.portCalls()[DELIVERIES_ROUTE]).toBe(2);
  });

  test('a scope active within the sweep window keeps the GitHub sweeps going; after it, they stop', async () => {
    // Arrange: a pool was active at T0, and is not any more.
    const clock = realClock();
    await runners.putRunner(runnerRecord('i-0000000000000000a', 'registered', clock.now()));
    await runReconciler(deps(clock), 'run-1');
    await runners.transitionRunner('i-0000000000000000a', ['registered'], 'gone', {}, clock.now());

    // Act
    clock.advance(30 * MINUTE);
    const within = await runReconciler(deps(clock), 'run-2');
    clock.advance(31 * MINUTE);
    ghes.sim.resetApiCalls();
    const after = await runReconciler(deps(clock), 'run-3');

    // Assert: after it, the delivery log alone is read (its last read was 31 minutes before).
    expect(within).toMatchObject({ idle: false, activePools: 0 });
    expect(within.githubCalls).toBeGreaterThan(0);
    expect(after).toMatchObject({ idle: true, githubCalls: 1 });
    expect(ghes.portCalls()).toEqual({ [DELIVERIES_ROUTE]: 1 });
  });
});

describe('pools', () => {
  test('every active pool gets a reconciler message naming the run', async () => {
    // Arrange
    const clock = realClock();
    await recordJob(jobs, 9001, 'queued', clock.now());
    await runners.putRunner({ ...runnerRecord('i-0000000000000000b', 'booting', clock.now()), poolId: 'alice/tool#linux-x64', scope: { kind: 'repo', owner: 'alice', repo: 'tool' } });

    // Act
    await runReconciler(deps(clock), 'run-7');

    // Assert
    expect(queue.messages.map((m) => [m.poolId, m.reason, m.deliveryId])).toEqual([
      ['alice/tool#linux-x64', 'reconciler', 'run-7'],
      [POOL.poolId, 'reconciler', 'run-7'],
    ]);
    expect((queue.messages[0] as PoolMessage).scope).toEqual({ kind: 'repo', owner: 'alice', repo: 'tool' });
  });
});

describe('orphan instances', () => {
  test('an instance with no live runner older than the boot timeout is terminated; a young one and a live runner\'s are spared', async () => {
    // Arrange
    const unknown = await ec2.launch();
    const gone = await ec2.launch();
    const live = await ec2.launch();
    await runners.putRunner(runnerRecord(gone, 'gone', ec2.sim.clock.now()));
    await runners.putRunner(runnerRecord(live, 'registered', ec2.sim.clock.now()));
    await ec2.sim.clock.sleep(BOOT_TIMEOUT + MINUTE);
    // A launch whose runner item is still being written: no item yet.
    const young = await ec2.launch();

    // Act
    const summary = await runReconciler(deps(ec2.sim.clock), 'run-1');

    // Assert
    expect(summary.orphansTerminated.sort()).toEqual([gone, unknown].sort());
    for (const id of [gone, unknown]) expect(['shutting-down', 'terminated']).toContain(ec2.sim.instance(id)!.state);
    for (const id of [live, young]) expect(ec2.sim.instance(id)!.state).toBe('running');
    expect(metrics.total('OrphansTerminated')).toBe(2);
    // The fleet's size as the run found it, for the instance-ceiling alarm.
    expect(metrics.counts.filter((c) => c.name === 'LiveInstances').map((c) => c.value)).toEqual([4]);
  });
});

describe('warm pools', () => {
  test('every sweep hands each warm pool to the provisioner, even while idle, and without a GitHub call of its own', async () => {
    // Act
    const summary = await runReconciler(deps(realClock(), {}, ['linux-x64']), 'run-1');

    // Assert: the one call is the idle read of the delivery log.
    expect(summary).toMatchObject({ idle: true, githubCalls: 1, warmPoolsMessaged: 1, failedSteps: [] });
    expect(queue.messages).toEqual([expect.objectContaining({ kind: 'warm-pool', poolId: warmPoolIdOf('linux-x64'), reason: 'reconciler', deliveryId: 'run-1' })]);
    expect(ghes.portCalls()).toEqual({ [DELIVERIES_ROUTE]: 1 });
  });

  describe('kept on a schedule (weekdays 8 to 19 in Berlin)', () => {
    const schedules = { 'linux-x64': { timeZone: 'Europe/Berlin', weekdays: [1, 2, 3, 4, 5], startHour: 8, endHour: 19 } };
    const SATURDAY_4AM_BERLIN = Date.UTC(2026, 11, 5, 3, 0);
    const MONDAY_10AM_BERLIN = Date.UTC(2026, 11, 7, 9, 0);

    test('an empty pool off its schedule costs nothing: no message, so no provisioner run', async () => {
      const summary = await runReconciler(deps(new ManualClock(SATURDAY_4AM_BERLIN), {}, ['linux-x64'], schedules), 'run-1');

      expect(summary).toMatchObject({ idle: true, warmPoolsMessaged: 0, failedSteps: [] });
      expect(queue.messages).toEqual([]);
    });

    test('within its hours it goes to the provisioner every sweep, to be filled and kept fresh', async () => {
      const summary = await runReconciler(deps(new ManualClock(MONDAY_10AM_BERLIN), {}, ['linux-x64'], schedules), 'run-1');

      expect(summary.warmPoolsMessaged).toBe(1);
      expect(queue.messages).toEqual([expect.objectContaining({ kind: 'warm-pool', poolId: warmPoolIdOf('linux-x64') })]);
    });

    test('off its schedule, a pool that still holds an instance goes to the provisioner, to be emptied', async () => {
      const parked = await ec2.launch('on-demand', 'stops');
      await runners.putRunner(runnerRecord(parked, 'warm', SATURDAY_4AM_BERLIN, { market: 'on-demand', poolId: warmPoolIdOf('linux-x64'), scope: undefined }));

      const summary = await runReconciler(deps(new ManualClock(SATURDAY_4AM_BERLIN), {}, ['linux-x64'], schedules), 'run-1');

      expect(summary.warmPoolsMessaged).toBe(1);
      expect(queue.messages).toEqual([expect.objectContaining({ kind: 'warm-pool', poolId: warmPoolIdOf('linux-x64') })]);
    });
  });

  test('a warm pool no config keeps any more still goes to the provisioner while it holds instances, to be emptied', async () => {
    // Arrange: a parked instance of a warm pool the deployment no longer names.
    const parked = await ec2.launch('on-demand', 'stops');
    await runners.putRunner(runnerRecord(parked, 'warm', ec2.sim.clock.now(), { market: 'on-demand', poolId: warmPoolIdOf('gpu'), configName: 'gpu', scope: undefined }));

    // Act
    const summary = await runReconciler(deps(ec2.sim.clock), 'run-1');

    // Assert
    expect(summary.warmPoolsMessaged).toBe(1);
    expect(queue.messages).toEqual([expect.objectContaining({ kind: 'warm-pool', poolId: warmPoolIdOf('gpu') })]);
  });

  test('a parked instance, however old, is no orphan: its runner item is live', async () => {
    // Arrange
    const parked = await ec2.launch('on-demand', 'stops');
    await runners.putRunner(runnerRecord(parked, 'warm', ec2.sim.clock.now(), { market: 'on-demand', poolId: warmPoolIdOf('linux-x64'), scope: undefined }));
    ec2.sim.poweroff(parked);
    await ec2.sim.clock.sleep(BOOT_TIMEOUT + MINUTE);

    // Act
    const summary = await runReconciler(deps(ec2.sim.clock, {}, ['linux-x64']), 'run-1');

    // Assert
    expect(summary.orphansTerminated).toEqual([]);
    expect(ec2.sim.instance(parked)?.state).toBe('stopped');
    expect((await runners.getRunner(parked))?.state).toBe('warm');
  });
});

describe('instances of live runners whose end went unnoticed', () => {
  test('a retirement whose terminate was lost: its stopped warm pool instance is terminated once it has been retiring 10 minutes, not before', async () => {
    // Arrange: a parked instance retired (its pool removed); the provisioner's terminate never went out.
    const parked = await ec2.launch('on-demand', 'stops');
    ec2.sim.poweroff(parked);
    await ec2.sim.clock.sleep(MINUTE);
    expect(ec2.sim.instance(parked)?.state).toBe('stopped');
    const retiredAt = ec2.sim.clock.now();
    await runners.putRunner(runnerRecord(parked, 'retiring', retiredAt, { market: 'on-demand', poolId: warmPoolIdOf('linux-x64'), scope: undefined, retireReason: 'surplus' }));

    // Act: a sweep within the grace, then one after it.
    await ec2.sim.clock.sleep(5 * MINUTE);
    const early = await runReconciler(deps(ec2.sim.clock), 'run-1');
    await ec2.sim.clock.sleep(6 * MINUTE);
    const late = await runReconciler(deps(ec2.sim.clock), 'run-2');

    // Assert
    expect(early.stalledTerminated).toEqual([]);
    expect(late.stalledTerminated).toEqual([parked]);
    expect(['shutting-down', 'terminated']).toContain(ec2.sim.instance(parked)?.state);
    expect(metrics.counts).toContainEqual(expect.objectContaining({ name: 'StalledInstancesTerminated', value: 1 }));
  });

  test('a claimed instance left stopped 5 minutes after its claim (its stop event lost) is retired, so it is no pool\'s supply, and terminated', async () => {
    // Arrange: claimed, registered, ran nothing, powered off; the lifecycle function never heard of it.
    const claimed = await ec2.launch('on-demand', 'stops');
    const claimAt = ec2.sim.clock.now();
    await runners.putRunner(runnerRecord(claimed, 'registered', claimAt, { market: 'on-demand', claimedAt: claimAt, runnerName: `${PREFIX}${claimed}` }));
    ec2.sim.poweroff(claimed);
    await ec2.sim.clock.sleep(MINUTE);
    expect(ec2.sim.instance(claimed)?.state).toBe('stopped');

    // Act: 2 minutes after the claim, then 6.
    await ec2.sim.clock.sleep(MINUTE);
    const early = await runReconciler(deps(ec2.sim.clock), 'run-1');
    await ec2.sim.clock.sleep(4 * MINUTE);
    const late = await runReconciler(deps(ec2.sim.clock), 'run-2');

    // Assert
    expect(early.stalledTerminated).toEqual([]);
    expect(late.stalledTerminated).toEqual([claimed]);
    expect(await runners.getRunner(claimed)).toMatchObject({ state: 'retiring', retireReason: 'stopped' });
    expect(['shutting-down', 'terminated']).toContain(ec2.sim.instance(claimed)?.state);
  });

  test('a parked warm pool instance and a busy claimed one that runs are left alone, however old', async () => {
    const parked = await ec2.launch('on-demand', 'stops');
    const busy = await ec2.launch('on-demand', 'stops');
    const at = ec2.sim.clock.now();
    await runners.putRunner(runnerRecord(parked, 'warm', at, { market: 'on-demand', poolId: warmPoolIdOf('linux-x64'), scope: undefined }));
    await runners.putRunner(runnerRecord(busy, 'busy', at, { market: 'on-demand', claimedAt: at, runnerName: `${PREFIX}${busy}` }));
    ec2.sim.poweroff(parked);

    await ec2.sim.clock.sleep(30 * MINUTE);
    const summary = await runReconciler(deps(ec2.sim.clock, {}, ['linux-x64']), 'run-1');

    expect(summary.stalledTerminated).toEqual([]);
    expect(ec2.sim.instance(parked)?.state).toBe('stopped');
    expect(ec2.sim.instance(busy)?.state).toBe('running');
  });
});

describe('the reconciler\'s role', () => {
  test('without ec2:TerminateInstances, which the construct grants, an orphan stays running: EC2 refuses with UnauthorizedOperation and the step fails alone', async () => {
    // Arrange: an orphan (no runner item) past the boot timeout.
    const orphan = await ec2.launch();
    await ec2.sim.clock.sleep(BOOT_TIMEOUT + MINUTE);
    ec2.sim.resetApiCalls();

    // Act
    const summary = await role.without(['ec2:TerminateInstances'], () => runReconciler(deps(ec2.sim.clock), 'run-1'));

    // Assert
    expect(summary.failedSteps).toEqual(['orphans']);
    expect(ec2.sim.apiCalls().errorsByCode).toEqual({ UnauthorizedOperation: 1 });
    expect(ec2.sim.instance(orphan)!.state).toBe('running');
  });
});

describe('vanished instances', () => {
  test('a runner whose instance EC2 no longer lists is closed when its end event was lost; a young one is spared', async () => {
    // Arrange: two runners whose instances never existed as far as EC2 knows (their end events lost).
    const now = ec2.sim.clock.now();
    await runners.putRunner(runnerRecord('i-0000000000000000c', 'retiring', now - 10 * MINUTE));
    await runners.putRunner(runnerRecord('i-0000000000000000d', 'booting', now));

    // Act
    await runReconciler(deps(ec2.sim.clock), 'run-1');

    // Assert
    expect((await runners.getRunner('i-0000000000000000c'))?.state).toBe('gone');
    expect((await runners.getRunner('i-0000000000000000d'))?.state).toBe('booting');
    expect(metrics.total('VanishedRunnersClosed')).toBe(1);
  });
});

describe('ghost registrations', () => {
  test('registrations whose runner is gone or unknown are deleted; a live one, a busy one and another prefix\'s are kept', async () => {
    // Arrange
    const clock = realClock();
    const ids = { gone: 'i-00000000000000001', unknown: 'i-00000000000000002', live: 'i-00000000000000003', busy: 'i-00000000000000004' };
    const reg = Object.fromEntries(await Promise.all(Object.entries(ids).map(async ([k, id]) => [k, await ghes.register(id)] as const)));
    await ghes.register('i-00000000000000005', 'someone-else-1');
    await runners.putRunner(runnerRecord(ids.gone, 'gone', clock.now(), { runnerId: reg.gone.runnerId, runnerName: reg.gone.runnerName }));
    await runners.putRunner(runnerRecord(ids.busy, 'gone', clock.now(), { runnerId: reg.busy.runnerId, runnerName: reg.busy.runnerName }));
    await runners.putRunner(runnerRecord(ids.live, 'registered', clock.now(), { runnerId: reg.live.runnerId, runnerName: reg.live.runnerName }));
    ghes.sim.startRunner(reg.busy.encodedJitConfig);
    const jobId = ghes.sim.queueJob('app', LABELS, 10 * MINUTE);
    await ghes.sim.waitForJob(jobId, 'in_progress');
    // The job may go to the busy or the live runner; make sure the busy one has it.
    const holder = ghes.sim.job(jobId)!.runnerName;
    expect(holder).toBe(reg.busy.runnerName);
    // The lifecycle saw a runner of the scope end idle: its registration may be left.
    await updateReconcilerState(state, (s) => markGhostsLeft(s, POOL.scope, clock.now()), clock.now());
    ghes.sim.resetApiCalls();

    // Act
    const summary = await runReconciler(deps(clock), 'run-1');

    // Assert
    const left = ghes.sim.runners().map((r) => r.name).sort();
    expect(left).toEqual(expect.arrayContaining([reg.live.runnerName, reg.busy.runnerName, 'someone-else-1']));
    expect(left).not.toContain(reg.gone.runnerName);
    expect(left).not.toContain(reg.unknown.runnerName);
    expect(summary.ghostsDeleted).toBe(2);
    expect(ghes.portCalls()[DELETE_ROUTE]).toBe(2);
  });

  test('a scope is listed for ghosts only once one may have been left, or when the backstop comes round: active pools alone cost no list', async () => {
    // Arrange: a live runner keeps the scope active; nothing ended idle.
    const clock = new ManualClock(Date.now());
    await runners.putRunner(runnerRecord('i-00000000000000006', 'registered', clock.now()));
    const everyRun: Partial<ReconcilerLimits> = { githubSweepEveryMs: 0 };
    const lists = () => ghes.sim.apiCalls().byRoute['GET /orgs/{org}/actions/runners'] ?? 0;
    ghes.sim.resetApiCalls();

    // Act and assert
    await runReconciler(deps(clock, everyRun), 'run-1');
    clock.advance(10 * MINUTE);
    await runReconciler(deps(clock, everyRun), 'run-2');
    expect(lists()).toBe(0);

    await updateReconcilerState(state, (s) => markGhostsLeft(s, POOL.scope, clock.now()), clock.now());
    await runReconciler(deps(clock, everyRun), 'run-3');
    await runReconciler(deps(clock, everyRun), 'run-4');
    expect(lists()).toBe(1);

    clock.advance(30 * MINUTE);
    await runReconciler(deps(clock, everyRun), 'run-5');
    expect(lists()).toBe(2);
  });
});

describe('stuck jobs', () => {
  test('jobs queued for long are brought up to date from GitHub; one still queued there stays queued', async () => {
    // Arrange
    const clock = realClock();
    const cancelled = ghes.sim.queueJob('app', ['nobody-serves-this'], MINUTE);
    ghes.sim.cancelJob(cancelled);
    const waiting = ghes.sim.queueJob('app', ['nobody-serves-this'], MINUTE);
    const deleted = 424242;
    const long = clock.now() - 15 * MINUTE;
    for (const id of [cancelled, waiting, deleted]) await recordJob(jobs, id, 'queued', long);
    const fresh = ghes.sim.queueJob('app', ['nobody-serves-this'], MINUTE);
    await recordJob(jobs, fresh, 'queued', clock.now());
    ghes.sim.cancelJob(fresh);
    ghes.sim.resetApiCalls();

    // Act
    const summary = await runReconciler(deps(clock), 'run-1');

    // Assert
    const key = (jobId: number) => ({ githubHost: GITHUB_HOST, jobId });
    expect(await jobs.getJob(key(cancelled))).toMatchObject({ state: 'completed', conclusion: 'cancelled', expiresAt: expect.any(Number) });
    expect(await jobs.getJob(key(deleted))).toMatchObject({ state: 'completed', conclusion: 'cancelled' });
    expect(await jobs.getJob(key(waiting))).toMatchObject({ state: 'queued' });
    // Too young to ask about.
    expect(await jobs.getJob(key(fresh))).toMatchObject({ state: 'queued' });
    expect(summary).toMatchObject({ stuckJobsChecked: 3, stuckJobsRepaired: 2 });
    expect(ghes.portCalls()[JOB_ROUTE]).toBe(3);
    // The repaired pool is handed over after the repair.
    expect(queue.messages.map((m) => m.poolId)).toEqual([POOL.poolId]);
  });

  test('a job in progress at GitHub is moved to in_progress with its runner', async () => {
    // Arrange
    const clock = realClock();
    const jit = await ghes.register('i-0000000000000abcd');
    ghes.sim.startRunner(jit.encodedJitConfig);
    const jobId = ghes.sim.queueJob('app', LABELS, 10 * MINUTE);
    await ghes.sim.waitForJob(jobId, 'in_progress');
    await recordJob(jobs, jobId, 'queued', clock.now() - 15 * MINUTE);

    // Act
    await runReconciler(deps(clock), 'run-1');

    // Assert
    expect(await jobs.getJob({ githubHost: GITHUB_HOST, jobId })).toMatchObject({ state: 'in_progress', runnerName: jit.runnerName });
  });

  test('GitHub calls are bounded: per step and per run, and a job is not asked about again before the recheck interval', async () => {
    // Arrange
    const clock = realClock();
    for (let i = 0; i < 15; i++) await recordJob(jobs, ghes.sim.queueJob('app', ['nobody-serves-this'], MINUTE), 'queued', clock.now() - 15 * MINUTE);

    // Act
    const first = await runReconciler(deps(clock), 'run-1');
    const firstChecks = ghes.portCalls()[JOB_ROUTE];
    ghes.sim.resetApiCalls();
    clock.advance(MINUTE);
    const second = await runReconciler(deps(clock, { maxGitHubCallsPerRun: 4 }), 'run-2');
    const secondCalls = ghes.portCalls();

    // Assert
    expect(first.stuckJobsChecked).toBe(10);
    expect(firstChecks).toBe(10);
    // Still queued at GitHub. Of the 5 not asked about yet, a budget of 4 calls allows 4, and nothing else.
    expect(second).toMatchObject({ stuckJobsChecked: 4, githubCalls: 4 });
    expect(secondCalls).toEqual({ [JOB_ROUTE]: 4 });
    expect(await jobs.listActiveJobs(POOL.poolId, 'queued')).toHaveLength(15);
  });
});

describe('missed webhooks', () => {
  test('a failed workflow_job delivery is redelivered exactly once; successful ones are not', async () => {
    // Arrange: an active pool, one delivery that succeeds and one that fails.
    const clock = realClock();
    await recordJob(jobs, 1, 'queued', clock.now());
    const ok = ghes.sim.queueJob('app', ['nobody-serves-this'], MINUTE);
    let lost = -1;
    receiver.fail = (jobId, nth) => jobId === lost && nth === 1;
    // The delivery is made after queueJob returns.
    lost = ghes.sim.queueJob('app', ['nobody-serves-this'], MINUTE);
    await ghes.sim.deliveriesSettled();

    // Act: a run, the redelivery arrives, then two more runs later on.
    const first = await runReconciler(deps(clock), 'run-1');
    await ghes.sim.deliveriesSettled();
    clock.advance(4 * MINUTE);
    const second = await runReconciler(deps(clock), 'run-2');
    clock.advance(4 * MINUTE);
    await runReconciler(deps(clock), 'run-3');

    // Assert
    expect(first.redelivered).toHaveLength(1);
    expect(second.redelivered).toEqual([]);
    expect(ghes.portCalls()[ATTEMPTS_ROUTE]).toBe(1);
    expect(receiver.jobIds.filter((j) => j === lost)).toHaveLength(2);
    expect(receiver.jobIds.filter((j) => j === ok)).toHaveLength(1);
    expect(metrics.total('DeliveriesRedelivered')).toBe(1);
  });

  test('a delivery that keeps failing is redelivered at most the maximum number of times, never twice within one wait', async () => {
    // Arrange: three redeliveries, three minutes apart (the default waits grow: deliveries.test.ts).
    const limits = { maxAttemptsPerGuid: 3, redeliverySpacingMs: [3 * MINUTE] };
    const clock = realClock();
    await recordJob(jobs, 1, 'queued', clock.now());
    let broken = -1;
    receiver.fail = (jobId) => jobId === broken;
    broken = ghes.sim.queueJob('app', ['nobody-serves-this'], MINUTE);
    await ghes.sim.deliveriesSettled();

    // Act: runs one minute apart for ten minutes; the GitHub sweep comes every two.
    for (let run = 0; run < 11; run++) {
      await runReconciler(deps(clock, limits), `run-${run}`);
      await ghes.sim.deliveriesSettled();
      clock.advance(MINUTE);
    }

    // Assert
    expect(ghes.portCalls()[ATTEMPTS_ROUTE]).toBe(3);
    expect(receiver.jobIds.filter((j) => j === broken)).toHaveLength(4);
    expect(metrics.total('RedeliveriesExhausted')).toBeGreaterThan(0);
  });
});

// Last: the rate-limit window stays on the shared simulator.
describe('GitHub rate limits', () => {
  test('a rate limit ends the run\'s GitHub calls at the first refusal; the pools are still handed over', async () => {
    // Arrange
    const clock = realClock();
    for (let i = 0; i < 3; i++) await recordJob(jobs, ghes.sim.queueJob('app', ['nobody-serves-this'], MINUTE), 'queued', clock.now() - 15 * MINUTE);
    await ghes.sim.deliveriesSettled();
    ghes.sim.triggerSecondaryRateLimit(10 * MINUTE);
    ghes.sim.resetApiCalls();

    // Act (Octokit's throttling plugin warns on the console about the refused request)
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    const summary = await runReconciler(deps(clock), 'run-1').finally(() => warn.mockRestore());

    // Assert
    expect(summary.failedSteps).toEqual(['stuck-jobs']);
    expect(summary.poolsMessaged).toBe(1);
    expect(ghes.sim.apiCalls().total).toBe(1);
    expect(metrics.total('ReconcileStepFailed', { step: 'stuck-jobs' })).toBe(1);
  });
});
