// API Gateway HTTP API's side of a Lambda proxy integration with payload format 2.0
// (reference/aws.md 5.2–5.3): the event built from a request, and the HTTP response built from
// whatever the function returned.
import type { APIGatewayProxyEventV2 } from 'aws-lambda';

export interface IncomingRequest {
  readonly method: string;
  /** Path and query as on the request line. */
  readonly url: string;
  /** Node's rawHeaders: name, value, name, value… as received. */
  readonly rawHeaders: readonly string[];
  readonly body: Buffer;
  readonly sourceIp: string;
}

export interface EventContext {
  readonly routeKey: string;
  readonly pathParameters?: Readonly<Record<string, string>>;
  readonly accountId: string;
  readonly apiId: string;
  readonly region: string;
  readonly requestId: string;
  readonly traceId: string;
  readonly timeEpoch: number;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[]>;
  readonly body: Buffer;
  /** Set when the gateway could not use the function's answer (sent as a 500). */
  readonly invalidIntegrationResponse?: boolean;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

// [I] Bodies of these media types reach the function as text (when valid UTF-8); any other body,
// or one without a Content-Type, arrives base64-encoded with isBase64Encoded true.
const TEXT_MEDIA_TYPE = /^(text\/[^;]+|application\/([\w.+-]+\+)?(json|xml)|application\/javascript)\s*(;|$)/i;

/** `12/Mar/2020:19:03:58 +0000`, the format of requestContext.time. */
export function requestTime(epochMs: number): string {
  const d = new Date(epochMs);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`;
}

export function buildEvent(request: IncomingRequest, ctx: EventContext): APIGatewayProxyEventV2 {
  const url = new URL(request.url, 'http://localhost');
  // Lower-case names; repeated headers joined with commas.
  const headers: Record<string, string> = {};
  for (let i = 0; i + 1 < request.rawHeaders.length; i += 2) {
    const name = request.rawHeaders[i].toLowerCase();
    headers[name] = headers[name] === undefined ? request.rawHeaders[i + 1] : `${headers[name]},${request.rawHeaders[i + 1]}`;
  }
  // Cookies move from the header to their own field.
  const cookies = headers.cookie?.split(/;\s*/).filter((c) => c !== '');
  delete headers.cookie;
  headers['x-amzn-trace-id'] = ctx.traceId;
  headers['x-forwarded-for'] = headers['x-forwarded-for'] ? `${headers['x-forwarded-for']}, ${request.sourceIp}` : request.sourceIp;
  headers['x-forwarded-port'] = '443';
  headers['x-forwarded-proto'] = 'https';

  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams) query[name] = query[name] === undefined ? value : `${query[name]},${value}`;

  const domainName = `${ctx.apiId}.execute-api.${ctx.region}.amazonaws.com`;
  const event: Record<string, unknown> = {
    version: '2.0',
    routeKey: ctx.routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.replace(/^\?/, ''),
  };
  if (cookies && cookies.length > 0) event.cookies = cookies;
  event.headers = headers;
  if (Object.keys(query).length > 0) event.queryStringParameters = query;
  event.requestContext = {
    accountId: ctx.accountId,
    apiId: ctx.apiId,
    domainName,
    domainPrefix: ctx.apiId,
    http: { method: request.method, path: url.pathname, protocol: 'HTTP/1.1', sourceIp: request.sourceIp, userAgent: headers['user-agent'] ?? '' },
    requestId: ctx.requestId,
    routeKey: ctx.routeKey,
    stage: '$default',
    time: requestTime(ctx.timeEpoch),
    timeEpoch: ctx.timeEpoch,
  };
  if (request.body.length > 0) {
    const binary = !TEXT_MEDIA_TYPE.test(headers['content-type'] ?? '') || !isUtf8(request.body);
    event.body = binary ? request.body.toString('base64') : request.body.toString('utf8');
    event.isBase64Encoded = binary;
  } else {
    event.isBase64Encoded = false;
  }
  if (ctx.pathParameters && Object.keys(ctx.pathParameters).length > 0) event.pathParameters = { ...ctx.pathParameters };
  return event as unknown as APIGatewayProxyEventV2;
}

/**
 * The response for a function's result: a result with `statusCode` is a structured response; any
 * other JSON value is sent whole as a 200 `application/json` body (a string keeps its quotes).
 * A structured response API Gateway cannot use is a 500 "Internal Server Error".
 */
export function buildResponse(result: unknown): HttpResponse {
  if (result === null || typeof result !== 'object' || Array.isArray(result) || !('statusCode' in result)) {
    return { status: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(result ?? null)) };
  }
  const r = result as { statusCode: unknown; headers?: unknown; body?: unknown; cookies?: unknown; isBase64Encoded?: unknown };
  if (typeof r.statusCode !== 'number' || !Number.isInteger(r.statusCode) || r.statusCode < 100 || r.statusCode > 599) return internalServerError();
  if (r.body !== undefined && r.body !== null && typeof r.body !== 'string') return internalServerError();
  const headers: Record<string, string | string[]> = {};
  if (r.headers !== undefined && r.headers !== null) {
    if (typeof r.headers !== 'object') return internalServerError();
    for (const [name, value] of Object.entries(r.headers as Record<string, unknown>)) {
      if (!['string', 'number', 'boolean'].includes(typeof value)) return internalServerError();
      headers[name.toLowerCase()] = String(value);
    }
  }
  if (Array.isArray(r.cookies) && r.cookies.length > 0) headers['set-cookie'] = r.cookies.map(String);
  const text = (r.body as string | undefined | null) ?? '';
  return { status: r.statusCode, headers, body: r.isBase64Encoded === true ? Buffer.from(text, 'base64') : Buffer.from(text, 'utf8') };
}

/** API Gateway's own error answers. */
export function gatewayError(status: number, message: string): HttpResponse {
  return { status, headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify({ message })) };
}

function internalServerError(): HttpResponse {
  return { ...gatewayError(500, 'Internal Server Error'), invalidIntegrationResponse: true };
}

function isUtf8(bytes: Buffer): boolean {
  return Buffer.from(bytes.toString('utf8'), 'utf8').equals(bytes);
}
