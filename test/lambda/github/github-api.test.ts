import { createPublicKey, generateKeyPairSync, verify } from 'crypto';
import { testClient } from './client';
import { GitHubAppNotInstalledError, GitHubRateLimitedError, GitHubTimeoutError } from '../../../lambda/core/github';
import { appJwtFactory } from '../../../lambda/github/app-jwt';
import { isRateLimited } from '../../../lambda/github/errors';
import { GitHubApi } from '../../../lambda/github/github-api';
import { ScaledClock } from '../../../sandbox/common/time';
import { GhesSimulator, GhesSimulatorOptions } from '../../../sandbox/ghes';

const ORG = { kind: 'org' as const, org: 'octo-org' };
const privateKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();

let sim: GhesSimulator;
let clock: ScaledClock;

async function start(options: Partial<GhesSimulatorOptions> = {}, retryAfterBaseMs = 10): Promise<GitHubApi> {
  // One simulated hour is 1.8 s of wall time: a token expires within a test.
  clock = new ScaledClock(0.0005);
  sim = new GhesSimulator({ clock, jwtClock: () => clock.now(), privateKey, repos: ['app'], ...options });
  await sim.start();
  return testClient(sim, privateKey, clock, { retryAfterBaseMs });
}

afterEach(async () => { await sim?.stop(); });

const calls = (route: string) => sim.apiCalls().byRoute[route] ?? 0;

