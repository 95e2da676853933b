// The HTTP front of the simulated instance: routes /api/v3 requests through the route table (5xx fault,
// authentication, secondary rate limit, latency fault, handler) and counts each call by route template.
// GHES ships with rate limiting off, so no x-ratelimit-* headers are sent (reference/github.md 7).
import { IncomingMessage, ServerResponse } from 'http';
import { AppAuth } from './auth';
import { GhesApiError, notFound, RATE_LIMIT_DOCS_URL } from './errors';
import { FaultInjector } from './faults';
import { ApiRoute } from './routes';
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
  readonly auth: AppAuth;
  readonly faults: FaultInjector;
  readonly time: SimTime;
  readonly rng: SeededRandom;
  readonly apiUrl: () => string;
  /** Simulated epoch ms of the start; fault windows count from it. */
  readonly startedAt: () => number;
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
    const path = url.pathname.startsWith(`${API_PREFIX}/`) ? url.pathname.slice(API_PREFIX.length) : undefined;
    const match = path === undefined ? undefined : this.match(method, path);
    const key = match ? `${method} ${match.route.template}` : `${method} (unmatched)`;
    this.counts[key] = (this.counts[key] ?? 0) + 1;

    // GitHub's request ids look like `C0DE:1A2B3C:4D5E6F:7A8B9C:65F0A1B2`.
    const requestId = [4, 6, 6, 6, 8].map((n) => this.deps.rng.integer(0, 16 ** n - 1).toString(16).toUpperCase().padStart(n, '0')).join(':');
    const common: Record<string, string> = {
      'date': new Date().toUTCString(),
      'x-github-request-id': requestId,
      'x-github-media-type': 'github.v3; format=json',
      'x-github-enterprise-version': GHES_VERSION,
      'x-github-api-version-selected': '2022-11-28',
    };
    try {
      const raw = await readBody(req, 1024 * 1024);
      if (!match) throw notFound();
      const { route, params } = match;
      const fault = this.deps.faults.serverError(key);
      const injected = (status: number): GhesApiError => new GhesApiError(status, status === 503 ? 'Service Unavailable' : 'Server Error');
      if (fault && !fault.afterEffect) throw injected(fault.status);

      const caller = this.deps.auth.authenticate(req.headers.authorization, route.auth);
      const limitedMs = this.deps.faults.secondaryLimitLeft(this.deps.time.now(), this.deps.startedAt());
      if (limitedMs !== undefined) {
        // @octokit/plugin-throttling recognises a secondary limit by "secondary rate" in the message.
        throw new GhesApiError(403,
          'You have exceeded a secondary rate limit. Please wait a few minutes before you try again. ' +
          `If you reach out to GitHub Support for help, please include the request ID ${requestId}.`,
          { documentationUrl: RATE_LIMIT_DOCS_URL, headers: { 'retry-after': String(this.deps.time.toClientSeconds(limitedMs)) } });
      }
      const latency = this.deps.faults.apiLatencyMs();
      if (latency > 0) await this.deps.time.sleep(latency);

      const response = route.handle({ url: `${this.deps.apiUrl()}${path}`, params, query: url.searchParams, body: parseJson(raw), caller });
      // The request took effect, yet the client is told it failed: its retry must cope (e.g. 409).
      if (fault?.afterEffect) throw injected(fault.status);
      send(res, response.status, response.body, { ...common, ...response.headers });
      this.deps.onRequest({ route: key, status: response.status });
    } catch (err) {
      const e = err instanceof GhesApiError ? err : new GhesApiError(500, 'Server Error', { cause: err });
      send(res, e.status, e.body(), { ...common, ...e.headers });
      const internalError = err instanceof GhesApiError ? undefined : String(err instanceof Error ? err.stack : err);
      this.deps.onRequest({ route: key, status: e.status, ...(internalError ? { internalError } : {}) });
    }
  }

  /** The routes served, in table order. */
  routes(): readonly ApiRoute[] {
    return this.compiled.map((c) => c.route);
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
function send(res: ServerResponse, status: number, body: unknown, headers: Readonly<Record<string, string>>): void {
  if (res.writableEnded || res.destroyed) return;
  const text = status === 204 || body === undefined ? undefined : JSON.stringify(body);
  const type = text === undefined ? {} : { 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(text)) };
  res.writeHead(status, { ...headers, ...type });
  res.end(text);
}
