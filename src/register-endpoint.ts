// The register endpoint: a Function URL with AWS_IAM auth that a booting instance calls, signed
// with its instance role, to get a just-in-time runner config (DESIGN.md section 3.4).
import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { ControlPlaneFunction, ControlPlaneFunctionProps } from './control-plane-function';
import { acknowledgeFindings } from './nag';

/** Props of {@link RegisterEndpoint}. */
export interface RegisterEndpointProps {
  /** Environment and log settings of the function. */
  readonly functionProps: Omit<ControlPlaneFunctionProps, 'entry' | 'description' | 'timeout'>;
  /** The runner instances' role: the only caller allowed. */
  readonly runnerRole: iam.IRole;
}

/**
 * The caller's identity, proved by SigV4, names the instance: EC2 uses the instance id as the
 * session name of the instance role. The JIT config it returns is never stored.
 */
export class RegisterEndpoint extends Construct {
  readonly handler: ControlPlaneFunction;
  readonly url: lambda.FunctionUrl;

  constructor(scope: Construct, id: string, props: RegisterEndpointProps) {
    super(scope, id);
    this.handler = new ControlPlaneFunction(this, 'Handler', {
      ...props.functionProps,
      entry: 'register',
      description: 'Hands booting runner instances their just-in-time runner config',
      timeout: Duration.seconds(30),
    });
    acknowledgeFindings(this.handler.function, {
      'Serverless-LambdaDLQ': 'Invoked synchronously through its Function URL: the booting instance asks again. A dead-letter queue applies to asynchronous invocations only.',
    });
    this.url = this.handler.function.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.AWS_IAM });
    this.url.grantInvokeUrl(props.runnerRole);
  }
}
