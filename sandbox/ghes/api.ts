// The REST front: each request passes the 5xx fault, authentication, the secondary rate limit and the latency fault, then its route
// (templates as the OpenAPI description spells them; the conformance test walks this table); calls are counted by template. GHES ships
// with rate limiting off, so no x-ratelimit-* headers are sent (reference/github.md 7).
import { createHash } from 'crypto';
import { IncomingMessage, ServerResponse } from 'http';
import { Actions, DEFAULT_GROUP } from './actions';
import { AppAuth, Caller, CredentialNeed } from './auth';
import { Directory, Installation } from './directory';
import { GhesApiError, invalid, notFound, RATE_LIMIT_DOCS_URL } from './errors';
import { FaultInjector } from './faults';
import { ManifestFlow } from './manifests';
import { appJson, installationJson, jobJson, publicUserJson, runnerJson, Instance } from './payloads';
import { encodeJitConfig } from './runner';
import { isoSeconds, SimTime } from './sim-time';
import { deliveryItemJson, WebhookSender } from './webhooks';
import { readBody, tally } from '../common/http';
import { SeededRandom } from '../common/random';

export const API_PREFIX = '/api/v3';

export type RequestEvent = { readonly route: string; readonly status: number };

interface ApiRequest {
  /** The absolute URL of the request without its query, for Link headers. */
  readonly url: string;
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  readonly body: Record<string, unknown>;
  readonly caller: Caller;
}

type ApiResponse = { readonly status: number; readonly body?: unknown; readonly headers?: Readonly<Record<string, string>> };
export type ApiRoute = ReturnType<typeof route>;

export interface ApiDeps {
  readonly instance: () => Instance;
  readonly directory: Directory;
  readonly auth: AppAuth;
  readonly actions: Actions;
  readonly webhooks: WebhookSender;
  readonly manifests: ManifestFlow;
  readonly faults: FaultInjector;
  readonly time: SimTime;
  readonly rng: SeededRandom;
  readonly onRequest: (event: RequestEvent) => void;
  /** The runner version the instance ships (what its runner downloads list). */
  readonly runnerVersion: () => string;
  /** The server's release, named by every answer (`x-github-enterprise-version`); none as github.com. */
  readonly release: () => string | undefined;
}

export class ApiServer {
  readonly routes: readonly ApiRoute[];
  /** Calls by `METHOD /template` or `METHOD (unmatched)`. */
  counts: Record<string, number> = {};

  constructor(private readonly deps: ApiDeps) {
    this.routes = apiRoutes(deps);
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { deps } = this;
    const url = new URL(req.url ?? '/', 'http://simulator');
    const method = req.method ?? 'GET';
    const path = url.pathname.startsWith(`${API_PREFIX}/`) ? url.pathname.slice(API_PREFIX.length) : '';
    const matched = this.routes.find((r) => r.method === method && r.pattern.test(path));
    const key = matched ? `${method} ${matched.template}` : `${method} (unmatched)`;
    tally(this.counts, key);

    // GitHub's request ids look like `C0DE:1A2B3C:4D5E6F:7A8B9C:65F0A1B2`.
    const requestId = [4, 6, 6, 6, 8].map((n) => deps.rng.integer(0, 16 ** n - 1).toString(16).toUpperCase().padStart(n, '0')).join(':');
    const common: Record<string, string> = {
      'date': new Date().toUTCString(),
      'x-github-request-id': requestId,
      'x-github-media-type': 'github.v3; format=json',
      'x-github-api-version-selected': '2022-11-28',
    };
    const release = deps.release();
    if (release !== undefined) common['x-github-enterprise-version'] = release;
    try {
      const raw = await readBody(req, 1024 * 1024);
      if (!matched) throw notFound();
      const fault = deps.faults.serverError(key);
      const injected = (status: number): GhesApiError => new GhesApiError(status, status === 503 ? 'Service Unavailable' : 'Server Error');
      if (fault && !fault.afterEffect) throw injected(fault.status);

      const caller = deps.auth.authenticate(req.headers.authorization, matched.auth);
      // A classic token is answered with its scopes and the ones the route accepts, on errors too
      // (https://docs.github.com/en/enterprise-server@3.19/apps/oauth-apps/building-oauth-apps/scopes-for-oauth-apps).
      if (caller.kind === 'user') {
        common['x-oauth-scopes'] = caller.scopes.join(', ');
        common['x-accepted-oauth-scopes'] = ENTERPRISE_RUNNER_SCOPES.join(', ');
      }
      const limitedMs = deps.faults.secondaryLimitLeft(deps.time.now());
      if (limitedMs !== undefined) {
        // @octokit/plugin-throttling recognises a secondary limit by "secondary rate" in the message.
        throw new GhesApiError(403,
          'You have exceeded a secondary rate limit. Please wait a few minutes before you try again. ' +
          `If you reach out to GitHub Support for help, please include the request ID ${requestId}.`,
          { documentationUrl: RATE_LIMIT_DOCS_URL, headers: { 'retry-after': String(deps.time.toClientSeconds(limitedMs)) } });
      }
      const latency = deps.faults.apiLatencyMs();
      if (latency > 0) await deps.time.sleep(latency);

      const values = matched.pattern.exec(path)!.slice(1).map(decodeURIComponent);
      const params = Object.fromEntries([...matched.template.matchAll(/\{(\w+)\}/g)].map((m, i) => [m[1], values[i]]));
      const response = matched.handle({ url: `${deps.instance().api}${path}`, params, query: url.searchParams, body: parseJson(raw), caller });
      // The request took effect, yet the client is told it failed: its retry must cope (e.g. 409).
      if (fault?.afterEffect) throw injected(fault.status);
      send(res, response.status, response.body, { ...common, ...response.headers });
      deps.onRequest({ route: key, status: response.status });
    } catch (err) {
      // A defect of the simulator is answered as GitHub's 500, and logged so that a retry cannot hide it.
      if (!(err instanceof GhesApiError)) console.error('GHES simulator: internal error', err);
      const e = err instanceof GhesApiError ? err : new GhesApiError(500, 'Server Error', { cause: err });
      send(res, e.status, e.body(), { ...common, ...e.headers });
      deps.onRequest({ route: key, status: e.status });
    }
  }
}

