// The reconciler's state item on dynalite. (It lives under lambda/state/; its test sits here
// because this change may only add tests under test/lambda/reconciler/.)
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { EMPTY_RECONCILER_STATE, ReconcilerState, ReconcilerStateConflictError, touchScopes, updateReconcilerState } from '../../../lambda/core/reconciler-state';
import { DynamoReconcilerStore } from '../../../lambda/state/dynamo-reconciler-store';
import { DynamoRunnerStore } from '../../../lambda/state/dynamo-runner-store';
import { StateItemError } from '../../../lambda/state/errors';
import { grantedRole } from '../support/construct-grants';
import { DynamoTestEngine, startDynalite } from '../support/dynalite';

const T0 = Date.UTC(2026, 0, 15, 12);
const FULL: ReconcilerState = {
  scopes: [{ scope: { kind: 'org', org: 'octo-org' }, lastActiveAt: T0 }, { scope: { kind: 'repo', owner: 'alice', repo: 'tool' }, lastActiveAt: T0 - 1 }],
  deliveriesCursor: T0 - 5,
  runnerVersionRead: { at: T0 - 4, serverRelease: '3.19.2' },
  redeliveries: [{ guid: '0f1e2d3c-4b5a-4978-8a9b-0c1d2e3f4a5b', attempts: 2, lastAttemptAt: T0 - 2 }],
  jobChecks: [{ key: { githubHost: 'ghes.example.com', jobId: 42 }, checkedAt: T0 - 3 }],
};

let engine: DynamoTestEngine;
let tableName: string;
let store: DynamoReconcilerStore;

// The reconciler's own statements, as the construct grants them, decided by the IAM engine.
beforeAll(async () => { engine = await startDynalite({ asRole: grantedRole('reconciler') }); });
afterAll(async () => { await engine.stop(); });
beforeEach(async () => {
  tableName = await engine.createStateTable();
  store = new DynamoReconcilerStore(engine.client, tableName);
});

test('before the first save the state is empty at version 0; a save reads back as written', async () => {
  expect(await store.load()).toEqual({ state: EMPTY_RECONCILER_STATE, version: 0 });
  expect(await store.save(FULL, 0, T0)).toBe(true);
  expect(await store.load()).toEqual({ state: FULL, version: 1 });
});

test('a save only lands on the version it read', async () => {
  await store.save(EMPTY_RECONCILER_STATE, 0, T0);
  expect(await store.save(FULL, 0, T0)).toBe(false);
  expect(await store.save(FULL, 1, T0)).toBe(true);
  expect(await store.save(EMPTY_RECONCILER_STATE, 1, T0)).toBe(false);
  expect((await store.load()).version).toBe(2);
});

test('concurrent updates all land, each on the other\'s result', async () => {
  const orgs = ['a', 'b', 'c', 'd'];
  await Promise.all(orgs.map((org) => updateReconcilerState(store, (s) => touchScopes(s, [{ kind: 'org', org }], T0), T0, 10)));
  expect((await store.load()).state.scopes.map((s) => (s.scope as { org: string }).org)).toEqual(orgs);
});

test('an update that keeps losing gives up with a named error', async () => {
  const racing = { load: () => store.load(), save: async () => false };
  await expect(updateReconcilerState(racing, (s) => ({ ...s }), T0, 2)).rejects.toBeInstanceOf(ReconcilerStateConflictError);
});

test('a change that returns the state as it was writes nothing', async () => {
  const save = jest.fn(async () => true);
  const loaded = await updateReconcilerState({ load: () => store.load(), save }, (s) => s, T0);
  expect(save).not.toHaveBeenCalled();
  expect(loaded).toEqual((await store.load()).state);
});

test('the item stays out of the pool index, so it never makes a pool look active', async () => {
  await store.save(FULL, 0, T0);
  expect(await new DynamoRunnerStore(engine.client, tableName).listActivePools()).toEqual([]);
  expect((await engine.scan(tableName))[0]).not.toHaveProperty('poolId');
});

test('a malformed item fails loudly', async () => {
  await engine.client.send(new PutCommand({
    TableName: tableName, Item: { pk: 'RECONCILER', sk: 'STATE', version: 1, scopes: 'nope' },
  }));
  await expect(store.load()).rejects.toBeInstanceOf(StateItemError);
});
