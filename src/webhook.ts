// The webhook endpoint: an HTTP API in front of the webhook function, or a route of the private
// REST API (DESIGN.md section 3.1).
import { Duration, Validations } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { grantWebhookAccess } from './control-plane-access';
import { ControlPlaneFunction, ControlPlaneNetwork } from './control-plane-function';
import { acknowledgeFindings } from './nag';
import { PrivateApiRoute } from './private-api';
import { webhookTimeBudget } from './webhook-time-budget';

/** Props of {@link Webhook}. */
export interface WebhookProps {
  readonly table: dynamodb.ITable;
  readonly queue: sqs.IQueue;
  /** Hostname of the GitHub server, part of every job's key. */
  readonly githubHost: string;
  /** Full ARN of the SecureString parameter holding the webhook secret. */
  readonly webhookSecretParameterArn: string;
  /** Name of that parameter. */
  readonly webhookSecretParameterName: string;
  /** SSM path under which the runner config documents live. */
  readonly runnerConfigPath: string;
  /** ARN of that path. */
  readonly runnerConfigPathArn: string;
  /** A hash of the runner configs: a change replaces the function's containers and their caches. */
  readonly runnerConfigHash: string;
  readonly logRetention: logs.RetentionDays;
  /** Every runner name of the deployment starts with it; a job's runner name gives the instance. */
  readonly runnerNamePrefix: string;
  /** The VPC subnets the function runs in. @default - outside any VPC */
  readonly network?: ControlPlaneNetwork;
  /** Put the webhook on this private API, called through its VPC endpoint. @default - a public HTTP API */
  readonly privateRoute?: PrivateApiRoute;
}

/**
 * Receives GitHub's `workflow_job` deliveries. The function verifies the signature, records the
 * delivery and the job, and names the affected pool on the queue; it never calls EC2 or GitHub.
 */
export class Webhook extends Construct {
  /** The URL to enter as the GitHub App's webhook URL. */
  readonly url: string;
  /** The public HTTP API; undefined when the webhook is on the private API. */
  readonly api?: apigwv2.HttpApi;
  readonly handler: ControlPlaneFunction;

  constructor(scope: Construct, id: string, props: WebhookProps) {
    super(scope, id);
    // GitHub waits 10 s (github.com) or 30 s (GHES) for the answer; the runtime reads the same table.
    const budget = webhookTimeBudget(props.githubHost);
    this.handler = new ControlPlaneFunction(this, 'Handler', {
      entry: 'webhook',
      description: 'Accepts GitHub workflow_job webhooks for cdk-ephemeral-runners',
      // The function answers in well under a second once warm; the timeout is the host's budget.
      timeout: Duration.seconds(budget.functionTimeoutSeconds),
      logRetention: props.logRetention,
      network: props.network,
      environment: {
        TABLE_NAME: props.table.tableName,
        QUEUE_URL: props.queue.queueUrl,
        GITHUB_HOST: props.githubHost,
        WEBHOOK_SECRET_PARAMETER_NAME: props.webhookSecretParameterName,
        RUNNER_CONFIG_PATH: props.runnerConfigPath,
        RUNNER_CONFIG_HASH: props.runnerConfigHash,
        RUNNER_NAME_PREFIX: props.runnerNamePrefix,
      },
    });
    acknowledgeFindings(this.handler.function, {
      'Serverless-LambdaDLQ': 'Invoked synchronously by API Gateway: GitHub records a failed delivery, and the reconciler redelivers it. A dead-letter queue applies to asynchronous invocations only.',
    });
    // SecureString with the AWS managed key aws/ssm: its key policy lets account principals decrypt
    // through SSM, so no KMS statement is needed (EphemeralRunners adds one for secretsEncryptionKey).
    grantWebhookAccess(this.handler.role, {
      tableArn: props.table.tableArn,
      queue: props.queue,
      webhookSecretParameterArn: props.webhookSecretParameterArn,
      runnerConfigPathArn: props.runnerConfigPathArn,
    });

    if (props.privateRoute) {
      this.url = props.privateRoute.api.addRoute({ path: 'webhook', handler: this.handler.function, vpcEndpoint: props.privateRoute.vpcEndpoint });
      return;
    }
    const accessLogs = new logs.LogGroup(this, 'AccessLogs', { retention: props.logRetention });
    this.api = new apigwv2.HttpApi(this, 'Api', {
      description: 'GitHub App webhook of cdk-ephemeral-runners',
      createDefaultStage: true,
    });
    const [route] = this.api.addRoutes({
      path: '/webhook',
      methods: [apigwv2.HttpMethod.POST],
      integration: new HttpLambdaIntegration('Integration', this.handler.function, {
        payloadFormatVersion: apigwv2.PayloadFormatVersion.VERSION_2_0,
      }),
    });
    Validations.of(route).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason: 'GitHub cannot sign requests for API Gateway authorizers; every delivery is authenticated by its X-Hub-Signature-256 HMAC, which the function verifies before reading the body.',
    });
    const stage = this.api.defaultStage!.node.defaultChild as apigwv2.CfnStage;
    stage.accessLogSettings = {
      destinationArn: accessLogs.logGroupArn,
      format: JSON.stringify({
        requestId: '$context.requestId',
        ip: '$context.identity.sourceIp',
        requestTime: '$context.requestTime',
        routeKey: '$context.routeKey',
        status: '$context.status',
        responseLength: '$context.responseLength',
        integrationError: '$context.integrationErrorMessage',
        delivery: '$request.header.X-GitHub-Delivery',
        event: '$request.header.X-GitHub-Event',
      }),
    };
    // A burst of webhooks is normal (a matrix of 256 jobs); the limit only caps abuse.
    stage.defaultRouteSettings = { throttlingBurstLimit: 500, throttlingRateLimit: 200 };
    this.url = `${this.api.apiEndpoint}/webhook`;
  }
}
