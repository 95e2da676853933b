// An API Gateway HTTP API ($default stage, Lambda proxy integrations, payload format 2.0) in
// process, for literal routes `METHOD /path` as the webhook's: other requests are 404
// {"message":"Not Found"}, an integration slower than 30 s 503, and each request becomes the
// event the service builds (reference/aws.md 5.2–5.3).
// https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
import { IncomingMessage, ServerResponse } from 'http';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { gatewayReply, HttpReply, integrate, payloadV2Event, proxyResponse, send } from './api-gateway';
import { AwsContext, awsContext, AwsSimulatorOptions } from './ids';
import { LambdaFunction } from './lambda-invoke';
import { LoopbackService, readBody } from '../common/http';

export { requestTime } from './api-gateway';

export interface HttpApiRoute extends LambdaFunction<APIGatewayProxyEventV2> {
  /** `POST /webhook`: a method and a literal path. */
  readonly routeKey: string;
  readonly functionName: string;
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
  private readonly aws: AwsContext;

  constructor(private readonly options: HttpApiOptions) {
    super();
    this.aws = awsContext(options, 'http-api');
    this.apiId = this.aws.ids.lowerAlphanumeric(10);
  }

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
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
    const outcome = await integrate(route, event, this.aws, INTEGRATION_TIMEOUT_MS);
    if (outcome === 'timeout') return reply(gatewayReply(503, 'Service Unavailable'));
    // [I] A function error or an answer the gateway cannot use: 500.
    return reply(outcome.ok ? proxyResponse(outcome.result) : gatewayReply(500, 'Internal Server Error'));
  }
}
