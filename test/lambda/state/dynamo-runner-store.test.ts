import { emptyPool } from '../../../lambda/core/pool';
import { RunnerRecord } from '../../../lambda/core/runner';
import { DynamoRunnerStore } from '../../../lambda/state/dynamo-runner-store';
import { DynamoTestEngine, startDynalite } from '../support/dynalite';

const T0 = Date.UTC(2026, 0, 15, 12);
const SCOPE = { kind: 'org' as const, org: 'octo-org' };

let engine: DynamoTestEngine;
let store: DynamoRunnerStore;
let tableName: string;

beforeAll(async () => { engine = await startDynalite(); });
afterAll(async () => { await engine.stop(); });
beforeEach(async () => {
  tableName = await engine.createStateTable();
  store = new DynamoRunnerStore(engine.client, tableName);
});

function runner(instanceId: string, poolId = 'octo-org#linux-x64'): RunnerRecord {
  return {
    instanceId, state: 'booting', market: 'spot', launchedAt: T0, poolId, configName: 'linux-x64', scope: SCOPE, updatedAt: T0, version: 1,
  };
}

describe('DynamoRunnerStore runners', () => {
  test('a launched runner is recorded once; recording it again changes nothing', async () => {
    expect(await store.putRunner(runner('i-0000000000000000a'))).toBe(true);
    expect(await store.putRunner({ ...runner('i-0000000000000000a'), market: 'on-demand' })).toBe(false);
    expect(await store.getRunner('i-0000000000000000a')).toMatchObject({ state: 'booting', market: 'spot' });
  });

  test('a transition applies only from the states given, and carries its changes', async () => {
    await store.putRunner(runner('i-0000000000000000a'));
    expect(await store.transitionRunner('i-0000000000000000a', ['busy'], 'gone', {}, T0 + 1)).toBeUndefined();
    const registered = await store.transitionRunner('i-0000000000000000a', ['booting'], 'registered', { runnerName: 'er-i-0000000000000000a', runnerId: 42 }, T0 + 2);
    expect(registered).toMatchObject({ state: 'registered', runnerId: 42, version: 2 });
    expect(await store.getRunner('i-0000000000000000a')).toEqual(registered);
  });

  test('of two writers who read the same runner, only the first one\'s transition lands', async () => {
    await store.putRunner(runner('i-0000000000000000a'));
    const [a, b] = await Promise.all([
      store.transitionRunner('i-0000000000000000a', ['booting'], 'registered', {}, T0 + 1),
      store.transitionRunner('i-0000000000000000a', ['booting'], 'retiring', { retireReason: 'surplus' }, T0 + 1),
    ]);
    expect([a, b].filter((r) => r !== undefined)).toHaveLength(1);
  });

  test('the cost tags of a busy runner\'s job are claimed once, only for the job it runs, and the mark survives its later transitions', async () => {
    const job = { githubHost: 'ghes.example.com', jobId: 7 };
    await store.putRunner(runner('i-0000000000000000a'));
    expect(await store.claimCostTags('i-0000000000000000a', job)).toBe(false); // booting: no job yet
    await store.transitionRunner('i-0000000000000000a', ['booting'], 'busy', { job }, T0 + 1);

    const claims = await Promise.all([store.claimCostTags('i-0000000000000000a', job), store.claimCostTags('i-0000000000000000a', job)]);
    const otherJob = await store.claimCostTags('i-0000000000000000a', { ...job, jobId: 8 });
    const otherHost = await store.claimCostTags('i-0000000000000000a', { ...job, githubHost: 'other.example.com' });
    const unknown = await store.claimCostTags('i-0000000000000000f', job);

    expect(claims.filter(Boolean)).toHaveLength(1);
    expect([otherJob, otherHost, unknown]).toEqual([false, false, false]);
    expect(await store.getRunner('i-0000000000000000a')).toMatchObject({ state: 'busy', costTaggedJob: 7, version: 2 });
    expect(await store.transitionRunner('i-0000000000000000a', ['busy'], 'gone', {}, T0 + 2)).toMatchObject({ costTaggedJob: 7 });
    expect(await store.getRunner('i-0000000000000000a')).toMatchObject({ state: 'gone', costTaggedJob: 7 });
  });

  test('live runners are listed by pool; a gone runner leaves the index and expires', async () => {
    await store.putRunner(runner('i-0000000000000000a'));
    await store.putRunner(runner('i-0000000000000000b'));
    await store.putRunner(runner('i-0000000000000000c', 'other#linux-x64'));
    await store.transitionRunner('i-0000000000000000b', ['booting'], 'gone', {}, T0 + 5);
    expect((await store.listPoolRunners('octo-org#linux-x64')).map((r) => r.instanceId)).toEqual(['i-0000000000000000a']);
    const items = await engine.scan(tableName);
    expect(items.find((i) => i.instanceId === 'i-0000000000000000b')).toMatchObject({ state: 'gone', expiresAt: expect.any(Number) });
    expect(items.find((i) => i.instanceId === 'i-0000000000000000b')).not.toHaveProperty('poolId');
  });

  test('live runners are listed by state when asked', async () => {
    await store.putRunner(runner('i-0000000000000000a'));
    await store.putRunner(runner('i-0000000000000000b'));
    await store.transitionRunner('i-0000000000000000b', ['booting'], 'registered', { runnerId: 7 }, T0 + 1);
    expect((await store.listPoolRunners('octo-org#linux-x64', 'registered')).map((r) => r.instanceId)).toEqual(['i-0000000000000000b']);
    expect((await store.listPoolRunners('octo-org#linux-x64', 'booting')).map((r) => r.instanceId)).toEqual(['i-0000000000000000a']);
    expect(await store.listPoolRunners('octo-org#linux-x64', 'busy')).toEqual([]);
  });

  test('a batch read returns the recorded runners of any number of instances, gone ones included, and skips unknown ones', async () => {
    // 150 ids: more than one BatchGetItem call (100 keys) can take.
    const ids = Array.from({ length: 150 }, (_, n) => `i-${n.toString(16).padStart(17, '0')}`);
    for (const id of ids.slice(0, 120)) await store.putRunner(runner(id));
    await store.transitionRunner(ids[3], ['booting'], 'gone', {}, T0 + 1);

    const found = await store.getRunners(ids);

    expect([...found.keys()].sort()).toEqual(ids.slice(0, 120).sort());
    expect(found.get(ids[3])).toMatchObject({ state: 'gone' });
    expect(found.get(ids[0])).toEqual(await store.getRunner(ids[0]));
    expect(await store.getRunners([])).toEqual(new Map());
  });

  test('active pools are those with a live runner or pending work, and nothing while idle', async () => {
    expect(await store.listActivePools()).toEqual([]);
    await store.putRunner(runner('i-0000000000000000a'));
    await store.savePool({ ...emptyPool('b#x', 'x', SCOPE), interruptedJobs: [{ githubHost: 'h', jobId: 1 }] }, T0);
    await store.savePool(emptyPool('c#x', 'x', SCOPE), T0);
    expect(await store.listActivePools()).toEqual(['b#x', 'octo-org#linux-x64']);
  });
});

describe('DynamoRunnerStore pools', () => {
  test('a pool saves only on the version it read', async () => {
    const fresh = emptyPool('octo-org#linux-x64', 'linux-x64', SCOPE);
    expect(await store.getPool(fresh.poolId)).toBeUndefined();
    expect(await store.savePool(fresh, T0)).toBe(true);
    expect(await store.savePool(fresh, T0)).toBe(false);
    const stored = (await store.getPool(fresh.poolId))!;
    expect(stored.version).toBe(1);
    const launching = { ...stored, generation: 1, pendingLaunch: { clientToken: 't-1', market: 'spot' as const, count: 2, instanceTypes: ['m7i.large'], startedAt: T0 } };
    expect(await store.savePool(launching, T0)).toBe(true);
    expect(await store.savePool({ ...stored, generation: 5 }, T0)).toBe(false);
    expect(await store.getPool(fresh.poolId)).toEqual({ ...launching, version: 2 });
  });
});
