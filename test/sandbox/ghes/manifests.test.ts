// The manifest flow of an instance without an App: the pages a browser meets, the redirect, the one-time
// code, and the App it creates — which then authenticates, installs and sends signed webhooks.
import { createServer } from 'http';
import { AddressInfo } from 'net';
import { createFromManifest, MANIFEST, manifestCode } from './manifest-flow';
import { client, Octokit, verifyWebhookSignature } from './octokit';
import { ScaledClock } from '../../../sandbox/common/time';
import { GhesSimulator } from '../../../sandbox/ghes';

/** A scaled clock the test can move forward. */
class MovableClock extends ScaledClock {
  offsetMs = 0;
  override now(): number {
    return super.now() + this.offsetMs;
  }
}

describe('the GHES simulator\'s GitHub App manifest flow', () => {
  let sim: GhesSimulator;
  let clock: MovableClock;

  beforeEach(async () => {
    clock = new MovableClock(0.01);
    sim = new GhesSimulator({ withApp: false, clock, org: 'octo-org', repos: ['app'], resolveUrl: (url) => url.replace('https://hooks.example', hooksUrl) });
    await sim.start();
  });
  afterEach(() => sim.stop());

  let hooksUrl = '';
  const received: Array<{ body: string; signature?: string }> = [];
  const hooks = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => { body += c.toString(); });
    req.on('end', () => {
      received.push({ body, signature: req.headers['x-hub-signature-256'] as string | undefined });
      res.end('ok');
    });
  });
  beforeAll(async () => {
    await new Promise<void>((resolve) => hooks.listen(0, '127.0.0.1', resolve));
    hooksUrl = `http://127.0.0.1:${(hooks.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((resolve) => hooks.close(resolve)));

  test('without an App, nothing authenticates and no job is delivered', async () => {
    expect(() => sim.privateKey).toThrow(/no App yet/);
    sim.queueJob('app', ['self-hosted'], 1000);
    await sim.deliveriesSettled();
    expect(sim.deliveries()).toHaveLength(0);
  });

  test('the redirect carries the code and the state; the code converts once into an App that signs in, installs and delivers', async () => {
    const redirect = await createFromManifest(sim, 'octo-org', MANIFEST, 'abc123');
    expect(redirect.status).toBe(302);
    const location = new URL(redirect.headers.get('location')!);
    expect(`${location.origin}${location.pathname}`).toBe(MANIFEST.redirect_url);
    expect(location.searchParams.get('state')).toBe('abc123');
    const code = location.searchParams.get('code')!;
    expect(code).toMatch(/^[0-9a-f]{40}$/);

    const anonymous = new Octokit({ baseUrl: sim.apiUrl });
    const { status, data } = await anonymous.request('POST /app-manifests/{code}/conversions', { code });
    expect(status).toBe(201);
    expect(data).toEqual(expect.objectContaining({
      id: sim.appId,
      slug: 'runners',
      name: 'runners',
      events: ['workflow_job'],
      permissions: { actions: 'write', metadata: 'read', organization_self_hosted_runners: 'write' },
    }));
    await expect(anonymous.request('POST /app-manifests/{code}/conversions', { code })).rejects.toMatchObject({ status: 404 });

    // The pem is the App's: GET /app answers; it is installed nowhere yet.
    const app = client(sim, { privateKey: data.pem });
    expect((await app.request('GET /app')).data?.installations_count).toBe(0);
    const page = await (await fetch(`${data.html_url}/installations/new`)).text();
    expect(page).toContain('Install on octo-org');
    const installed = await fetch(`${data.html_url}/installations`, { method: 'POST', body: new URLSearchParams({ account: 'octo-org' }) });
    expect(installed.status).toBe(200);
    const installations = (await app.request('GET /app/installations')).data;
    expect(installations.map((i) => i.account?.login)).toEqual(['octo-org']);

    // Jobs now reach the manifest's webhook URL (through the network's names), signed with the new secret.
    received.length = 0;
    sim.queueJob('app', ['self-hosted'], 1000);
    await sim.deliveriesSettled();
    expect(received).toHaveLength(1);
    expect(await verifyWebhookSignature(data.webhook_secret!, received[0].body, received[0].signature!)).toBe(true);
  });

  test('the personal page registers the App for the signed-in user, who can install it', async () => {
    const redirect = await createFromManifest(sim, undefined, { ...MANIFEST, default_permissions: { actions: 'write', administration: 'write' } });
    const code = new URL(redirect.headers.get('location')!).searchParams.get('code')!;
    const { data } = await new Octokit({ baseUrl: sim.apiUrl }).request('POST /app-manifests/{code}/conversions', { code });
    expect(data.owner).toEqual(expect.objectContaining({ login: 'ghes-admin', type: 'User' }));
    const page = await (await fetch(`${data.html_url}/installations/new`)).text();
    expect(page).toContain('Install on ghes-admin');
  });

  test('a code is good for an hour', async () => {
    const code = await manifestCode(sim, 'octo-org');
    clock.offsetMs = 60 * 60 * 1000 + 1000;
    await expect(new Octokit({ baseUrl: sim.apiUrl }).request('POST /app-manifests/{code}/conversions', { code })).rejects.toMatchObject({ status: 404 });
  });

  test.each([
    ['no webhook URL', { ...MANIFEST, hook_attributes: undefined }, /hook_attributes.url is required/],
    ['public as a string', { ...MANIFEST, public: 'false' }, /public must be true or false/],
    ['workflow_job without the Actions permission', { ...MANIFEST, default_permissions: { metadata: 'read' } }, /needs the Actions permission/],
    ['a permission GHES does not know', { ...MANIFEST, default_permissions: { ...MANIFEST.default_permissions, runners: 'write' } }, /Unknown permission runners/],
  ])('a manifest with %s is refused with a page saying why', async (_, manifest, message) => {
    const answer = await createFromManifest(sim, 'octo-org', manifest);
    expect(answer.status).toBe(422);
    expect(await answer.text()).toMatch(message);
  });

  test('an unknown organization is a 404 page', async () => {
    expect((await createFromManifest(sim, 'no-such-org')).status).toBe(404);
  });
});
