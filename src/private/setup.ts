// The setup page (the GitHub App manifest flow) behind the webhook's front door, and the token only a
// reader of the stack's outputs has: made at deploy by a custom resource, never in the template.
import { CustomResource, Duration, Stack } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { ControlPlane } from './control-plane';
import { ControlPlaneFunction } from './control-plane-function';
import { CUSTOM_RESOURCE_SERVICE_TIMEOUT } from './custom-resource';
import { GitHubApp } from './github-app';
import { acknowledgeFindings } from './nag';
import { PrivateApiRoute } from './private-api';
import { encodeEnvironment, SETUP_ENVIRONMENT, SETUP_TOKEN_ENVIRONMENT } from '../contracts/environment';
import { FunctionName } from '../contracts/metrics';

/** Props of {@link Setup}. */
export interface SetupProps {
  readonly controlPlane: ControlPlane;
  /** The URL the App is created with. */
  readonly webhookUrl: string;
  /** The webhook's public HTTP API, which serves the page too. */
  readonly api?: apigwv2.HttpApi;
  /** The webhook's private route, when it has one: the page is a route of the same API. */
  readonly privateRoute?: PrivateApiRoute;
}

/**
 * `GET`/`POST /setup` on the webhook's API. The page creates the App on the GitHub server from a
 * manifest and stores its credentials; the token in `SetupUrl` lets only readers of the stack's
 * outputs in, and ends when the credentials are stored.
 */
export class Setup extends Construct {
  /** The page reads the token, writes the App's credentials (never overwriting) and ends the token. */
  static grantAccess(grantee: iam.IGrantable, githubApp: GitHubApp): void {
    githubApp.grantSetup(grantee);
  }

  readonly handler: ControlPlaneFunction;
  readonly tokenHandler: ControlPlaneFunction;
  /** The page's URL, without its token. */
  readonly url: string;
  /** The page's URL with its token, for the `SetupUrl` output. */
  readonly urlWithToken: string;

  constructor(scope: Construct, id: string, props: SetupProps) {
    super(scope, id);
    const { githubApp, configs, functions } = props.controlPlane;
    const names = {
      appIdParameterName: githubApp.appIdParameterName,
      privateKeyParameterName: githubApp.privateKeyParameterName,
      webhookSecretParameterName: githubApp.webhookSecretParameterName,
      setupTokenParameterName: githubApp.setupTokenParameterName,
    };
    this.handler = new ControlPlaneFunction(this, 'Handler', {
      entry: FunctionName.SETUP,
      description: 'Serves the setup page of cdk-ephemeral-runners: creates the GitHub App from a manifest',
      timeout: Duration.seconds(29),
      settings: functions,
      callsGitHub: true,
      environment: {}, // set below, once the page's URL is known
    });
    acknowledgeFindings(this.handler.function, {
      'Serverless-LambdaDLQ': 'Invoked synchronously by API Gateway for a browser, which shows the answer. A dead-letter queue applies to asynchronous invocations only.',
    });
    Setup.grantAccess(this.handler, githubApp);
    if (props.privateRoute) {
      this.url = props.privateRoute.api.addRoute({
        path: 'setup', methods: ['GET', 'POST'], handler: this.handler.function, vpcEndpoint: props.privateRoute.vpcEndpoint,
      });
    } else {
      const routes = props.api!.addRoutes({
        path: '/setup',
        methods: [apigwv2.HttpMethod.GET, apigwv2.HttpMethod.POST],
        integration: new HttpLambdaIntegration('Integration', this.handler.function, { payloadFormatVersion: apigwv2.PayloadFormatVersion.VERSION_2_0 }),
      });
      for (const route of routes) {
        acknowledgeFindings(route, {
          'AwsSolutions-APIG4': 'A browser opens the page: the function admits only the holder of the token made at deploy, which the SetupUrl output carries.',
        });
      }
      this.url = `${props.api!.apiEndpoint}/setup`;
    }
    const environment = encodeEnvironment(SETUP_ENVIRONMENT, {
      ...names,
      githubUrl: githubApp.url,
      githubApiUrl: githubApp.apiUrl,
      webhookUrl: props.webhookUrl,
      setupUrl: this.url,
      runnerScopes: [...new Set(configs.documents.map((c) => c.scope))].sort(),
      secretsKeyId: githubApp.secretsEncryptionKey?.keyArn,
      stackName: Stack.of(this).stackName,
    });
    for (const [name, value] of Object.entries(environment)) this.handler.function.addEnvironment(name, value);

    // Outside any VPC: CloudFormation reads the answer from a presigned S3 URL, which subnets
    // without a NAT may not reach; it calls SSM only.
    this.tokenHandler = new ControlPlaneFunction(this, 'TokenHandler', {
      entry: FunctionName.SETUP_TOKEN,
      description: 'Makes the setup token of cdk-ephemeral-runners at deploy; deletes it and the App credentials with the stack',
      timeout: Duration.seconds(60),
      memorySize: 256,
      settings: { ...functions, network: undefined },
      environment: encodeEnvironment(SETUP_TOKEN_ENVIRONMENT, names),
    });
    acknowledgeFindings(this.tokenHandler.function, {
      'Serverless-LambdaDLQ': 'Invoked by CloudFormation for the custom resource; it answers CloudFormation itself, success or failure, and a failed deploy is what the operator sees.',
    });
    githubApp.grantTokenLifecycle(this.tokenHandler);
    const token = new CustomResource(this, 'Token', {
      serviceToken: this.tokenHandler.function.functionArn,
      resourceType: 'Custom::SetupToken',
      serviceTimeout: CUSTOM_RESOURCE_SERVICE_TIMEOUT,
    });
    // Made only once the function may write the token; deleted while it may still delete.
    token.node.addDependency(this.tokenHandler.role);
    this.urlWithToken = `${this.url}?token=${token.getAttString('Token')}`;
  }
}
