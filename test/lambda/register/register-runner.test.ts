// The register function against a real DynamoDB engine (dynalite) and the GHES simulator through
// the real GitHub adapter (Octokit): who may register, when the answer is a JIT config, and what
// stays behind in DynamoDB and at GitHub.
import { Logger } from '@aws-lambda-powertools/logger';
import { CONFIG, functionUrlEvent, ORG, POOL, PREFIX, registerWorld, RegisterWorld, restApiEvent, RUNNER_ROLE } from './register-harness';
import { emptyPool } from '../../../lambda/core/pool';
import { warmPoolIdOf } from '../../../lambda/core/warm-pool';
import { createRegisterHandler } from '../../../lambda/register/register-handler';
import { decodeJitConfig, GhesSimulator } from '../../../sandbox/ghes';
import { grantedRole } from '../support/construct-grants';
import { DynamoTestEngine, startDynalite } from '../support/dynalite';
import { capturePrinted } from '../support/in-memory-ports';

const role = grantedRole('register');
let engine: DynamoTestEngine;
let ghes: GhesSimulator;
let world: RegisterWorld;
let serial = 0;
let config = '';

/** A fresh 17-digit instance id per call, so registrations at the shared simulator never collide. */
const newInstanceId = () => `i-0${(0xa000000 + ++serial).toString(16).padStart(16, '0')}`;

beforeAll(async () => {
  engine = await startDynalite({ asRole: role });
  ghes = new GhesSimulator({ seed: 7, org: ORG, repos: ['app'] });
  await ghes.start();
});
afterAll(async () => {
  await ghes.stop();
  await engine.stop();
});
beforeEach(async () => {
  world = await registerWorld(engine, ghes);
});
afterEach(() => ghes.setFaults({ serverErrorRate: 0, serverErrorAfterEffectRate: 0 }));

const registrationsOf = (instanceId: string) => ghes.runners().filter((r) => r.name === `${PREFIX}${instanceId}`);
const message = (body: string) => (JSON.parse(body) as { message: string }).message;

describe('a runner with demand', () => {
  test.each([
    ['a Function URL (payload 2.0)', functionUrlEvent],
    ['an IAM-authorized REST API (v1)', restApiEvent],
  ])('gets its JIT config through %s, registered at GitHub with every label and our name', async (_shape, eventFor) => {
    // Arrange
    const instanceId = newInstanceId();
    await world.launch(instanceId);
    await world.queueJob(1);

    // Act
    const result = await world.handler(eventFor(instanceId));

    // Assert
    expect(result.statusCode).toBe(200);
    expect(result.headers['content-type']).toBe('text/plain');
    const settings = decodeJitConfig(result.body);
    expect(settings.agentName).toBe(`${PREFIX}${instanceId}`);
    const [registration] = registrationsOf(instanceId);
    expect(registrationsOf(instanceId)).toHaveLength(1);
    expect(registration).toMatchObject({ id: settings.agentId, scope: `org:${ORG}`, labels: ['self-hosted', 'linux', 'x64'] });
    expect(await world.runners.getRunner(instanceId)).toMatchObject({
      state: 'registered', runnerName: `${PREFIX}${instanceId}`, runnerId: registration.id, registeredAt: world.clock.now(),
    });
    expect(world.metrics.registered).toEqual([CONFIG.name]);
  });

  test('the JIT config is stored nowhere in the table', async () => {
    const instanceId = newInstanceId();
    await world.launch(instanceId);
    await world.queueJob(1);

    const result = await world.handler(functionUrlEvent(instanceId));

    expect(result.statusCode).toBe(200);
    const stored = JSON.stringify(await world.items());
    expect(stored).not.toContain(result.body);
    expect(stored).not.toContain(decodeJitConfig(result.body).secret);
  });

  test('the logs name the instance, pool and runner, and never hold the JIT config', async () => {
    // Arrange: a logger that prints, as in Lambda.
    const instanceId = newInstanceId();
    const printed = await capturePrinted(async () => {
      world = await registerWorld(engine, ghes, { logger: new Logger({ serviceName: 'register-test' }) });
      await world.launch(instanceId);
      await world.queueJob(1);

      // Act
      const result = await world.handler(functionUrlEvent(instanceId));

      // Assert
      expect(result.statusCode).toBe(200);
      config = result.body;
    });
    const lines = printed.join('').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.find((l) => l.message === 'runner registered; JIT config handed to the instance')).toMatchObject({
      instanceId, poolId: POOL.poolId, runnerName: `${PREFIX}${instanceId}`, runnerId: expect.any(Number),
    });
    expect(printed.join('')).not.toContain(config);
    expect(printed.join('')).not.toContain(decodeJitConfig(config).secret);
  });

  test('a retried call after a lost answer gets a new config, and GitHub holds only the new registration', async () => {
    // Arrange: the first answer never reached the instance.
    const instanceId = newInstanceId();
    await world.launch(instanceId);
    await world.queueJob(1);
    const first = await world.handler(functionUrlEvent(instanceId));

    // Act
    const second = await world.handler(functionUrlEvent(instanceId));

    // Assert
    expect([first.statusCode, second.statusCode]).toEqual([200, 200]);
    expect(second.body).not.toBe(first.body);
    const registrations = registrationsOf(instanceId);
    expect(registrations.map((r) => r.id)).toEqual([decodeJitConfig(second.body).agentId]);
    expect((await world.runners.getRunner(instanceId))?.runnerId).toBe(registrations[0].id);
  });

  test('booting runners of the pool do not count against its demand; idle ones do', async () => {
    const [booting, idle, caller] = [newInstanceId(), newInstanceId(), newInstanceId()];
    await world.launch(booting);
    await world.queueJob(1);
    await world.queueJob(2);
    await world.launch(idle, { state: 'registered' });
    await world.launch(caller);

    const result = await world.handler(functionUrlEvent(caller));

    // Two queued jobs, one idle runner: one job is left for the caller.
    expect(result.statusCode).toBe(200);
  });
});