/** The JSON object of a request body (empty body: `{}`), or GitHub's 400. */
function parseJson(raw: Buffer): Record<string, unknown> {
  const text = raw.toString('utf8');
  if (text.trim() === '') return {};
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    throw new GhesApiError(400, 'Problems parsing JSON');
  }
}

/** Writes a JSON response (none for 204), unless the connection is gone. */
function send(res: ServerResponse, status: number, body: unknown, headers: Readonly<Record<string, string>>): void {
  if (res.writableEnded || res.destroyed) return;
  const text = status === 204 || body === undefined ? undefined : JSON.stringify(body);
  const type = text === undefined ? {} : { 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(text)) };
  res.writeHead(status, { ...headers, ...type });
  res.end(text);
}

/** A route; `template` is relative to /api/v3, spelled as the OpenAPI description spells it. */
function route(method: 'GET' | 'POST' | 'DELETE' | 'PATCH', template: string, auth: CredentialNeed, handle: (request: ApiRequest) => ApiResponse) {
  return { method, template, auth, handle, pattern: new RegExp(`^${template.replace(/\{\w+\}/g, '([^/]+)')}$`) };
}

/** A positive integer path parameter, or 404 as GitHub answers for a malformed id. */
function id(request: ApiRequest, name: string): number {
  if (!/^\d+$/.test(request.params[name])) throw notFound();
  return Number(request.params[name]);
}

/** `per_page` (default 30, max 100), as the list endpoints read it. */
const perPage = (query: URLSearchParams): number => Math.min(100, Math.max(1, Number(query.get('per_page') ?? 30) || 30));

/**
 * The scopes of a classic token that reach the enterprise runner endpoints: `manage_runners:enterprise`, or `admin:enterprise`,
 * which includes it (https://github.blog/changelog/2021-10-11-github-actions-granular-personal-access-token-scopes-for-self-hosted-runners-in-enterprises).
 */
const ENTERPRISE_RUNNER_SCOPES = ['manage_runners:enterprise', 'admin:enterprise'];

/**
 * The enterprise on the path, if the caller may manage its runners: a classic token of an enterprise owner with one of
 * {@link ENTERPRISE_RUNNER_SCOPES}. Otherwise GitHub's 404, as for a token without a resource's scope (the troubleshooting page's
 * "404 Not Found for an existing resource": the token lacks the scope, or the user the access).
 * https://docs.github.com/en/enterprise-server@3.19/rest/using-the-rest-api/troubleshooting-the-rest-api
 */
function enterpriseInScope(directory: Directory, caller: Caller, slug: string): string {
  if (caller.kind !== 'user' || !directory.isEnterprise(slug)) throw notFound();
  if (!caller.scopes.some((s) => ENTERPRISE_RUNNER_SCOPES.includes(s))) throw notFound();
  if (!directory.enterprise.owners.has(caller.login.toLowerCase())) throw notFound();
  return `enterprise:${directory.enterprise.slug}`;
}

/** The installation on the path's repository or organization, if the caller's token is of it; GitHub's 404 otherwise. */
function inScope(caller: Caller, installation: Installation | undefined): Installation {
  if (!installation || caller.kind !== 'installation' || caller.installationId !== installation.id) throw notFound();
  return installation;
}

