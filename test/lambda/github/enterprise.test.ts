// The GitHub client at enterprise scope, through real Octokit against the GHES simulator: runners register, list and go with
// the enterprise credential (a personal access token, classic), never an App token; runner groups are found by name, at the
// enterprise and at an organization; a credential that is missing, lacks the scope or names the wrong enterprise is a clear
// EnterpriseCredentialError, and a missing group a RunnerGroupNotFoundError, each with nothing registered.
import { generateKeyPairSync } from 'crypto';
import { testClient } from './client';
import { EnterpriseCredentialError, RunnerGroupNotFoundError } from '../../../lambda/core/github';
import { RunnerScope } from '../../../lambda/core/routing';
import { GitHubApi } from '../../../lambda/github/github-api';
import { ScaledClock } from '../../../sandbox/common/time';
import { GhesSimulator } from '../../../sandbox/ghes';

const ENTERPRISE: RunnerScope = { kind: 'enterprise', enterprise: 'octo-enterprise' };
const ORG: RunnerScope = { kind: 'org', org: 'octo-org' };
const LABELS = ['self-hosted', 'shared'];
const privateKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();

let sim: GhesSimulator;

async function start(token: (() => Promise<string>) | 'none' | readonly string[] = ['manage_runners:enterprise']): Promise<GitHubApi> {
  // Real time: the runner-group cache's ten minutes never pass within a test, however busy the machine.
  const clock = new ScaledClock(1);
  sim = new GhesSimulator({ clock, jwtClock: () => clock.now(), privateKey, repos: ['app', 'other-org/api'], organizations: ['other-org'] });
  await sim.start();
  const enterpriseToken = token === 'none' ? undefined : typeof token === 'function' ? token : ((pat: string) => async () => pat)(sim.createPersonalToken(token));
  return testClient(sim, privateKey, clock, enterpriseToken ? { enterpriseToken } : {});
}

afterEach(async () => { await sim?.stop(); });

const calls = (route: string) => sim.apiCalls().byRoute[route] ?? 0;

async function rejection(promise: Promise<unknown>): Promise<Error> {
  return promise.then(() => { throw new Error('expected a rejection'); }, (e: Error) => e);
}

