// The HTTP front of the simulated instance: routes /api/v3 requests through the route table (5xx fault,
// authentication, secondary limit, latency fault, primary limit, handler), counts each call by route
// template, and hands /_runner requests to the runner service.
import { IncomingMessage, ServerResponse } from 'http';
import { AppAuth } from './auth';
import { GhesApiError, notFound } from './errors';
import { FaultInjector } from './faults';
import { RateLimiter } from './rate-limit';
import { ApiRoute } from './routes';
import { RUNNER_SERVICE_PATH, RunnerService } from './runner';
import { SimTime } from './sim-time';
import { GHES_VERSION } from './webhooks';
import { readBody } from '../common/http';
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
  readonly apiUrl: () => string;
  readonly onRequest: (event: RequestEvent) => void;
}

export class ApiServer {
  private readonly compiled: { route: ApiRoute; pattern: RegExp; names: string[] }[];
  private counts: Record<string, number> = {};

  constructor(private readonly deps: ApiServerDeps) {
    this.compiled = deps.routes.map((route) => {
      const names: string[] = [];
      const source = route.template.replace(/\{(\w+)\}/g, (_m, name: string) => {
        names.push(name);
        return '([^/]+)';
      });
      return { route, pattern: new RegExp(`^${source}$`), names };
    });
  }

  callCounts(): ApiCallCounts {
    const byRoute = Object.fromEntries(Object.entries(this.counts).sort());
    return { total: Object.values(this.counts).reduce((a, b) => a + b, 0), byRoute };
  }

  resetCallCounts(): void {
    this.counts = {};
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://simulator');
    const method = req.method ?? 'GET';
    if (url.pathname.startsWith(`${RUNNER_SERVICE_PATH}/`)) return this.runnerCall(req, res, url.pathname);
    const path = url.pathname.startsWith(`${API_PREFIX}/`) ? url.pathname.slice(API_PREFIX.length) : undefined;
    const match = path === undefined ? undefined : this.match(method, path);
    const key = match ? `${method} ${match.route.template}` : `${method} (unmatched)`;
    this.counts[key] = (this.counts[key] ?? 0) + 1;

    // GitHub's request ids look like `C0DE:1A2B3C:4D5E6F:7A8B9C:65F0A1B2`.
    const requestId = [4, 6, 6, 6, 8].map((n) => this.deps.rng.integer(0, 16 ** n - 1).toString(16).toUpperCase().padStart(n, '0')).join(':');
    const common: Record<string, string> = {
      'date': new Date(this.deps.time.serverWallNow()).toUTCString(),
      'x-github-request-id': requestId,
      'x-github-media-type': 'github.v3; format=json',
      'x-github-enterprise-version': GHES_VERSION,
      'x-github-api-version-selected': '2022-11-28',
    };
    let rateHeaders: Record<string, string> = {};
    let entered = false;
    try {
      const raw = await readBody(req, 1024 * 1024);
      if (!match) throw notFound();
      const { route, params } = match;
      const fault = this.deps.faults.serverError(key);
      const injected = (status: number): GhesApiError => new GhesApiError(status, status === 503 ? 'Service Unavailable' : 'Server Error');
      if (fault && !fault.afterEffect) throw injected(fault.status);

      const caller = this.deps.auth.authenticate(req.headers.authorization, route.auth);
      const bucket = caller.kind === 'installation' ? `installation:${caller.installationId}` : 'app';
      rateHeaders = this.deps.rateLimits.headers(bucket);
      this.deps.rateLimits.enter(requestId, bucket);
      entered = true;
      // Injected latency is time the request spends inside the server, counted as in flight.
      const latency = this.deps.faults.apiLatencyMs();
      if (latency > 0) await this.deps.time.sleep(latency);
      const subject = caller.kind === 'installation' ? `installation ID ${caller.installationId}` : `app ID ${this.deps.appId}`;
      rateHeaders = this.deps.rateLimits.consume(bucket, subject);

      const response = route.handle({ url: `${this.deps.apiUrl()}${path}`, params, query: url.searchParams, body: parseJson(raw), caller });
      // The request took effect, yet the client is told it failed: its retry must cope (e.g. 409).
      if (fault?.afterEffect) throw injected(fault.status);
      send(res, response.status, response.body, { ...common, ...rateHeaders, ...response.headers });
      this.deps.onRequest({ route: key, status: response.status });
    } catch (err) {
      const e = err instanceof GhesApiError ? err : new GhesApiError(500, 'Server Error', { cause: err });
      send(res, e.status, e.body(), { ...common, ...rateHeaders, ...e.headers });
      const internalError = err instanceof GhesApiError ? undefined : String(err instanceof Error ? err.stack : err);
      this.deps.onRequest({ route: key, status: e.status, ...(internalError ? { internalError } : {}) });
    } finally {
      if (entered) this.deps.rateLimits.leave();
    }
  }

  /** The routes served, in table order. */
  routes(): readonly ApiRoute[] {
    return this.compiled.map((c) => c.route);
  }

  private async runnerCall(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    try {
      const secret = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1] ?? '';
      const connection = { alive: () => !res.destroyed && !req.socket.destroyed, onClose: (fn: () => void) => res.on('close', fn) };
      const body = parseJson(await readBody(req, 1024 * 1024));
      const answer = await this.deps.runnerService.handle(req.method ?? 'GET', path, secret, body, connection);
      send(res, answer.status, answer.body);
    } catch (err) {
      const e = err instanceof GhesApiError ? err : new GhesApiError(500, String(err));
      send(res, e.status, e.body());
    }
  }

  private match(method: string, path: string): { route: ApiRoute; params: Record<string, string> } | undefined {
    for (const { route, pattern, names } of this.compiled) {
      const m = route.method === method ? pattern.exec(path) : null;
      if (m) return { route, params: Object.fromEntries(names.map((name, i) => [name, decodeURIComponent(m[i + 1])])) };
    }
    return undefined;
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
function send(res: ServerResponse, status: number, body: unknown, headers: Readonly<Record<string, string>> = {}): void {
  if (res.writableEnded || res.destroyed) return;
  const text = status === 204 || body === undefined ? undefined : JSON.stringify(body);
  const type = text === undefined ? {} : { 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(text)) };
  res.writeHead(status, { ...headers, ...type });
  res.end(text);
}
