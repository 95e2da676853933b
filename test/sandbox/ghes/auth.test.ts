// GitHub App authentication against the simulator through real Octokit: JWT checks with GitHub's exact
// messages, Octokit's clock-skew repair, installation tokens that expire, and the wrong credential kind.
import { createSign } from 'crypto';
import { appAuth, client, failure, Octokit, quietLog, testKey, withToken } from './octokit';
import { ScaledClock } from '../../../sandbox/common/time';
import { GhesSimulator } from '../../../sandbox/ghes';

const ORG = 'octo-org';

/** A JWT signed like GitHub expects, with the claims given (seconds since the epoch, client clock). */
function jwt(claims: Record<string, unknown>, privateKey: string): string {
  const part = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
  const input = `${part({ typ: 'JWT', alg: 'RS256' })}.${part(claims)}`;
  return `${input}.${createSign('RSA-SHA256').update(input).sign(privateKey, 'base64url')}`;
}

const now = (): number => Math.floor(Date.now() / 1000);
/** A route that needs the App's JWT. */
const APP_ROUTE = 'GET /orgs/{org}/installation';

describe('GitHub App JWT', () => {
  let sim: GhesSimulator;

  beforeAll(async () => {
    sim = new GhesSimulator({ privateKey: testKey(), clock: new ScaledClock(0.001), org: ORG, repos: ['app', 'alice/tool'] });
    await sim.start();
  });

  afterAll(() => sim.stop());

  const asJwt = (token: string): ReturnType<typeof withToken> => withToken(sim, token);

  test('a valid JWT looks up installations of a repository and of the organization', async () => {
    const app = client(sim);

    const { data: repoInstallation } = await app.request('GET /repos/{owner}/{repo}/installation', { owner: ORG, repo: 'app' });
    const { data: orgInstallation } = await app.request('GET /orgs/{org}/installation', { org: ORG });
    const notInstalled = await failure(app.request('GET /repos/{owner}/{repo}/installation', { owner: ORG, repo: 'nope' }));

    expect(repoInstallation.id).toBe(orgInstallation.id);
    expect(orgInstallation).toMatchObject({ app_id: 1, target_type: 'Organization', account: { login: ORG } });
    expect(notInstalled.status).toBe(404);
  });

  test('iss may be the App id as a number or a string', async () => {
    for (const iss of [1, '1']) {
      const { status } = await asJwt(jwt({ iat: now() - 30, exp: now() + 500, iss }, sim.privateKey)).request(APP_ROUTE, { org: ORG });
      expect(status).toBe(200);
    }
  });

  test.each([
    ['signed with another key', () => jwt({ iat: now() - 30, exp: now() + 500, iss: 1 }, testKey(1)), 'A JSON web token could not be decoded'],
    ['of another App', () => jwt({ iat: now() - 30, exp: now() + 500, iss: 2 }, sim.privateKey), 'A JSON web token could not be decoded'],
    ['expired', () => jwt({ iat: now() - 700, exp: now() - 100, iss: 1 }, sim.privateKey),
      "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires"],
    ['with a string exp', () => jwt({ iat: now() - 30, exp: String(now() + 500), iss: 1 }, sim.privateKey),
      "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires"],
    ['valid for more than 10 minutes', () => jwt({ iat: now(), exp: now() + 660, iss: 1 }, sim.privateKey),
      "'Expiration time' claim ('exp') is too far in the future"],
    ['issued in the future', () => jwt({ iat: now() + 300, exp: now() + 500, iss: 1 }, sim.privateKey),
      "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued"],
    ['with a fractional iat', () => jwt({ iat: now() - 0.5, exp: now() + 500, iss: 1 }, sim.privateKey),
      "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued"],
    ['that is not a JWT at all', () => 'a.b.c', 'A JSON web token could not be decoded'],
  ])('a JWT %s is refused with 401 and GitHub\'s message, and a Date header', async (_case, token, message) => {
    const refused = await failure(asJwt(token()).request(APP_ROUTE, { org: ORG }));

    expect(refused.status).toBe(401);
    expect((refused.response?.data as { message: string }).message).toBe(message);
    expect(Date.parse(refused.response?.headers.date ?? '')).not.toBeNaN();
  });

  test('the JWT has a skew allowance for iat: 30 s ahead is accepted', async () => {
    const { status } = await asJwt(jwt({ iat: now() + 30, exp: now() + 500, iss: 1 }, sim.privateKey)).request(APP_ROUTE, { org: ORG });

    expect(status).toBe(200);
  });

  test('with jwtClock set to the SimClock, JWTs minted on simulated time are judged on it', async () => {
    const clock = new ScaledClock(0.0002);
    const onSimTime = new GhesSimulator({ privateKey: testKey(), clock, org: ORG, jwtClock: () => clock.now() });
    await onSimTime.start();
    try {
      await clock.sleep(30 * 60_000); // simulated time is now half an hour ahead of the wall clock
      const simNow = Math.floor(clock.now() / 1000);

      const ask = (token: string): Promise<{ status: number }> => withToken(onSimTime, token).request(APP_ROUTE, { org: ORG });
      const minted = await ask(jwt({ iat: simNow - 60, exp: simNow + 500, iss: 1 }, testKey()));
      const wall = await failure(ask(jwt({ iat: now() - 60, exp: now() + 500, iss: 1 }, testKey())));

      expect(minted.status).toBe(200);
      expect([wall.status, wall.message]).toEqual([401, expect.stringContaining("'Expiration time' claim ('exp') must be a numeric value")]);
    } finally {
      await onSimTime.stop();
    }
  });

  test('an installation token on an /app route reads as an undecodable JWT; a JWT on a runner route is forbidden', async () => {
    const auth = appAuth(sim);
    const { token: installationToken } = await auth({ type: 'installation', installationId: sim.installationId(ORG) });
    const { token: appJwt } = await auth({ type: 'app' });

    const tokenOnApp = await failure(withToken(sim, installationToken).request('GET /app/hook/deliveries'));
    const jwtOnRunners = await failure(asJwt(appJwt).request('GET /orgs/{org}/actions/runners', { org: ORG }));
    const nothing = await failure(new Octokit({ baseUrl: sim.apiUrl, log: quietLog }).request('GET /orgs/{org}/actions/runners', { org: ORG }));

    expect([tokenOnApp.status, tokenOnApp.message]).toEqual([401, expect.stringContaining('A JSON web token could not be decoded')]);
    expect([jwtOnRunners.status, jwtOnRunners.message]).toEqual([403, expect.stringContaining('Resource not accessible by integration')]);
    expect([nothing.status, nothing.message]).toEqual([401, expect.stringContaining('Requires authentication')]);
  });

  test('an installation token reaches only its own installation\'s organization and repositories', async () => {
    const alice = client(sim, { installationId: sim.installationId('alice') });

    const ownRepo = await alice.request('GET /repos/{owner}/{repo}/actions/runners', { owner: 'alice', repo: 'tool' });
    const orgRepo = await failure(alice.request('GET /repos/{owner}/{repo}/actions/runners', { owner: ORG, repo: 'app' }));
    const org = await failure(alice.request('GET /orgs/{org}/actions/runners', { org: ORG }));

    expect([ownRepo.status, orgRepo.status, org.status]).toEqual([200, 404, 404]);
  });
});

