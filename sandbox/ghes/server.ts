// The HTTP front of the simulated instance: routes /api/v3 requests through the route table (5xx fault,
// authentication, secondary limit, latency fault, primary limit, permission check, handler), counts
// each call by route template, and hands /_runner requests to the runner service.
import { IncomingMessage, ServerResponse } from 'http';
import { AppAuth } from './auth';
import { GhesApiError, InjectedServerError, NotFoundError } from './errors';
import { FaultInjector } from './faults';
import { RateLimiter } from './rate-limit';
import { readJsonBody, sendJson } from './respond';
import { acceptedPermissions, ApiRoute, checkPermission, routeKey } from './routes';
import { RUNNER_SERVICE_PATH, RunnerService } from './runner-service';
import { SimTime } from './sim-time';
import { SeededRandom } from '../common/random';

export const API_PREFIX = '/api/v3';

export interface ApiCallCounts {
  readonly total: number;
  /** Calls by `METHOD /template`; requests matching no route count under `METHOD (unmatched)`. */
  readonly byRoute: Readonly<Record<string, number>>;
}

export interface RequestEvent {
  readonly route: string;
  readonly status: number;
  /** Set when the simulator itself failed (a bug, answered as GitHub's 500), to make it visible. */
  readonly internalError?: string;
}

export interface ApiServerDeps {
  readonly routes: readonly ApiRoute[];
  readonly runnerService: RunnerService;
  readonly auth: AppAuth;
  readonly faults: FaultInjector;
  readonly rateLimits: RateLimiter;
  readonly time: SimTime;
  readonly rng: SeededRandom;
  readonly appId: number;
  readonly version: string;
  readonly apiUrl: () => string;
  readonly onRequest: (event: RequestEvent) => void;
}

interface CompiledRoute {
  readonly route: ApiRoute;
  readonly pattern: RegExp;
  readonly names: readonly string[];
}

export class ApiServer {
  private readonly compiled: readonly CompiledRoute[];
  private readonly counts = new Map<string, number>();
  private total = 0;

  constructor(private readonly deps: ApiServerDeps) {
    this.compiled = deps.routes.map((route) => {
      const names: string[] = [];
      const source = route.template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{(\w+)\}/g, (_m, name: string) => {
        names.push(name);
        return '([^/]+)';
      });
      return { route, pattern: new RegExp(`^${source}$`), names };
    });
  }

  routes(): readonly ApiRoute[] {
    return this.compiled.map((c) => c.route);
  }

  callCounts(): ApiCallCounts {
    return { total: this.total, byRoute: Object.fromEntries([...this.counts.entries()].sort()) };
  }

  resetCallCounts(): void {
    this.counts.clear();
    this.total = 0;
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://simulator');
    if (url.pathname.startsWith(`${RUNNER_SERVICE_PATH}/`)) return this.deps.runnerService.handle(req, res, url.pathname);
    const path = url.pathname.startsWith(`${API_PREFIX}/`) ? url.pathname.slice(API_PREFIX.length) : undefined;
    const method = req.method ?? 'GET';
    const match = path === undefined ? undefined : this.match(method, path);
    const key = match ? routeKey(match.route) : `${method} (unmatched)`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    this.total++;

    const requestId = this.requestId();
    const common: Record<string, string> = {
      'date': new Date(this.deps.time.serverWallNow()).toUTCString(),
      'x-github-request-id': requestId,
      'x-github-media-type': 'github.v3; format=json',
      'x-github-enterprise-version': this.deps.version,
      'x-github-api-version-selected': '2022-11-28',
    };
    let rateHeaders: Record<string, string> = {};
    let entered = false;
    try {
      const body = await readJsonBody(req);
      if (!match) throw new NotFoundError();
      const { route, params } = match;
      const fault = this.deps.faults.serverError(key);
      if (fault && !fault.afterEffect) throw new InjectedServerError(fault.status);

      const caller = this.deps.auth.authenticate(req.headers.authorization, route.auth);
      const bucket = caller.kind === 'installation' ? `installation:${caller.token.installationId}` : 'app';
      const subject = caller.kind === 'installation' ? `installation ID ${caller.token.installationId}` : `app ID ${this.deps.appId}`;
      rateHeaders = this.deps.rateLimits.headers(bucket);
      this.deps.rateLimits.enter(requestId, () => this.deps.rateLimits.headers(bucket));
      entered = true;
      // Injected latency is time the request spends inside the server, counted as in flight.
      const latency = this.deps.faults.apiLatencyMs();
      if (latency > 0) await this.deps.time.sleep(latency);
      if (route.rateLimited !== false) rateHeaders = this.deps.rateLimits.consume(bucket, subject);
      checkPermission(route, caller);

      const apiUrl = `${this.deps.apiUrl()}${path}`;
      const response = await route.handle({ url: apiUrl, params, query: url.searchParams, body: body.parse(), caller });
      // The request took effect, yet the client is told it failed: its retry must cope (e.g. 409).
      if (fault?.afterEffect) throw new InjectedServerError(fault.status);
      const accepted = acceptedPermissions(route);
      const headers = { ...common, ...rateHeaders, ...(accepted ? { 'x-accepted-github-permissions': accepted } : {}), ...response.headers };
      sendJson(res, response.status, response.body, headers);
      this.deps.onRequest({ route: key, status: response.status });
    } catch (err) {
      const e = err instanceof GhesApiError ? err : new GhesApiError(500, 'Server Error', { cause: err });
      sendJson(res, e.status, e.body(), { ...common, ...rateHeaders, ...e.headers });
      const internalError = err instanceof GhesApiError ? undefined : String(err instanceof Error ? err.stack ?? err.message : err);
      this.deps.onRequest({ route: key, status: e.status, ...(internalError ? { internalError } : {}) });
    } finally {
      if (entered) this.deps.rateLimits.leave();
    }
  }

  private match(method: string, path: string): { route: ApiRoute; params: Record<string, string> } | undefined {
    for (const { route, pattern, names } of this.compiled) {
      if (route.method !== method) continue;
      const m = pattern.exec(path);
      if (!m) continue;
      const params: Record<string, string> = {};
      names.forEach((name, i) => (params[name] = decodeURIComponent(m[i + 1])));
      return { route, params };
    }
    return undefined;
  }

  /** GitHub's request ids look like `C0DE:1A2B3C:4D5E6F:7A8B9C:65F0A1B2`. */
  private requestId(): string {
    const hex = (n: number): string => this.deps.rng.integer(0, 16 ** n - 1).toString(16).toUpperCase().padStart(n, '0');
    return `${hex(4)}:${hex(6)}:${hex(6)}:${hex(6)}:${hex(8)}`;
  }
}