describe('a job that starts while demand is read', () => {
  test('on an idle runner listed a moment before is not taken as covered: the caller still gets the other queued job', async () => {
    // Arrange: jobs 1 and 2 queued, one idle runner; job 1 starts on it right after the idle runners are listed.
    const [idle, caller] = [newInstanceId(), newInstanceId()];
    let racing: RegisterWorld | undefined;
    const raced = await registerWorld(engine, ghes, {
      runners: (store) => Object.assign(Object.create(store) as typeof store, {
        listPoolRunners: async (...args: Parameters<typeof store.listPoolRunners>) => {
          const listed = await store.listPoolRunners(...args);
          await racing!.startJob(1, idle);
          return listed;
        },
      }),
    });
    racing = raced;
    await raced.queueJob(1);
    await raced.queueJob(2);
    await raced.launch(idle, { state: 'registered' });
    await raced.launch(caller);

    // Act
    const result = await raced.handler(functionUrlEvent(caller));

    // Assert: job 2 is left, and only the caller can take it.
    expect(result.statusCode).toBe(200);
    expect((await raced.runners.getRunner(caller))?.state).toBe('registered');
    expect((await raced.runners.getRunner(idle))?.state).toBe('busy');
    expect(raced.metrics.refused).toEqual([]);
  });
});

describe('a runner without demand', () => {
  test('is retired (surplus) and told to power off when its pool has no queued job', async () => {
    const instanceId = newInstanceId();
    await world.launch(instanceId);

    const result = await world.handler(functionUrlEvent(instanceId));

    expect(result.statusCode).toBe(410);
    expect(message(result.body)).toMatch(/no queued job left.*power off/);
    expect(JSON.parse(result.body)).not.toHaveProperty('action'); // power off, nothing to ready
    expect(await world.runners.getRunner(instanceId)).toMatchObject({ state: 'retiring', retireReason: 'surplus' });
    expect(registrationsOf(instanceId)).toHaveLength(0);
    expect(world.metrics.refused).toEqual(['surplus']);
  });

  test('is retired when idle runners of the pool already cover every queued job', async () => {
    const [idle, caller] = [newInstanceId(), newInstanceId()];
    await world.queueJob(1);
    await world.launch(idle, { state: 'registered' });
    await world.launch(caller);

    const result = await world.handler(functionUrlEvent(caller));

    expect(result.statusCode).toBe(410);
    expect((await world.runners.getRunner(caller))?.state).toBe('retiring');
    expect((await world.runners.getRunner(idle))?.state).toBe('registered');
  });

  test('is retired when its runner config no longer exists', async () => {
    const instanceId = newInstanceId();
    const removedConfigPool = { ...POOL, poolId: `${ORG}#gpu`, configName: 'gpu' };
    await world.launch(instanceId, { pool: removedConfigPool });
    await world.queueJob(1, removedConfigPool);

    const result = await world.handler(functionUrlEvent(instanceId));

    expect(result.statusCode).toBe(410);
    expect(message(result.body)).toContain('runner config gpu no longer exists');
    expect((await world.runners.getRunner(instanceId))?.state).toBe('retiring');
    expect(world.metrics.refused).toEqual(['no-config']);
  });
});

