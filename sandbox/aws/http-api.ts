// An API Gateway HTTP API ($default stage, Lambda proxy integrations, payload format 2.0) in
// process: routes by method and path as HTTP APIs do, answers unknown routes with 404
// {"message":"Not Found"}, refuses bodies over 10 MB with 413, gives up on an integration after
// 30 s with 503, and turns each request into the event the service builds (http-api-event.ts).
import { IncomingMessage, ServerResponse } from 'http';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { buildEvent, buildResponse, gatewayError, HttpResponse } from './http-api-event';
import { AwsIds } from './ids';
import { DEFAULT_FUNCTION_SETTINGS, FunctionSettings, invokeFunction, InvokeOutcome, LambdaHandler } from './lambda-invoke';
import { listenOnLoopback, LoopbackServer, readLimited, sourceIpOf } from '../common/http';
import { SeededRandom } from '../common/random';
import { ScaledClock, SimClock } from '../common/time';

export interface HttpApiRoute {
  /** `POST /webhook`, `GET /items/{id}`, `ANY /{proxy+}` or `$default`. */
  readonly routeKey: string;
  readonly handler: LambdaHandler<APIGatewayProxyEventV2, unknown>;
  /** @default derived from the route key */
  readonly functionName?: string;
  /** @default 3 (Lambda's default) */
  readonly functionTimeoutSeconds?: number;
  /** @default 128 */
  readonly memoryMb?: number;
}

export interface HttpApiOptions {
  readonly routes: readonly HttpApiRoute[];
  /** @default a real-time ScaledClock */
  readonly clock?: SimClock;
  /** @default 1 */
  readonly seed?: number;
  /** @default 'us-east-1' */
  readonly region?: string;
  /** @default '123456789012' */
  readonly accountId?: string;
  /** HTTP API's integration timeout (at most 30 s). @default 30 */
  readonly integrationTimeoutSeconds?: number;
  /** HTTP API's payload limit. @default 10 MB */
  readonly maxPayloadBytes?: number;
}

export interface HttpApiCounts {
  requests: number;
  invocations: number;
  byStatus: Record<number, number>;
  /** Requests answered by the gateway itself, by reason. */
  notFound: number;
  payloadTooLarge: number;
  integrationTimeouts: number;
  /** Function errors, timeouts and responses the gateway could not use (500). */
  integrationErrors: number;
  injectedFaults: number;
}

export type GatewayFaultStatus = 429 | 500 | 503;

const FAULT_MESSAGES: Record<GatewayFaultStatus, string> = { 429: 'Too Many Requests', 500: 'Internal Server Error', 503: 'Service Unavailable' };

/** What one request became; for tests and the sandbox's report. */
export interface HttpApiExchange {
  readonly event: APIGatewayProxyEventV2;
  readonly outcome?: InvokeOutcome;
  readonly status: number;
}

const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'ANY']);
/** Lambda refuses a synchronous invocation payload, or a response, over 6 MB. */
const LAMBDA_PAYLOAD_LIMIT = 6 * 1024 * 1024;

interface CompiledRoute {
  readonly route: HttpApiRoute;
  readonly method: string;
  readonly segments: readonly string[];
  readonly greedy: boolean;
  readonly parameters: number;
  readonly settings: FunctionSettings;
}

export class HttpApiSimulator {
  readonly apiId: string;
  readonly counts: HttpApiCounts = {
    requests: 0, invocations: 0, byStatus: {}, notFound: 0, payloadTooLarge: 0, integrationTimeouts: 0, integrationErrors: 0, injectedFaults: 0,
  };
  readonly clock: SimClock;
  private readonly routes: CompiledRoute[] = [];
  private readonly ids: AwsIds;
  private readonly region: string;
  private readonly accountId: string;
  private readonly integrationTimeoutMs: number;
  private readonly maxPayloadBytes: number;
  private readonly listeners = new Set<(exchange: HttpApiExchange) => void>();
  private readonly forcedFailures: { status: GatewayFaultStatus; remaining: number }[] = [];
  private server?: LoopbackServer;

