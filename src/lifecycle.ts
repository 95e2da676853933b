// Instance events and the periodic sweep: EventBridge rules and a schedule in front of two
// functions (DESIGN.md section 3.7-3.8).
import { Duration, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ControlPlaneFunction, ControlPlaneFunctionProps } from './control-plane-function';
import { acknowledgeFindings } from './nag';

/** Props of {@link Lifecycle}. */
export interface LifecycleProps {
  readonly functionProps: Omit<ControlPlaneFunctionProps, 'entry' | 'description' | 'timeout'>;
  /** How often the reconciler sweeps. */
  readonly reconcileInterval: Duration;
}

/**
 * - the lifecycle function gets EC2 state changes and spot interruption warnings;
 * - the reconciler runs on a schedule: every active pool reconciled, expired instances terminated,
 *   ghost registrations deleted, stuck jobs re-driven, failed webhook deliveries redelivered.
 */
export class Lifecycle extends Construct {
  readonly lifecycleHandler: ControlPlaneFunction;
  readonly reconcileHandler: ControlPlaneFunction;
  readonly stateChangeRule: events.Rule;
  readonly interruptionRule: events.Rule;
  readonly schedule: events.Rule;
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
    this.lifecycleHandler = new ControlPlaneFunction(this, 'LifecycleHandler', {
      ...props.functionProps,
      // Events the function failed after Lambda's own retries land here, beside those EventBridge could not deliver.
      deadLetterQueue: this.deadLetterQueue,
      entry: 'lifecycle',
      description: 'Closes runners whose instances end and handles spot interruptions',
      timeout: Duration.seconds(60),
    });
    this.reconcileHandler = new ControlPlaneFunction(this, 'ReconcileHandler', {
      ...props.functionProps,
      entry: 'reconciler',
      description: 'Sweeps pools, expired instances, ghost runners, stuck jobs and failed deliveries',
      timeout: Duration.seconds(120),
    });

    // EventBridge cannot match on instance tags, so every instance's state change arrives; the
    // function drops those the state table does not know, before any other call.
    this.stateChangeRule = new events.Rule(this, 'StateChange', {
      description: 'EC2 instance state changes, for ephemeral runners',
      eventPattern: {
        source: ['aws.ec2'],
        detailType: ['EC2 Instance State-change Notification'],
        // Only the ends of an instance matter; `pending` and `running` of every instance of the
        // account would only cost invocations.
        detail: { state: ['shutting-down', 'terminated', 'stopping', 'stopped'] },
      },
      targets: [new targets.LambdaFunction(this.lifecycleHandler.function, { retryAttempts: 8, deadLetterQueue: this.deadLetterQueue })],
    });
    this.interruptionRule = new events.Rule(this, 'SpotInterruption', {
      description: 'EC2 spot interruption warnings, for ephemeral runners',
      eventPattern: { source: ['aws.ec2'], detailType: ['EC2 Spot Instance Interruption Warning'] },
      targets: [new targets.LambdaFunction(this.lifecycleHandler.function, { retryAttempts: 8, deadLetterQueue: this.deadLetterQueue })],
    });
    acknowledgeFindings(this.reconcileHandler, {
      'Serverless-LambdaDLQ': 'A failed reconcile run is superseded by the next one a minute later; kept failures would only be noise.',
    });
    this.schedule = new events.Rule(this, 'Schedule', {
      description: 'Periodic reconcile of ephemeral runners',
      schedule: events.Schedule.rate(props.reconcileInterval),
      targets: [new targets.LambdaFunction(this.reconcileHandler.function, { retryAttempts: 2 })],
    });
    acknowledgeFindings(this.schedule, {
      'Serverless-EventBusDLQ': 'A schedule tick that could not be delivered is replaced by the next tick a minute later.',
    });
  }
}