describe('enterprise runners with the enterprise credential', () => {
  test('register, list and delete at the enterprise without any App token', async () => {
    const github = await start();
    const jit = await github.generateJitConfig(ENTERPRISE, { name: 'er-x-i-0000000000000000a', labels: LABELS, runnerGroup: { id: 1 } });

    expect(sim.runners()).toMatchObject([{ id: jit.runnerId, scope: 'enterprise:octo-enterprise', labels: LABELS }]);
    expect((await github.listRunners(ENTERPRISE, 'er-x-', 1)).runners.map((r) => r.id)).toEqual([jit.runnerId]);
    expect(await github.deleteRunner(ENTERPRISE, jit.runnerId)).toBe('deleted');
    expect(await github.deleteRunner(ENTERPRISE, jit.runnerId)).toBe('not-found');
    expect(sim.runners()).toEqual([]);
    expect(calls('POST /app/installations/{installation_id}/access_tokens')).toBe(0);
  });

  test('the credential is read once per client, and only at the first enterprise call', async () => {
    let reads = 0;
    const github = await start(async () => { reads++; return sim.createPersonalToken(['manage_runners:enterprise']); });
    await github.generateJitConfig(ORG, { name: 'er-x-i-0000000000000000b', labels: LABELS, runnerGroup: { id: 1 } });
    expect(reads).toBe(0);
    await github.prepare(ENTERPRISE);
    await github.listRunners(ENTERPRISE, 'er-', 1);
    await github.generateJitConfig(ENTERPRISE, { name: 'er-x-i-0000000000000000c', labels: LABELS, runnerGroup: { id: 1 } });
    expect(reads).toBe(1);
  });

  test.each<[string, readonly string[] | 'none', RegExp]>([
    ['a token without the scope', ['repo', 'admin:org'], /lacks the manage_runners:enterprise scope \(its scopes: repo, admin:org\)/],
    ['no credential at all', 'none', /could not be read.*manage_runners:enterprise/],
  ])('%s is an EnterpriseCredentialError naming the scope, and registers nothing', async (_, token, message) => {
    const github = await start(token);
    const error = await rejection(github.generateJitConfig(ENTERPRISE, { name: 'er-x-i-0000000000000000d', labels: LABELS, runnerGroup: { id: 1 } }));
    expect(error).toBeInstanceOf(EnterpriseCredentialError);
    expect(error.message).toMatch(message);
    expect(error.message).toContain('octo-enterprise');
    expect(sim.runners()).toEqual([]);
  });

  test('a token of the scope for another enterprise slug says to check the slug and the owner', async () => {
    const github = await start();
    const other: RunnerScope = { kind: 'enterprise', enterprise: 'not-ours' };
    const error = await rejection(github.generateJitConfig(other, { name: 'er-x-i-0000000000000000e', labels: LABELS, runnerGroup: { id: 1 } }));
    expect(error).toBeInstanceOf(EnterpriseCredentialError);
    expect(error.message).toMatch(/404 Not Found.*github\.enterprise is the enterprise's slug.*owner of the enterprise/);
  });

  test('a revoked token is an EnterpriseCredentialError saying GitHub refused it', async () => {
    const current = { value: '' };
    const github = await start(async () => current.value);
    current.value = sim.createPersonalToken(['manage_runners:enterprise']);
    sim.revokePersonalToken(current.value);
    const error = await rejection(github.listRunners(ENTERPRISE, 'er-', 1));
    expect(error).toBeInstanceOf(EnterpriseCredentialError);
    expect(error.message).toContain('401 Bad credentials');
  });
});

describe('runner groups by name', () => {
  test.each<[string, RunnerScope, `org:${string}` | 'enterprise', string]>([
    ['the enterprise', ENTERPRISE, 'enterprise', 'GET /enterprises/{enterprise}/actions/runner-groups'],
    ['an organization', ORG, 'org:octo-org', 'GET /orgs/{org}/actions/runner-groups'],
  ])('at %s: found by name (any case), looked up once for a burst of registrations', async (_, scope, where, route) => {
    const github = await start();
    const groupId = sim.createRunnerGroup(where, 'Linux Builders');
    await Promise.all([1, 2, 3].map((n) =>
      github.generateJitConfig(scope, { name: `er-x-i-000000000000000${n}`, labels: LABELS, runnerGroup: { name: 'linux builders' } })));
    expect(sim.runners().map((r) => r.groupId)).toEqual([groupId, groupId, groupId]);
    expect(calls(route)).toBe(1);
  });

  test('a group the scope lacks fails naming the group and the fix, registers nothing, and is found once it is created', async () => {
    const github = await start();
    const request = { name: 'er-x-i-0000000000000000f', labels: LABELS, runnerGroup: { name: 'gpu' } };
    const error = await rejection(github.generateJitConfig(ENTERPRISE, request));
    expect(error).toBeInstanceOf(RunnerGroupNotFoundError);
    expect(error.message).toMatch(/no runner group named 'gpu' at enterprise:octo-enterprise: create it there .*or correct the runner config's runnerGroup/);
    expect(sim.runners()).toEqual([]);

    const gpu = sim.createRunnerGroup('enterprise', 'gpu');
    await github.generateJitConfig(ENTERPRISE, request);
    expect(sim.runners().map((r) => r.groupId)).toEqual([gpu]);
  });
});

test('a group id is kept ten minutes, then looked up again (a group renamed or made again is found)', async () => {
  // The client's clock is moved by hand: only the lookups' ages count, not how long the calls take.
  let now = Date.now();
  sim = new GhesSimulator({ privateKey, repos: ['app'] });
  await sim.start();
  const token = sim.createPersonalToken(['manage_runners:enterprise']);
  const github = new GitHubApi({
    baseUrl: sim.apiUrl, appId: String(sim.appId), privateKeyPem: privateKey, now: () => now, writeSpacingMs: 0, enterpriseToken: async () => token,
  });
  sim.createRunnerGroup('enterprise', 'builders');
  const register = (n: number) =>
    github.generateJitConfig(ENTERPRISE, { name: `er-x-i-00000000000000${n}`, labels: LABELS, runnerGroup: { name: 'builders' } });
  await register(10);
  now += 9 * 60_000;
  await register(11);
  expect(calls('GET /enterprises/{enterprise}/actions/runner-groups')).toBe(1);
  now += 2 * 60_000;
  await register(12);
  expect(calls('GET /enterprises/{enterprise}/actions/runner-groups')).toBe(2);
});
