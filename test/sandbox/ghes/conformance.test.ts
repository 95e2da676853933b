// Every public route the simulator serves, called through real Octokit, checked against the GHES 3.19
// OpenAPI description: the status must be one the spec declares for the operation (or one listed in
// SPEC_OMITS, with the reason), and the body must validate against the spec's schema for that status.
// The routes come from the simulator's own route table, so a new route fails here until it is exercised.
import { manifestCode } from './manifest-flow';
import { client, createAppAuth, Octokit, OctokitClient, testKey } from './octokit';
import { declaredStatuses, operation, validateBasicError, validateComponent, validateResponse } from './openapi';
import { ScaledClock } from '../../../sandbox/common/time';
import { GhesSimulator } from '../../../sandbox/ghes';

interface Capture {
  readonly status: number;
  readonly body: unknown;
}

/** The statuses the calls must answer, in order, and the calls. */
interface Exercise {
  readonly statuses: readonly number[];
  run(): Promise<Capture[]>;
}

const ex = (statuses: readonly number[], run: () => Promise<Capture[]>): Exercise => ({ statuses, run });

/**
 * Statuses GitHub sends that the spec does not declare for the operation. Here the simulator follows
 * reality (reference/github.md), and the body is checked to be GitHub's "Basic Error".
 */
const SPEC_OMITS: Record<string, Record<number, string>> = {
  'GET /orgs/{org}/installation': { 404: 'reference 3: 404 in practice when the App is not installed' },
  'DELETE /repos/{owner}/{repo}/actions/runners/{runner_id}': { 404: 'reference appendix: 404 for an unknown runner (OBS)' },
  'DELETE /orgs/{org}/actions/runners/{runner_id}': { 404: 'reference appendix: 404 for an unknown runner (OBS)' },
  'DELETE /enterprises/{enterprise}/actions/runners/{runner_id}': { 404: 'reference appendix: 404 for an unknown runner (OBS)' },
  'GET /enterprises/{enterprise}/actions/runner-groups': {
    404: 'a classic token without the route\'s scope is answered 404 (REST troubleshooting, "404 Not Found for an existing resource"); the spec lists only 200',
  },
  'GET /repos/{owner}/{repo}/actions/jobs/{job_id}': { 404: 'reference 5: 404 for an unknown job (OBS; spec lists only 200)' },
  'POST /repos/{owner}/{repo}/actions/jobs/{job_id}/rerun': { 404: 'an unknown job is 404 like every unknown resource' },
  'POST /app/hook/deliveries/{delivery_id}/attempts': { 404: 'an unknown delivery id is 404 like every unknown resource' },
  'GET /orgs/{org}/actions/runners/downloads': { 404: 'an organization the token does not reach is 404 like every unknown resource' },
  'GET /repos/{owner}/{repo}/actions/runners/downloads': { 404: 'a repository the token does not reach is 404 like every unknown resource' },
  'GET /enterprises/{enterprise}/actions/runners/downloads': { 404: 'an enterprise the token does not reach is 404 like every unknown resource' },
};

/**
 * Operations whose schema in the spec no real answer satisfies, validated against the component schema
 * the same objects have elsewhere, with the reason.
 */
const SPEC_QUIRKS: Record<string, { readonly reason: string; validate(body: unknown): string[] }> = {
  'GET /app/installations': {
    reason: 'the list inlines each installation\'s `account` as allOf [simple-user, enterprise], which no account satisfies; '
      + 'its items are the `installation` schema of GET /orgs/{org}/installation',
    validate: (body) => (Array.isArray(body) ? body.flatMap((item, i) => validateComponent('installation', item).map((e) => `/${i}${e}`)) : ['not a list']),
  },
};

const ORG = 'octo-org';
const ENTERPRISE = 'octo-enterprise';
type Scope = 'repo' | 'org' | 'enterprise';
const routeTable = new GhesSimulator({ privateKey: testKey() }).routeTable();

