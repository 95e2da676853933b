// The contract between the HTTP server and the route handlers: one table of public API routes, each
// with its template (as in the OpenAPI description), the credential it needs and the App permission it
// checks. The table is what the conformance test walks, so a route cannot escape it.
import { AppAuth, Caller, CredentialNeed } from './auth';
import { DeliveryLog } from './deliveries';
import { Directory, Installation, Repo } from './directory';
import { ForbiddenError, NotFoundError, ValidationError } from './errors';
import { JobBoard } from './jobs';
import { RunnerRecord } from './model';
import { AppInfo, Urls } from './payloads';
import { RateLimiter } from './rate-limit';
import { RunnerRegistry } from './runners';
import { SimTime } from './sim-time';
import { WebhookSender } from './webhooks';

export type HttpMethod = 'GET' | 'POST' | 'DELETE';


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
  readonly method: HttpMethod;
  /** Relative to /api/v3, exactly as the OpenAPI description spells the path. */
  readonly template: string;
  readonly auth: CredentialNeed;
  /** The App permission the route needs (reads need `read`, writes `write`); sent as x-accepted-github-permissions. */
  readonly permission?: string;
  /** GET /rate_limit does not count against the rate limit. @default true */
  readonly rateLimited?: boolean;
  handle(request: ApiRequest): ApiResponse | Promise<ApiResponse>;
}

/** Everything the handlers work on. */
export interface SimContext {
  readonly app: AppInfo;
  readonly urls: () => Urls;
  readonly time: SimTime;
  readonly directory: Directory;
  readonly auth: AppAuth;
  readonly runners: RunnerRegistry;
  readonly jobs: JobBoard;
  readonly deliveries: DeliveryLog;
  readonly webhooks: WebhookSender;
  readonly rateLimits: RateLimiter;
  readonly encodeJitConfig: (runner: RunnerRecord) => string;
}

export function routeKey(route: Pick<ApiRoute, 'method' | 'template'>): string {
  return `${route.method} ${route.template}`;
}

/** The repository named in the path, if the caller's installation token reaches it; GitHub's 404 otherwise. */
export function repoInScope(ctx: SimContext, request: ApiRequest): Repo {
  const repo = ctx.directory.repo(request.params.owner, request.params.repo);
  const caller = request.caller;
  if (!repo || caller.kind !== 'installation' || !AppAuth.covers(caller.token, ctx.directory.installationForRepo(repo), repo)) {
    throw new NotFoundError();
  }
  return repo;
}

/** The organization named in the path, if the caller's installation is on it; GitHub's 404 otherwise. */
export function orgInScope(ctx: SimContext, request: ApiRequest): Installation {
  const org = request.params.org;
  const installation = ctx.directory.isOrg(org) ? ctx.directory.installationForAccount(org) : undefined;
  const caller = request.caller;
  if (!installation || caller.kind !== 'installation' || caller.token.installationId !== installation.id) {
    throw new NotFoundError();
  }
  return installation;
}

/** Refuses a token whose permissions do not include `permission` at the level the method needs. */
export function checkPermission(route: ApiRoute, caller: Caller): void {
  if (!route.permission || caller.kind !== 'installation') return;
  const needed = route.method === 'GET' ? 1 : 2;
  const granted = ['read', 'write', 'admin'].indexOf(caller.token.permissions[route.permission] ?? '') + 1;
  if (granted < needed) throw new ForbiddenError('Resource not accessible by integration');
}

export function acceptedPermissions(route: ApiRoute): string | undefined {
  return route.permission ? `${route.permission}=${route.method === 'GET' ? 'read' : 'write'}` : undefined;
}

/** A positive integer path parameter, or 404 as GitHub answers for a malformed id. */
export function idParam(request: ApiRequest, name: string): number {
  const value = request.params[name];
  if (!/^\d+$/.test(value)) throw new NotFoundError();
  return Number(value);
}

/** `per_page` (default 30, max 100) and `page` (default 1). */
export function pageParams(query: URLSearchParams): { perPage: number; page: number } {
  const perPage = Math.min(100, Math.max(1, Number(query.get('per_page') ?? 30) || 30));
  const page = Math.max(1, Math.floor(Number(query.get('page') ?? 1)) || 1);
  return { perPage, page };
}

/** GitHub's page-number Link header: next, last, first, prev as they apply. */
export function pageLinks(url: string, query: URLSearchParams, page: number, perPage: number, total: number): string | undefined {
  const last = Math.max(1, Math.ceil(total / perPage));
  const link = (p: number, rel: string): string => {
    const q = new URLSearchParams(query);
    q.set('per_page', String(perPage));
    q.set('page', String(p));
    return `<${url}?${q.toString()}>; rel="${rel}"`;
  };
  const parts: string[] = [];
  if (page > 1) parts.push(link(page - 1, 'prev'));
  if (page < last) parts.push(link(page + 1, 'next'), link(last, 'last'));
  if (page > 1) parts.push(link(1, 'first'));
  return parts.length > 0 ? parts.join(', ') : undefined;
}

/** GitHub's JSON-schema style 422 for a request body field. */
export function invalid(detail: string): ValidationError {
  return new ValidationError(`Invalid request.\n\n${detail}`);
}
