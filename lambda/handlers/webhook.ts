// Entry point of the webhook function: wires the AWS adapters from the environment (once per
// container) into the webhook logic in lambda/webhook/.

import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyResult, Context } from 'aws-lambda';
import { webhookTimeBudget } from '../../src/webhook-time-budget';
import { systemClock } from '../common/clock';
import { parseGitHubHost, readEnvironment } from '../common/env';
import { createLogger } from '../common/logger';
import { CachedConfigSource } from '../config/cached-config-source';
import { CachedSecret } from '../config/cached-secret';
import { SsmConfigSource } from '../config/ssm-config-source';
import { SsmSecret } from '../config/ssm-secret';
import { SqsPoolQueue } from '../queue/sqs-pool-queue';
import { DynamoRunnerStore } from '../state/dynamo-runner-store';
import { DynamoStateStore } from '../state/dynamo-state-store';
import { WebhookDeps } from '../webhook/handle-delivery';
import { WebhookEvent } from '../webhook/http';
import { createWebhookHandler } from '../webhook/webhook-handler';
import { PowertoolsWebhookMetrics } from '../webhook/webhook-metrics';

/** POWERTOOLS_SERVICE_NAME and POWERTOOLS_METRICS_NAMESPACE are read by Powertools itself. */
const ENVIRONMENT = ['TABLE_NAME', 'QUEUE_URL', 'WEBHOOK_SECRET_PARAMETER_NAME', 'RUNNER_CONFIG_PATH', 'GITHUB_HOST', 'RUNNER_NAME_PREFIX'] as const;

const logger = createLogger();

function buildDeps(): WebhookDeps {
  const env = readEnvironment(ENVIRONMENT);
  const githubHost = parseGitHubHost(env.GITHUB_HOST);
  // The same table the construct took the function's timeout from: GitHub's wait for this host.
  const budget = webhookTimeBudget(githubHost);
  const aws = {
    maxAttempts: budget.awsMaxAttempts,
    // Without throwOnRequestTimeout the SDK only logs a request that outlives requestTimeout.
    requestHandler: { connectionTimeout: budget.awsConnectionTimeoutMs, requestTimeout: budget.awsRequestTimeoutMs, throwOnRequestTimeout: true },
  };
  const ssm = new SSMClient(aws);
  const documents = DynamoDBDocumentClient.from(new DynamoDBClient(aws), { marshallOptions: { removeUndefinedValues: true } });
  const state = new DynamoStateStore(documents, env.TABLE_NAME);
  return {
    githubHost,
    deliveries: state,
    jobs: state,
    queue: new SqsPoolQueue(new SQSClient(aws), env.QUEUE_URL),
    configs: new CachedConfigSource(new SsmConfigSource(ssm, env.RUNNER_CONFIG_PATH)),
    secret: new CachedSecret(new SsmSecret(ssm, env.WEBHOOK_SECRET_PARAMETER_NAME), systemClock),
    clock: systemClock,
    logger,
    metrics: new PowertoolsWebhookMetrics(new Metrics()),
    runners: { store: new DynamoRunnerStore(documents, env.TABLE_NAME), namePrefix: env.RUNNER_NAME_PREFIX },
    answerMarginMs: budget.answerMarginMs,
  };
}

const webhook = createWebhookHandler(buildDeps, logger);

/** HTTP API (payload 2.0) or, behind the private REST API, a v1 proxy event. */
export async function handler(event: WebhookEvent, context?: Context): Promise<APIGatewayProxyResult> {
  return webhook(event, context);
}