function apiRoutes(ctx: ApiDeps): ApiRoute[] {
  const { directory, actions } = ctx;
  const installation = (found: Installation | undefined): ApiResponse => {
    if (!found) throw notFound();
    return { status: 200, body: installationJson(ctx.instance(), found) };
  };
  const orgInstallation = (org: string) => (directory.isOrg(org) ? directory.installationOf(org) : undefined);
  const repoOf = ({ params, caller }: ApiRequest) => {
    const repo = directory.repo(params.owner, params.repo);
    inScope(caller, repo && directory.installationOf(repo.owner.login));
    return repo!;
  };
  /** The URL `config.sh --url` names for a scope: the repository, the organization, or the enterprise. */
  const scopeUrl = (scope: string): string => {
    const [kind, name] = [scope.slice(0, scope.indexOf(':')), scope.slice(scope.indexOf(':') + 1)];
    return `${ctx.instance().web}/${kind === 'enterprise' ? `enterprises/${name}` : name}`;
  };
  const runnerRoutes = (prefix: string, auth: CredentialNeed, scopeOf: (request: ApiRequest) => string): ApiRoute[] => [
    route('POST', `${prefix}/actions/runners/generate-jitconfig`, auth, (request) => {
      const scope = scopeOf(request);
      const { name, labels, groupId, workFolder } = jitRequest(request.body);
      const runner = actions.register(scope, { name, labels, workFolder, groupId });
      const config = encodeJitConfig(runner, scopeUrl(scope));
      return { status: 201, body: { runner: runnerJson(runner, actions.status(runner)), encoded_jit_config: config } };
    }),
    route('GET', `${prefix}/actions/runners`, auth, (request) => {
      // `name`: the runner of that name alone (GHES 3.19 OpenAPI, "List self-hosted runners for an organization").
      const name = request.query.get('name');
      const all = actions.list(scopeOf(request)).filter((r) => name === null || r.name === name);
      const size = perPage(request.query);
      const page = Math.max(1, Math.floor(Number(request.query.get('page') ?? 1)) || 1);
      const runners = all.slice((page - 1) * size, page * size).map((r) => runnerJson(r, actions.status(r)));
      return { status: 200, body: { total_count: all.length, runners } };
    }),
    route('DELETE', `${prefix}/actions/runners/{runner_id}`, auth, (request) => {
      actions.deleteRunner(scopeOf(request), id(request, 'runner_id'));
      return { status: 204 };
    }),
    route('GET', `${prefix}/actions/runners/downloads`, auth, (request) => {
      scopeOf(request);
      return { status: 200, body: runnerDownloadsJson(ctx.runnerVersion()) };
    }),
  ];
  /** GET …/actions/runner-groups of an organization or the enterprise: `{ total_count, runner_groups }`, paged. */
  const groupRoute = (prefix: string, auth: CredentialNeed, scopeOf: (request: ApiRequest) => string, inherited: boolean): ApiRoute =>
    route('GET', `${prefix}/actions/runner-groups`, auth, (request) => {
      const scope = scopeOf(request);
      const all = actions.groupsOf(scope);
      const size = perPage(request.query);
      const page = Math.max(1, Math.floor(Number(request.query.get('page') ?? 1)) || 1);
      const runnerGroups = all.slice((page - 1) * size, page * size).map((g) => ({
        id: g.id,
        name: g.name,
        visibility: 'all',
        default: g.id === DEFAULT_GROUP.id,
        runners_url: `${request.url}/${g.id}/runners`,
        ...(inherited ? { inherited: false } : {}),
        allows_public_repositories: true,
        restricted_to_workflows: false,
        selected_workflows: [],
        workflow_restrictions_read_only: false,
      }));
      return { status: 200, body: { total_count: all.length, runner_groups: runnerGroups } };
    });
  const orgScope = ({ params, caller }: ApiRequest) => `org:${inScope(caller, orgInstallation(params.org)).account.login}`;
  const enterpriseScope = ({ params, caller }: ApiRequest) => enterpriseInScope(directory, caller, params.enterprise);
  return [
    route('GET', '/repos/{owner}/{repo}/installation', 'jwt', ({ params }) => {
      const repo = directory.repo(params.owner, params.repo);
      return installation(repo && directory.installationOf(repo.owner.login));
    }),
    route('GET', '/orgs/{org}/installation', 'jwt', ({ params }) => installation(orgInstallation(params.org))),
    route('POST', '/app/installations/{installation_id}/access_tokens', 'jwt', (request) => {
      const found = directory.installations.find((i) => i.id === id(request, 'installation_id'));
      if (!found) throw notFound();
      const { token, expiresAt } = ctx.auth.issueToken(found);
      return { status: 201, body: { token, expires_at: isoSeconds(expiresAt), permissions: ctx.instance().app.permissions, repository_selection: 'all' } };
    }),
    route('GET', '/app', 'jwt', () => ({ status: 200, body: appJson(ctx.instance(), directory.installations.length) })),
    route('GET', '/app/installations', 'jwt', ({ query }) =>
      ({ status: 200, body: directory.installations.slice(0, perPage(query)).map((i) => installationJson(ctx.instance(), i)) })),
    route('POST', '/app-manifests/{code}/conversions', 'none', ({ params }) => {
      const created = ctx.manifests.convert(params.code);
      const credentials = { client_secret: created.clientSecret, webhook_secret: created.webhookSecret, pem: created.privateKey };
      return { status: 201, body: { ...appJson(ctx.instance(), 0), ...credentials } };
    }),
    route('GET', '/users/{username}', 'none', ({ params }) => {
      const account = directory.accountOf(params.username);
      if (!account) throw notFound();
      return { status: 200, body: publicUserJson(ctx.instance(), account) };
    }),
    route('GET', '/app/hook/deliveries', 'jwt', ({ query, url }) => {
      const page = ctx.webhooks.page(perPage(query), query.get('cursor'));
      const next = new URLSearchParams(query);
      next.set('per_page', query.get('per_page') ?? '30');
      next.set('cursor', page.nextCursor ?? '');
      const headers = page.nextCursor ? { link: `<${url}?${next.toString()}>; rel="next"` } : undefined;
      return { status: 200, body: page.items.map(deliveryItemJson), headers };
    }),
    route('POST', '/app/hook/deliveries/{delivery_id}/attempts', 'jwt', (request) => {
      ctx.webhooks.redeliver(id(request, 'delivery_id'));
      return { status: 202, body: {} };
    }),
    ...runnerRoutes('/repos/{owner}/{repo}', 'installation', (request) => `repo:${repoOf(request).fullName}`),
    ...runnerRoutes('/orgs/{org}', 'installation', orgScope),
    ...runnerRoutes('/enterprises/{enterprise}', 'user', enterpriseScope),
    groupRoute('/orgs/{org}', 'installation', orgScope, true),
    groupRoute('/enterprises/{enterprise}', 'user', enterpriseScope, false),
    route('GET', '/repos/{owner}/{repo}/actions/jobs/{job_id}', 'installation', (request) =>
      ({ status: 200, body: jobJson(ctx.instance(), actions.jobOf(repoOf(request), id(request, 'job_id'))) })),
    route('POST', '/repos/{owner}/{repo}/actions/jobs/{job_id}/rerun', 'installation', (request) => {
      actions.rerun(repoOf(request), id(request, 'job_id'));
      return { status: 201, body: {} };
    }),
  ];
}

