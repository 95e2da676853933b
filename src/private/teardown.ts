// The teardown: at the stack's deletion, every instance of the deployment terminated. Warm pool
// instances are no CloudFormation resources; stopped, they would bill their volumes forever.
import { CustomResource, Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct, IConstruct } from 'constructs';
import { ControlPlane } from './control-plane';
import { ControlPlaneFunction } from './control-plane-function';
import { CUSTOM_RESOURCE_SERVICE_TIMEOUT, grantDescribeOwnStack } from './custom-resource';
import { acknowledgeFindings } from './nag';
import { IRunnerFleet } from './runner-fleet';
import { encodeEnvironment, TEARDOWN_ENVIRONMENT } from '../contracts/environment';
import { FunctionName } from '../contracts/metrics';

/** Props of {@link Teardown}. */
export interface TeardownProps {
  readonly controlPlane: ControlPlane;
  /**
   * What launches or starts instances (the provisioner with its event source mapping, the schedule
   * that refills warm pools): each is deleted before the teardown runs.
   */
  readonly launchers: IConstruct[];
}

/**
 * A custom resource whose Delete, at the stack's deletion only, terminates every instance carrying
 * the deployment's managed-by tag, warm or cold, and sweeps again until no new one shows up.
 */
export class Teardown extends Construct {
  /**
   * The teardown lists the deployment's instances, terminates them (only those with its managed-by
   * tag) and reads its own stack's status.
   */
  static grantAccess(role: iam.IRole, fleet: IRunnerFleet): void {
    // DescribeInstances has no resource-level permissions: EC2 accepts only "*" (acknowledged there).
    fleet.grantDescribeInstances(role);
    fleet.grantTerminate(role);
    grantDescribeOwnStack(role, role);
  }

  readonly handler: ControlPlaneFunction;
  readonly resource: CustomResource;

  constructor(scope: Construct, id: string, props: TeardownProps) {
    super(scope, id);
    const { fleet, functions } = props.controlPlane;
    // Outside any VPC, as the setup token function: CloudFormation reads the answer from a presigned
    // S3 URL, and the function calls EC2 and CloudFormation, which subnets without a NAT or
    // endpoints may not reach.
    this.handler = new ControlPlaneFunction(this, 'Handler', {
      entry: FunctionName.TEARDOWN,
      description: 'Terminates every instance of cdk-ephemeral-runners, warm pool included, when the stack is deleted',
      // Its sweep ends 20 s before this, for the answer; CloudFormation waits up to the service timeout.
      timeout: Duration.minutes(4),
      memorySize: 256,
      settings: { ...functions, network: undefined },
      environment: encodeEnvironment(TEARDOWN_ENVIRONMENT, { managedBy: fleet.managedBy }),
    });
    acknowledgeFindings(this.handler.function, {
      'Serverless-LambdaDLQ': 'Invoked by CloudFormation for the custom resource; it answers CloudFormation itself, success or failure, and a failed stack deletion is what the operator sees.',
    });
    Teardown.grantAccess(this.handler.role, fleet);
    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: this.handler.function.functionArn,
      resourceType: 'Custom::InstanceTeardown',
      serviceTimeout: CUSTOM_RESOURCE_SERVICE_TIMEOUT,
    });
    // Deleted while the function may still list and terminate.
    this.resource.node.addDependency(this.handler.role);
    // CloudFormation deletes a resource before those it depends on: every launcher goes first, so
    // nothing launches while (or after) the teardown sweeps.
    for (const launcher of props.launchers) launcher.node.addDependency(this.resource);
  }
}
