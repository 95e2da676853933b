// The entry point with its production wiring: controlPlaneFrom() builds real SDK clients
// and the Octokit adapter from the environment; DynamoDB is dynalite, SSM the SSM simulator (configs
// and the App's private key), GitHub the GHES simulator; every AWS call signed as the register
// function's role and decided by IAM against what the construct grants it.
import { ORG, POOL, PREFIX, functionUrlEvent } from './register-harness';
import { handler } from '../../../lambda/handlers/register';
import { DynamoRunnerStore } from '../../../lambda/state/dynamo-runner-store';
import { DynamoStateStore } from '../../../lambda/state/dynamo-state-store';
import { decodeJitConfig, GhesSimulator } from '../../../sandbox/ghes';
import { SsmSimulator } from '../../../sandbox/ssm';
import { CONTROL_PLANE_ENVIRONMENT, REGISTER_ENVIRONMENT, RUNTIME_VARIABLES } from '../../../src/contracts/environment';
import { FunctionName } from '../../../src/contracts/metrics';
import { configDocument } from '../support/configs';
import { grantedRole } from '../support/construct-grants';
import { DynamoTestEngine, startDynalite } from '../support/dynalite';
import { controlPlaneEnvironment, sdkEnvironment } from '../support/function-environment';
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

const environment = (): Record<string, string> => ({
  ...controlPlaneEnvironment({
    tableName,
    queueUrl: 'http://127.0.0.1:9/123456789012/pools.fifo',
    githubApiUrl: ghes.apiUrl,
    githubAppId: String(ghes.appId),
    privateKeyParameterName: '/runners/github-private-key',
    runnerNamePrefix: PREFIX,
    managedBy: 'test-stack',
    maxLifetimeSeconds: 21600,
    runnerRoleName: 'runner-role',
  }),
  ...sdkEnvironment({ dynamodb: engine.endpoint, ssm: ssm.url }),
  ...role.environment(),
  [RUNTIME_VARIABLES.serviceName]: FunctionName.REGISTER,
});

test('an incomplete environment is answered 500 naming every missing variable', async () => {
  // Arrange: everything but the runner role and the table.
  const { [REGISTER_ENVIRONMENT.runnerRoleName.name]: _role, [CONTROL_PLANE_ENVIRONMENT.tableName.name]: _table, ...partial } = environment();
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