/**
 * "List runner applications": one archive per platform of the runner version the instance ships,
 * shaped as the GHES OpenAPI description's `runner-application` and its example (download from
 * github.com, a `sha256_checksum`). The sums here are stand-ins (the SHA-256 of the file name): no
 * client downloads through the simulator.
 */
function runnerDownloadsJson(version: string): unknown[] {
  const platforms = [['osx', 'x64', 'tar.gz'], ['linux', 'x64', 'tar.gz'], ['linux', 'arm', 'tar.gz'], ['linux', 'arm64', 'tar.gz'], ['win', 'x64', 'zip']];
  return platforms.map(([os, architecture, extension]) => {
    const filename = `actions-runner-${os}-${architecture}-${version}.${extension}`;
    return {
      os,
      architecture,
      download_url: `https://github.com/actions/runner/releases/download/v${version}/${filename}`,
      filename,
      sha256_checksum: createHash('sha256').update(filename).digest('hex'),
    };
  });
}

/** The generate-jitconfig body, checked as GitHub's schema does (reference/github.md 4). */
function jitRequest(body: Record<string, unknown>): { name: string; labels: string[]; groupId: number; workFolder: string } {
  const { name, labels, runner_group_id: groupId, work_folder: workFolder = '_work' } = body;
  const missing = ['name', 'runner_group_id', 'labels'].find((field) => body[field] === undefined);
  if (missing) throw invalid(`"${missing}" wasn't supplied.`);
  if (typeof name !== 'string' || name.trim() === '') throw invalid('"name" must be a non-empty string.');
  if (typeof groupId !== 'number' || !Number.isInteger(groupId)) throw invalid('"runner_group_id" must be an integer.');
  if (!Array.isArray(labels) || labels.length < 1 || labels.length > 100 || !labels.every((l) => typeof l === 'string' && l.trim() !== '')) {
    throw invalid('"labels" must be an array of 1 to 100 non-empty strings.');
  }
  return { name, labels: labels as string[], groupId, workFolder: String(workFolder) };
}
