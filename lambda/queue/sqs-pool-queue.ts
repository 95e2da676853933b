// Hands pools to the provisioner through a FIFO SQS queue. The message group is the pool, so one
// pool is reconciled by one invocation at a time while different pools go in parallel.
import { createHash } from 'crypto';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { messageGroupIdOf } from './message-group';
import { ProvisionerMessage } from '../core/pool-message';
import { PoolQueue } from '../core/ports';

export class SqsPoolQueue implements PoolQueue {
  constructor(private readonly sqs: SQSClient, private readonly queueUrl: string) {}

  async send(message: ProvisionerMessage): Promise<void> {
    await this.sqs.send(new SendMessageCommand({
      QueueUrl: this.queueUrl,
      MessageBody: JSON.stringify(message),
      // A long pool id (a long repository name) is hashed into SQS's 128 characters.
      MessageGroupId: messageGroupIdOf(message.poolId),
      // The same event sent twice within SQS's five-minute window is delivered once. Hex sha256:
      // 64 characters, within the 128 SQS allows whatever the pool id's length.
      MessageDeduplicationId: createHash('sha256').update(`${message.poolId}\\n${message.reason}\\n${message.deliveryId}`).digest('hex'),
    }));
  }
}
