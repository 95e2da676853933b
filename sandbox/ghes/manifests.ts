// The GitHub App manifest flow, as a browser and an API client meet it
// (https://docs.github.com/en/enterprise-server@3.19/apps/sharing-github-apps/registering-a-github-app-from-a-manifest):
// 1. a form POST of `manifest` to /organizations/{org}/settings/apps/new?state=S: GitHub shows the App to create, its name editable;
// 2. "Create GitHub App": a redirect to the manifest's redirect_url with `code` (and `state` when one was sent);
// 3. POST /app-manifests/{code}/conversions (no authentication): the App with its pem, webhook secret and client secret, once;
//    a code is good for an hour (the docs' limit for the whole flow).
// The personal /settings/apps/new registers the App for the user the browser is signed in as. Then the App's page offers
// /github-apps/{slug}/installations/new, which installs it on its owner. The simulator models one App.
import { readFileSync } from 'fs';
import { IncomingMessage, ServerResponse } from 'http';
import { generateKey } from './auth';
import { Account, Directory, randomHex } from './directory';
import { GhesApiError, notFound } from './errors';
import { AppInfo } from './payloads';
import { SimTime } from './sim-time';
import { readBody } from '../common/http';
import { SeededRandom } from '../common/random';

const CODE_TTL_MS = 60 * 60 * 1000;

/** The App permissions GHES 3.19 knows, and their levels, from its OpenAPI description (`app-permissions`). */
const PERMISSIONS = (() => {
  const spec = JSON.parse(readFileSync(require.resolve('@octokit/openapi/generated/ghes-3.19.json'), 'utf8')) as {
    components: { schemas: Record<string, { properties: Record<string, { enum?: string[] }> }> };
  };
  return new Map(Object.entries(spec.components.schemas['app-permissions'].properties).map(([name, p]) => [name, p.enum ?? []]));
})();

/** What a conversion hands out: the App and its credentials. */
export interface CreatedApp {
  readonly app: AppInfo;
  readonly privateKey: string;
  readonly webhookUrl: string;
  readonly webhookSecret: string;
  readonly clientSecret: string;
}

interface Pending {
  readonly manifest: Manifest;
  readonly owner: Account;
  readonly expiresAt: number;
}

type Manifest = {
  name?: string;
  url: string;
  hook_attributes: { url: string; active?: boolean };
  redirect_url?: string;
  public?: boolean;
  default_permissions?: Record<string, string>;
  default_events?: string[];
};

export class ManifestFlow {
  private readonly pending = new Map<string, Pending>();

  constructor(
    private readonly directory: Directory,
    private readonly time: SimTime,
    private readonly rng: SeededRandom,
    /** The App, once there is one; `create` makes it. */
    private readonly hasApp: () => AppInfo | undefined,
    private readonly create: (created: CreatedApp) => void,
    /** The login of the user the browser is signed in as. */
    private readonly signedInUser: string,
  ) {}

