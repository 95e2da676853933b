// The entry point with its production wiring: controlPlaneFromEnvironment() builds real SDK clients
// and the Octokit adapter from the environment; DynamoDB is dynalite, SSM the SSM simulator (configs
// and the App's private key), GitHub the GHES simulator; every AWS call signed as the register
// function's role and decided by IAM against what the construct grants it.
import { ORG, POOL, PREFIX, functionUrlEvent } from './register-harness';
import { handler } from '../../../lambda/handlers/register';
import { DynamoRunnerStore } from '../../../lambda/state/dynamo-runner-store';
import { DynamoStateStore } from '../../../lambda/state/dynamo-state-store';
import { decodeJitConfig, GhesSimulator } from '../../../sandbox/ghes';
import { SsmSimulator } from '../../../sandbox/ssm';
import { configDocument } from '../support/configs';
import { grantedRole } from '../support/construct-grants';
import { DynamoTestEngine, startDynalite } from '../support/dynalite';
import { capturePrinted } from '../support/in-memory-ports';

const INSTANCE = 'i-0c0ffee0c0ffee000';

const role = grantedRole('register');
let engine: DynamoTestEngine;
let ghes: GhesSimulator;
let ssm: SsmSimulator;
let tableName: string;
const saved = { ...process.env };

beforeAll(async () => {
  engine = await startDynalite({ asRole: role });
  ghes = new GhesSimulator({ seed: 3, org: ORG, repos: ['app'] });
  ssm = new SsmSimulator({ authorize: role.serviceAuthorizer('ssm') });
  await Promise.all([ghes.start(), ssm.start()]);
  tableName = await engine.createStateTable();
  ssm.seedParameter({ name: '/runners/configs/linux-x64', type: 'String', value: JSON.stringify(configDocument('linux-x64', ['linux', 'x64'])) });
  ssm.seedParameter({ name: '/runners/github-private-key', type: 'SecureString', value: ghes.privateKey });
});
afterAll(async () => {
  process.env = saved;
  await Promise.all([ghes.stop(), ssm.stop()]);
  await engine.stop();
});

const environment = () => ({
  TABLE_NAME: tableName,
  QUEUE_URL: 'http://127.0.0.1:9/123456789012/pools.fifo',
  RUNNER_CONFIG_PATH: '/runners/configs',
  GITHUB_API_URL: ghes.apiUrl,
  GITHUB_APP_ID: String(ghes.appId),
  PRIVATE_KEY_PARAMETER_NAME: '/runners/github-private-key',
  RUNNER_NAME_PREFIX: PREFIX,
  MANAGED_BY: 'test-stack',
  SUBNET_IDS: 'subnet-0123456789abcdef0',
  LAUNCH_TEMPLATES: JSON.stringify({ 'linux-x64': 'lt-0123456789abcdef0' }),
  BOOT_TIMEOUT_SECONDS: '600',
  MAX_LIFETIME_SECONDS: '21600',
  RUNNER_ROLE_NAME: 'runner-role',
  AWS_REGION: 'us-east-1',
  ...role.environment(),
  AWS_ENDPOINT_URL_DYNAMODB: engine.endpoint,
  AWS_ENDPOINT_URL_SSM: ssm.url,
  POWERTOOLS_METRICS_NAMESPACE: 'EphemeralRunners',
  POWERTOOLS_SERVICE_NAME: 'register',
});

test('an incomplete environment is answered 500 naming every missing variable', async () => {
  // Arrange: everything but the runner role and the table.
  const { RUNNER_ROLE_NAME: _role, TABLE_NAME: _table, ...partial } = environment();
  process.env = { ...saved, ...partial };

  // Act
  let result: Awaited<ReturnType<typeof handler>> | undefined;
  await capturePrinted(async () => { result = await handler(functionUrlEvent(INSTANCE)); });

  // Assert
  expect(result?.statusCode).toBe(500);
  expect(result?.body).toMatch(/TABLE_NAME, RUNNER_ROLE_NAME/);
});

test('a booting runner with demand gets its JIT config through the production wiring', async () => {
  // Arrange: the same handler module as above, whose failed build must not have been kept.
  process.env = { ...saved, ...environment() };
  const runners = new DynamoRunnerStore(engine.operator, tableName);
  const now = Date.now();
  await runners.putRunner({
    instanceId: INSTANCE, state: 'booting', market: 'spot', launchedAt: now, poolId: POOL.poolId, configName: POOL.configName, scope: POOL.scope, updatedAt: now, version: 1,
  });
  await new DynamoStateStore(engine.operator, tableName).applyJobTransition({
    key: { githubHost: 'ghes.example.com', jobId: 1 },
    to: 'queued',
    rank: 1,
    at: now,
    create: { runId: 10, repo: `${ORG}/app`, org: ORG, labels: ['self-hosted', 'linux', 'x64'], pool: POOL },
  });

  // Act
  let result: Awaited<ReturnType<typeof handler>> | undefined;
  const printed = await capturePrinted(async () => { result = await handler(functionUrlEvent(INSTANCE)); });

  // Assert
  expect(result?.statusCode).toBe(200);
  expect(decodeJitConfig(result!.body).agentName).toBe(`${PREFIX}${INSTANCE}`);
  expect(await runners.getRunner(INSTANCE)).toMatchObject({ state: 'registered', runnerId: decodeJitConfig(result!.body).agentId });
  const emf = printed.join('').split('\n').filter((l) => l.includes('"CloudWatchMetrics"')).map((l) => JSON.parse(l) as Record<string, unknown>);
  expect(emf).toEqual([expect.objectContaining({ config: 'linux-x64', RunnersRegistered: 1 })]);
  expect(printed.join('')).not.toContain(result!.body);
});
