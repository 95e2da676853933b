// The periodic sweep: a schedule in front of the reconciler function (DESIGN.md section 3.8).
import { Duration } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { ControlPlane, ControlPlaneAccess, controlPlaneEnvironment } from './control-plane';
import { ControlPlaneFunction } from './control-plane-function';
import { acknowledgeFindings } from './nag';
import { encodeEnvironment, RECONCILER_ENVIRONMENT } from '../contracts/environment';
import { FunctionName } from '../contracts/metrics';
import { WarmPoolScheduleDocument } from '../runner-config-document';
import { RunnerImagePipeline } from '../runner-image-pipeline';

/** Props of {@link Reconciler}. */
export interface ReconcilerProps {
  readonly controlPlane: ControlPlane;
  /** How often the reconciler sweeps. */
  readonly interval: Duration;
  /** The deployment's image pipeline, whose runner versions the reconciler checks; none with an AMI of the user's. */
  readonly imagePipeline?: RunnerImagePipeline;
}

/**
 * Runs on a schedule: every active pool reconciled, expired instances terminated, ghost
 * registrations deleted, stuck jobs re-driven, failed webhook deliveries redelivered.
 */
export class Reconciler extends Construct {
  /**
   * The reconciler does the lifecycle's work for every instance: it also scans the pool index for
   * active pools and lists the deployment's instances.
   */
  static grantAccess(grantee: iam.IGrantable, access: ControlPlaneAccess): void {
    access.table.grantStateAccess(grantee, { scanIndex: true });
    access.githubApp.grantReadAppCredentials(grantee);
    access.fleet.grantTerminate(grantee);
    access.fleet.grantDescribeInstances(grantee);
    access.queue.grantSendMessages(grantee);
  }

  /** It reads the images' runner versions, and reads and writes the server's (the image builds' floor). */
  static grantRunnerVersions(grantee: iam.IGrantable, server: ssm.IStringParameter, images: ssm.IStringParameter[]): void {
    server.grantRead(grantee);
    server.grantWrite(grantee);
    for (const image of images) image.grantRead(grantee);
  }

  readonly handler: ControlPlaneFunction;
  readonly schedule: events.Rule;

  constructor(scope: Construct, id: string, props: ReconcilerProps) {
    super(scope, id);
    this.handler = new ControlPlaneFunction(this, 'Handler', {
      entry: FunctionName.RECONCILER,
      description: 'Sweeps pools, expired instances, ghost runners, stuck jobs and failed deliveries',
      timeout: Duration.seconds(120),
      settings: props.controlPlane.functions,
      callsGitHub: true,
      environment: {
        ...controlPlaneEnvironment(props.controlPlane),
        ...encodeEnvironment(RECONCILER_ENVIRONMENT, {
          warmPoolConfigs: props.controlPlane.fleet.warmPoolConfigs.length > 0 ? props.controlPlane.fleet.warmPoolConfigs : undefined,
          warmPoolSchedules: warmPoolSchedulesOf(props.controlPlane.fleet.warmPoolSchedules),
          runnerVersionParameters: props.imagePipeline && runnerVersionParameters(props.imagePipeline),
        }),
      },
    });
    acknowledgeFindings(this.handler, {
      'Serverless-LambdaDLQ': 'A failed reconcile run is superseded by the next one a minute later; kept failures would only be noise.',
    });
    Reconciler.grantAccess(this.handler, props.controlPlane);
    if (props.imagePipeline) {
      const pipeline = props.imagePipeline;
      Reconciler.grantRunnerVersions(this.handler, pipeline.serverRunnerVersionParameter,
        ARCHITECTURES.flatMap((architecture) => pipeline.runnerVersionParameterFor(architecture) ?? []));
    }
    this.schedule = new events.Rule(this, 'Schedule', {
      description: 'Periodic reconcile of ephemeral runners',
      schedule: events.Schedule.rate(props.interval),
      targets: [new targets.LambdaFunction(this.handler.function, { retryAttempts: 2 })],
    });
    acknowledgeFindings(this.schedule, {
      'Serverless-EventBusDLQ': 'A schedule tick that could not be delivered is replaced by the next tick a minute later.',
    });
  }
}

const ARCHITECTURES = [ec2.InstanceArchitecture.X86_64, ec2.InstanceArchitecture.ARM_64];

/** `server` and, per architecture the pipeline builds, `x64` / `arm64`: the names RECONCILER_ENVIRONMENT describes. */
function runnerVersionParameters(pipeline: RunnerImagePipeline): Record<string, string> {
  const images = ARCHITECTURES.flatMap((architecture) => {
    const parameter = pipeline.runnerVersionParameterFor(architecture);
    return parameter ? [[architecture === ec2.InstanceArchitecture.ARM_64 ? 'arm64' : 'x64', parameter.parameterName]] : [];
  });
  return { server: pipeline.serverRunnerVersionParameter.parameterName, ...Object.fromEntries(images) };
}

/** The warm pools kept on a schedule, each schedule as JSON text; undefined when none is. */
function warmPoolSchedulesOf(schedules: Record<string, WarmPoolScheduleDocument>): Record<string, string> | undefined {
  const entries = Object.entries(schedules);
  return entries.length === 0 ? undefined : Object.fromEntries(entries.map(([name, schedule]) => [name, JSON.stringify(schedule)]));
}
