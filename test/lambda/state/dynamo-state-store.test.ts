import * as fc from 'fast-check';
import { DeliveryRecord } from '../../../lambda/core/delivery';
import { applyJobTransition, JobEvent, JobRecord, JobState, planJobTransition } from '../../../lambda/core/job';
import { Pool } from '../../../lambda/core/routing';
import { DynamoStateStore } from '../../../lambda/state/dynamo-state-store';
import { DynamoTestEngine, startDynalite } from '../support/dynalite';

const POOL: Pool = { poolId: 'octo-org#linux-x64', configName: 'linux-x64', scope: { kind: 'org', org: 'octo-org' } };
const OTHER_POOL: Pool = { poolId: 'octocat/app#k8s', configName: 'k8s', scope: { kind: 'repo', owner: 'octocat', repo: 'app' } };
const T0 = Date.UTC(2026, 0, 15, 12);

let engine: DynamoTestEngine;
let store: DynamoStateStore;
let tableName: string;
let nextJobId = 1000;

beforeAll(async () => {
  engine = await startDynalite();
});
afterAll(async () => {
  await engine.stop();
});
beforeEach(async () => {
  tableName = await engine.createStateTable();
  store = new DynamoStateStore(engine.client, tableName);
});

function jobEvent(jobId: number, state: JobState, runnerName?: string): JobEvent {
  return {
    key: { githubHost: 'ghes.example.com', jobId },
    state,
    runId: 7,
    runAttempt: 2,
    origin: { owner: 'Octo-Org', repo: 'app', org: 'Octo-Org' },
    labels: ['self-hosted', 'Linux', 'X64'],
    runnerName,
  };
}

function delivery(deliveryId: string, status = 202): DeliveryRecord {
  return {
    deliveryId,
    event: 'workflow_job',
    action: 'queued',
    answer: { status, body: JSON.stringify({ message: `answer ${status}` }) },
    receivedAt: new Date(T0).toISOString(),
    expiresAt: Math.floor(T0 / 1000) + 604800,
    job: { githubHost: 'ghes.example.com', jobId: 1 },
    poolId: POOL.poolId,
  };
}

describe('deliveries in DynamoDB', () => {
  test('a recorded delivery reads back as recorded', async () => {
    expect(await store.recordDelivery(delivery('guid-1'))).toBe(true);
    expect(await store.getDelivery('guid-1')).toEqual(delivery('guid-1'));
    expect(await store.getDelivery('guid-2')).toBeUndefined();
  });

  test('a delivery is recorded once: a second record with its GUID changes nothing', async () => {
    await store.recordDelivery(delivery('guid-1', 202));

    expect(await store.recordDelivery(delivery('guid-1', 500))).toBe(false);
    expect((await store.getDelivery('guid-1'))?.answer.status).toBe(202);
  });

  test('deliveries stay out of the pool index', async () => {
    await store.recordDelivery(delivery('guid-1'));
    expect(await store.listActiveJobs(POOL.poolId)).toEqual([]);
  });
});

