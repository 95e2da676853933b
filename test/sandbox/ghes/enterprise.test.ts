// The simulated enterprise: its runner endpoints take a personal access token (classic) of an enterprise owner with the
// manage_runners:enterprise scope, answer it with X-OAuth-Scopes, refuse App tokens, and its runners serve jobs of every
// organization (and of no user's repository); runner groups by scope.
import { appAuth, client, failure, testKey, withToken } from './octokit';
import { ScaledClock } from '../../../sandbox/common/time';
import { GhesSimulator } from '../../../sandbox/ghes';

const ENTERPRISE = 'octo-enterprise';
const JIT = 'POST /enterprises/{enterprise}/actions/runners/generate-jitconfig';
let sim: GhesSimulator;

beforeEach(async () => {
  sim = new GhesSimulator({
    privateKey: testKey(), clock: new ScaledClock(0.001), org: 'octo-org', organizations: ['other-org'], repos: ['app', 'other-org/api', 'alice/tool'],
  });
  await sim.start();
});
afterEach(() => sim.stop());

const body = (name: string, groupId = 1) => ({ enterprise: ENTERPRISE, name, runner_group_id: groupId, labels: ['self-hosted', 'shared'] });

describe('enterprise credentials', () => {
  test('a classic token with manage_runners:enterprise registers a runner and is answered with its scopes', async () => {
    const response = await withToken(sim, sim.createPersonalToken(['manage_runners:enterprise'])).request(JIT, body('r1'));
    expect(response.status).toBe(201);
    expect(response.headers['x-oauth-scopes']).toBe('manage_runners:enterprise');
    expect(response.headers['x-accepted-oauth-scopes']).toContain('manage_runners:enterprise');
    expect(sim.runners()).toMatchObject([{ name: 'r1', scope: `enterprise:${ENTERPRISE}`, groupId: 1 }]);
  });

  test('admin:enterprise includes the scope', async () => {
    expect((await withToken(sim, sim.createPersonalToken(['admin:enterprise'])).request(JIT, body('r1'))).status).toBe(201);
  });

  test('a token without the scope is answered 404 with its scopes, and registers nothing', async () => {
    const refused = await failure(withToken(sim, sim.createPersonalToken(['repo', 'admin:org'])).request(JIT, body('r1')));
    expect(refused.status).toBe(404);
    expect(refused.response?.headers['x-oauth-scopes']).toBe('repo, admin:org');
    expect(sim.runners()).toEqual([]);
  });

  test('a token of a user who does not own the enterprise, or naming another enterprise, is answered 404', async () => {
    const notOwner = withToken(sim, sim.createPersonalToken(['manage_runners:enterprise'], 'alice'));
    expect((await failure(notOwner.request(JIT, body('r1')))).status).toBe(404);
    const owner = withToken(sim, sim.createPersonalToken(['manage_runners:enterprise']));
    expect((await failure(owner.request(JIT, { ...body('r2'), enterprise: 'another' }))).status).toBe(404);
    expect(sim.runners()).toEqual([]);
  });

  test('App installation tokens and JWTs are refused (403), a revoked token is 401', async () => {
    const installation = client(sim, { installationId: sim.installationId('octo-org') });
    const refused = await failure(installation.request(JIT, body('r1')));
    expect([refused.status, refused.message]).toEqual([403, expect.stringContaining('Resource not accessible by integration')]);
    const { token: jwt } = await appAuth(sim)({ type: 'app' });
    expect((await failure(withToken(sim, jwt).request(JIT, body('r1')))).status).toBe(403);
    const token = sim.createPersonalToken(['manage_runners:enterprise']);
    sim.revokePersonalToken(token);
    expect((await failure(withToken(sim, token).request(JIT, body('r1')))).status).toBe(401);
  });
});

describe('enterprise runner groups and runners', () => {
  test('runner groups list Default and the groups made; a group id the enterprise lacks is 404', async () => {
    const id = sim.createRunnerGroup('enterprise', 'linux builders');
    sim.createRunnerGroup('org:octo-org', 'org only');
    const owner = withToken(sim, sim.createPersonalToken(['manage_runners:enterprise']));
    const { data } = await owner.request('GET /enterprises/{enterprise}/actions/runner-groups', { enterprise: ENTERPRISE });
    expect(data.runner_groups.map((g: { id: number; name: string }) => [g.id, g.name])).toEqual([[1, 'Default'], [id, 'linux builders']]);
    expect((await owner.request(JIT, body('r1', id))).data.runner.runner_group_id).toBe(id);
    expect((await failure(owner.request(JIT, body('r2', id + 1)))).status).toBe(404);
  });

  test('an enterprise runner takes jobs of any organization, never of a user\'s repository; an organization runner comes first', async () => {
    const owner = withToken(sim, sim.createPersonalToken(['manage_runners:enterprise']));
    const shared = await owner.request(JIT, body('shared'));
    const userJob = sim.queueJob('alice/tool', ['self-hosted', 'shared'], 60_000);
    const otherOrgJob = sim.queueJob('other-org/api', ['self-hosted', 'shared'], 60_000);
    const run = sim.startRunner(shared.data.encoded_jit_config);
    expect((await sim.waitForJob(otherOrgJob, 'in_progress')).runnerName).toBe('shared');
    expect(sim.job(userJob)!.status).toBe('queued');
    await run.exit;

    const org = client(sim, { installationId: sim.installationId('octo-org') });
    const orgRunner = await org.request('POST /orgs/{org}/actions/runners/generate-jitconfig', { org: 'octo-org', name: 'org-r', runner_group_id: 1, labels: ['self-hosted', 'shared'] });
    const enterpriseRunner = await owner.request(JIT, body('ent-r'));
    const both = [sim.startRunner(enterpriseRunner.data.encoded_jit_config), sim.startRunner(orgRunner.data.encoded_jit_config)];
    const orgJob = sim.queueJob('app', ['self-hosted', 'shared'], 1);
    expect((await sim.waitForJob(orgJob, 'in_progress')).runnerName).toBe('org-r');
    sim.cancelJob(userJob);
    for (const r of both) r.runner.kill();
  });
});