describe('installation access tokens', () => {
  test('expire after one simulated hour with 401 Bad credentials, and the client gets a new one', async () => {
    // 1 simulated hour = 360 ms.
    const sim = new GhesSimulator({ privateKey: testKey(), clock: new ScaledClock(0.0001), org: ORG });
    await sim.start();
    try {
      const auth = appAuth(sim);
      const installationId = sim.installationId(ORG);
      const requestedAt = sim.clock.now();
      const first = await auth({ type: 'installation', installationId });
      const receivedAt = sim.clock.now();
      const runners = (token: string): Promise<unknown> => withToken(sim, token).request('GET /orgs/{org}/actions/runners', { org: ORG });
      await runners(first.token);

      while (sim.clock.now() < Date.parse(first.expiresAt)) await sim.clock.sleep(60_000);
      const expired = await failure(runners(first.token));
      const second = await auth({ type: 'installation', installationId, refresh: true });
      const renewed = (await withToken(sim, second.token).request('GET /orgs/{org}/actions/runners', { org: ORG }));

      // One hour from the moment of issue, which lies between request and response (whole seconds).
      expect(Date.parse(first.expiresAt)).toBeGreaterThanOrEqual(requestedAt + 60 * 60_000 - 1000);
      expect(Date.parse(first.expiresAt)).toBeLessThanOrEqual(receivedAt + 60 * 60_000);
      expect([expired.status, expired.message]).toEqual([401, expect.stringContaining('Bad credentials')]);
      expect(second.token).not.toBe(first.token);
      expect(renewed.status).toBe(200);
      expect(sim.apiCalls().byRoute['POST /app/installations/{installation_id}/access_tokens']).toBe(2);
    } finally {
      await sim.stop();
    }
  });
});
