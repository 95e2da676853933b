// What the three front doors of the functions (the HTTP API, the private REST API and the Function
// URL) share: the Lambda proxy integration's invocation with the gateway's timeout, the HTTP
// response built from a proxy result, and writing a reply.
import { IncomingMessage, ServerResponse } from 'http';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { AwsContext } from './ids';
import { invokeFunction, InvokeOutcome, LambdaFunction, withinTimeout } from './lambda-invoke';
import { sourceIpOf } from '../common/http';

export interface HttpReply {
  readonly status: number;
  readonly headers: Record<string, string | string[]>;
  readonly body: Buffer;
  /** Set when the gateway could not use the function's answer. */
  readonly invalid?: boolean;
}

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
 * The HTTP response for a function's result (payload format 2.0,
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html):
 * a result with `statusCode` is a structured response; any other JSON value is sent whole as a 200
 * `application/json` body (a string keeps its quotes). A structured response the gateway cannot
 * use is `invalid`.
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

export interface PayloadV2Context {
  readonly routeKey: string;
  readonly accountId: string;
  readonly apiId: string;
  readonly domainName: string;
  readonly requestId: string;
  /** Epoch ms. */
  readonly now: number;
  readonly traceId: string;
}

/**
 * The payload format 2.0 event an HTTP API or a Function URL builds from a request (reference/aws.md
 * 5.2–5.3): lower-case header names, repeated headers joined with commas, cookies in their own field.
 */
export function payloadV2Event(req: IncomingMessage, body: Buffer, ctx: PayloadV2Context): APIGatewayProxyEventV2 {
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
