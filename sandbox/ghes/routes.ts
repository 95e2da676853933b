// The public API routes the control plane calls, each with its template exactly as the OpenAPI
// description spells it and the credential it needs: installation lookup and access tokens, the
// webhook deliveries API (App JWT); self-hosted runners at repository and organization scope and
// workflow jobs (installation token). The conformance test walks this table, so no route escapes it.
import { Actions, DEFAULT_GROUP, RunnerRecord } from './actions';
import { AppAuth, Caller, CredentialNeed } from './auth';
import { Directory, Installation } from './directory';
import { invalid, notFound } from './errors';
import { APP, installationJson, jobJson, runnerJson, Urls } from './payloads';
import { isoSeconds } from './sim-time';
import { deliveryItemJson, WebhookSender } from './webhooks';

export interface ApiRequest {
  /** The absolute URL of the request without its query, for Link headers. */
  readonly url: string;
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  readonly body: Record<string, unknown>;
  readonly caller: Caller;
}

export interface ApiResponse {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface ApiRoute {
  readonly method: 'GET' | 'POST' | 'DELETE';
  /** Relative to /api/v3. */
  readonly template: string;
  readonly auth: CredentialNeed;
  handle(request: ApiRequest): ApiResponse;
}

/** Everything the handlers work on. */
export interface RouteContext {
  readonly appId: number;
  /** When the App and its installations were created (simulated ms). */
  readonly createdAt: number;
  readonly urls: () => Urls;
  readonly directory: Directory;
  readonly auth: AppAuth;
  readonly actions: Actions;
  readonly webhooks: WebhookSender;
  readonly encodeJitConfig: (runner: RunnerRecord) => string;
}

/** A positive integer path parameter, or 404 as GitHub answers for a malformed id. */
function id(request: ApiRequest, name: string): number {
  if (!/^\d+$/.test(request.params[name])) throw notFound();
  return Number(request.params[name]);
}

/** The installation on the path's repository or organization, if the caller's token is of it; GitHub's 404 otherwise. */
function inScope(caller: Caller, installation: Installation | undefined): Installation {
  if (!installation || caller.kind !== 'installation' || caller.installationId !== installation.id) throw notFound();
  return installation;
}

export function apiRoutes(ctx: RouteContext): ApiRoute[] {
  const { directory, actions } = ctx;
  const route = (method: ApiRoute['method'], template: string, auth: CredentialNeed, handle: ApiRoute['handle']): ApiRoute =>
    ({ method, template, auth, handle });
  const installation = (found: Installation | undefined): ApiResponse => {
    if (!found) throw notFound();
    return { status: 200, body: installationJson(ctx.urls(), ctx.appId, ctx.createdAt, found) };
  };
  const repoOf = ({ params, caller }: ApiRequest) => {
    const repo = directory.repo(params.owner, params.repo);
    inScope(caller, repo && directory.installationOf(repo.owner.login));
    return repo!;
  };
  const orgOf = ({ params, caller }: ApiRequest) =>
    inScope(caller, directory.isOrg(params.org) ? directory.installationOf(params.org) : undefined).account;
  return [
    route('GET', '/repos/{owner}/{repo}/installation', 'jwt', ({ params }) => {
      const repo = directory.repo(params.owner, params.repo);
      return installation(repo && directory.installationOf(repo.owner.login));
    }),
    route('GET', '/orgs/{org}/installation', 'jwt', ({ params }) =>
      installation(directory.isOrg(params.org) ? directory.installationOf(params.org) : undefined)),
    route('POST', '/app/installations/{installation_id}/access_tokens', 'jwt', (request) => {
      const found = directory.installations.find((i) => i.id === id(request, 'installation_id'));
      if (!found) throw notFound();
      const token = ctx.auth.issueToken(found);
      return {
        status: 201,
        body: { token: token.token, expires_at: isoSeconds(token.expiresAt), permissions: APP.permissions, repository_selection: 'all' },
      };
    }),
    route('GET', '/app/hook/deliveries', 'jwt', ({ query, url }) => {
      const page = ctx.webhooks.page(query.get('per_page'), query.get('cursor'));
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
    ...runnerRoutes(ctx, '/repos/{owner}/{repo}', (request) => `repo:${repoOf(request).fullName}`),
    ...runnerRoutes(ctx, '/orgs/{org}', (request) => `org:${orgOf(request).login}`),
    route('GET', '/repos/{owner}/{repo}/actions/jobs/{job_id}', 'installation', (request) =>
      ({ status: 200, body: jobJson(ctx.urls(), actions.jobOf(repoOf(request), id(request, 'job_id'))) })),
    route('POST', '/repos/{owner}/{repo}/actions/jobs/{job_id}/rerun', 'installation', (request) => {
      actions.rerun(repoOf(request), id(request, 'job_id'));
      return { status: 201, body: {} };
    }),
  ];
}

function runnerRoutes(ctx: RouteContext, prefix: string, scopeOf: (request: ApiRequest) => string): ApiRoute[] {
  const { actions } = ctx;
  const route = (method: ApiRoute['method'], suffix: string, handle: ApiRoute['handle']): ApiRoute =>
    ({ method, template: `${prefix}/actions/runners${suffix}`, auth: 'installation', handle });
  return [
    route('POST', '/generate-jitconfig', (request) => {
      const scope = scopeOf(request);
      const { name, labels, groupId, workFolder } = jitRequest(request.body);
      if (groupId !== DEFAULT_GROUP.id) throw notFound();
      const runner = actions.register(scope, { name, labels, workFolder });
      return { status: 201, body: { runner: runnerJson(runner, actions.status(runner)), encoded_jit_config: ctx.encodeJitConfig(runner) } };
    }),
    route('GET', '', (request) => {
      const { query } = request;
      const all = actions.list(scopeOf(request));
      // `per_page` (default 30, max 100) and `page` (default 1).
      const perPage = Math.min(100, Math.max(1, Number(query.get('per_page') ?? 30) || 30));
      const page = Math.max(1, Math.floor(Number(query.get('page') ?? 1)) || 1);
      const runners = all.slice((page - 1) * perPage, page * perPage).map((r) => runnerJson(r, actions.status(r)));
      return { status: 200, body: { total_count: all.length, runners } };
    }),
    route('DELETE', '/{runner_id}', (request) => {
      actions.deleteRunner(scopeOf(request), id(request, 'runner_id'));
      return { status: 204 };
    }),
  ];
}

/** The generate-jitconfig body, checked as GitHub's schema does (reference/github.md 4). */
function jitRequest(body: Record<string, unknown>): { name: string; labels: string[]; groupId: number; workFolder: string } {
  const { name, labels, runner_group_id: groupId, work_folder: workFolder = '_work' } = body;
  const missing = ['name', 'runner_group_id', 'labels'].find((field) => body[field] === undefined);
  if (missing) throw invalid(`"${missing}" wasn't supplied.`);
  if (typeof name !== 'string' || name.trim() === '') throw invalid('"name" must be a non-empty string.');
  if (typeof groupId !== 'number' || !Number.isInteger(groupId)) throw invalid('"runner_group_id" must be an integer.');
  if (!Array.isArray(labels) || !labels.every((l) => typeof l === 'string' && l.trim() !== '')) {
    throw invalid('"labels" must be an array of non-empty strings.');
  }
  if (labels.length < 1 || labels.length > 100) throw invalid('"labels" must have between 1 and 100 items.');
  if (typeof workFolder !== 'string') throw invalid('"work_folder" must be a string.');
  return { name, labels: labels as string[], groupId, workFolder };
}