describe('callers that are not runner instances of this deployment', () => {
  const instanceId = 'i-0123456789abcdef0';

  test.each([
    ['another role', functionUrlEvent(instanceId, { roleName: 'deploy-role' }), /not of a runner role \(runner-role\)/],
    ['an IAM user', functionUrlEvent(instanceId, { userArn: 'arn:aws:iam::123456789012:user/alice' }), /not an assumed-role session/],
    ['a runner-role session not named after an instance', functionUrlEvent('alice-laptop', {}), /not an instance id/],
    ['a runner-role session with a malformed instance id', functionUrlEvent('i-0123456789abcdef', {}), /not an instance id/],
    ['another account', functionUrlEvent(instanceId, { account: '210987654321' }), /from account 210987654321/],
    ['a caller id of another session', functionUrlEvent(instanceId, { callerId: 'AROAEXAMPLERUNNERROLE:i-0aaaaaaaaaaaaaaaa' }), /caller id/],
    ['an endpoint without IAM auth', { ...functionUrlEvent(instanceId), requestContext: { ...functionUrlEvent(instanceId).requestContext, authorizer: undefined } }, /AWS_IAM auth/],
  ])('%s is refused with 403 and changes nothing', async (_who, event, why) => {
    await world.launch(instanceId);
    await world.queueJob(1);

    const result = await world.handler(event);

    expect(result.statusCode).toBe(403);
    expect(message(result.body)).toMatch(why);
    expect((await world.runners.getRunner(instanceId))?.state).toBe('booting');
    expect(registrationsOf(instanceId)).toHaveLength(0);
    expect(world.metrics.refused).toEqual(['caller']);
  });

  test('a body naming an instance is refused (400): the instance is the signer\'s, and the one named is untouched', async () => {
    const [named, signer] = [newInstanceId(), newInstanceId()];
    await world.launch(named);
    await world.queueJob(1);
    const event = functionUrlEvent(signer, { body: JSON.stringify({ instanceId: named, labels: ['gpu'] }) });

    const result = await world.handler(event);

    expect(result.statusCode).toBe(400);
    expect((await world.runners.getRunner(named))?.state).toBe('booting');
    expect(registrationsOf(named)).toEqual([]);
  });

  test('a GET is refused with 405', async () => {
    const result = await world.handler(functionUrlEvent(newInstanceId(), { method: 'GET' }));

    expect(result.statusCode).toBe(405);
  });
});

describe('runners in other states', () => {
  test('an instance not recorded yet is told to ask again (503)', async () => {
    const instanceId = newInstanceId();

    const result = await world.handler(functionUrlEvent(instanceId));

    expect(result.statusCode).toBe(503);
    expect(message(result.body)).toContain(`instance ${instanceId} is not recorded as a runner`);
    expect(world.metrics.refused).toEqual(['unknown-instance']);
  });

  test.each(['retiring', 'gone'] as const)('a %s runner is told to power off (410)', async (state) => {
    const instanceId = newInstanceId();
    await world.launch(instanceId, { state });
    await world.queueJob(1);

    const result = await world.handler(functionUrlEvent(instanceId));

    expect(result.statusCode).toBe(410);
    expect(registrationsOf(instanceId)).toHaveLength(0);
    expect(world.metrics.refused).toEqual(['retired']);
  });

  test('a busy runner gets no second config (409)', async () => {
    const instanceId = newInstanceId();
    const before = await world.launch(instanceId, { state: 'busy' });
    await world.queueJob(1);

    const result = await world.handler(functionUrlEvent(instanceId));

    expect(result.statusCode).toBe(409);
    expect(await world.runners.getRunner(instanceId)).toEqual(before);
    expect(registrationsOf(instanceId)).toHaveLength(0);
  });
});

