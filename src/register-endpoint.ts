// The register endpoint that a booting instance calls, signed with its instance role, to get a
// just-in-time runner config (DESIGN.md section 3.4): a Function URL with AWS_IAM auth, or an
// IAM-authorized route of the private REST API for runners without a way to the internet.
import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { ControlPlaneFunction, ControlPlaneFunctionProps } from './control-plane-function';
import { acknowledgeFindings } from './nag';
import { PrivateApiRoute } from './private-api';

/** Props of {@link RegisterEndpoint}. */
export interface RegisterEndpointProps {
  /** Environment and log settings of the function. */
  readonly functionProps: Omit<ControlPlaneFunctionProps, 'entry' | 'description' | 'timeout'>;
  /** The runner instances' role: the only caller allowed. */
  readonly runnerRole: iam.IRole;
  /** Put the endpoint on this private API, called through its VPC endpoint. @default - a Function URL */
  readonly privateRoute?: PrivateApiRoute;
}

/**
 * The caller's identity, proved by SigV4, names the instance: EC2 uses the instance id as the
 * session name of the instance role. The JIT config it returns is never stored.
 */
export class RegisterEndpoint extends Construct {
  readonly handler: ControlPlaneFunction;
  /** The URL the bootstrap calls. */
  readonly url: string;
  /** The SigV4 service name the bootstrap signs for: `lambda` (Function URL) or `execute-api`. */
  readonly signingService: string;

  constructor(scope: Construct, id: string, props: RegisterEndpointProps) {
    super(scope, id);
    this.handler = new ControlPlaneFunction(this, 'Handler', {
      ...props.functionProps,
      entry: 'register',
      description: 'Hands booting runner instances their just-in-time runner config',
      timeout: Duration.seconds(30),
    });
    acknowledgeFindings(this.handler.function, {
      'Serverless-LambdaDLQ': 'Invoked synchronously by the booting instance, which asks again. A dead-letter queue applies to asynchronous invocations only.',
    });
    if (props.privateRoute) {
      this.url = props.privateRoute.api.addRoute({
        path: 'register',
        handler: this.handler.function,
        vpcEndpoint: props.privateRoute.vpcEndpoint,
        callerRole: props.runnerRole,
      });
      this.signingService = 'execute-api';
      return;
    }
    const url = this.handler.function.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.AWS_IAM });
    url.grantInvokeUrl(props.runnerRole);
    this.url = url.url;
    this.signingService = 'lambda';
  }
}
