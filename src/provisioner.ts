// The provisioner: reconciles one pool per queue message — launches the difference between queued
// jobs and runners, retires surplus (DESIGN.md section 3.2-3.3).
import { Duration } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ControlPlaneFunction, ControlPlaneFunctionProps } from './control-plane-function';
import { acknowledgeFindings } from './nag';

/** Props of {@link Provisioner}. */
export interface ProvisionerProps {
  readonly functionProps: Omit<ControlPlaneFunctionProps, 'entry' | 'description' | 'timeout'>;
  readonly queue: sqs.IQueue;
}

/** Queue-triggered; a failed pool is reported back alone (partial batch failure) and retried. */
export class Provisioner extends Construct {
  /** How long one reconcile of a batch may take; the queue's visibility timeout is six times it. */
  static readonly TIMEOUT = Duration.seconds(60);

  readonly handler: ControlPlaneFunction;

  constructor(scope: Construct, id: string, props: ProvisionerProps) {
    super(scope, id);
    this.handler = new ControlPlaneFunction(this, 'Handler', {
      ...props.functionProps,
      entry: 'provisioner',
      description: 'Reconciles pools of runners: launches EC2 instances for queued jobs, retires surplus',
      timeout: Provisioner.TIMEOUT,
    });
    this.handler.function.addEventSource(new SqsEventSource(props.queue, {
      batchSize: 10,
      reportBatchItemFailures: true,
    }));
    acknowledgeFindings(this.handler.function, {
      'Serverless-LambdaDLQ': 'Driven by the pool queue, whose redrive policy moves a message that keeps failing to its dead-letter queue.',
      'Serverless-LambdaEventSourceMappingDestination': 'SQS event sources take no on-failure destination; the queue\'s redrive policy is the dead-letter path.',
    });
  }

  get function(): lambda.IFunction {
    return this.handler.function;
  }
}
