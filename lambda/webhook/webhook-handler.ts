// The webhook as a Lambda handler: an API Gateway event (HTTP API or private REST API) in, result out.
// Its dependencies are built on the first request and kept for the container's life. It answers
// before its deadline: GitHub waits 10 s (github.com) or 30 s (GHES) and then counts a failure.

import type { APIGatewayProxyResult, Context } from 'aws-lambda';
import { handleDelivery, WebhookDeps } from './handle-delivery';
import { fromApiGatewayEvent, jsonAnswer, toApiGatewayResult, WebhookEvent } from './http';
import { EnvironmentVariableError } from '../../src/contracts/environment';
import { Logger } from '../common/logger';
import { WebhookAnswer } from '../core/delivery';

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
      if (!(e instanceof EnvironmentVariableError)) throw e;
      logger.error('function environment incomplete', { error: e });
      return toApiGatewayResult(jsonAnswer(500, `webhook function misconfigured: ${e.message}. Then redeliver this delivery.`));
    }
    const ready = deps;
    const request = fromApiGatewayEvent(event);
    const margin = ready.answerMarginMs;
    if (margin === undefined || !context?.getRemainingTimeInMillis) return toApiGatewayResult(await handleDelivery(request, ready));
    const left = () => context.getRemainingTimeInMillis() - margin;
    return toApiGatewayResult(await answerWithin(left, () => handleDelivery(request, ready), ready, logger));
  };
}

/**
 * The delivery's answer, or 503 once `left()` reaches zero (at once if it has). The remaining time is
 * Lambda's (the sandbox's simulated one there), so it is read again as time passes rather than
 * turned into one timer. The work goes on unawaited, and may still finish if the container lives
 * on: it is idempotent and records the delivery last, so a redelivery either repeats it or finds it done.
 */
async function answerWithin(left: () => number, handle: () => Promise<WebhookAnswer>, deps: WebhookDeps, logger: Logger): Promise<WebhookAnswer> {
  const leftAtStart = left();
  if (leftAtStart > 0) {
    let timer: NodeJS.Timeout | undefined;
    const outOfTime = new Promise<'out-of-time'>((resolve) => {
      const check = () => {
        const ms = left();
        if (ms <= 0) resolve('out-of-time');
        else timer = setTimeout(check, Math.min(ms, 50));
      };
      check();
    });
    const work = handle();
    const answer = await Promise.race([work, outOfTime]);
    clearTimeout(timer);
    if (answer !== 'out-of-time') return answer;
    work.catch(() => undefined);
  }
  deps.metrics.outOfTime();
  logger.warn('delivery not handled in the time GitHub waits; answered 503, GitHub records a failure and the reconciler redelivers it', {
    leftMsAtStart: leftAtStart, answerMarginMs: deps.answerMarginMs,
  });
  return jsonAnswer(503, 'the delivery could not be handled in the time GitHub waits for an answer (a slow cold start or AWS call). ' +
    'Nothing half-done was recorded: redelivering it is safe, and the reconciler redelivers failed deliveries');
}
