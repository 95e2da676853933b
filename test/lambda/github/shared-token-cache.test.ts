// Installation tokens and ids shared by the functions' containers through the state table
// (dynalite, signing as the register function's role), against the GHES simulator.
import { generateKeyPairSync } from 'crypto';
import { testClient } from './client';
import { GitHubApi } from '../../../lambda/github/github-api';
import { SharedTokenCache } from '../../../lambda/github/shared-token-cache';
import { ExpiringTokenCache } from '../../../lambda/github/token-cache';
import { DynamoSharedCache } from '../../../lambda/state/dynamo-shared-cache';
import { ScaledClock } from '../../../sandbox/common/time';
import { GhesSimulator } from '../../../sandbox/ghes';
import { grantedRole } from '../support/construct-grants';
import { DynamoTestEngine, startDynalite } from '../support/dynalite';

const ORG = { kind: 'org' as const, org: 'octo-org' };
const pem = () => generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
const privateKey = pem();

let engine: DynamoTestEngine;
let sim: GhesSimulator;
let clock: ScaledClock;
let cache: DynamoSharedCache;
let tableName: string;

beforeAll(async () => {
  engine = await startDynalite({ asRole: grantedRole('register') });
});
afterAll(async () => { await engine.stop(); });
beforeEach(async () => {
  clock = new ScaledClock(0.0005);
  sim = new GhesSimulator({ clock, jwtClock: () => clock.now(), privateKey, repos: ['app'] });
  await sim.start();
  tableName = await engine.createStateTable();
  cache = new DynamoSharedCache(engine.client, tableName, { now: () => clock.now() });
});
afterEach(async () => { await sim.stop(); });

/** A container's client: its own memory, the shared cache. */
function container(errors: unknown[] = []): GitHubApi {
  return testClient(sim, privateKey, clock, {
    sharedCache: cache,
    onSharedCacheError: (e) => errors.push(e),
  });
}

const calls = (route: string) => sim.apiCalls().byRoute[route] ?? 0;

test('a second container finds the installation and its token in the shared cache: its JIT config is its only GitHub call', async () => {
  // Arrange
  const errors: unknown[] = [];
  await container(errors).generateJitConfig(ORG, { name: 'er-x-i-0000000000000000a', labels: ['self-hosted'], runnerGroup: { id: 1 } });
  sim.resetApiCalls();

  // Act
  await container(errors).generateJitConfig(ORG, { name: 'er-x-i-0000000000000000b', labels: ['self-hosted'], runnerGroup: { id: 1 } });

  // Assert
  expect(sim.apiCalls().byRoute).toEqual({ 'POST /orgs/{org}/actions/runners/generate-jitconfig': 1 });
  expect(errors).toEqual([]);
});

test('prepared ahead with the installation a delivery named, the scope costs one token and no lookup, and a container registering later only its JIT config', async () => {
  // Arrange
  const errors: unknown[] = [];

  // Act
  await container(errors).prepare(ORG, sim.installationId('octo-org'));
  const prepared = { ...sim.apiCalls().byRoute };
  sim.resetApiCalls();
  await container(errors).generateJitConfig(ORG, { name: 'er-x-i-0000000000000000c', labels: ['self-hosted'], runnerGroup: { id: 1 } });

  // Assert
  expect(prepared).toEqual({ 'POST /app/installations/{installation_id}/access_tokens': 1 });
  expect(sim.apiCalls().byRoute).toEqual({ 'POST /orgs/{org}/actions/runners/generate-jitconfig': 1 });
  expect(errors).toEqual([]);
});

test('prepared without an installation id, the scope is looked up once; prepared again, nothing is asked', async () => {
  const api = container();

  await api.prepare(ORG);
  await container().prepare(ORG);
  await api.prepare(ORG);

  expect(sim.apiCalls().byRoute).toEqual({ 'GET /orgs/{org}/installation': 1, 'POST /app/installations/{installation_id}/access_tokens': 1 });
});