describe('a warm pool instance', () => {
  test('on its first boot gets no JIT config, even with jobs queued: 410 with action park, so it readies its disk and parks stopped', async () => {
    const instanceId = newInstanceId();
    const before = await world.launch(instanceId, { state: 'warming' });
    await world.queueJob(1);
    ghes.resetApiCalls();

    const result = await world.handler(functionUrlEvent(instanceId));

    expect(result.statusCode).toBe(410);
    expect(message(result.body)).toMatch(/warm pool instance: power off/);
    expect(JSON.parse(result.body).action).toBe('park');
    expect(await world.runners.getRunner(instanceId)).toEqual(before);
    expect(ghes.apiCalls().total).toBe(0);
    expect(world.metrics.refused).toEqual(['warm-pool']);
  });

  test('once a pool claimed it, it registers in that pool\'s scope like any booting runner', async () => {
    const instanceId = newInstanceId();
    await world.launch(instanceId, { state: 'warm' });
    const at = Date.now();
    await world.runners.transitionRunner(instanceId, ['warm'], 'booting', { claim: { poolId: POOL.poolId, scope: POOL.scope, at } }, at);
    await world.queueJob(1);

    const result = await world.handler(functionUrlEvent(instanceId));

    expect(result.statusCode).toBe(200);
    expect(registrationsOf(instanceId)).toHaveLength(1);
    expect(await world.runners.getRunner(instanceId)).toMatchObject({ state: 'registered', poolId: POOL.poolId, claimedAt: at });
  });
});

describe('an instance whose image holds no runner', () => {
  const RUNNER_MISSING = JSON.stringify({ problem: 'runner-missing' });

  test('a report from a runner that got its config (so only its job\'s code can send it) is refused: 409, nothing retired, no hold', async () => {
    // Arrange: registered, its job about to start; the pool item as the provisioner saved it.
    const instanceId = newInstanceId();
    expect(await world.runners.savePool(emptyPool(POOL.poolId, CONFIG.name, POOL.scope), world.clock.now())).toBe(true);
    const before = await world.launch(instanceId, { state: 'registered' });

    // Act
    const result = await world.handler(functionUrlEvent(instanceId, { body: RUNNER_MISSING }));

    // Assert
    expect(result.statusCode).toBe(409);
    expect(message(result.body)).toMatch(/got its runner config.*report refused/);
    expect(await world.runners.getRunner(instanceId)).toEqual(before);
    expect((await world.runners.getPool(POOL.poolId))?.launchHold).toBeUndefined();
    expect(world.metrics.refused).toEqual(['configured']);
  });

  test('reports it instead of asking: retired with no registration, and its pool\'s launches held', async () => {
    // Arrange: the pool item the provisioner saved before it launched the instance.
    const instanceId = newInstanceId();
    expect(await world.runners.savePool(emptyPool(POOL.poolId, CONFIG.name, POOL.scope), world.clock.now())).toBe(true);
    await world.launch(instanceId);
    await world.queueJob(1);
    ghes.resetApiCalls();
    const reportedAt = world.clock.now();

    // Act
    const result = await world.handler(functionUrlEvent(instanceId, { body: RUNNER_MISSING }));

    // Assert
    expect(result.statusCode).toBe(410);
    expect(message(result.body)).toMatch(/image holds no runner.*power off/);
    expect(await world.runners.getRunner(instanceId)).toMatchObject({ state: 'retiring', retireReason: 'runner-missing' });
    expect((await world.runners.getPool(POOL.poolId))?.launchHold).toEqual({ reason: 'runner-missing', refusals: 1, refusedAt: reportedAt, until: reportedAt + 60_000 });
    expect(ghes.apiCalls().total).toBe(0);
    expect(registrationsOf(instanceId)).toEqual([]);
    expect(world.metrics.refused).toEqual(['runner-missing']);
  });

  test('a warm pool instance reporting it on its first boot is retired rather than parked, and its warm pool held', async () => {
    const instanceId = newInstanceId();
    const warmPool = warmPoolIdOf(CONFIG.name);
    expect(await world.runners.savePool(emptyPool(warmPool, CONFIG.name, undefined), world.clock.now())).toBe(true);
    await world.launch(instanceId, { state: 'warming' });

    const result = await world.handler(restApiEvent(instanceId, { body: RUNNER_MISSING }));

    expect(result.statusCode).toBe(410);
    expect(await world.runners.getRunner(instanceId)).toMatchObject({ state: 'retiring', retireReason: 'runner-missing' });
    expect((await world.runners.getPool(warmPool))?.launchHold).toMatchObject({ reason: 'runner-missing', refusals: 1 });
  });

  test.each([
    ['not JSON', '{"problem":'],
    ['not an object', '["runner-missing"]'],
    ['an unknown problem', '{"problem":"disk-full"}'],
    ['too long', JSON.stringify({ problem: 'runner-missing', pad: 'x'.repeat(2000) })],
  ])('a body that is %s is answered 400 naming what the endpoint accepts, and changes nothing', async (_what, body) => {
    const instanceId = newInstanceId();
    const before = await world.launch(instanceId);
    await world.queueJob(1);
    ghes.resetApiCalls();

    const result = await world.handler(functionUrlEvent(instanceId, { body }));

    expect(result.statusCode).toBe(400);
    expect(message(result.body)).toContain('the body must be {} (an ask for a runner config) or {"problem":"runner-missing"}');
    expect(await world.runners.getRunner(instanceId)).toEqual(before);
    expect(ghes.apiCalls().total).toBe(0);
    expect(world.metrics.refused).toEqual(['bad-request']);
  });

  test('a body sent as base64 is read decoded; an empty one asks for a config', async () => {
    const [reporter, asker] = [newInstanceId(), newInstanceId()];
    await world.launch(reporter);
    await world.launch(asker);
    await world.queueJob(1);
    await world.queueJob(2);
    const encoded = { ...functionUrlEvent(reporter, { body: Buffer.from('{"problem":"runner-missing"}').toString('base64') }), isBase64Encoded: true };

    const answers = [await world.handler(encoded), await world.handler(functionUrlEvent(asker, { body: '' }))];

    expect(answers.map((a) => a.statusCode)).toEqual([410, 200]);
    expect((await world.runners.getRunner(reporter))?.retireReason).toBe('runner-missing');
  });
});