describe('jobs in DynamoDB', () => {
  test('a queued job is listed in its pool, and leaves the index when it completes', async () => {
    const jobId = nextJobId++;
    await store.applyJobTransition(planJobTransition(jobEvent(jobId, 'queued'), POOL, T0));
    expect((await store.listActiveJobs(POOL.poolId, 'queued')).map((j) => j.key.jobId)).toEqual([jobId]);
    expect(await store.listActiveJobs(POOL.poolId, 'in_progress')).toEqual([]);

    await store.applyJobTransition(planJobTransition(jobEvent(jobId, 'completed'), POOL, T0 + 1000));

    expect(await store.listActiveJobs(POOL.poolId)).toEqual([]);
    const [item] = await engine.scan(tableName);
    expect(item).not.toHaveProperty('poolId');
    expect(item).not.toHaveProperty('poolSort');
    expect(item).toMatchObject({ pk: `JOB#ghes.example.com#${jobId}`, sk: 'JOB', state: 'completed', stateRank: 3, pool: POOL.poolId });
    expect(typeof item.expiresAt).toBe('number');
  });

  test('an in-progress job is listed under its state with the runner that took it', async () => {
    const jobId = nextJobId++;
    await store.applyJobTransition(planJobTransition(jobEvent(jobId, 'queued'), POOL, T0));
    await store.applyJobTransition(planJobTransition(jobEvent(jobId, 'in_progress', 'runner-7'), POOL, T0 + 1000));

    const [job] = await store.listActiveJobs(POOL.poolId, 'in_progress');
    expect(job).toMatchObject({ state: 'in_progress', runnerName: 'runner-7' });
    const [item] = await engine.scan(tableName);
    expect(item.poolSort).toBe(`JOB#in_progress#${jobId}`);
  });

  test('queued jobs are counted only as far as asked', async () => {
    for (let n = 0; n < 7; n++) await store.applyJobTransition(planJobTransition(jobEvent(nextJobId++, 'queued'), POOL, T0));
    const running = nextJobId++;
    await store.applyJobTransition(planJobTransition(jobEvent(running, 'in_progress', 'runner-9'), POOL, T0));

    expect(await store.countActiveJobs(POOL.poolId, 'queued', 3)).toBe(3);
    expect(await store.countActiveJobs(POOL.poolId, 'queued', 7)).toBe(7);
    expect(await store.countActiveJobs(POOL.poolId, 'queued', 100)).toBe(7);
    expect(await store.countActiveJobs(POOL.poolId, 'in_progress', 100)).toBe(1);
    expect(await store.countActiveJobs(POOL.poolId, 'queued', 0)).toBe(0);
    expect(await store.countActiveJobs('other#pool', 'queued', 5)).toBe(0);
  });

  test('a transition that does not move forward reports the job unchanged', async () => {
    const jobId = nextJobId++;
    await store.applyJobTransition(planJobTransition(jobEvent(jobId, 'in_progress', 'runner-1'), POOL, T0));
    const before = await engine.scan(tableName);

    const result = await store.applyJobTransition(planJobTransition(jobEvent(jobId, 'queued'), POOL, T0 + 5000));

    expect(result.changed).toBe(false);
    expect(result.job?.state).toBe('in_progress');
    expect(await engine.scan(tableName)).toEqual(before);
  });

  test('an unrouted event for an unknown job writes nothing', async () => {
    const result = await store.applyJobTransition(planJobTransition(jobEvent(nextJobId++, 'completed'), undefined, T0));

    expect(result).toEqual({ changed: false, job: undefined });
    expect(await engine.scan(tableName)).toEqual([]);
  });

  test('any sequence of events leaves the same job as the reference semantics, change by change', async () => {
    const step = fc.record({
      state: fc.constantFrom<JobState>('queued', 'in_progress', 'completed'),
      pool: fc.constantFrom<Pool | undefined>(POOL, OTHER_POOL, undefined),
      runnerName: fc.option(fc.constantFrom('runner-a', 'runner-b'), { nil: undefined }),
    });
    await fc.assert(fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 6 }), async (steps) => {
      const jobId = nextJobId++;
      let expected: JobRecord | undefined;
      for (const [i, s] of steps.entries()) {
        const t = planJobTransition(jobEvent(jobId, s.state, s.runnerName), s.pool, T0 + i * 1000);
        const reference = applyJobTransition(expected, t);
        const actual = await store.applyJobTransition(t);
        expect(actual.changed).toBe(reference.changed);
        expected = reference.job ?? expected;
        expect(actual.job).toEqual(expected);
      }
      expect(await store.getJob({ githubHost: 'ghes.example.com', jobId })).toEqual(expected);
      const listed = (await store.listActiveJobs(expected?.pool.poolId ?? POOL.poolId)).filter((j) => j.key.jobId === jobId);
      expect(listed.length).toBe(expected && expected.state !== 'completed' ? 1 : 0);
    }), { numRuns: 40 });
  });
});
