// The webhook endpoint: an HTTP API in front of the webhook function, or a route of the private
// REST API (DESIGN.md section 3.1).
import { Duration, Validations } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ControlPlane, ControlPlaneAccess } from './control-plane';
import { ControlPlaneFunction } from './control-plane-function';
import { acknowledgeFindings } from './nag';
import { PrivateApiRoute } from './private-api';
import { encodeEnvironment, WEBHOOK_ENVIRONMENT } from '../contracts/environment';
import { FunctionName } from '../contracts/metrics';
import { webhookTimeBudget } from '../webhook-time-budget';

/** Props of {@link Webhook}. */
export interface WebhookProps {
  readonly controlPlane: ControlPlane;
  /** Put the webhook on this private API, called through its VPC endpoint. @default - a public HTTP API */
  readonly privateRoute?: PrivateApiRoute;
}

/**
 * Receives GitHub's `workflow_job` deliveries. The function verifies the signature, records the
 * delivery and the job, and names the affected pool on the queue; it never calls EC2 or GitHub.
 */
export class Webhook extends Construct {
  /**
   * The webhook records deliveries and jobs (items only: it never queries the pool index), names
   * pools on the queue, and reads its secret and the runner configs.
   */
  static grantAccess(grantee: iam.IGrantable, access: ControlPlaneAccess): void {
    access.table.grantItemAccess(grantee);
    access.queue.grantSendMessages(grantee);
    access.githubApp.grantReadWebhookSecret(grantee);
    access.configs.grantRead(grantee);
  }

  /** The URL to enter as the GitHub App's webhook URL. */
  readonly url: string;
  /** The public HTTP API; undefined when the webhook is on the private API. */
  readonly api?: apigwv2.HttpApi;
  readonly handler: ControlPlaneFunction;

  constructor(scope: Construct, id: string, props: WebhookProps) {
    super(scope, id);
    const { table, queue, configs, githubApp, fleet, functions } = props.controlPlane;
    // GitHub waits 10 s (github.com) or 30 s (GHES) for the answer; the runtime reads the same table.
    const budget = webhookTimeBudget(githubApp.host);
    this.handler = new ControlPlaneFunction(this, 'Handler', {
      entry: FunctionName.WEBHOOK,
      description: 'Accepts GitHub workflow_job webhooks for cdk-ephemeral-runners',
      // The function answers in well under a second once warm; the timeout is the host's budget.
      timeout: Duration.seconds(budget.functionTimeoutSeconds),
      settings: functions,
      environment: encodeEnvironment(WEBHOOK_ENVIRONMENT, {
        tableName: table.tableName,
        queueUrl: queue.queueUrl,
        githubHost: githubApp.host,
        webhookSecretParameterName: githubApp.webhookSecretParameterName,
        runnerConfigPath: configs.path,
        runnerNamePrefix: fleet.runnerNamePrefix,
      }),
    });
    acknowledgeFindings(this.handler.function, {
      'Serverless-LambdaDLQ': 'Invoked synchronously by API Gateway: GitHub records a failed delivery, and the reconciler redelivers it. A dead-letter queue applies to asynchronous invocations only.',
    });
    Webhook.grantAccess(this.handler, props.controlPlane);

    if (props.privateRoute) {
      this.url = props.privateRoute.api.addRoute({ path: 'webhook', handler: this.handler.function, vpcEndpoint: props.privateRoute.vpcEndpoint });
      return;
    }
    const accessLogs = new logs.LogGroup(this, 'AccessLogs', { retention: functions.logRetention });
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
