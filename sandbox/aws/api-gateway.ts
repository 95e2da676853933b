// What the three front doors of the functions (the HTTP API, the private REST API and the Function
// URL) share: the Lambda proxy integration's invocation with the gateway's timeout and Lambda's
// payload limit, the HTTP response built from a proxy result, and writing a reply.
import { ServerResponse } from 'http';
import { AwsIds } from './ids';
import { FunctionSettings, invokeFunction, InvokeOutcome, LambdaHandler, withinTimeout } from './lambda-invoke';
import { tally } from '../common/http';
import { SimClock } from '../common/time';

export interface HttpReply {
  readonly status: number;
  readonly headers: Record<string, string | string[]>;
  readonly body: Buffer;
  /** Set when the gateway could not use the function's answer. */
  readonly invalid?: boolean;
}

/** Lambda refuses a synchronous invocation payload, or a response, over 6 MB. */
const LAMBDA_PAYLOAD_LIMIT = 6 * 1024 * 1024;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `12/Mar/2020:19:03:58 +0000`, the format of requestContext.time. */
export function requestTime(epochMs: number): string {
  const d = new Date(epochMs);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`;
}

/** A JSON `{"message": …}` answer of the gateway itself. */
export function gatewayReply(status: number, message: string): HttpReply {
  return { status, headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify({ message })) };
}

/**
 * Invokes the integration's function, as the gateway does: an event over Lambda's payload limit is
 * refused ('too-large'), a function slower than the integration timeout is given up ('timeout').
 */
export async function integrate(
  handler: LambdaHandler<never, unknown>, event: unknown, settings: FunctionSettings, clock: SimClock, ids: AwsIds, timeoutMs: number,
): Promise<InvokeOutcome | 'too-large' | 'timeout'> {
  if (Buffer.byteLength(JSON.stringify(event)) > LAMBDA_PAYLOAD_LIMIT) return 'too-large';
  const outcome = await withinTimeout(invokeFunction(handler, event, settings, clock, ids), clock, timeoutMs);
  if (outcome !== 'timeout' && outcome.ok && Buffer.byteLength(JSON.stringify(outcome.result)) > LAMBDA_PAYLOAD_LIMIT) {
    return { ok: false, requestId: outcome.requestId, kind: 'InvalidResponse', error: new Error('the response is over Lambda\'s 6 MB limit') };
  }
  return outcome;
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

/** Writes `reply` with the gateway's own headers, counting it by status. */
export function send(res: ServerResponse, reply: HttpReply, gatewayHeaders: Record<string, string>, byStatus: Record<number, number>): void {
  tally(byStatus, reply.status);
  res.writeHead(reply.status, { ...reply.headers, ...gatewayHeaders, 'content-length': String(reply.body.length) });
  res.end(reply.body);
}
