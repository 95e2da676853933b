// The provisioner: reconciles one pool per queue message — launches the difference between queued
// jobs and runners, retires surplus (DESIGN.md section 3.2-3.3).
import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Construct } from 'constructs';
import { ControlPlane, ControlPlaneAccess, controlPlaneEnvironment } from './control-plane';
import { ControlPlaneFunction } from './control-plane-function';
import { acknowledgeFindings } from './nag';
import { encodeEnvironment, LAUNCH_ENVIRONMENT } from '../contracts/environment';
import { FunctionName } from '../contracts/metrics';

/** Props of {@link Provisioner}. */
export interface ProvisionerProps {
  readonly controlPlane: ControlPlane;
}

/** Queue-triggered; a failed pool is reported back alone (partial batch failure) and retried. */
export class Provisioner extends Construct {
  /** How long one reconcile of a batch may take; the queue's visibility timeout is six times it. */
  static readonly TIMEOUT = Duration.seconds(60);

  /**
   * The provisioner reconciles pools: it reads runners several at a time (BatchGetItem), reads the
   * config's instances across pools and starts claimed instances (with a warm pool only), reads the
   * runner configs and the App's key, launches from the fleet's templates, retires surplus
   * instances, lists them, tags those whose job started with its repository and workflow, and sends
   * a pool's message again or shortens its retry delay.
   */
  static grantAccess(role: iam.IRole, access: ControlPlaneAccess): void {
    // Scanning the pool index: a warm pool's refill counts its config's instances in every pool.
    access.table.grantStateAccess(role, { batchGet: true, scanIndex: access.fleet.hasWarmPools });
    access.configs.grantRead(role);
    access.githubApp.grantReadAppCredentials(role);
    access.fleet.grantLaunch(role);
    access.fleet.grantTerminate(role);
    // Starting a claimed warm pool instance.
    if (access.fleet.hasWarmPools) access.fleet.grantStart(role);
    access.fleet.grantDescribeInstances(role);
    // The cost allocation tags of an instance whose job started.
    access.fleet.grantCostTags(role);
    access.queue.grantSendMessages(role);
    // A failed pool's message comes back after the provisioner's own backoff, not the queue's timeout.
    access.queue.grant(role, 'sqs:ChangeMessageVisibility');
  }

  readonly handler: ControlPlaneFunction;

  constructor(scope: Construct, id: string, props: ProvisionerProps) {
    super(scope, id);
    const { fleet, queue } = props.controlPlane;
    this.handler = new ControlPlaneFunction(this, 'Handler', {
      entry: FunctionName.PROVISIONER,
      description: 'Reconciles pools of runners: launches EC2 instances for queued jobs, retires surplus',
      timeout: Provisioner.TIMEOUT,
      settings: props.controlPlane.functions,
      callsGitHub: true,
      environment: {
        ...controlPlaneEnvironment(props.controlPlane),
        ...encodeEnvironment(LAUNCH_ENVIRONMENT, {
          subnetIds: fleet.subnetIds,
          launchTemplates: fleet.launchTemplateIds,
          warmLaunchTemplates: fleet.warmLaunchTemplateIds,
        }, (v) => Stack.of(this).toJsonString(v)),
      },
    });
    this.handler.function.addEventSource(new SqsEventSource(queue, { batchSize: 10, reportBatchItemFailures: true }));
    acknowledgeFindings(this.handler.function, {
      'Serverless-LambdaDLQ': 'Driven by the pool queue, whose redrive policy moves a message that keeps failing to its dead-letter queue.',
      'Serverless-LambdaEventSourceMappingDestination': 'SQS event sources take no on-failure destination; the queue\'s redrive policy is the dead-letter path.',
    });
    Provisioner.grantAccess(this.handler.role, props.controlPlane);
  }
}
