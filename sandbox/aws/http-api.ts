// An API Gateway HTTP API ($default stage, Lambda proxy integrations, payload format 2.0) in
// process, for routes `METHOD /path` as the webhook's: other requests are 404
// {"message":"Not Found"}, bodies over 10 MB 413, an integration slower than 30 s 503, and each
// request becomes the event the service builds (reference/aws.md 5.2–5.3).
// https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
import { IncomingMessage, ServerResponse } from 'http';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { gatewayReply, HttpReply, integrate, payloadV2Event, proxyResponse, send } from './api-gateway';
import { AwsIds, AwsSimulatorOptions, simulatorSettings } from './ids';
import { LambdaHandler } from './lambda-invoke';
import { LoopbackService, readLimited } from '../common/http';
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
    const route = this.options.routes.find((r) => r.routeKey === `${req.method} ${new URL(req.url ?? '/', 'http://localhost').pathname}`);
    if (!route) return reply(gatewayReply(404, 'Not Found'));
    const fault = this.forcedFailures.find((f) => f.remaining > 0);
    if (fault) {
      fault.remaining--;
      return reply(gatewayReply(fault.status, FAULT_MESSAGES[fault.status]));
    }
    const now = Math.floor(this.clock.now());
    const event = payloadV2Event(req, body, {
      routeKey: route.routeKey,
      accountId: this.accountId,
      apiId: this.apiId,
      domainName: `${this.apiId}.execute-api.${this.region}.amazonaws.com`,
      requestId,
      now,
      traceId: `Root=1-${Math.floor(now / 1000).toString(16)}-${this.ids.hex(24)}`,
    });
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
}
