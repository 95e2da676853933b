// The register function for an enterprise-scoped config: the runner registers at the enterprise with the enterprise credential,
// in the group the config names; a credential without the manage_runners:enterprise scope and a group the enterprise lacks are
// each answered 410 (power off) with a message that names the fix, leave no registration, and hold the pool's launches. Real DynamoDB (dynalite), the GHES
// simulator through the real GitHub adapter (Octokit).
import { functionUrlEvent, PREFIX, registerWorld } from './register-harness';
import { emptyPool } from '../../../lambda/core/pool';
import { poolFor } from '../../../lambda/core/routing';
import { RunnerConfig } from '../../../lambda/core/runner-config';
import { decodeJitConfig, GhesSimulator } from '../../../sandbox/ghes';
import { testConfig } from '../support/configs';
import { grantedRole } from '../support/construct-grants';
import { DynamoTestEngine, startDynalite } from '../support/dynalite';

const role = grantedRole('register', { enterprise: 'octo-enterprise' });
let engine: DynamoTestEngine;
let ghes: GhesSimulator;
let serial = 0;
const newInstanceId = () => `i-0${(0xe000000 + ++serial).toString(16).padStart(16, '0')}`;

const enterpriseConfig = (runnerGroupName?: string): RunnerConfig => ({
  ...testConfig('shared', ['linux', 'shared']), scope: 'enterprise', enterprise: 'octo-enterprise', ...(runnerGroupName ? { runnerGroupName } : {}),
});

beforeAll(async () => {
  engine = await startDynalite({ asRole: role });
  ghes = new GhesSimulator({ seed: 16, org: 'octo-org', organizations: ['other-org'], repos: ['app', 'other-org/api'] });
  await ghes.start();
  ghes.createRunnerGroup('enterprise', 'Linux Builders');
});
afterAll(async () => {
  await ghes.stop();
  await engine.stop();
});

const message = (body: string) => (JSON.parse(body) as { message: string }).message;

async function register(config: RunnerConfig, scopes: readonly string[]) {
  const world = await registerWorld(engine, ghes, { configs: [config], enterpriseToken: async () => ghes.createPersonalToken(scopes) });
  const instanceId = newInstanceId();
  const pool = poolFor(config, { owner: 'other-org', repo: 'api', org: 'other-org' });
  await world.launch(instanceId, { pool });
  await world.queueJob(1, pool);
  const result = await world.handler(functionUrlEvent(instanceId));
  return { world, result, registrations: ghes.runners().filter((r) => r.name === `${PREFIX}${instanceId}`) };
}

test('a job of another organization gets a runner registered at the enterprise, in the group the config names', async () => {
  const { world, result, registrations } = await register(enterpriseConfig('linux builders'), ['manage_runners:enterprise']);

  expect(result.statusCode).toBe(200);
  expect(registrations).toMatchObject([{ id: decodeJitConfig(result.body).agentId, scope: 'enterprise:octo-enterprise', groupId: expect.any(Number) }]);
  expect(registrations[0].groupId).not.toBe(1);
  expect(world.metrics.registered).toEqual(['shared']);
});

test('a credential without manage_runners:enterprise is answered 410 naming the scope and the fix; nothing registered', async () => {
  const { world, result, registrations } = await register(enterpriseConfig(), ['repo', 'admin:org']);

  expect(result.statusCode).toBe(410);
  expect(message(result.body)).toMatch(/enterprise credential for octo-enterprise lacks the manage_runners:enterprise scope \(its scopes: repo, admin:org\): write a personal access token \(classic\).*power off/);
  expect(registrations).toEqual([]);
  expect(world.metrics.refused).toEqual(['enterprise-credential']);
});

test('a runner group the enterprise lacks is answered 410 naming the group and the fix; nothing registered', async () => {
  const { world, result, registrations } = await register(enterpriseConfig('gpu'), ['manage_runners:enterprise']);

  expect(result.statusCode).toBe(410);
  expect(message(result.body)).toMatch(/no runner group named 'gpu' at enterprise:octo-enterprise: create it there.*runnerGroup: power off/);
  expect(registrations).toEqual([]);
  expect(world.metrics.refused).toEqual(['no-runner-group']);
});

test('such a refusal holds the pool\'s launches for a minute, recorded on its pool item; a second refused instance within it changes nothing', async () => {
  // Arrange: the pool item the provisioner saved before it launched two instances.
  const config = enterpriseConfig('gpu');
  const world = await registerWorld(engine, ghes, { configs: [config], enterpriseToken: async () => ghes.createPersonalToken(['manage_runners:enterprise']) });
  const pool = poolFor(config, { owner: 'other-org', repo: 'api', org: 'other-org' });
  expect(await world.runners.savePool(emptyPool(pool.poolId, config.name, pool.scope), world.clock.now())).toBe(true);
  const [first, second] = [newInstanceId(), newInstanceId()];
  await world.launch(first, { pool });
  await world.launch(second, { pool });
  await world.queueJob(1, pool);
  await world.queueJob(2, pool);
  const refusedAt = world.clock.now();

  // Act
  const answers = [await world.handler(functionUrlEvent(first))];
  world.clock.advance(5_000);
  answers.push(await world.handler(functionUrlEvent(second)));

  // Assert
  expect(answers.map((a) => a.statusCode)).toEqual([410, 410]);
  expect((await world.runners.getPool(pool.poolId))?.launchHold).toEqual({ reason: 'no-runner-group', refusals: 1, refusedAt, until: refusedAt + 60_000 });
  expect(world.metrics.refused).toEqual(['no-runner-group', 'no-runner-group']);
});
