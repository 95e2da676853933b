// An API Gateway HTTP API ($default stage, Lambda proxy integrations, payload format 2.0) in
// process, for literal routes `METHOD /path` as the webhook's: other requests are 404
// {"message":"Not Found"}, an integration slower than 30 s 503, and each request becomes the
// event the service builds (reference/aws.md 5.2–5.3).
// https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
import { IncomingMessage, ServerResponse } from 'http';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { gatewayReply, HttpReply, integrate, payloadV2Event, proxyResponse, send } from './api-gateway';
import { AwsIds, AwsSimulatorOptions, simulatorSettings } from './ids';
import { LambdaHandler } from './lambda-invoke';
import { LoopbackService, readBody } from '../common/http';
import { SeededRandom } from '../common/random';
import { SimClock } from '../common/time';

export { requestTime } from './api-gateway';

export interface HttpApiRoute {
  /** `POST /webhook`: a method and a literal path. */
  readonly routeKey: string;
  readonly handler: LambdaHandler<APIGatewayProxyEventV2, unknown>;
  readonly functionName: string;
  /** @default 3 (Lambda's default) */
  readonly functionTimeoutSeconds?: number;
}

export interface HttpApiOptions extends AwsSimulatorOptions {
  readonly routes: readonly HttpApiRoute[];
}

/** HTTP API's (maximum) integration timeout. */
const INTEGRATION_TIMEOUT_MS = 30_000;

export class HttpApiSimulator extends LoopbackService {
  readonly apiId: string;
  /** Invocations of the routes' functions. */
  readonly counts = { invocations: 0 };
  readonly clock: SimClock;
  private readonly ids: AwsIds;
  private readonly region: string;
  private readonly accountId: string;

  constructor(private readonly options: HttpApiOptions) {
    super();
    let random: SeededRandom;
    ({ clock: this.clock, region: this.region, accountId: this.accountId, random } = simulatorSettings(options));
    this.ids = new AwsIds(random.fork('http-api'));
    this.apiId = this.ids.lowerAlphanumeric(10);
  }

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = `${Buffer.from(this.ids.hex(20), 'hex').toString('base64').slice(0, 14)}=`;
    const reply = (r: HttpReply) => send(res, r, { 'apigw-requestid': requestId });
    const body = await readBody(req);
    const route = this.options.routes.find((r) => r.routeKey === `${req.method} ${new URL(req.url ?? '/', 'http://localhost').pathname}`);
    if (!route) return reply(gatewayReply(404, 'Not Found'));
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
    const { functionName, functionTimeoutSeconds: timeoutSeconds } = route;
    const settings = { functionName, region: this.region, accountId: this.accountId, timeoutSeconds };
    this.counts.invocations++;
    const outcome = await integrate(route.handler as LambdaHandler<never, unknown>, event, settings, this.clock, this.ids, INTEGRATION_TIMEOUT_MS);
    if (outcome === 'timeout') return reply(gatewayReply(503, 'Service Unavailable'));
    // [I] A function error or an answer the gateway cannot use: 500.
    return reply(outcome.ok ? proxyResponse(outcome.result) : gatewayReply(500, 'Internal Server Error'));
  }
}
