// The pool queue: the webhook, the lifecycle function and the reconciler name pools on it, the
// provisioner reconciles them; and its dead-letter queue.
import { Duration } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { acknowledgeFindings } from './nag';
import { Provisioner } from './provisioner';

// 14 days, the most SQS keeps a message: time to find out why the provisioner failed.
const DLQ_RETENTION = Duration.days(14);

/** Builds, in `scope`, the FIFO pool queue and its dead-letter queue. */
export function poolQueues(scope: Construct): { queue: sqs.Queue; deadLetterQueue: sqs.Queue } {
  const deadLetterQueue = new sqs.Queue(scope, 'DeadLetterQueue', {
    fifo: true,
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: DLQ_RETENTION,
  });
  acknowledgeFindings(deadLetterQueue, {
    'Serverless-SQSRedrivePolicy': 'This queue is itself the dead-letter queue of the pool queue; an operator reads and redrives it.',
  });
  // FIFO, grouped by pool: one pool is reconciled by one invocation at a time.
  const queue = new sqs.Queue(scope, 'PoolQueue', {
    fifo: true,
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    visibilityTimeout: Duration.seconds(Provisioner.TIMEOUT.toSeconds() * 6),
    // The provisioner shortens the wait between retries itself (5 s doubling to 60 s), so ten
    // receives give a pool several minutes of capacity retries before the message is parked;
    // the reconciler hands an active pool over again every minute regardless.
    deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: 10 },
  });
  return { queue, deadLetterQueue };
}
