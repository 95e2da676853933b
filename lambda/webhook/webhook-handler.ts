// The webhook as a Lambda handler: an API Gateway event (HTTP API or private REST API) in, result out.
// Its dependencies are built on the first request and kept for the container's life.

import type { APIGatewayProxyResult, Context } from 'aws-lambda';
import { handleDelivery, WebhookDeps } from './handle-delivery';
import { fromApiGatewayEvent, jsonAnswer, toApiGatewayResult, WebhookEvent } from './http';
import { EnvironmentError } from '../common/errors';
import { Logger } from '../common/logger';

export type WebhookHandler = (event: WebhookEvent, context?: Context) => Promise<APIGatewayProxyResult>;

/**
 * `buildDeps` runs once, on the first request. If it finds the environment incomplete, every
 * request is answered 500 naming the missing variables (GitHub shows the answer in the App's
 * delivery log), rather than failing the container's start with a bare 500 from API Gateway.
 */
export function createWebhookHandler(buildDeps: () => WebhookDeps, logger: Logger): WebhookHandler {
  let deps: WebhookDeps | undefined;
  return async (event, context) => {
    if (context) logger.addContext(context);
    try {
      deps ??= buildDeps();
    } catch (e) {
      if (!(e instanceof EnvironmentError)) throw e;
      logger.error('function environment incomplete', { error: e });
      return toApiGatewayResult(jsonAnswer(500, `webhook function misconfigured: ${e.message}. Then redeliver this delivery.`));
    }
    return toApiGatewayResult(await handleDelivery(fromApiGatewayEvent(event), deps));
  };
}
