// The private front door of the control plane: a REST API of endpoint type PRIVATE, reachable only
// through interface VPC endpoints of API Gateway, holding the webhook and/or the register route.
import { Stack } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { acknowledgeFindings } from './nag';

/** Props of {@link PrivateApi}. */
export interface PrivateApiProps {
  /** Every VPC endpoint a route of the API is called through; calls through any other are refused. */
  readonly vpcEndpoints: ec2.IInterfaceVpcEndpoint[];
  readonly logRetention: logs.RetentionDays;
}

/** One route of the private API. */
export interface PrivateRouteOptions {
  /** The route's only path segment, e.g. `webhook`; the method is POST. */
  readonly path: string;
  readonly handler: lambda.IFunction;
  /** The VPC endpoint the route is called through. */
  readonly vpcEndpoint: ec2.IInterfaceVpcEndpoint;
  /**
   * The only role allowed to call, with SigV4 (AWS_IAM authorization). Without it the route takes
   * unsigned calls and the function authenticates them itself (the webhook's HMAC signature).
   */
  readonly callerRole?: iam.IRole;
}

/**
 * The resource policy admits a call only through the named VPC endpoints (an explicit deny for
 * anything else), and an IAM-authorized route only from its one role: with AWS_IAM authorization,
 * an `Allow` for every principal would admit any signed caller whose own policy permits it.
 */
export class PrivateApi extends Construct {
  /** The stage every URL of the API carries. */
  static readonly STAGE_NAME = 'v1';

  readonly api: apigw.RestApi;
  private readonly policy = new iam.PolicyDocument();

  constructor(scope: Construct, id: string, props: PrivateApiProps) {
    super(scope, id);
    const accessLogs = new logs.LogGroup(this, 'AccessLogs', { retention: props.logRetention });
    this.policy.addStatements(new iam.PolicyStatement({
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ['execute-api:Invoke'],
      resources: ['execute-api:/*'],
      conditions: { StringNotEquals: { 'aws:SourceVpce': props.vpcEndpoints.map((e) => e.vpcEndpointId) } },
    }));
    this.api = new apigw.RestApi(this, 'Api', {
      description: 'Private API of cdk-ephemeral-runners: reachable only through its VPC endpoints',
      endpointConfiguration: {
        types: [apigw.EndpointType.PRIVATE],
        // API Gateway creates the {api-id}-{vpce-id} DNS alias for each: the URLs below work
        // whether or not the endpoint has private DNS on.
        vpcEndpoints: props.vpcEndpoints,
      },
      policy: this.policy,
      // The account-wide CloudWatch role of API Gateway is an account setting; it is left alone.
      cloudWatchRole: false,
      deployOptions: {
        stageName: PrivateApi.STAGE_NAME,
        accessLogDestination: new apigw.LogGroupLogDestination(accessLogs),
        accessLogFormat: apigw.AccessLogFormat.custom(JSON.stringify({
          requestId: apigw.AccessLogField.contextRequestId(),
          ip: apigw.AccessLogField.contextIdentitySourceIp(),
          vpce: '$context.identity.vpceId',
          caller: apigw.AccessLogField.contextIdentityUserArn(),
          requestTime: apigw.AccessLogField.contextRequestTime(),
          resourcePath: apigw.AccessLogField.contextResourcePath(),
          status: apigw.AccessLogField.contextStatus(),
          responseLength: apigw.AccessLogField.contextResponseLength(),
          integrationError: apigw.AccessLogField.contextIntegrationErrorMessage(),
        })),
        // A burst of webhooks is normal (a matrix of 256 jobs); the limit only caps abuse.
        throttlingBurstLimit: 500,
        throttlingRateLimit: 200,
      },
    });
    acknowledgeFindings(this.api, {
      'AwsSolutions-APIG2': 'Each function validates its own request: the webhook checks the HMAC signature before parsing the body, the register endpoint reads no body at all.',
      'AwsSolutions-COG4': 'The callers are GitHub (authenticated by the webhook HMAC) and runner instances (SigV4 of their role); there are no Cognito users.',
    });
    acknowledgeFindings(this.api.deploymentStage, {
      'AwsSolutions-APIG3': 'A private API: only calls through the named VPC endpoints reach it, and each route authenticates its caller. A web ACL would bill monthly with nothing left to filter.',
      'AwsSolutions-APIG6': 'Access logs record every call; execution logging needs the account-wide API Gateway CloudWatch role, an account setting this construct does not change.',
      'Serverless-APIGWXrayEnabled': 'Every log line carries the job, pool, instance and runner it concerns; X-Ray traces would add cost per request and no answer the logs lack.',
      'Serverless-APIGWStructuredLogging': 'Access logs are JSON (the format string above is a JSON object).',
    });
  }

  /** Adds `POST /<path>`, proxied to the function, and opens it in the resource policy. */
  addRoute(options: PrivateRouteOptions): apigw.Method {
    const resource = this.api.root.addResource(options.path);
    const method = resource.addMethod('POST', new apigw.LambdaIntegration(options.handler, { proxy: true }), {
      authorizationType: options.callerRole ? apigw.AuthorizationType.IAM : apigw.AuthorizationType.NONE,
    });
    if (!options.callerRole) {
      acknowledgeFindings(method, {
        'AwsSolutions-APIG4': 'GitHub cannot sign requests for API Gateway authorizers; every delivery is authenticated by its X-Hub-Signature-256 HMAC, which the function verifies before reading the body.',
      });
    }
    this.policy.addStatements(new iam.PolicyStatement({
      principals: [options.callerRole ? new iam.ArnPrincipal(options.callerRole.roleArn) : new iam.AnyPrincipal()],
      actions: ['execute-api:Invoke'],
      resources: [`execute-api:/${PrivateApi.STAGE_NAME}/POST/${options.path}`],
      conditions: { StringEquals: { 'aws:SourceVpce': options.vpcEndpoint.vpcEndpointId } },
    }));
    if (options.callerRole) method.grantExecute(options.callerRole);
    return method;
  }

  /** The route's URL through `vpcEndpoint`: the DNS alias API Gateway keeps for an associated endpoint. */
  urlFor(path: string, vpcEndpoint: ec2.IInterfaceVpcEndpoint): string {
    const stack = Stack.of(this);
    return `https://${this.api.restApiId}-${vpcEndpoint.vpcEndpointId}.execute-api.${stack.region}.${stack.urlSuffix}/${PrivateApi.STAGE_NAME}/${path}`;
  }
}