  constructor(options: HttpApiOptions) {
    this.clock = options.clock ?? new ScaledClock(1);
    this.ids = new AwsIds(new SeededRandom(options.seed ?? 1).fork('http-api'));
    this.region = options.region ?? 'us-east-1';
    this.accountId = options.accountId ?? '123456789012';
    const timeout = options.integrationTimeoutSeconds ?? 30;
    if (!(timeout > 0 && timeout <= 30)) throw new Error(`integrationTimeoutSeconds must be from 0 to 30 (HTTP API's maximum), got ${timeout}`);
    this.integrationTimeoutMs = timeout * 1000;
    this.maxPayloadBytes = options.maxPayloadBytes ?? 10 * 1024 * 1024;
    this.apiId = this.ids.lowerAlphanumeric(10);
    for (const route of options.routes) this.addRoute(route);
  }

  /** The API's invoke URL without a trailing slash, e.g. http://127.0.0.1:PORT (a route is `${url}/webhook`). */
  get url(): string {
    if (!this.server) throw new Error('the HTTP API simulator is not started');
    return this.server.url;
  }

  addRoute(route: HttpApiRoute): void {
    const compiled = compileRoute(route, this.region, this.accountId);
    if (this.routes.some((r) => r.route.routeKey === route.routeKey)) throw new Error(`route "${route.routeKey}" is defined twice`);
    this.routes.push(compiled);
  }

  /**
   * Answers the next `count` routed requests from the gateway itself, without invoking: 429 as
   * when the stage throttles, 500 or 503 as when the service fails.
   */
  failNext(count: number, status: GatewayFaultStatus = 503): void {
    this.forcedFailures.push({ status, remaining: count });
  }