test('an App installed again under a new id: the container that finds the old id refused forgets it for every container, and the next call works', async () => {
  // Arrange: simulated time at the wall clock's pace, so nothing expires on its own during the test.
  await sim.stop();
  clock = new ScaledClock(1);
  sim = new GhesSimulator({ clock, jwtClock: () => clock.now(), privateKey, repos: ['app'] });
  await sim.start();
  cache = new DynamoSharedCache(engine.client, tableName, { now: () => clock.now() });
  // Both containers know the installation; its owner then uninstalls the App and installs it again.
  const [first, second] = [container(), container()];
  await first.generateJitConfig(ORG, { name: 'er-x-i-0000000000000000d', labels: ['self-hosted'], runnerGroup: { id: 1 } });
  sim.reinstallApp('octo-org');

  // Act: the first call with the shared (old) installation and token is refused; the next one, in another container, looks the scope up again.
  const stale = await second.generateJitConfig(ORG, { name: 'er-x-i-0000000000000000e', labels: ['self-hosted'], runnerGroup: { id: 1 } }).then(() => 'ok', (e: unknown) => e);
  const sharedAfter = await cache.get(`github-installation#${sim.appId}#org:octo-org`);
  sim.resetApiCalls();
  const again = await container().generateJitConfig(ORG, { name: 'er-x-i-0000000000000000f', labels: ['self-hosted'], runnerGroup: { id: 1 } });

  // Assert
  expect(stale).toMatchObject({ status: 401 });
  expect(sharedAfter).toBeUndefined();
  expect(again.runnerName).toBe('er-x-i-0000000000000000f');
  expect(sim.apiCalls().byRoute).toEqual({
    'GET /orgs/{org}/installation': 1, 'POST /app/installations/{installation_id}/access_tokens': 1, 'POST /orgs/{org}/actions/runners/generate-jitconfig': 1,
  });
});

test('a delivery\'s installation id from before the App was installed again: its token request is refused (404), the id forgotten, and the next call looks the scope up', async () => {
  // Arrange: a job queued before the reinstall carries the old id.
  const old = sim.installationId('octo-org');
  sim.reinstallApp('octo-org');

  // Act
  const refused = await container().prepare(ORG, old).then(() => 'ok', (e: unknown) => e);
  sim.resetApiCalls();
  await container().prepare(ORG);

  // Assert
  expect(refused).toMatchObject({ status: 404 });
  expect(sim.apiCalls().byRoute).toEqual({ 'GET /orgs/{org}/installation': 1, 'POST /app/installations/{installation_id}/access_tokens': 1 });
});

test('the table holds the token sealed, never in clear', async () => {
  // Arrange
  await container().listRunners(ORG, 'er-', 1);
  const token = sim.apiCalls().byRoute['POST /app/installations/{installation_id}/access_tokens'];

  // Act
  const items = await engine.scan(tableName);

  // Assert: one token minted, and no item holds GitHub's token prefix.
  expect(token).toBe(1);
  expect(items.map((i) => String(i.pk).split('#')[0])).toEqual(expect.arrayContaining(['CACHE']));
  expect(JSON.stringify(items)).not.toMatch(/ghs_/);
});

test('an entry sealed under another App key reads as a miss', async () => {
  // Arrange
  const value = `ghs_token|${new Date(clock.now()).toISOString()}|${new Date(clock.now() + 3600_000).toISOString()}|all`;
  const now = () => clock.now();
  await new SharedTokenCache(new ExpiringTokenCache(now), cache, pem(), () => undefined).set('42|', value);

  // Act
  const sameKey = await new SharedTokenCache(new ExpiringTokenCache(now), cache, privateKey, () => undefined).get('42|');
  const otherKey = new SharedTokenCache(new ExpiringTokenCache(now), cache, pem(), () => undefined);
  await otherKey.set('43|', value);
  const ownEntry = await new SharedTokenCache(new ExpiringTokenCache(now), cache, privateKey, () => undefined).get('43|');

  // Assert
  expect(sameKey).toBeUndefined();
  expect(ownEntry).toBeUndefined();
});

test('an entry opens only under its own cache key, and an expired token is not handed out', async () => {
  // Arrange
  const now = () => clock.now();
  const fresh = `ghs_a|${new Date(now()).toISOString()}|${new Date(now() + 3600_000).toISOString()}|all`;
  const writer = new SharedTokenCache(new ExpiringTokenCache(now), cache, privateKey, () => undefined);
  await writer.set('7|', fresh);

  // Act
  const reader = () => new SharedTokenCache(new ExpiringTokenCache(now), cache, privateKey, () => undefined);
  const read = await reader().get('7|');
  await clock.sleep(56 * 60_000); // inside the five-minute renewal margin
  const late = await reader().get('7|');

  // Assert
  expect(read).toBe(fresh);
  expect(late).toBeUndefined();
});

test('a shared cache that fails costs nothing but the calls it would have saved', async () => {
  // Arrange: a table that does not exist.
  const errors: unknown[] = [];
  cache = new DynamoSharedCache(engine.client, 'no-such-table', { now: () => clock.now() });

  // Act
  const runner = await container(errors).generateJitConfig(ORG, { name: 'er-x-i-0000000000000000c', labels: ['self-hosted'], runnerGroup: { id: 1 } });

  // Assert
  expect(runner.runnerId).toBeGreaterThan(0);
  expect(calls('POST /app/installations/{installation_id}/access_tokens')).toBe(1);
  expect(errors.length).toBeGreaterThan(0);
});
