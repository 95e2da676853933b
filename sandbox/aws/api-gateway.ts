// An API Gateway HTTP API in process (below), and what the functions' front doors (HTTP API, private REST API,
// Function URL) share: the proxy integration's invocation with the gateway's timeout, the HTTP response built
// from a proxy result, the payload format 2.0 event, and writing a reply.
import { IncomingMessage, ServerResponse } from 'http';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { AwsContext, awsContext, AwsSimulatorOptions } from './ids';
import { invokeFunction, InvokeOutcome, LambdaFunction, withinTimeout } from './lambda-invoke';
import { LoopbackService, readBody, sourceIpOf } from '../common/http';

/** `invalid` when the gateway could not use the function's answer. */
export type HttpReply = { readonly status: number; readonly headers: Record<string, string | string[]>; readonly body: Buffer; invalid?: boolean };

// [I] Bodies of these media types reach the function as text (when valid UTF-8); any other body,
// or one without a Content-Type, arrives base64-encoded with isBase64Encoded true.
const TEXT_MEDIA_TYPE = /^(text\/[^;]+|application\/([\w.+-]+\+)?(json|xml)|application\/javascript)\s*(;|$)/i;

/** `12/Mar/2020:19:03:58 +0000`, the format of requestContext.time (from `Thu, 12 Mar 2020 19:03:58 GMT`). */
export function requestTime(epochMs: number): string {
  const [, day, month, year, time] = new Date(epochMs).toUTCString().split(' ');
  return `${day}/${month}/${year}:${time} +0000`;
}

/** A JSON `{"message": …}` answer of the gateway itself. */
export function gatewayReply(status: number, message: string): HttpReply {
  return { status, headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify({ message })) };
}

/** Invokes the integration's function, as the gateway does: a function slower than the integration timeout is given up ('timeout'). */
export function integrate(fn: LambdaFunction<never>, event: unknown, aws: AwsContext, timeoutMs: number): Promise<InvokeOutcome | 'timeout'> {
  return withinTimeout(invokeFunction(fn, event, aws), aws.clock, timeoutMs);
}

/**
 * The HTTP response for a function's result (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html):
 * a result with `statusCode` is a structured response; any other JSON value is a 200 `application/json` body (a string keeps its quotes).
 */
export function proxyResponse(result: unknown): HttpReply {
  if (result === null || typeof result !== 'object' || Array.isArray(result) || !('statusCode' in result)) {
    return { status: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(result ?? null)) };
  }
  const invalid = { ...gatewayReply(500, 'Internal Server Error'), invalid: true };
  const r = result as { statusCode: unknown; headers?: unknown; body?: unknown; cookies?: unknown; isBase64Encoded?: unknown };
  if (typeof r.statusCode !== 'number' || !Number.isInteger(r.statusCode) || r.statusCode < 100 || r.statusCode > 599) return invalid;
  if (r.body !== undefined && r.body !== null && typeof r.body !== 'string') return invalid;
  if (r.headers !== undefined && r.headers !== null && typeof r.headers !== 'object') return invalid;
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries((r.headers ?? {}) as Record<string, unknown>)) {
    if (!['string', 'number', 'boolean'].includes(typeof value)) return invalid;
    headers[name.toLowerCase()] = String(value);
  }
  if (Array.isArray(r.cookies) && r.cookies.length > 0) headers['set-cookie'] = r.cookies.map(String);
  return { status: r.statusCode, headers, body: Buffer.from((r.body as string | undefined | null) ?? '', r.isBase64Encoded === true ? 'base64' : 'utf8') };
}

/** Writes `reply` with the gateway's own headers. */
export function send(res: ServerResponse, reply: HttpReply, gatewayHeaders: Record<string, string>): void {
  res.writeHead(reply.status, { ...reply.headers, ...gatewayHeaders, 'content-length': String(reply.body.length) });
  res.end(reply.body);
}

/** The payload format 2.0 event an HTTP API or a Function URL builds from a request (reference/aws.md 5.2–5.3): lower-case
 * header names, repeated headers joined with commas, cookies in their own field. `now` is epoch ms. */