  /** Called after every request with its event, the invocation and the status sent. */
  onExchange(listener: (exchange: HttpApiExchange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async start(): Promise<void> {
    this.server = await listenOnLoopback((req, res) => this.handle(req, res));
  }

  async stop(): Promise<void> {
    await this.server?.close();
    this.server = undefined;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.counts.requests++;
    const requestId = `${Buffer.from(this.ids.hex(20), 'hex').toString('base64').slice(0, 14)}=`;
    const { body, tooLarge } = await readLimited(req, this.maxPayloadBytes);
    if (tooLarge) {
      this.counts.payloadTooLarge++;
      this.write(res, requestId, gatewayError(413, 'Request Entity Too Large'));
      return;
    }
    const method = req.method ?? 'GET';
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const match = this.match(method, path);
    if (!match) {
      this.counts.notFound++;
      this.write(res, requestId, gatewayError(404, 'Not Found'));
      return;
    }
    const fault = this.forcedFailures.find((f) => f.remaining > 0);
    if (fault) {
      fault.remaining--;
      this.counts.injectedFaults++;
      this.write(res, requestId, gatewayError(fault.status, FAULT_MESSAGES[fault.status]));
      return;
    }
    const now = this.clock.now();
    const event = buildEvent(
      { method, url: req.url ?? '/', rawHeaders: req.rawHeaders, body, sourceIp: sourceIpOf(req) },
      {
        routeKey: match.route.route.routeKey,
        pathParameters: match.pathParameters,
        accountId: this.accountId,
        apiId: this.apiId,
        region: this.region,
        requestId,
        traceId: `Root=1-${Math.floor(now / 1000).toString(16)}-${this.ids.hex(24)}`,
        timeEpoch: Math.floor(now),
      },
    );
    const { response, outcome } = await this.integrate(match.route, event);
    this.write(res, requestId, response);
    for (const listener of [...this.listeners]) listener({ event, outcome, status: response.status });
  }

  private async integrate(route: CompiledRoute, event: APIGatewayProxyEventV2): Promise<{ response: HttpResponse; outcome?: InvokeOutcome }> {
    if (Buffer.byteLength(JSON.stringify(event)) > LAMBDA_PAYLOAD_LIMIT) {
      // [I] Lambda refuses the invocation (RequestEntityTooLargeException); the gateway answers 500.
      this.counts.integrationErrors++;
      return { response: gatewayError(500, 'Internal Server Error') };
    }
    this.counts.invocations++;
    let cancel: () => void = () => {};
    const gaveUp = new Promise<'timeout'>((resolve) => {
      cancel = this.clock.after(this.integrationTimeoutMs, () => resolve('timeout'));
    });
    const invocation = invokeFunction(route.route.handler as LambdaHandler<never, unknown>, event, route.settings, this.clock, this.ids);
    const outcome = await Promise.race([invocation, gaveUp]);
    cancel();
    if (outcome === 'timeout') {
      this.counts.integrationTimeouts++;
      return { response: gatewayError(503, 'Service Unavailable') };
    }
    if (!outcome.ok || Buffer.byteLength(JSON.stringify(outcome.result ?? null)) > LAMBDA_PAYLOAD_LIMIT) {
      this.counts.integrationErrors++;
      return { response: gatewayError(500, 'Internal Server Error'), outcome };
    }
    const response = buildResponse(outcome.result);
    if (response.invalidIntegrationResponse) this.counts.integrationErrors++;
    return { response, outcome };
  }

  private write(res: ServerResponse, requestId: string, response: HttpResponse): void {
    this.counts.byStatus[response.status] = (this.counts.byStatus[response.status] ?? 0) + 1;
    res.writeHead(response.status, { ...response.headers, 'apigw-requestid': requestId, 'content-length': String(response.body.length) });
    res.end(response.body);
  }

  /** The most specific route: literal paths before parameters before greedy ones, a method before ANY, `$default` last. */
  private match(method: string, path: string): { route: CompiledRoute; pathParameters: Record<string, string> } | undefined {
    const parts = path.split('/').slice(1);
    const candidates: { route: CompiledRoute; pathParameters: Record<string, string> }[] = [];
    for (const route of this.routes) {
      if (route.method === '$default' || (route.method !== 'ANY' && route.method !== method)) continue;
      const pathParameters = matchPath(route.segments, route.greedy, parts);
      if (pathParameters) candidates.push({ route, pathParameters });
    }
    candidates.sort((a, b) => Number(a.route.greedy) - Number(b.route.greedy) || a.route.parameters - b.route.parameters ||
      Number(a.route.method === 'ANY') - Number(b.route.method === 'ANY'));
    if (candidates.length > 0) return candidates[0];
    const fallback = this.routes.find((r) => r.method === '$default');
    return fallback && { route: fallback, pathParameters: {} };
  }
}

function compileRoute(route: HttpApiRoute, region: string, accountId: string): CompiledRoute {
  const settings = (name: string): FunctionSettings => ({
    functionName: route.functionName ?? name,
    region,
    accountId,
    timeoutSeconds: route.functionTimeoutSeconds ?? DEFAULT_FUNCTION_SETTINGS.timeoutSeconds,
    memoryMb: route.memoryMb ?? DEFAULT_FUNCTION_SETTINGS.memoryMb,
  });
  if (route.routeKey === '$default') return { route, method: '$default', segments: [], greedy: false, parameters: 0, settings: settings('default') };
  const [method, path, ...extra] = route.routeKey.split(' ');
  if (!METHODS.has(method) || path === undefined || !path.startsWith('/') || extra.length > 0) {
    throw new Error(`route key "${route.routeKey}" is not valid: use "$default" or "<METHOD> /path" with METHOD one of ${[...METHODS].join(', ')}`);
  }
  const segments = path.split('/').slice(1);
  const greedyAt = segments.findIndex((s) => /^\{[^}]+\+\}$/.test(s));
  if (greedyAt >= 0 && greedyAt !== segments.length - 1) throw new Error(`route key "${route.routeKey}": a greedy {name+} variable must be the last segment`);
  const parameters = segments.filter((s) => /^\{[^}]+\}$/.test(s)).length;
  const name = `${method}${path}`.replace(/[^A-Za-z0-9-_]+/g, '-').replace(/-+$/, '');
  return { route, method, segments, greedy: greedyAt >= 0, parameters, settings: settings(name) };
}

function matchPath(segments: readonly string[], greedy: boolean, parts: readonly string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i];
    const variable = /^\{([^}+]+)(\+?)\}$/.exec(segment);
    if (variable && variable[2] === '+') {
      if (i >= parts.length || parts.slice(i).join('/') === '') return undefined;
      params[variable[1]] = decodeURIComponent(parts.slice(i).join('/'));
      return params;
    }
    if (i >= parts.length) return undefined;
    if (variable) {
      if (parts[i] === '') return undefined;
      params[variable[1]] = decodeURIComponent(parts[i]);
    } else if (segment !== parts[i]) {
      return undefined;
    }
  }
  return !greedy && parts.length === segments.length ? params : undefined;
}