async function call(request: Promise<{ status: number; data: unknown }>): Promise<Capture> {
  try {
    const { status, data } = await request;
    return { status, body: data };
  } catch (err) {
    const e = err as { status: number; response?: { data: unknown } };
    return { status: e.status, body: e.response?.data };
  }
}

describe('conformance with the GHES 3.19 OpenAPI description', () => {
  let sim: GhesSimulator;
  let app: OctokitClient;
  let org: OctokitClient;
  let user: OctokitClient;
  /** A classic token of the enterprise's owner with manage_runners:enterprise, and one without it. */
  let enterprise: OctokitClient;
  let unscoped: OctokitClient;
  let exercises: Record<string, Exercise>;

  beforeAll(async () => {
    sim = new GhesSimulator({
      privateKey: testKey(),
      clock: new ScaledClock(0.001),
      seed: 3,
      org: ORG,
      repos: ['app', 'api', 'alice/tool'],
      webhookUrl: 'http://127.0.0.1:9/unreachable', // every delivery fails to connect: still recorded
      webhookSecret: 'conformance',
    });
    await sim.start();
    app = client(sim);
    org = client(sim, { installationId: sim.installationId(ORG) });
    user = client(sim, { installationId: sim.installationId('alice') });
    enterprise = new Octokit({ baseUrl: sim.apiUrl, auth: sim.createPersonalToken(['manage_runners:enterprise']) });
    unscoped = new Octokit({ baseUrl: sim.apiUrl, auth: sim.createPersonalToken(['repo']) });
    sim.createRunnerGroup(`org:${ORG}`, 'org-builders');
    sim.createRunnerGroup('enterprise', 'enterprise-builders');
    exercises = buildExercises();
  });

  afterAll(() => sim.stop());

  async function jitConfig(scope: Scope, name: string): Promise<{ id: number; config: string }> {
    const body = { name, runner_group_id: 1, labels: ['self-hosted'] };
    const { data } = scope === 'enterprise'
      ? await enterprise.request('POST /enterprises/{enterprise}/actions/runners/generate-jitconfig', { enterprise: ENTERPRISE, ...body })
      : scope === 'org'
        ? await org.request('POST /orgs/{org}/actions/runners/generate-jitconfig', { org: ORG, ...body })
        : await org.request('POST /repos/{owner}/{repo}/actions/runners/generate-jitconfig', { owner: ORG, repo: 'app', ...body });
    return { id: data.runner.id, config: data.encoded_jit_config };
  }

  /** A runner busy with a long job, for the 422 of DELETE; the job is cancelled afterwards. */
  async function busyRunner(scope: Scope, name: string): Promise<{ id: number; release: () => Promise<void> }> {
    const { id, config } = await jitConfig(scope, name);
    const jobId = sim.queueJob('app', ['self-hosted'], 3_600_000);
    const started = sim.startRunner(config);
    await sim.waitForJob(jobId, 'in_progress');
    return { id, release: async () => { sim.cancelJob(jobId); await started.exit; } };
  }

  function buildExercises(): Record<string, Exercise> {
    const runnerRoutes = (scope: Scope): Record<string, Exercise> => {
      const prefix = { enterprise: '/enterprises/{enterprise}', org: '/orgs/{org}', repo: '/repos/{owner}/{repo}' }[scope];
      const where = { enterprise: { enterprise: ENTERPRISE }, org: { org: ORG }, repo: { owner: ORG, repo: 'app' } }[scope];
      // The enterprise's routes take a classic token; a token without the scope is answered 404.
      const [caller, stranger] = scope === 'enterprise' ? [enterprise, unscoped] : [org, user];
      return {
        [`POST ${prefix}/actions/runners/generate-jitconfig`]: ex([201, 409, 422, 404], async () => {
          const route = `POST ${prefix}/actions/runners/generate-jitconfig`;
          const body = { name: `conf-${scope}`, runner_group_id: 1, labels: ['self-hosted', 'linux'], work_folder: '_work' };
          return [
            await call(caller.request(route, { ...where, ...body })),
            await call(caller.request(route, { ...where, ...body })), // 409: the name exists
            await call(caller.request(route, { ...where, name: 'conf-bad', runner_group_id: 1, labels: [] })), // 422
            // 404: the user installation's token does not reach the organization or its repositories; a classic token without
            // manage_runners:enterprise does not reach the enterprise.
            await call(stranger.request(route, { ...where, ...body, name: 'conf-404' })),
          ];
        }),
        [`GET ${prefix}/actions/runners`]: ex([200], async () => {
          await jitConfig(scope, `conf-list-${scope}-1`);
          await jitConfig(scope, `conf-list-${scope}-2`);
          return [await call(caller.request(`GET ${prefix}/actions/runners`, { ...where, per_page: 1, page: 2 }))];
        }),
        [`GET ${prefix}/actions/runners/downloads`]: ex([200, 404], async () => [
          await call(caller.request(`GET ${prefix}/actions/runners/downloads`, where)),
          await call(caller.request(`GET ${prefix}/actions/runners/downloads`, { enterprise: { enterprise: 'no-such-enterprise' }, org: { org: 'no-such-org' }, repo: { owner: ORG, repo: 'no-such-repo' } }[scope])),
        ]),
        [`DELETE ${prefix}/actions/runners/{runner_id}`]: ex([204, 422, 404], async () => {
          const idle = await jitConfig(scope, `conf-delete-${scope}`);
          const busy = await busyRunner(scope, `conf-busy-${scope}`);
          const captures = [
            await call(caller.request(`DELETE ${prefix}/actions/runners/{runner_id}`, { ...where, runner_id: idle.id })),
            await call(caller.request(`DELETE ${prefix}/actions/runners/{runner_id}`, { ...where, runner_id: busy.id })),
            await call(caller.request(`DELETE ${prefix}/actions/runners/{runner_id}`, { ...where, runner_id: idle.id })),
          ];
          await busy.release();
          return captures;
        }),
      };
    };

    return {
      'GET /repos/{owner}/{repo}/installation': ex([200, 404], async () => [
        await call(app.request('GET /repos/{owner}/{repo}/installation', { owner: ORG, repo: 'app' })),
        await call(app.request('GET /repos/{owner}/{repo}/installation', { owner: ORG, repo: 'missing' })),
      ]),
      'GET /orgs/{org}/installation': ex([200, 404], async () => [
        await call(app.request('GET /orgs/{org}/installation', { org: ORG })),
        await call(app.request('GET /orgs/{org}/installation', { org: 'no-such-org' })),
      ]),
      'POST /app/installations/{installation_id}/access_tokens': ex([201, 404, 401], async () => {
        const route = 'POST /app/installations/{installation_id}/access_tokens';
        const id = sim.installationId(ORG);
        const stranger = client(sim, { privateKey: testKey(1) });
        return [
          await call(app.request(route, { installation_id: id })),
          await call(app.request(route, { installation_id: 999 })),
          await call(stranger.request(route, { installation_id: id })), // 401: signed with another key
        ];
      }),
      'GET /app/hook/deliveries': ex([200, 400], async () => {
        sim.queueJob('api', ['self-hosted', 'gpu'], 1000);
        sim.queueJob('api', ['self-hosted', 'gpu'], 1000);
        await sim.deliveriesSettled();
        return [
          await call(app.request('GET /app/hook/deliveries', { per_page: 1 })),
          await call(app.request('GET /app/hook/deliveries', { cursor: 'not-a-cursor' })),
        ];
      }),
      'POST /app/hook/deliveries/{delivery_id}/attempts': ex([202, 404], async () => {
        sim.queueJob('api', ['self-hosted', 'gpu'], 1000);
        await sim.deliveriesSettled();
        const [latest] = [...sim.deliveries()].reverse();
        return [
          await call(app.request('POST /app/hook/deliveries/{delivery_id}/attempts', { delivery_id: latest.id })),
          await call(app.request('POST /app/hook/deliveries/{delivery_id}/attempts', { delivery_id: 424242 })),
        ];
      }),
      'GET /app': ex([200], async () => [await call(app.request('GET /app'))]),
      'GET /app/installations': ex([200], async () => [await call(app.request('GET /app/installations', { per_page: 100 }))]),
      'GET /users/{username}': ex([200, 200, 404], async () => {
        const anonymous = new Octokit({ baseUrl: sim.apiUrl });
        return [
          await call(anonymous.request('GET /users/{username}', { username: ORG })),
          await call(anonymous.request('GET /users/{username}', { username: 'alice' })),
          await call(anonymous.request('GET /users/{username}', { username: 'nobody-here' })),
        ];
      }),
      'POST /app-manifests/{code}/conversions': ex([201, 404, 404], async () => {
        // An instance without an App: the manifest flow creates it.
        const fresh = new GhesSimulator({ withApp: false, clock: new ScaledClock(0.001), org: ORG });
        await fresh.start();
        try {
          const code = await manifestCode(fresh, ORG);
          const anonymous = new Octokit({ baseUrl: fresh.apiUrl });
          const route = 'POST /app-manifests/{code}/conversions';
          return [
            await call(anonymous.request(route, { code })),
            await call(anonymous.request(route, { code })), // a code works once
            await call(anonymous.request(route, { code: 'f'.repeat(40) })),
          ];
        } finally {
          await fresh.stop();
        }
      }),
      ...runnerRoutes('repo'),
      ...runnerRoutes('org'),
      ...runnerRoutes('enterprise'),
      'GET /orgs/{org}/actions/runner-groups': ex([200, 200], async () => [
        await call(org.request('GET /orgs/{org}/actions/runner-groups', { org: ORG })),
        await call(org.request('GET /orgs/{org}/actions/runner-groups', { org: ORG, per_page: 1, page: 2 })),
      ]),
      'GET /enterprises/{enterprise}/actions/runner-groups': ex([200, 404], async () => [
        await call(enterprise.request('GET /enterprises/{enterprise}/actions/runner-groups', { enterprise: ENTERPRISE })),
        await call(unscoped.request('GET /enterprises/{enterprise}/actions/runner-groups', { enterprise: ENTERPRISE })),
      ]),
      'GET /repos/{owner}/{repo}/actions/jobs/{job_id}': ex([200, 200, 200, 404], async () => {
        const route = 'GET /repos/{owner}/{repo}/actions/jobs/{job_id}';
        const queued = sim.queueJob('app', ['self-hosted', 'never-matched'], 1000);
        const cancelled = sim.queueJob('app', ['self-hosted', 'never-matched'], 1000);
        sim.cancelJob(cancelled);
        const { config } = await jitConfig('repo', 'conf-job-runner');
        const running = sim.queueJob('app', ['self-hosted'], 3_600_000);
        const started = sim.startRunner(config);
        await sim.waitForJob(running, 'in_progress');
        const captures = [
          await call(org.request(route, { owner: ORG, repo: 'app', job_id: queued })), // runner fields null
          await call(org.request(route, { owner: ORG, repo: 'app', job_id: running })),
          await call(org.request(route, { owner: ORG, repo: 'app', job_id: cancelled })), // runner fields 0 / ""
          await call(org.request(route, { owner: ORG, repo: 'app', job_id: 1 })),
        ];
        sim.cancelJob(running);
        sim.cancelJob(queued);
        await started.exit;
        return captures;
      }),
      'POST /repos/{owner}/{repo}/actions/jobs/{job_id}/rerun': ex([403, 201, 404], async () => {
        const route = 'POST /repos/{owner}/{repo}/actions/jobs/{job_id}/rerun';
        const job = sim.queueJob('app', ['self-hosted', 'never-matched'], 1000);
        const whileQueued = await call(org.request(route, { owner: ORG, repo: 'app', job_id: job })); // 403
        sim.cancelJob(job);
        const captures = [
          whileQueued,
          await call(org.request(route, { owner: ORG, repo: 'app', job_id: job })), // 201
          await call(org.request(route, { owner: ORG, repo: 'app', job_id: 1 })), // 404
        ];
        sim.cancelJob(sim.job(job)!.rerunAs!);
        return captures;
      }),
    };
  }

  test('the validator rejects bodies the spec forbids, so a passing check means something', () => {
    const runner = { id: 1, name: 'r', os: 'Linux', status: 'online', busy: false, labels: [{ id: 1, name: 'x', type: 'custom' }] };
    const template = '/repos/{owner}/{repo}/actions/runners/{runner_id}';
    expect(validateResponse('GET', template, 200, runner).errors).toEqual([]);
    expect(validateResponse('GET', template, 200, { ...runner, busy: undefined }).errors).not.toEqual([]);
    expect(validateResponse('GET', template, 200, { ...runner, labels: [{ name: 'x', type: 'bogus' }] }).errors).not.toEqual([]);
    // nullable + enum: null is allowed, an unknown value is not.
    const job = '/repos/{owner}/{repo}/actions/jobs/{job_id}';
    expect(validateResponse('GET', job, 200, { conclusion: 'bogus' }).errors.join()).toMatch(/conclusion/);
    expect(validateResponse('GET', job, 200, { conclusion: null }).errors.join()).not.toMatch(/conclusion/);
    expect(validateResponse('POST', `${job}/rerun`, 201, { unexpected: true }).errors).not.toEqual([]);
    expect(validateResponse('GET', template, 404, {}).declared).toBe(false);
    expect(SPEC_QUIRKS['GET /app/installations'].validate([{ id: 1, account: null }])).not.toEqual([]);
  });

  test('every route the simulator serves is in the spec, and every exercise names a served route', () => {
    const served = routeTable.map((r) => r.key);
    expect(routeTable.filter((r) => !operation(r.method, r.template)).map((r) => r.key)).toEqual([]);
    expect(Object.keys(exercises).filter((key) => !served.includes(key))).toEqual([]);
  });

  test.each(routeTable.map((r) => [r.key, r] as const))('%s answers as the spec describes', async (key, route) => {
    const exercise = exercises[key];
    expect(exercise).toBeDefined(); // a route without an exercise must get one
    const captures = await exercise.run();

    expect(captures.map((c) => c.status)).toEqual(exercise.statuses);
    for (const { status, body } of captures) {
      const quirk = SPEC_QUIRKS[key];
      const verdict = quirk && status === 200
        ? { declared: true, errors: quirk.validate(body) } : validateResponse(route.method, route.template, status, body);
      if (verdict.declared) {
        expect({ status, errors: verdict.errors }).toEqual({ status, errors: [] });
      } else {
        expect({ status, declared: declaredStatuses(route.method, route.template), omitted: SPEC_OMITS[key]?.[status] !== undefined })
          .toEqual({ status, declared: declaredStatuses(route.method, route.template), omitted: true });
        expect(validateBasicError(body)).toEqual([]);
      }
    }
  });

  test('errors any route can answer (auth, permission, rate limits, 5xx) are Basic Errors', async () => {
    const route = 'GET /orgs/{org}/actions/runners';
    const { token: jwt } = await createAppAuth({ appId: sim.appId, privateKey: sim.privateKey })({ type: 'app' });
    const captures = [
      await call(new Octokit({ baseUrl: sim.apiUrl }).request(route, { org: ORG })), // 401: no credentials
      await call(new Octokit({ baseUrl: sim.apiUrl, auth: jwt }).request(route, { org: ORG })), // 403: a JWT, not a token
    ];
    sim.triggerSecondaryRateLimit(60_000);
    captures.push(await call(org.request(route, { org: ORG })));
    await sim.clock.sleep(60_000);
    sim.setFaults({ serverErrorRate: 1 });
    captures.push(await call(org.request(route, { org: ORG })));
    sim.setFaults({ serverErrorRate: 0 });

    expect(captures.map((c) => c.status).slice(0, 3)).toEqual([401, 403, 403]);
    expect([500, 502, 503]).toContain(captures[3].status);
    for (const c of captures) expect(validateBasicError(c.body)).toEqual([]);
  });
});
