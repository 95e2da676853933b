// The reconciler's recovery of missed webhooks on the real adapters: the state item on DynamoDB
// (dynalite), and GitHub's delivery log on a GHES simulator of each test's own, whose deliveries go to
// a loopback receiver that can be made to fail.
import {
  Ec2Harness, GhesHarness, MANAGED_BY, Receiver, reconcilerDeps, RecordingMetrics, recordJob, startEc2, startGhes, startReceiver,
} from './harness';
import { SecretNotSetError } from '../../../lambda/core/errors';
import { Clock } from '../../../lambda/core/ports';
import { ReconcilerLimits } from '../../../lambda/reconciler/reconciler-limits';
import { ReconcilerDeps, runReconciler } from '../../../lambda/reconciler/run-reconciler';
import { DynamoReconcilerStore } from '../../../lambda/state/dynamo-reconciler-store';
import { DynamoRunnerStore } from '../../../lambda/state/dynamo-runner-store';
import { DynamoStateStore } from '../../../lambda/state/dynamo-state-store';
import { ReconcilerMetricName } from '../../../src/contracts/metrics';
import { grantedRole } from '../support/construct-grants';
import { DynamoTestEngine, startDynalite } from '../support/dynalite';
import { ManualClock } from '../support/in-memory-ports';

const MINUTE = 60_000;
const ATTEMPTS_ROUTE = 'POST /app/hook/deliveries/{delivery_id}/attempts';
const LIST_ROUTE = 'GET /app/hook/deliveries';
const NOBODY = ['nobody-serves-this'];

let engine: DynamoTestEngine;
let ghes: GhesHarness;
let ec2: Ec2Harness;
let receiver: Receiver;
let tableName: string;
let state: DynamoReconcilerStore;
let jobs: DynamoStateStore;
let metrics: RecordingMetrics<ReconcilerMetricName>;
let deps: (clock: Clock, limits?: Partial<ReconcilerLimits>, more?: Partial<ReconcilerDeps>) => ReconcilerDeps;

const role = grantedRole('reconciler', { managedBy: MANAGED_BY });

beforeAll(async () => {
  engine = await startDynalite({ asRole: role });
});
afterAll(async () => {
  await engine.stop();
});
beforeEach(async () => {
  receiver = await startReceiver();
  ghes = await startGhes({ webhookUrl: receiver.url });
  ec2 = await startEc2(0.001, {}, role);
  tableName = await engine.createStateTable();
  state = new DynamoReconcilerStore(engine.client, tableName);
  metrics = new RecordingMetrics();
  const runners = new DynamoRunnerStore(engine.client, tableName);
  jobs = new DynamoStateStore(engine.client, tableName);
  deps = (clock, limits = {}, more = {}) => reconcilerDeps({ runners, jobs, state, ec2, ghes, metrics }, clock, limits, more);
});
afterEach(async () => {
  await ec2.stop();
  await ghes.stop();
  await receiver.close();
});

/** Queues `count` jobs whose first delivery the receiver refuses, then `ok` whose delivery it takes. */
async function failedThenFine(count: number, ok: number): Promise<number[]> {
  const failing = new Set<number>();
  receiver.fail = (jobId) => failing.has(jobId) && receiver.jobIds.filter((j) => j === jobId).length === 1;
  for (let i = 0; i < count; i++) failing.add(ghes.sim.queueJob('app', NOBODY, MINUTE));
  await ghes.sim.deliveriesSettled();
  for (let i = 0; i < ok; i++) ghes.sim.queueJob('app', NOBODY, MINUTE);
  await ghes.sim.deliveriesSettled();
  return [...failing];
}

const received = (jobId: number) => receiver.jobIds.filter((j) => j === jobId).length;

/** A job queued in the store keeps a pool active, so every run sweeps GitHub when a sweep is due. */
async function activePool(): Promise<void> {
  await recordJob(jobs, 1, 'queued', Date.now());
}

describe('a backlog of deliveries', () => {
  test('failures older than the newest 300 deliveries since the last look are still redelivered, ten a sweep', async () => {
    // Arrange: a first look at an empty log, then 12 failed deliveries under 300 newer ones.
    await activePool();
    const clock = new ManualClock(Date.now());
    await runReconciler(deps(clock), 'run-1');
    const lost = await failedThenFine(12, 300);

    // Act: two sweeps, two minutes apart.
    clock.advance(2 * MINUTE);
    const first = await runReconciler(deps(clock), 'run-2');
    await ghes.sim.deliveriesSettled();
    clock.advance(2 * MINUTE);
    const second = await runReconciler(deps(clock), 'run-3');
    await ghes.sim.deliveriesSettled();

    // Assert
    expect(first.redelivered).toHaveLength(10);
    expect(second.redelivered).toHaveLength(2);
    expect(lost.map(received)).toEqual(lost.map(() => 2));
    expect(ghes.portCalls()[ATTEMPTS_ROUTE]).toBe(12);
  }, 30_000);

  test('a listing stopped by its page cap keeps the cursor, so the next sweep reaches the failures it did not', async () => {
    // Arrange
    await activePool();
    const clock = new ManualClock(Date.now());
    await runReconciler(deps(clock), 'run-1');
    const lost = await failedThenFine(3, 250);

    // Act: one sweep may read two pages, the next as many as it needs.
    clock.advance(2 * MINUTE);
    ghes.sim.resetApiCalls();
    const capped = await runReconciler(deps(clock, { maxDeliveryPagesPerRun: 2 }), 'run-2');
    const listed = ghes.portCalls()[LIST_ROUTE];
    const cursor = (await state.load()).state.deliveriesCursor!;
    clock.advance(2 * MINUTE);
    const next = await runReconciler(deps(clock), 'run-3');
    await ghes.sim.deliveriesSettled();

    // Assert: the capped sweep read two pages and left the cursor behind the oldest one it listed.
    const log = ghes.sim.deliveries();
    // GitHub lists `delivered_at` to the second.
    const oldestListed = Math.floor(log[log.length - 200].deliveredAt / 1000) * 1000;
    expect(capped.redelivered).toEqual([]);
    expect(listed).toBe(2);
    expect(cursor).toBeLessThanOrEqual(oldestListed);
    expect(metrics.total('DeliveriesListTruncated')).toBe(1);
    expect(next.redelivered).toHaveLength(3);
    expect(lost.map(received)).toEqual([2, 2, 2]);
  }, 30_000);
});