describe('the register function\'s role', () => {
  test('without dynamodb:Query, which the construct grants, demand cannot be read: DynamoDB\'s AccessDeniedException, and nothing registered', async () => {
    // Arrange: a runner with demand, and a logger that prints, as in Lambda.
    const instanceId = newInstanceId();
    let result: Awaited<ReturnType<RegisterWorld['handler']>> | undefined;
    const printed = await capturePrinted(async () => {
      world = await registerWorld(engine, ghes, { logger: new Logger({ serviceName: 'register-test' }) });
      await world.launch(instanceId);
      await world.queueJob(1);

      // Act
      result = await role.without(['dynamodb:Query'], () => world.handler(functionUrlEvent(instanceId)));
    });

    // Assert
    expect(result?.statusCode).toBeGreaterThanOrEqual(500);
    expect(printed.join('')).toContain('is not authorized to perform: dynamodb:Query');
    expect(registrationsOf(instanceId)).toEqual([]);
    expect((await world.runners.getRunner(instanceId))?.state).toBe('booting');
  });
});

describe('a config with an instance role of its own', () => {
  const OWN_ROLE = 'runner-role-linux-x64';
  const withOwnRole = () => createRegisterHandler(() => ({ ...world.deps, configRoleNames: { [CONFIG.name]: OWN_ROLE } }), world.deps.logger);

  test('its instance, signing as the config\'s role, gets its JIT config', async () => {
    const instanceId = newInstanceId();
    await world.launch(instanceId);
    await world.queueJob(1);

    const result = await withOwnRole()(functionUrlEvent(instanceId, { roleName: OWN_ROLE }));

    expect(result.statusCode).toBe(200);
    expect(registrationsOf(instanceId)).toHaveLength(1);
    expect((await world.runners.getRunner(instanceId))?.state).toBe('registered');
  });

  test.each([
    ['the shared runner role, for a config that has its own', RUNNER_ROLE, { [CONFIG.name]: OWN_ROLE }, `runner config ${CONFIG.name}'s instances run with role ${OWN_ROLE}`],
    ['another config\'s own role, for a config on the shared role', OWN_ROLE, { gpu: OWN_ROLE }, `runner config ${CONFIG.name}'s instances run with role ${RUNNER_ROLE}`],
  ])('an instance signing as %s is refused with 403 and changes nothing', async (_who, roleName, configRoleNames, why) => {
    const instanceId = newInstanceId();
    await world.launch(instanceId);
    await world.queueJob(1);
    const handler = createRegisterHandler(() => ({ ...world.deps, configRoleNames }), world.deps.logger);

    const result = await handler(functionUrlEvent(instanceId, { roleName }));

    expect(result.statusCode).toBe(403);
    expect(message(result.body)).toContain(why);
    expect((await world.runners.getRunner(instanceId))?.state).toBe('booting');
    expect(registrationsOf(instanceId)).toHaveLength(0);
    expect(world.metrics.refused).toEqual(['caller']);
  });

  test('a role that is neither the shared one nor a config\'s is refused before anything is read', async () => {
    const instanceId = newInstanceId();
    await world.launch(instanceId);

    const result = await withOwnRole()(functionUrlEvent(instanceId, { roleName: 'deploy-role' }));

    expect(result.statusCode).toBe(403);
    expect(message(result.body)).toMatch(/not of a runner role \(runner-role, runner-role-linux-x64\)/);
  });
});

