// The environment the construct gives the webhook function, pointed at the test's engines through
// the SDK's service-specific endpoint variables.

export interface WebhookEndpoints {
  readonly tableName: string;
  readonly queueUrl: string;
  readonly githubHost: string;
  readonly dynamodb: string;
  readonly ssm: string;
  readonly sqs: string;
}

export function webhookEnvironment(e: WebhookEndpoints): Record<string, string> {
  return {
    TABLE_NAME: e.tableName,
    QUEUE_URL: e.queueUrl,
    WEBHOOK_SECRET_PARAMETER_NAME: '/runners/webhook-secret',
    RUNNER_CONFIG_PATH: '/runners/configs',
    GITHUB_HOST: e.githubHost,
    RUNNER_NAME_PREFIX: 'er-0123456789-',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_ENDPOINT_URL_DYNAMODB: e.dynamodb,
    AWS_ENDPOINT_URL_SSM: e.ssm,
    AWS_ENDPOINT_URL_SQS: e.sqs,
  };
}
