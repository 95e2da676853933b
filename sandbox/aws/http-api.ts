// An API Gateway HTTP API ($default stage, Lambda proxy integrations, payload format 2.0) in
// process, for routes `METHOD /path` as the webhook's: other requests are 404
// {"message":"Not Found"}, bodies over 10 MB 413, an integration slower than 30 s 503, and each
// request becomes the event the service builds (reference/aws.md 5.2–5.3).
// https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
import { IncomingMessage, ServerResponse } from 'http';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { gatewayReply, HttpReply, integrate, proxyResponse, requestTime, send } from './api-gateway';
import { AwsIds, AwsSimulatorOptions, simulatorSettings } from './ids';
import { LambdaHandler } from './lambda-invoke';
import { LoopbackService, readLimited, sourceIpOf } from '../common/http';
import { SeededRandom } from '../common/random';
import { SimClock } from '../common/time';

export { requestTime } from './api-gateway';

export interface HttpApiRoute {
  /** `POST /webhook`: a method and a literal path. */
  readonly routeKey: string;
  readonly handler: LambdaHandler<APIGatewayProxyEventV2, unknown>;
  /** @default derived from the route key */
  readonly functionName?: string;
  /** @default 3 (Lambda's default) */
  readonly functionTimeoutSeconds?: number;
}

export interface HttpApiOptions extends AwsSimulatorOptions {
  readonly routes: readonly HttpApiRoute[];
}

/** HTTP API's payload limit and (maximum) integration timeout. */
const MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;
const INTEGRATION_TIMEOUT_MS = 30_000;
const FAULT_MESSAGES = { 429: 'Too Many Requests', 500: 'Internal Server Error', 503: 'Service Unavailable' } as const;
// [I] Bodies of these media types reach the function as text (when valid UTF-8); any other body,
// or one without a Content-Type, arrives base64-encoded with isBase64Encoded true.
const TEXT_MEDIA_TYPE = /^(text\/[^;]+|application\/([\w.+-]+\+)?(json|xml)|application\/javascript)\s*(;|$)/i;

export class HttpApiSimulator extends LoopbackService {
  readonly apiId: string;
  readonly counts = { requests: 0, invocations: 0, byStatus: {} as Record<number, number>, integrationErrors: 0 };
  readonly clock: SimClock;
  private readonly ids: AwsIds;
  private readonly region: string;
  private readonly accountId: string;
  private readonly forcedFailures: { status: keyof typeof FAULT_MESSAGES; remaining: number }[] = [];

  constructor(private readonly options: HttpApiOptions) {
    super();
    let random: SeededRandom;
    ({ clock: this.clock, region: this.region, accountId: this.accountId, random } = simulatorSettings(options));
    this.ids = new AwsIds(random.fork('http-api'));
    this.apiId = this.ids.lowerAlphanumeric(10);
    for (const { routeKey } of options.routes) {
      if (!/^(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) \/[^ {}]*$/.test(routeKey)) throw new Error(`route key "${routeKey}" is not valid: use "<METHOD> /literal/path"`);
    }
  }

  /** Answers the next `count` routed requests from the gateway itself: 429 as when the stage throttles, 500 or 503 as when the service fails. */
  failNext(count: number, status: keyof typeof FAULT_MESSAGES = 503): void {
    this.forcedFailures.push({ status, remaining: count });
  }

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.counts.requests++;
    const requestId = `${Buffer.from(this.ids.hex(20), 'hex').toString('base64').slice(0, 14)}=`;
    const reply = (r: HttpReply) => send(res, r, { 'apigw-requestid': requestId }, this.counts.byStatus);
    const { body, tooLarge } = await readLimited(req, MAX_PAYLOAD_BYTES);
    if (tooLarge) return reply(gatewayReply(413, 'Request Entity Too Large'));
    const url = new URL(req.url ?? '/', 'http://localhost');
    const route = this.options.routes.find((r) => r.routeKey === `${req.method} ${url.pathname}`);
    if (!route) return reply(gatewayReply(404, 'Not Found'));
    const fault = this.forcedFailures.find((f) => f.remaining > 0);
    if (fault) {
      fault.remaining--;
      return reply(gatewayReply(fault.status, FAULT_MESSAGES[fault.status]));
    }
    const event = this.event(req, url, route.routeKey, body, requestId);
    const settings = {
      functionName: route.functionName ?? route.routeKey.replace(/[^A-Za-z0-9-_]+/g, '-').replace(/-+$/, ''),
      region: this.region,
      accountId: this.accountId,
      timeoutSeconds: route.functionTimeoutSeconds,
    };
    this.counts.invocations++;
    const outcome = await integrate(route.handler as LambdaHandler<never, unknown>, event, settings, this.clock, this.ids, INTEGRATION_TIMEOUT_MS);
    if (outcome === 'timeout') return reply(gatewayReply(503, 'Service Unavailable'));
    // [I] An event Lambda refuses (RequestEntityTooLargeException), a function error or an answer the gateway cannot use: 500.
    const response = outcome !== 'too-large' && outcome.ok ? proxyResponse(outcome.result) : undefined;
    if (!response || response.invalid) this.counts.integrationErrors++;
    return reply(response ?? gatewayReply(500, 'Internal Server Error'));
  }

  private event(req: IncomingMessage, url: URL, routeKey: string, body: Buffer, requestId: string): APIGatewayProxyEventV2 {
    const now = Math.floor(this.clock.now());
    const sourceIp = sourceIpOf(req);
    // Lower-case names; repeated headers joined with commas; cookies move to their own field.
    const headers: Record<string, string> = {};
    for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
      const name = req.rawHeaders[i].toLowerCase();
      headers[name] = headers[name] === undefined ? req.rawHeaders[i + 1] : `${headers[name]},${req.rawHeaders[i + 1]}`;
    }
    const cookies = headers.cookie?.split(/;\s*/).filter((c) => c !== '');
    delete headers.cookie;
    Object.assign(headers, {
      'x-amzn-trace-id': `Root=1-${Math.floor(now / 1000).toString(16)}-${this.ids.hex(24)}`,
      'x-forwarded-for': headers['x-forwarded-for'] ? `${headers['x-forwarded-for']}, ${sourceIp}` : sourceIp,
      'x-forwarded-port': '443',
      'x-forwarded-proto': 'https',
    });
    const query: Record<string, string> = {};
    for (const [name, value] of url.searchParams) query[name] = query[name] === undefined ? value : `${query[name]},${value}`;
    const binary = body.length > 0 && (!TEXT_MEDIA_TYPE.test(headers['content-type'] ?? '') || !Buffer.from(body.toString('utf8'), 'utf8').equals(body));
    return {
      version: '2.0',
      routeKey,
      rawPath: url.pathname,
      rawQueryString: url.search.replace(/^\?/, ''),
      ...(cookies && cookies.length > 0 ? { cookies } : {}),
      headers,
      ...(Object.keys(query).length > 0 ? { queryStringParameters: query } : {}),
      requestContext: {
        accountId: this.accountId,
        apiId: this.apiId,
        domainName: `${this.apiId}.execute-api.${this.region}.amazonaws.com`,
        domainPrefix: this.apiId,
        http: { method: req.method ?? 'GET', path: url.pathname, protocol: 'HTTP/1.1', sourceIp, userAgent: headers['user-agent'] ?? '' },
        requestId,
        routeKey,
        stage: '$default',
        time: requestTime(now),
        timeEpoch: now,
      },
      ...(body.length > 0 ? { body: body.toString(binary ? 'base64' : 'utf8') } : {}),
      isBase64Encoded: binary,
    };
  }
}
