// Hands pools to the provisioner through a standard SQS queue, one message per accepted delivery.

import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { PoolMessage } from '../core/pool-message';
import { PoolQueue } from '../core/ports';

export class SqsPoolQueue implements PoolQueue {
  constructor(private readonly sqs: SQSClient, private readonly queueUrl: string) {}

  async send(message: PoolMessage): Promise<void> {
    await this.sqs.send(new SendMessageCommand({ QueueUrl: this.queueUrl, MessageBody: JSON.stringify(message) }));
  }
}
