// Instance events: EventBridge rules in front of the lifecycle function (DESIGN.md section 3.7).
import { Duration, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ControlPlane, ControlPlaneAccess, controlPlaneEnvironment } from './control-plane';
import { ControlPlaneFunction } from './control-plane-function';
import { acknowledgeFindings } from './nag';
import { FunctionName } from '../contracts/metrics';

/** Props of {@link Lifecycle}. */
export interface LifecycleProps {
  readonly controlPlane: ControlPlane;
}

/**
 * The lifecycle function gets EC2 state changes and spot interruption warnings: it closes the
 * runner of an instance that ends, and handles an interrupted one's job.
 */
export class Lifecycle extends Construct {
  /**
   * The lifecycle function settles one instance: its runner and job, its GitHub registration (the
   * App's key), its termination, and the pool's message.
   */
  static grantAccess(grantee: iam.IGrantable, access: ControlPlaneAccess): void {
    access.table.grantStateAccess(grantee);
    access.githubApp.grantReadAppCredentials(grantee);
    access.fleet.grantTerminate(grantee);
    access.queue.grantSendMessages(grantee);
  }

  readonly handler: ControlPlaneFunction;
  readonly stateChangeRule: events.Rule;
  readonly interruptionRule: events.Rule;
  /** Instance events the lifecycle function failed on after EventBridge's retries. */
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: LifecycleProps) {
    super(scope, id);
    this.deadLetterQueue = new sqs.Queue(this, 'EventDeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself a dead-letter queue: of the EventBridge targets (set on the rules, which cdk-nag does not follow).',
    });
    acknowledgeFindings(this.deadLetterQueue, {
      'Serverless-SQSRedrivePolicy': 'This queue is itself the dead-letter queue of the lifecycle events; nothing consumes it but an operator.',
    });
    this.handler = new ControlPlaneFunction(this, 'Handler', {
      entry: FunctionName.LIFECYCLE,
      description: 'Closes runners whose instances end and handles spot interruptions',
      timeout: Duration.seconds(60),
      settings: props.controlPlane.functions,
      callsGitHub: true,
      environment: controlPlaneEnvironment(props.controlPlane),
      // Events the function failed after Lambda's own retries land here, beside those EventBridge could not deliver.
      deadLetterQueue: this.deadLetterQueue,
    });
    Lifecycle.grantAccess(this.handler, props.controlPlane);

    // EventBridge cannot match on instance tags, so every instance's state change arrives; the
    // function drops those the state table does not know, before any other call.
    const target = () => new targets.LambdaFunction(this.handler.function, { retryAttempts: 8, deadLetterQueue: this.deadLetterQueue });
    this.stateChangeRule = new events.Rule(this, 'StateChange', {
      description: 'EC2 instance state changes, for ephemeral runners',
      eventPattern: {
        source: ['aws.ec2'],
        detailType: ['EC2 Instance State-change Notification'],
        // Only the ends of an instance matter; `pending` and `running` of every instance of the
        // account would only cost invocations.
        detail: { state: ['shutting-down', 'terminated', 'stopping', 'stopped'] },
      },
      targets: [target()],
    });
    this.interruptionRule = new events.Rule(this, 'SpotInterruption', {
      description: 'EC2 spot interruption warnings, for ephemeral runners',
      eventPattern: { source: ['aws.ec2'], detailType: ['EC2 Spot Instance Interruption Warning'] },
      targets: [target()],
    });
  }
}