export function payloadV2Event(
  req: IncomingMessage, body: Buffer,
  ctx: { routeKey: string; accountId: string; apiId: string; domainName: string; requestId: string; now: number; traceId: string },
): APIGatewayProxyEventV2 {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const sourceIp = sourceIpOf(req);
  const headers: Record<string, string> = {};
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i].toLowerCase();
    headers[name] = headers[name] === undefined ? req.rawHeaders[i + 1] : `${headers[name]},${req.rawHeaders[i + 1]}`;
  }
  const cookies = headers.cookie?.split(/;\s*/).filter((c) => c !== '');
  delete headers.cookie;
  Object.assign(headers, {
    'x-amzn-trace-id': ctx.traceId,
    'x-forwarded-for': headers['x-forwarded-for'] ? `${headers['x-forwarded-for']}, ${sourceIp}` : sourceIp,
    'x-forwarded-port': '443',
    'x-forwarded-proto': 'https',
  });
  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams) query[name] = query[name] === undefined ? value : `${query[name]},${value}`;
  const binary = body.length > 0 && (!TEXT_MEDIA_TYPE.test(headers['content-type'] ?? '') || !Buffer.from(body.toString('utf8'), 'utf8').equals(body));
  return {
    version: '2.0',
    routeKey: ctx.routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.replace(/^\?/, ''),
    ...(cookies && cookies.length > 0 ? { cookies } : {}),
    headers,
    ...(Object.keys(query).length > 0 ? { queryStringParameters: query } : {}),
    requestContext: {
      accountId: ctx.accountId,
      apiId: ctx.apiId,
      domainName: ctx.domainName,
      domainPrefix: ctx.apiId,
      http: { method: req.method ?? 'GET', path: url.pathname, protocol: 'HTTP/1.1', sourceIp, userAgent: headers['user-agent'] ?? '' },
      requestId: ctx.requestId,
      routeKey: ctx.routeKey,
      stage: '$default',
      time: requestTime(ctx.now),
      timeEpoch: ctx.now,
    },
    ...(body.length > 0 ? { body: body.toString(binary ? 'base64' : 'utf8') } : {}),
    isBase64Encoded: binary,
  };
}

// The HTTP API: $default stage, Lambda proxy integrations (payload format 2.0), literal routes `METHOD /path` as the
// webhook's; other requests are 404 {"message":"Not Found"}, an integration slower than 30 s 503 (reference/aws.md 5.2–5.3).
// https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
export interface HttpApiRoute extends LambdaFunction<APIGatewayProxyEventV2> {
  /** `POST /webhook`: a method and a literal path. */
  readonly routeKey: string;
}

/** A request routed to a function: its event, and when the gateway received it (`performance.now()`, wall ms). */
export interface HttpApiRequest { readonly event: APIGatewayProxyEventV2; readonly receivedAt: number }

export type HttpApiOptions = AwsSimulatorOptions & { readonly routes: readonly HttpApiRoute[] };

/** HTTP API's (maximum) integration timeout. */
const INTEGRATION_TIMEOUT_MS = 30_000;

export class HttpApiSimulator extends LoopbackService {
  readonly apiId: string;
  /** Invocations of the routes' functions. */
  readonly counts = { invocations: 0 };
  private readonly aws: AwsContext;
  private readonly requestListeners = new Set<(request: HttpApiRequest) => void>();

  constructor(private readonly options: HttpApiOptions) {
    super();
    this.aws = awsContext(options, 'http-api');
    this.apiId = this.aws.ids.lowerAlphanumeric(10);
  }

  /** Hears each request routed to a function, before the function runs (for the benchmark's timings). */
  onRequest(listener: (request: HttpApiRequest) => void): () => void {
    this.requestListeners.add(listener);
    return () => this.requestListeners.delete(listener);
  }

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const receivedAt = performance.now();
    const { clock, ids, region, accountId } = this.aws;
    const requestId = `${Buffer.from(ids.hex(20), 'hex').toString('base64').slice(0, 14)}=`;
    const reply = (r: HttpReply) => send(res, r, { 'apigw-requestid': requestId });
    const body = await readBody(req);
    const route = this.options.routes.find((r) => r.routeKey === `${req.method} ${new URL(req.url ?? '/', 'http://localhost').pathname}`);
    if (!route) return reply(gatewayReply(404, 'Not Found'));
    const now = Math.floor(clock.now());
    const event = payloadV2Event(req, body, {
      routeKey: route.routeKey,
      accountId,
      apiId: this.apiId,
      domainName: `${this.apiId}.execute-api.${region}.amazonaws.com`,
      requestId,
      now,
      traceId: `Root=1-${Math.floor(now / 1000).toString(16)}-${ids.hex(24)}`,
    });
    this.counts.invocations++;
    for (const listener of [...this.requestListeners]) listener({ event, receivedAt });
    const outcome = await integrate(route, event, this.aws, INTEGRATION_TIMEOUT_MS);
    if (outcome === 'timeout') return reply(gatewayReply(503, 'Service Unavailable'));
    // [I] A function error or an answer the gateway cannot use: 500.
    return reply(outcome.ok ? proxyResponse(outcome.result) : gatewayReply(500, 'Internal Server Error'));
  }
}