describe('GitHubApi against the GHES simulator', () => {
  test('the installation and its token are looked up once for many calls: one JIT config costs one call', async () => {
    const github = await start();
    for (let i = 0; i < 5; i++) {
      await github.generateJitConfig(ORG, { name: `er-x-i-000000000000000${i}`, labels: ['self-hosted', 'linux'], runnerGroup: { id: 1 } });
    }
    expect(calls('GET /orgs/{org}/installation')).toBe(1);
    expect(calls('POST /app/installations/{installation_id}/access_tokens')).toBe(1);
    expect(calls('POST /orgs/{org}/actions/runners/generate-jitconfig')).toBe(5);
  });

  test('a burst of concurrent calls looks the installation up once and mints one token', async () => {
    const github = await start();
    const names = Array.from({ length: 8 }, (_, i) => `er-x-i-000000000000001${i}`);
    await Promise.all(names.map((name) => github.generateJitConfig(ORG, { name, labels: ['self-hosted', 'linux'], runnerGroup: { id: 1 } })));
    expect(calls('GET /orgs/{org}/installation')).toBe(1);
    expect(calls('POST /app/installations/{installation_id}/access_tokens')).toBe(1);
    expect(calls('POST /orgs/{org}/actions/runners/generate-jitconfig')).toBe(8);
  });

  test('a failed installation lookup is not remembered: the next call looks it up again', async () => {
    const github = await start();
    sim.setFaults({ serverErrorRate: 1, serverErrorRoutes: ['GET /orgs/{org}/installation'] });
    await expect(github.listRunners(ORG, 'er-', 1)).rejects.toThrow();
    sim.setFaults({ serverErrorRate: 0 });
    const before = calls('GET /orgs/{org}/installation');
    await github.listRunners(ORG, 'er-', 1);
    expect(calls('GET /orgs/{org}/installation')).toBe(before + 1);
  });

  test('an installation token is renewed before it expires, so no call fails with 401', async () => {
    const github = await start();
    await github.listRunners(ORG, 'er-', 1);
    await clock.sleep(56 * 60_000); // inside the five-minute renewal margin
    await github.listRunners(ORG, 'er-', 1);
    expect(calls('POST /app/installations/{installation_id}/access_tokens')).toBe(2);
  });

  test('a registration whose name exists already (a retried call that had succeeded) is replaced, not duplicated', async () => {
    const github = await start();
    const first = await github.generateJitConfig(ORG, { name: 'er-x-i-0123456789abcdef0', labels: ['self-hosted'], runnerGroup: { id: 1 } });
    const second = await github.generateJitConfig(ORG, { name: 'er-x-i-0123456789abcdef0', labels: ['self-hosted'], runnerGroup: { id: 1 } });
    expect(second.runnerId).not.toBe(first.runnerId);
    expect((await github.listRunners(ORG, 'er-x-', 1)).runners.map((r) => r.id)).toEqual([second.runnerId]);
  });

  test('a name taken is found by the list\'s name filter: one page, however many runners the scope has', async () => {
    // Arrange: 120 other runners (kept registered however long they wait), then a registration whose name is taken.
    const github = await start({ jitRunnerTimeoutMs: 24 * 3_600_000 });
    for (let i = 0; i < 120; i++) await github.generateJitConfig(ORG, { name: `er-y-${i}`, labels: ['self-hosted'], runnerGroup: { id: 1 } });
    await github.generateJitConfig(ORG, { name: 'er-x-i-0123456789abcdef0', labels: ['self-hosted'], runnerGroup: { id: 1 } });
    const listsBefore = calls('GET /orgs/{org}/actions/runners');

    // Act
    const again = await github.generateJitConfig(ORG, { name: 'er-x-i-0123456789abcdef0', labels: ['self-hosted'], runnerGroup: { id: 1 } });

    // Assert
    expect(calls('GET /orgs/{org}/actions/runners') - listsBefore).toBe(1);
    expect(sim.runners().filter((r) => r.name === 'er-x-i-0123456789abcdef0').map((r) => r.id)).toEqual([again.runnerId]);
  });

  test('deleting reports a missing runner as not-found', async () => {
    const github = await start();
    const runner = await github.generateJitConfig(ORG, { name: 'er-x-i-0123456789abcdef0', labels: ['self-hosted'], runnerGroup: { id: 1 } });
    expect(await github.deleteRunner(ORG, runner.runnerId)).toBe('deleted');
    expect(await github.deleteRunner(ORG, runner.runnerId)).toBe('not-found');
  });

  test('a secondary rate limit is waited out and the call succeeds', async () => {
    // The simulator sends retry-after in wall seconds (at least 1); each stands for 100 ms here.
    const github = await start({}, 100);
    await github.listRunners(ORG, 'er-', 1);
    const limited: number[] = [];
    sim.on('request', (r: { status: number }) => { if (r.status === 403 || r.status === 429) limited.push(r.status); });
    // A window of 100 simulated seconds: 50 ms of wall time at this scale, shorter than one wait.
    sim.triggerSecondaryRateLimit(100_000);
    await expect(github.listRunners(ORG, 'er-', 1)).resolves.toMatchObject({ runners: [] });
    expect(limited.length).toBeGreaterThan(0);
  });

  test('a scope the App is not installed on is a named error saying what to do', async () => {
    const github = await start();
    await expect(github.listRunners({ kind: 'org', org: 'elsewhere' }, 'er-', 1)).rejects.toBeInstanceOf(GitHubAppNotInstalledError);
  });

  test('failed deliveries are listed, and one can be redelivered under the same GUID', async () => {
    const github = await start({ webhookUrl: 'http://127.0.0.1:9/unreachable', webhookSecret: 's' });
    for (let i = 0; i < 3; i++) sim.queueJob('app', ['self-hosted', 'linux'], 60_000);
    await sim.deliveriesSettled();
    const { deliveries } = await github.listDeliveries(0, 1);
    expect(deliveries.length).toBe(3);
    expect(deliveries.every((d) => d.statusCode !== 200)).toBe(true);
    await github.redeliver(deliveries[0].id);
    await sim.deliveriesSettled();
    const { deliveries: after } = await github.listDeliveries(0, 1);
    expect(after.filter((d) => d.guid === deliveries[0].guid && d.redelivery)).toHaveLength(1);
  });

  test('a call GitHub does not answer in time is abandoned once, with a named error, and not retried', async () => {
    // Arrange: every answer takes two simulated hours (3.6 s); the client waits 300 ms.
    await start({ faults: { latencyMs: 2 * 3_600_000 } });
    const github = testClient(sim, privateKey, clock, { requestTimeoutMs: 300 });
    sim.resetApiCalls();

    // Act
    const failure = await github.listDeliveries(0, 1).catch((error: unknown) => error);

    // Assert: the one request the server received was given up (an answer would have come, late), and
    // not sent again as a 5xx would be.
    expect(failure).toBeInstanceOf(GitHubTimeoutError);
    expect((failure as GitHubTimeoutError).route).toBe('GET /app/hook/deliveries');
    expect(sim.apiCalls().byRoute).toEqual({ 'GET /app/hook/deliveries': 1 });
  });

  test('a re-run is done, refused for now while another job of the run has not finished, or refused for good', async () => {
    const github = await start();
    const { jobIds: [first, second] } = sim.createWorkflowRun({
      repo: 'app', jobs: [{ labels: ['self-hosted', 'nobody'], durationMs: 1000 }, { labels: ['self-hosted', 'nobody'], durationMs: 1000 }],
    });
    sim.cancelJob(first);

    const whileRunning = await github.rerunJob('octo-org', 'app', first);
    sim.cancelJob(second);
    const done = await github.rerunJob('octo-org', 'app', first);
    sim.cancelJob(sim.job(first)!.rerunAs!);
    const oldAttempt = await github.rerunJob('octo-org', 'app', first);
    const unknown = await github.rerunJob('octo-org', 'app', 1);

    expect(whileRunning).toEqual({ outcome: 'run-in-progress', reason: 'This workflow is already running' });
    expect(done).toEqual({ outcome: 'rerun' });
    expect(oldAttempt).toEqual({ outcome: 'refused', reason: 'Only jobs from the current attempt can be re-run' });
    expect(unknown).toEqual({ outcome: 'refused', reason: 'Not Found' });
  });

  test('a re-run that meets a rate limit longer than the client waits throws the port\'s rate-limit error, rather than reading as a refusal', async () => {
    const github = await start();
    const job = sim.queueJob('app', ['self-hosted', 'nobody'], 1000);
    sim.cancelJob(job);
    await github.listRunners(ORG, 'er-', 1); // token and installation first
    sim.triggerSecondaryRateLimit(3_600_000);

    const error = await github.rerunJob('octo-org', 'app', job).then(() => undefined, (e: unknown) => e);

    expect(error).toBeInstanceOf(GitHubRateLimitedError);
    expect(isRateLimited((error as Error).cause)).toBe(true);
  });
});

