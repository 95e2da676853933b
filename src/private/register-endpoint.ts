// The register endpoint that a booting instance calls, signed with its instance role, to get a
// just-in-time runner config (DESIGN.md section 3.4): a Function URL with AWS_IAM auth, or an
// IAM-authorized route of the private REST API for runners without a way to the internet.
import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { ControlPlane, ControlPlaneAccess, controlPlaneEnvironment } from './control-plane';
import { ControlPlaneFunction } from './control-plane-function';
import { acknowledgeFindings } from './nag';
import { PrivateApiRoute } from './private-api';
import { RunnerFleet } from './runner-fleet';
import { encodeEnvironment, REGISTER_ENVIRONMENT } from '../contracts/environment';
import { FunctionName } from '../contracts/metrics';

/** Props of {@link RegisterEndpoint}. */
export interface RegisterEndpointProps {
  readonly controlPlane: ControlPlane;
  /** Put the endpoint on this private API, called through its VPC endpoint. @default - a Function URL */
  readonly privateRoute?: PrivateApiRoute;
}

/**
 * The caller's identity, proved by SigV4, names the instance: EC2 uses the instance id as the
 * session name of the instance role. The JIT config it returns is never stored. Once built, the
 * fleet's user data points at it.
 */
export class RegisterEndpoint extends Construct {
  /** The register function reads and moves runners and jobs, reads the runner configs and the App's key. */
  static grantAccess(grantee: iam.IGrantable, access: ControlPlaneAccess): void {
    access.table.grantStateAccess(grantee, { batchGet: true });
    access.configs.grantRead(grantee);
    access.githubApp.grantReadAppCredentials(grantee);
  }

  readonly handler: ControlPlaneFunction;
  /** The URL the bootstrap calls. */
  readonly url: string;
  /** The SigV4 service name the bootstrap signs for: `lambda` (Function URL) or `execute-api`. */
  readonly signingService: string;

  constructor(scope: Construct, id: string, props: RegisterEndpointProps) {
    super(scope, id);
    const { fleet } = props.controlPlane;
    this.handler = new ControlPlaneFunction(this, 'Handler', {
      entry: FunctionName.REGISTER,
      description: 'Hands booting runner instances their just-in-time runner config',
      timeout: Duration.seconds(30),
      settings: props.controlPlane.functions,
      callsGitHub: true,
      environment: {
        ...controlPlaneEnvironment(props.controlPlane),
        ...encodeEnvironment(REGISTER_ENVIRONMENT, { runnerRoleName: fleet.role.roleName, configRoleNames: configRoleNames(fleet) },
          (v) => Stack.of(this).toJsonString(v)),
      },
    });
    acknowledgeFindings(this.handler.function, {
      'Serverless-LambdaDLQ': 'Invoked synchronously by the booting instance, which asks again. A dead-letter queue applies to asynchronous invocations only.',
    });
    RegisterEndpoint.grantAccess(this.handler, props.controlPlane);
    if (props.privateRoute) {
      this.url = props.privateRoute.api.addRoute({
        path: 'register',
        handler: this.handler.function,
        vpcEndpoint: props.privateRoute.vpcEndpoint,
        callerRoles: fleet.roles,
      });
      this.signingService = 'execute-api';
    } else {
      const url = this.handler.function.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.AWS_IAM });
      fleet.roles.forEach((role) => url.grantInvokeUrl(role));
      this.url = url.url;
      this.signingService = 'lambda';
    }
    fleet.useRegisterEndpoint(this.url, this.signingService);
  }
}

/** The role of each config that has one of its own, by config name; undefined when none has (the variable is then left out). */
function configRoleNames(fleet: RunnerFleet): Record<string, string> | undefined {
  const entries = Object.entries(fleet.configRoles);
  return entries.length === 0 ? undefined : Object.fromEntries(entries.map(([name, role]) => [name, role.roleName]));
}
