// The environment the construct gives a function, encoded through the contract it decodes with
// (src/contracts/environment.ts), plus the SDK's variables that point it at the test's engines.
import {
  CONTROL_PLANE_ENVIRONMENT, encodeEnvironment, EnvironmentValues, LAUNCH_ENVIRONMENT, REGISTER_ENVIRONMENT, WEBHOOK_ENVIRONMENT,
} from '../../../src/contracts/environment';

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
    ...encodeEnvironment(WEBHOOK_ENVIRONMENT, {
      tableName: e.tableName,
      queueUrl: e.queueUrl,
      webhookSecretParameterName: '/runners/webhook-secret',
      runnerConfigPath: '/runners/configs',
      githubHost: e.githubHost,
      runnerNamePrefix: 'er-0123456789-',
    }),
    ...sdkEnvironment({ dynamodb: e.dynamodb, ssm: e.ssm, sqs: e.sqs }),
  };
}

type ControlPlaneValues = EnvironmentValues<typeof CONTROL_PLANE_ENVIRONMENT>;
const FUNCTION_ENVIRONMENT = { ...CONTROL_PLANE_ENVIRONMENT, ...REGISTER_ENVIRONMENT, ...LAUNCH_ENVIRONMENT };

/**
 * A control-plane function's variables: those given, over test defaults for the rest. The
 * register and launch variables are written only when given.
 */
export function controlPlaneEnvironment(
  values: Partial<EnvironmentValues<typeof FUNCTION_ENVIRONMENT>> & Pick<ControlPlaneValues, 'tableName' | 'queueUrl' | 'runnerNamePrefix' | 'managedBy'>,
): Record<string, string> {
  return encodeEnvironment(FUNCTION_ENVIRONMENT, {
    runnerConfigPath: '/runners/configs',
    githubApiUrl: 'http://127.0.0.1:9/api/v3',
    githubAppId: '1',
    appIdParameterName: '/runners/github-app-id',
    privateKeyParameterName: '/runners/github-app-key',
    bootTimeoutSeconds: 600,
    maxLifetimeSeconds: 3600,
    ...values,
  } as EnvironmentValues<typeof FUNCTION_ENVIRONMENT>);
}

/** The SDK's region, the service endpoints given (`AWS_ENDPOINT_URL_<SERVICE>`), and a metrics namespace for Powertools. */
export function sdkEnvironment(endpoints: Readonly<Record<string, string>>): Record<string, string> {
  return {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    POWERTOOLS_METRICS_NAMESPACE: 'EphemeralRunnersTest',
    ...Object.fromEntries(Object.entries(endpoints).map(([service, url]) => [`AWS_ENDPOINT_URL_${service.toUpperCase()}`, url])),
  };
}