describe('App JWT', () => {
  test('every JWT is RS256-signed by the App key, expires within 10 minutes, and carries a unique jti', async () => {
    const mint = appJwtFactory(privateKey, () => Date.UTC(2026, 0, 1));
    const [a, b] = await Promise.all([mint('12'), mint('12')]);
    const payloads = [a, b].map(({ jwt }) => {
      const [header, payload, signature] = jwt.split('.');
      expect(verify('RSA-SHA256', Buffer.from(`${header}.${payload}`), createPublicKey(privateKey), Buffer.from(signature, 'base64url'))).toBe(true);
      return JSON.parse(Buffer.from(payload, 'base64url').toString()) as { iat: number; exp: number; iss: string; jti: string };
    });
    expect(payloads[0].jti).not.toEqual(payloads[1].jti);
    expect(payloads[0].iss).toBe('12');
    expect(payloads[0].exp - Date.UTC(2026, 0, 1) / 1000).toBeLessThanOrEqual(600);
    expect(payloads[0].iat).toBeLessThan(Date.UTC(2026, 0, 1) / 1000);
  });
});

describe('rate-limit classification', () => {
  test('a 403 or 429 with no requests left, or naming a rate limit, is a rate limit; other 403s are not', () => {
    expect(isRateLimited({ status: 403, message: 'x', response: { headers: { 'x-ratelimit-remaining': '0' } } })).toBe(true);
    expect(isRateLimited({ status: 429, message: 'You have exceeded a secondary rate limit' })).toBe(true);
    expect(isRateLimited({ status: 403, message: 'Resource not accessible by integration' })).toBe(false);
    expect(isRateLimited({ status: 500, message: 'rate limit' })).toBe(false);
    expect(isRateLimited(undefined)).toBe(false);
  });
});
