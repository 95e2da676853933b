// The private front door of the control plane: a REST API of endpoint type PRIVATE, reachable only
// through interface VPC endpoints of API Gateway, holding the webhook and/or the register route.
import { Stack } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { acknowledgeFindings, managedPolicyFinding } from './nag';

/** Props of {@link PrivateApi}. */
export interface PrivateApiProps {
  /** Every VPC endpoint a route of the API is called through; calls through any other are refused. */
  readonly vpcEndpoints: ec2.IInterfaceVpcEndpoint[];
  readonly logRetention: logs.RetentionDays;
  /**
   * Set API Gateway's account-wide CloudWatch Logs role (REST API access logs need it, once per
   * account and region). @default false - the account is expected to have it
   */
  readonly setAccountLogsRole?: boolean;
}

/** Where a private endpoint lives: the private API, and the VPC endpoint its callers come through. */
export interface PrivateApiRoute {
  readonly api: PrivateApi;
  readonly vpcEndpoint: ec2.IInterfaceVpcEndpoint;
}

/** One route of the private API. */
export interface PrivateRouteOptions {
  /** The route's only path segment, e.g. `webhook`. */
  readonly path: string;
  /** @default ['POST'] */
  readonly methods?: string[];
  readonly handler: lambda.IFunction;
  /** The VPC endpoint the route is called through. */
  readonly vpcEndpoint: ec2.IInterfaceVpcEndpoint;
  /**
   * The only roles allowed to call, with SigV4 (AWS_IAM authorization). Without any the route takes
   * unsigned calls and the function authenticates them itself (the webhook's HMAC signature).
   */
  readonly callerRoles?: iam.IRole[];
}

/**
 * The resource policy admits a call only through the named VPC endpoints, each route only through
 * its own, and an IAM-authorized route only from its one role. These are explicit denies: with
 * AWS_IAM authorization API Gateway admits a caller of the account when either the resource policy
 * or the caller's own IAM policy allows the call, so an allow alone would not keep out an
 * administrator's or a CI role's `execute-api:Invoke` on `*`.
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
      // The account-wide CloudWatch role of API Gateway is an account setting, changed only when asked.
      cloudWatchRole: props.setAccountLogsRole ?? false,
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
    // RestApi adds an output with the execute-api URL, which resolves only with private DNS on; the
    // construct's own outputs name the alias URLs instead.
    this.api.node.tryRemoveChild('Endpoint');
    if (props.setAccountLogsRole) {
      acknowledgeFindings(this.api, {
        [managedPolicyFinding('service-role/AmazonAPIGatewayPushToCloudWatchLogs')]: 'The account-wide role API Gateway writes logs with: the AWS managed policy API Gateway documents for it.',
      });
    }
    acknowledgeFindings(this.api, {
      'AwsSolutions-APIG2': 'Each function validates its own request: the webhook checks the HMAC signature before parsing the body, the register endpoint reads no body at all.',
      'AwsSolutions-COG4': 'The callers are GitHub (authenticated by the webhook HMAC) and runner instances (SigV4 of their role); there are no Cognito users.',
    });
    acknowledgeFindings(this.api.deploymentStage, {
      'AwsSolutions-APIG3': 'A private API: only calls through the named VPC endpoints reach it, and each route authenticates its caller. A web ACL would bill monthly with nothing left to filter.',
      'AwsSolutions-APIG6': 'The access log records every call (source, VPC endpoint, signed caller, status) and each function logs what it did with it; execution logs would repeat that at a cost per request.',
      'Serverless-APIGWXrayEnabled': 'Every log line carries the job, pool, instance and runner it concerns; X-Ray traces would add cost per request and no answer the logs lack.',
      'Serverless-APIGWStructuredLogging': 'Access logs are JSON (the format string above is a JSON object).',
    });
  }

  /**
   * Adds `/<path>` with its methods (POST unless given), proxied to the function, and opens it in the resource policy. Returns the
   * route's URL through its VPC endpoint: the DNS alias API Gateway keeps for an associated endpoint.
   */
  addRoute(options: PrivateRouteOptions): string {
    const resource = this.api.root.addResource(options.path);
    const methods = options.methods ?? ['POST'];
    const integration = new apigw.LambdaIntegration(options.handler, { proxy: true });
    const endpointId = options.vpcEndpoint.vpcEndpointId;
    const callers = options.callerRoles ?? [];
    const signed = callers.length > 0;
    for (const httpMethod of methods) {
      const method = resource.addMethod(httpMethod, integration, {
        authorizationType: signed ? apigw.AuthorizationType.IAM : apigw.AuthorizationType.NONE,
      });
      if (!signed) {
        acknowledgeFindings(method, {
          'AwsSolutions-APIG4': 'Callers cannot sign requests for API Gateway authorizers: GitHub signs each delivery with its X-Hub-Signature-256 HMAC, which the webhook verifies before reading the body; the setup page takes a token made at deploy.',
        });
      }
      callers.forEach((role) => method.grantExecute(role));
    }
    const routes = methods.map((httpMethod) => `execute-api:/${PrivateApi.STAGE_NAME}/${httpMethod}/${options.path}`);
    type Conditions = Record<string, Record<string, string | string[]>>;
    const invoke = (effect: iam.Effect, principal: iam.IPrincipal, conditions: Conditions) => new iam.PolicyStatement({
      effect, principals: [principal], actions: ['execute-api:Invoke'], resources: routes, conditions,
    });
    this.policy.addStatements(
      invoke(iam.Effect.ALLOW, signed ? new iam.CompositePrincipal(...callers.map((r) => new iam.ArnPrincipal(r.roleArn))) : new iam.AnyPrincipal(), {
        StringEquals: { 'aws:SourceVpce': endpointId },
      }),
      // Through another of the API's endpoints (say, the runners' to the webhook route): no.
      invoke(iam.Effect.DENY, new iam.AnyPrincipal(), { StringNotEquals: { 'aws:SourceVpce': endpointId } }),
    );
    if (signed) {
      // One role is written as a string, several as a list: ArnNotEquals with a list denies a caller matching none of them.
      const arns = callers.map((role) => role.roleArn);
      this.policy.addStatements(invoke(iam.Effect.DENY, new iam.AnyPrincipal(), { ArnNotEquals: { 'aws:PrincipalArn': arns.length === 1 ? arns[0] : arns } }));
    }
    const stack = Stack.of(this);
    return `https://${this.api.restApiId}-${endpointId}.execute-api.${stack.region}.${stack.urlSuffix}/${PrivateApi.STAGE_NAME}/${options.path}`;
  }
}
