// Entry point of the webhook function: wires the AWS adapters from the environment (once per
// container) into the webhook logic in lambda/webhook/.

import { Metrics } from '@aws-lambda-powertools/metrics';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { APIGatewayProxyResult, Context } from 'aws-lambda';
import { documentClient } from './wiring/control-plane';
import { decodeEnvironment, WEBHOOK_ENVIRONMENT } from '../../src/contracts/environment';
import { webhookTimeBudget } from '../../src/webhook-time-budget';
import { systemClock } from '../common/clock';
import { parseGitHubHost } from '../common/env';
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

const logger = createLogger();

function buildDeps(): WebhookDeps {
  // Powertools reads its own variables (RUNTIME_VARIABLES); these are the function's.
  const env = decodeEnvironment(WEBHOOK_ENVIRONMENT, process.env);
  const githubHost = parseGitHubHost(env.githubHost);
  // The same table the construct took the function's timeout from: GitHub's wait for this host.
  const budget = webhookTimeBudget(githubHost);
  const aws = {
    maxAttempts: budget.awsMaxAttempts,
    // Without throwOnRequestTimeout the SDK only logs a request that outlives requestTimeout.
    requestHandler: { connectionTimeout: budget.awsConnectionTimeoutMs, requestTimeout: budget.awsRequestTimeoutMs, throwOnRequestTimeout: true },
  };
  const ssm = new SSMClient(aws);
  const documents = documentClient(aws);
  const state = new DynamoStateStore(documents, env.tableName);
  return {
    githubHost,
    deliveries: state,
    jobs: state,
    queue: new SqsPoolQueue(new SQSClient(aws), env.queueUrl),
    configs: new CachedConfigSource(new SsmConfigSource(ssm, env.runnerConfigPath)),
    secret: new CachedSecret(new SsmSecret(ssm, env.webhookSecretParameterName), systemClock),
    clock: systemClock,
    logger,
    metrics: new PowertoolsWebhookMetrics(new Metrics()),
    runners: { store: new DynamoRunnerStore(documents, env.tableName), namePrefix: env.runnerNamePrefix },
    answerMarginMs: budget.answerMarginMs,
  };
}

const webhook = createWebhookHandler(buildDeps, logger);

/** HTTP API (payload 2.0) or, behind the private REST API, a v1 proxy event. */
export async function handler(event: WebhookEvent, context?: Context): Promise<APIGatewayProxyResult> {
  return webhook(event, context);
}
