// Hands pools to the provisioner through a FIFO SQS queue. The message group is the pool, so one
// pool is reconciled by one invocation at a time while different pools go in parallel.
import { createHash } from 'crypto';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { PoolMessage } from '../core/pool-message';
import { PoolQueue } from '../core/ports';

export class SqsPoolQueue implements PoolQueue {
  constructor(private readonly sqs: SQSClient, private readonly queueUrl: string) {}

  async send(message: PoolMessage): Promise<void> {
    await this.sqs.send(new SendMessageCommand({
      QueueUrl: this.queueUrl,
      MessageBody: JSON.stringify(message),
      MessageGroupId: message.poolId,
      // The same event sent twice within SQS's five-minute window is delivered once.
      MessageDeduplicationId: createHash('sha256').update(`${message.poolId}\\n${message.reason}\\n${message.deliveryId}`).digest('hex'),
    }));
  }
}