describe('redeliveries spread over hours', () => {
  test('an outage of the webhook longer than the first waits still leaves a redelivery for after it', async () => {
    // Arrange: the webhook refuses the job's deliveries for its first 30 minutes.
    const clock = new ManualClock(Date.now());
    const start = clock.now();
    receiver.fail = () => clock.now() - start < 30 * MINUTE;
    const jobId = ghes.sim.queueJob('app', NOBODY, MINUTE);
    // Queued at GitHub too, so asking GitHub about it leaves its pool active.
    await recordJob(jobs, jobId, 'queued', clock.now());
    await ghes.sim.deliveriesSettled();
    const answered: boolean[] = [];
    const fail = receiver.fail;
    receiver.fail = (id, nth) => {
      const refused = fail(id, nth);
      if (id === jobId) answered.push(!refused);
      return refused;
    };

    // Act: a sweep every two minutes for an hour and a half.
    for (let minute = 0; minute <= 90; minute += 2) {
      await runReconciler(deps(clock), `run-${minute}`);
      await ghes.sim.deliveriesSettled();
      clock.advance(2 * MINUTE);
    }

    // Assert: redelivered at once, then 3, 15 and 60 minutes after the one before; the last one, after the outage, went through.
    expect(ghes.portCalls()[ATTEMPTS_ROUTE]).toBe(4);
    expect(answered).toEqual([false, false, false, true]);
    expect(metrics.total('RedeliveriesExhausted')).toBe(0);
  }, 30_000);
});

describe('a run that does not finish', () => {
  test('its redeliveries are saved as soon as they are asked for: the next run does not ask for them again', async () => {
    // Arrange: a webhook that is down, and a later step of the run that never returns (as if the function timed out there).
    await activePool();
    const clock = new ManualClock(Date.now());
    receiver.fail = () => true;
    const jobId = ghes.sim.queueJob('app', NOBODY, MINUTE);
    await ghes.sim.deliveriesSettled();
    let hung!: () => void;
    const reached = new Promise<void>((resolve) => { hung = resolve; });
    const runnerVersions = {
      versions: () => {
        hung();
        return new Promise<never>(() => undefined);
      },
      setServerVersion: () => Promise.resolve(),
    };

    // Act: the first run stops in its runner-versions step, after the deliveries; the next starts two minutes later.
    void runReconciler(deps(clock, {}, { runnerVersions }), 'run-1');
    await reached;
    await ghes.sim.deliveriesSettled();
    clock.advance(2 * MINUTE);
    const next = await runReconciler(deps(clock), 'run-2');

    // Assert
    expect(ghes.portCalls()[ATTEMPTS_ROUTE]).toBe(1);
    expect(next.redelivered).toEqual([]);
    expect(received(jobId)).toBe(2);
    expect((await state.load()).state.redeliveries).toEqual([expect.objectContaining({ attempts: 1 })]);
  });
});

describe('while idle', () => {
  test('the failed queued delivery of the first job after a quiet spell is redelivered within 15 minutes', async () => {
    // Arrange: an idle deployment that read the delivery log a moment ago; then a job whose delivery fails.
    const clock = new ManualClock(Date.now());
    await runReconciler(deps(clock), 'run-0');
    receiver.fail = (jobId) => received(jobId) === 1;
    const jobId = ghes.sim.queueJob('app', NOBODY, MINUTE);
    await ghes.sim.deliveriesSettled();

    // Act: runs a minute apart for a quarter of an hour.
    const summaries = [];
    for (let minute = 1; minute <= 15; minute++) {
      clock.advance(MINUTE);
      summaries.push(await runReconciler(deps(clock), `run-${minute}`));
    }
    await ghes.sim.deliveriesSettled();

    // Assert: one read of the log in all, 15 minutes after the one before, and the event redelivered by it.
    expect(summaries.every((s) => s.idle)).toBe(true);
    expect(summaries.map((s) => s.redelivered.length)).toEqual([...Array(14).fill(0), 1]);
    expect(ghes.portCalls()).toEqual({ [LIST_ROUTE]: 2, [ATTEMPTS_ROUTE]: 1 });
    expect(received(jobId)).toBe(2);
  });

  test('a deployment whose App is not set up yet reads nothing, fails no step, and tries again a quarter of an hour later', async () => {
    // Arrange: the App's private key is not in SSM yet.
    const clock = new ManualClock(Date.now());
    let built = 0;
    const github = () => {
      built++;
      return Promise.reject(new SecretNotSetError('/runners/github-app-key', undefined, 'the GitHub App private key'));
    };

    // Act
    const first = await runReconciler(deps(clock, {}, { github }), 'run-1');
    clock.advance(MINUTE);
    await runReconciler(deps(clock, {}, { github }), 'run-2');
    clock.advance(14 * MINUTE);
    await runReconciler(deps(clock, {}, { github }), 'run-3');

    // Assert
    expect(first).toMatchObject({ idle: true, failedSteps: [] });
    expect(built).toBe(2);
    expect(metrics.total('ReconcileStepFailed')).toBe(0);
  });
});
