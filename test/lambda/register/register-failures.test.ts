// The register function when things go wrong: GitHub failing, the provisioner retiring the runner at
// every point of the registration, and the control plane's own failures. Real DynamoDB (dynalite),
// the GHES simulator through the real GitHub adapter (Octokit).
import { CONFIG, functionUrlEvent, ORG, PREFIX, registerWorld, RegisterWorld } from './register-harness';
import { ConfigError } from '../../../lambda/core/errors';
import { poolFor } from '../../../lambda/core/routing';
import { RunnerRecord } from '../../../lambda/core/runner';
import { decodeJitConfig, GhesSimulator } from '../../../sandbox/ghes';
import { grantedRole } from '../support/construct-grants';
import { DynamoTestEngine, startDynalite } from '../support/dynalite';
import { InMemoryConfigSource } from '../support/in-memory-ports';

const role = grantedRole('register');
let engine: DynamoTestEngine;
let ghes: GhesSimulator;
let world: RegisterWorld;
let serial = 0;

/** A fresh 17-digit instance id per call, so registrations at the shared simulator never collide. */
const newInstanceId = () => `i-0${(0xa000000 + ++serial).toString(16).padStart(16, '0')}`;

beforeAll(async () => {
  engine = await startDynalite({ asRole: role });
  ghes = new GhesSimulator({ seed: 8, org: ORG, repos: ['app'] });
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

describe('GitHub failures', () => {
  test('a GitHub 5xx is answered 503 with the claim kept, and the instance\'s next call succeeds', async () => {
    // Arrange: every generate-jitconfig fails, Octokit's own retries included.
    const instanceId = newInstanceId();
    await world.launch(instanceId);
    await world.queueJob(1);
    ghes.setFaults({ serverErrorRate: 1, serverErrorRoutes: ['POST /orgs/{org}/actions/runners/generate-jitconfig'] });

    // Act
    const failed = await world.handler(functionUrlEvent(instanceId));
    ghes.setFaults({ serverErrorRate: 0 });
    const retried = await world.handler(functionUrlEvent(instanceId));

    // Assert
    expect(failed.statusCode).toBe(503);
    expect(message(failed.body)).toMatch(/GitHub did not register the runner.*ask again/);
    expect(retried.statusCode).toBe(200);
    expect(registrationsOf(instanceId)).toHaveLength(1);
    expect(world.metrics.refused).toEqual(['github-error']);
    expect(world.metrics.registered).toEqual([CONFIG.name]);
  });

  test('a 5xx after GitHub did register the runner leaves one registration once a call succeeds', async () => {
    // Arrange: GitHub registers the runner but answers 5xx, every time, Octokit's retries included.
    const instanceId = newInstanceId();
    await world.launch(instanceId);
    await world.queueJob(1);
    ghes.setFaults({ serverErrorRate: 1, serverErrorAfterEffectRate: 1, serverErrorRoutes: ['POST /orgs/{org}/actions/runners/generate-jitconfig'] });
    const failed = await world.handler(functionUrlEvent(instanceId));
    expect(failed.statusCode).toBe(503);
    expect(registrationsOf(instanceId).length).toBeGreaterThan(0);

    // Act
    ghes.setFaults({ serverErrorRate: 0, serverErrorAfterEffectRate: 0 });
    const result = await world.handler(functionUrlEvent(instanceId));

    // Assert: the name was taken, and the adapter replaced the registration.
    expect(result.statusCode).toBe(200);
    expect(registrationsOf(instanceId).map((r) => r.id)).toEqual([decodeJitConfig(result.body).agentId]);
  });

  test('a scope the GitHub App is not installed on is answered 410', async () => {
    const instanceId = newInstanceId();
    const elsewhere = poolFor(CONFIG, { owner: 'elsewhere', repo: 'app', org: 'elsewhere' });
    await world.launch(instanceId, { pool: elsewhere });
    await world.queueJob(1, elsewhere);

    const result = await world.handler(functionUrlEvent(instanceId));

    expect(result.statusCode).toBe(410);
    expect(message(result.body)).toContain('not installed on org:elsewhere');
    expect(world.metrics.refused).toEqual(['not-installed']);
  });
});

describe('register racing the provisioner', () => {
  const retire = (instanceId: string, from: RunnerRecord['state'][] = ['booting']) =>
    world.runners.transitionRunner(instanceId, from, 'retiring', { retireReason: 'surplus' }, world.clock.now());

  test('a retire that lands before the claim wins: 410, no registration at GitHub', async () => {
    // Arrange: the provisioner retires the runner between the demand check and the claim.
    const instanceId = newInstanceId();
    let retired: RunnerRecord | undefined;
    world = await registerWorld(engine, ghes, {
      runners: (store) => Object.assign(Object.create(store) as typeof store, {
        transitionRunner: async (...args: Parameters<typeof store.transitionRunner>) => {
          if (args[2] === 'registered' && retired === undefined) retired = await retire(instanceId);
          return store.transitionRunner(...args);
        },
      }),
    });
    await world.launch(instanceId);
    await world.queueJob(1);

    // Act
    const result = await world.handler(functionUrlEvent(instanceId));

    // Assert
    expect(retired?.state).toBe('retiring');
    expect(result.statusCode).toBe(410);
    expect((await world.runners.getRunner(instanceId))?.state).toBe('retiring');
    expect(registrationsOf(instanceId)).toHaveLength(0);
  });

  test('a retire after the claim loses: the runner registers', async () => {
    const instanceId = newInstanceId();
    let retired: RunnerRecord | undefined | 'not tried' = 'not tried';
    world = await registerWorld(engine, ghes, {
      githubPort: (api) => Object.assign(Object.create(api) as typeof api, {
        generateJitConfig: async (...args: Parameters<typeof api.generateJitConfig>) => {
          retired = await retire(instanceId);
          return api.generateJitConfig(...args);
        },
      }),
    });
    await world.launch(instanceId);
    await world.queueJob(1);

    const result = await world.handler(functionUrlEvent(instanceId));

    expect(retired).toBeUndefined();
    expect(result.statusCode).toBe(200);
    expect((await world.runners.getRunner(instanceId))?.state).toBe('registered');
  });

  test('a runner retired while GitHub registers it is told to power off and its registration removed', async () => {
    // The provisioner retires registered runners too (idle surplus); this one has no runner id yet.
    const instanceId = newInstanceId();
    world = await registerWorld(engine, ghes, {
      githubPort: (api) => Object.assign(Object.create(api) as typeof api, {
        generateJitConfig: async (...args: Parameters<typeof api.generateJitConfig>) => {
          const jit = await api.generateJitConfig(...args);
          await retire(instanceId, ['registered']);
          return jit;
        },
      }),
    });
    await world.launch(instanceId);
    await world.queueJob(1);

    const result = await world.handler(functionUrlEvent(instanceId));

    expect(result.statusCode).toBe(410);
    expect((await world.runners.getRunner(instanceId))?.state).toBe('retiring');
    expect(registrationsOf(instanceId)).toHaveLength(0);
  });

  test('free-running races: for every runner exactly one of register and retire wins', async () => {
    const instanceIds = Array.from({ length: 12 }, newInstanceId);
    for (const [n, instanceId] of instanceIds.entries()) {
      await world.launch(instanceId);
      await world.queueJob(100 + n);
    }

    const outcomes = await Promise.all(instanceIds.map(async (instanceId) => {
      const [answer, retired] = await Promise.all([world.handler(functionUrlEvent(instanceId)), retire(instanceId)]);
      return { instanceId, status: answer.statusCode, retired: retired !== undefined };
    }));

    for (const { instanceId, status, retired } of outcomes) {
      const state = (await world.runners.getRunner(instanceId))?.state;
      expect({ status, retired, state, registrations: registrationsOf(instanceId).length }).toEqual(
        retired
          ? { status: 410, retired, state: 'retiring', registrations: 0 }
          : { status: 200, retired, state: 'registered', registrations: 1 },
      );
    }
  });
});

describe('failures of the control plane itself', () => {
  test('a runner whose item changes under every decision is answered 503 (contended), and nothing is registered', async () => {
    // Arrange: every conditional write loses, as if another writer always got there first.
    const instanceId = newInstanceId();
    world = await registerWorld(engine, ghes, {
      runners: (store) => Object.assign(Object.create(store) as typeof store, { transitionRunner: async () => undefined }),
    });
    await world.launch(instanceId);
    await world.queueJob(1);

    // Act
    const result = await world.handler(functionUrlEvent(instanceId));

    // Assert
    expect(result.statusCode).toBe(503);
    expect(message(result.body)).toContain('ask again');
    expect(world.metrics.refused).toEqual(['contended']);
    expect(registrationsOf(instanceId)).toHaveLength(0);
  });

  test('unusable runner configs are answered 500 naming the problem; the instance asks again', async () => {
    const instanceId = newInstanceId();
    await world.launch(instanceId);
    (world.deps.configs as InMemoryConfigSource).failure = new ConfigError('runner config parameter /x: `spot` must be one of SPOT_ONLY.');

    const result = await world.handler(functionUrlEvent(instanceId));

    expect(result.statusCode).toBe(500);
    expect(message(result.body)).toContain('`spot` must be one of');
    expect((await world.runners.getRunner(instanceId))?.state).toBe('booting');
  });

  test('an unreachable table is answered 500 without details', async () => {
    const instanceId = newInstanceId();
    world = await registerWorld(engine, ghes, {
      runners: (store) => Object.assign(Object.create(store) as typeof store, {
        getRunner: async () => { throw new Error('connect ECONNREFUSED 127.0.0.1:8000'); },
      }),
    });

    const result = await world.handler(functionUrlEvent(instanceId));

    expect(result).toMatchObject({ statusCode: 500, body: JSON.stringify({ message: 'internal error while registering the runner; ask again' }) });
  });
});