  /** The web pages of the flow; false for a path that is not one of them. */
  async handleWeb(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const url = new URL(req.url ?? '/', 'http://ghes');
    const form = req.method === 'POST' ? new URLSearchParams((await readBody(req, 1024 * 1024)).toString('utf8')) : new URLSearchParams();
    const page = (status: number, title: string, body: string) => {
      res.writeHead(status, { 'content-type': 'text/html; charset=utf-8' });
      res.end(`<!doctype html><html><head><title>${escape(title)} · GitHub Enterprise</title></head><body><h1>${escape(title)}</h1>${body}</body></html>`);
      return true;
    };
    const orgPath = /^\/organizations\/([^/]+)\/settings\/apps\/new$/.exec(url.pathname);
    if (req.method === 'POST' && (orgPath || url.pathname === '/settings/apps/new')) {
      const owner = orgPath ? this.directory.accountOf(decodeURIComponent(orgPath[1])) : this.directory.user(this.signedInUser);
      if (!owner || (orgPath && owner.type !== 'Organization')) return page(404, 'Not Found', '<p>No such organization.</p>');
      const problem = manifestProblem(form.get('manifest'));
      if (typeof problem === 'string') return page(422, 'Invalid GitHub App manifest', `<p id="problem">${escape(problem)}</p>`);
      const state = url.searchParams.get('state');
      return page(200, `Create GitHub App for ${owner.login}`, `
<form method="post" action="/settings/apps/new/manifest">
<input type="hidden" name="manifest" value="${escape(form.get('manifest')!)}">
<input type="hidden" name="owner" value="${escape(owner.login)}">
${state === null ? '' : `<input type="hidden" name="state" value="${escape(state)}">`}
<label>GitHub App name <input type="text" name="name" value="${escape(problem.name ?? '')}"></label>
<button type="submit" id="create">Create GitHub App for ${escape(owner.login)}</button>
</form>`);
    }
    if (req.method === 'POST' && url.pathname === '/settings/apps/new/manifest') {
      const manifest = manifestProblem(form.get('manifest'));
      const owner = this.directory.accountOf(form.get('owner') ?? '');
      const name = (form.get('name') ?? '').trim();
      if (typeof manifest === 'string' || !owner) return page(422, 'Invalid GitHub App manifest', '<p>Start again.</p>');
      if (name === '' || name.length > 34) return page(422, 'Name is invalid', '<p>The name must be 1 to 34 characters.</p>');
      const code = randomHex(this.rng, 40);
      this.pending.set(code, { manifest: { ...manifest, name }, owner, expiresAt: this.time.now() + CODE_TTL_MS });
      const state = form.get('state');
      if (!manifest.redirect_url) return page(200, 'GitHub App created', `<p>Code: <code>${code}</code></p>`);
      const target = new URL(manifest.redirect_url);
      target.searchParams.set('code', code);
      if (state !== null) target.searchParams.set('state', state);
      res.writeHead(302, { location: target.toString() });
      res.end();
      return true;
    }
    const install = /^\/github-apps\/([^/]+)\/installations(\/new)?$/.exec(url.pathname);
    const app = this.hasApp();
    if (install && app && decodeURIComponent(install[1]) === app.slug) {
      if (req.method === 'GET' && install[2]) {
        return page(200, `Install ${app.name}`, `
<form method="post" action="/github-apps/${escape(app.slug)}/installations">
<input type="hidden" name="account" value="${escape(app.owner.login)}">
<button type="submit" id="install">Install on ${escape(app.owner.login)}</button>
</form>`);
      }
      if (req.method === 'POST' && !install[2]) {
        const installation = this.directory.install(form.get('account') ?? '');
        if (!installation) return page(404, 'Not Found', '<p>No such account.</p>');
        return page(200, `${app.name} is installed`, `<p id="installed">Installed on ${escape(installation.account.login)} (installation ${installation.id}).</p>`);
      }
    }
    return false;
  }

  /** POST /app-manifests/{code}/conversions: the App, once per code, within the hour. */
  convert(code: string): CreatedApp {
    const pending = this.pending.get(code);
    if (!pending || this.time.now() > pending.expiresAt) throw notFound();
    this.pending.delete(code);
    if (this.hasApp()) throw new GhesApiError(422, 'Validation Failed: the simulated instance has one GitHub App already');
    const { manifest, owner } = pending;
    const name = manifest.name ?? 'app';
    const created: CreatedApp = {
      app: {
        slug: name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, ''),
        name,
        owner,
        permissions: { metadata: 'read', ...manifest.default_permissions },
        events: manifest.default_events ?? [],
        clientId: `Iv1.${randomHex(this.rng, 16)}`,
      },
      privateKey: generateKey(),
      webhookUrl: manifest.hook_attributes.url,
      webhookSecret: randomHex(this.rng, 40),
      clientSecret: randomHex(this.rng, 40),
    };
    this.create(created);
    return created;
  }
}

/** The manifest, or what is wrong with it: the required fields, JSON types, and permissions and events GHES knows. */
function manifestProblem(json: string | null): Manifest | string {
  let m: Manifest;
  try {
    m = JSON.parse(json ?? '') as Manifest;
  } catch {
    return 'The manifest is not JSON.';
  }
  if (typeof m !== 'object' || m === null) return 'The manifest is not a JSON object.';
  if (typeof m.url !== 'string' || m.url === '') return 'url is required.';
  if (typeof m.hook_attributes?.url !== 'string') return 'hook_attributes.url is required.';
  if (m.public !== undefined && typeof m.public !== 'boolean') return 'public must be true or false.';
  for (const [name, level] of Object.entries(m.default_permissions ?? {})) {
    if (!PERMISSIONS.get(name)?.includes(level)) return `Unknown permission ${name}: ${level}.`;
  }
  // "To subscribe to this event, a GitHub App must have at least read-level access for the Actions permission."
  // https://docs.github.com/en/enterprise-server@3.19/webhooks/webhook-events-and-payloads#workflow_job
  if (m.default_events?.includes('workflow_job') && !['read', 'write'].includes(m.default_permissions?.actions ?? '')) {
    return 'The workflow_job event needs the Actions permission.';
  }
  return m;
}

const escape = (value: string) => value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
