// The fleet cap's item on dynalite, read and written as the reconciler's role (which heals it), decided by the IAM engine.
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { EMPTY_FLEET, FleetRecord, takeSlots } from '../../../lambda/core/fleet-cap';
import { DynamoFleetStore } from '../../../lambda/state/dynamo-fleet-store';
import { DynamoRunnerStore } from '../../../lambda/state/dynamo-runner-store';
import { StateItemError } from '../../../lambda/state/errors';
import { grantedRole } from '../support/construct-grants';
import { DynamoTestEngine, startDynalite } from '../support/dynalite';

const T0 = Date.UTC(2026, 0, 15, 12);
const FULL: FleetRecord = {
  version: 0,
  leases: [{ poolId: 'octo-org#linux-x64', instanceId: 'i-0123456789abcdef0', at: T0 }, { poolId: 'alice/tool#gpu', reservation: 'alice/tool#gpu#ab12', at: T0 + 1 }],
  waiting: [{ poolId: 'alice/tool#gpu', configName: 'gpu', scope: { kind: 'repo', owner: 'alice', repo: 'tool' }, arrivals: [T0 - 5, T0 - 2], at: T0 }],
};

let engine: DynamoTestEngine;
let tableName: string;
let store: DynamoFleetStore;

beforeAll(async () => { engine = await startDynalite({ asRole: grantedRole('reconciler') }); });
afterAll(async () => { await engine.stop(); });
beforeEach(async () => {
  tableName = await engine.createStateTable();
  store = new DynamoFleetStore(engine.client, tableName);
});

test('before the first save the record is empty at version 0; a save reads back as written, one version on', async () => {
  expect(await store.getFleet()).toEqual(EMPTY_FLEET);
  expect(await store.saveFleet(FULL, T0)).toBe(true);
  expect(await store.getFleet()).toEqual({ ...FULL, version: 1 });
});

test('a save only lands on the version it read', async () => {
  expect(await store.saveFleet(EMPTY_FLEET, T0)).toBe(true);
  expect(await store.saveFleet(FULL, T0)).toBe(false);
  expect(await store.saveFleet({ ...FULL, version: 1 }, T0)).toBe(true);
  expect(await store.saveFleet({ ...FULL, version: 1 }, T0)).toBe(false);
  expect((await store.getFleet()).version).toBe(2);
});

test('pools taking slots at once, each retrying on a lost race, together hold no more than the cap', async () => {
  const cap = 5;
  const take = async (n: number) => {
    for (;;) {
      const fleet = await store.getFleet();
      const pool = { poolId: `octo-org#c${n}`, configName: `c${n}`, scope: { kind: 'org' as const, org: 'octo-org' } };
      const grant = takeSlots(fleet, cap, { pool, arrivals: [T0 + n, T0 + n + 10], reservation: `r${n}`, now: T0 + 100 });
      if (await store.saveFleet(grant.fleet, T0)) return grant.granted;
    }
  };

  const granted = await Promise.all([0, 1, 2, 3, 4, 5].map(take));

  expect(granted.reduce((a, b) => a + b, 0)).toBe(cap);
  const fleet = await store.getFleet();
  expect(fleet.leases).toHaveLength(cap);
  expect(fleet.waiting.reduce((n, w) => n + w.arrivals.length, 0)).toBe(12 - cap);
});

test('the item stays out of the pool index, so it never makes a pool look active', async () => {
  await store.saveFleet(FULL, T0);
  expect(await new DynamoRunnerStore(engine.client, tableName).listActivePools()).toEqual([]);
  expect((await engine.scan(tableName))[0]).not.toHaveProperty('poolId');
});

test('a malformed item fails loudly', async () => {
  await engine.client.send(new PutCommand({ TableName: tableName, Item: { pk: 'FLEET', sk: 'CAP', version: 1, leases: 'nope', waiting: [] } }));
  await expect(store.getFleet()).rejects.toBeInstanceOf(StateItemError);
});
