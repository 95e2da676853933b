// Shapes shared by the SQS stand-in: message attributes as the SQS API spells them, a queue's
// settings, and a stored message with its delivery state.

/** A message attribute as the SQS API carries it (PascalCase; BinaryValue base64 in JSON). */
export interface MessageAttributeValue {
  readonly DataType: string;
  readonly StringValue?: string;
  readonly BinaryValue?: string;
}

export type MessageAttributes = Readonly<Record<string, MessageAttributeValue>>;

export interface RedrivePolicy {
  /** The dead-letter queue's ARN. */
  readonly deadLetterTargetArn: string;
  /** 1–1000: a message received this many times without being deleted goes to the DLQ on its next receive. */
  readonly maxReceiveCount: number;
}

/** A queue's attributes, in seconds and bytes like the SQS API. */
export interface QueueSettings {
  readonly visibilityTimeoutSeconds: number;
  readonly messageRetentionSeconds: number;
  readonly delaySeconds: number;
  readonly receiveMessageWaitTimeSeconds: number;
  readonly maximumMessageSize: number;
  readonly contentBasedDeduplication: boolean;
  readonly redrivePolicy?: RedrivePolicy;
}

export const DEFAULT_QUEUE_SETTINGS: QueueSettings = {
  visibilityTimeoutSeconds: 30,
  messageRetentionSeconds: 345_600,
  delaySeconds: 0,
  receiveMessageWaitTimeSeconds: 0,
  // Raised from 256 KiB to 1 MiB in 2025; the SDK model documents 1,048,576 as the default.
  maximumMessageSize: 1_048_576,
  contentBasedDeduplication: false,
};

/** What a producer sends, already shape-checked by the wire layer. */
export interface SendInput {
  readonly body: string;
  readonly delaySeconds?: number;
  readonly messageAttributes?: MessageAttributes;
  readonly traceHeader?: string;
  readonly messageGroupId?: string;
  readonly messageDeduplicationId?: string;
  /** Who sent it (SenderId: `AIDA…` for a user, `AROA…:session` for a role). */
  readonly senderId: string;
}

export interface SendResult {
  readonly messageId: string;
  readonly md5OfMessageBody: string;
  readonly md5OfMessageAttributes?: string;
  readonly sequenceNumber?: string;
  /** True when a FIFO queue dropped the message as a duplicate within the de-duplication interval. */
  readonly duplicate: boolean;
}

export interface StoredMessage {
  readonly messageId: string;
  readonly body: string;
  readonly md5OfBody: string;
  readonly messageAttributes?: MessageAttributes;
  readonly md5OfMessageAttributes?: string;
  readonly traceHeader?: string;
  readonly senderId: string;
  readonly sentTimestamp: number;
  readonly messageGroupId?: string;
  readonly messageDeduplicationId?: string;
  readonly sequenceNumber?: string;
  /** Set on messages a redrive moved into a dead-letter queue. */
  deadLetterQueueSourceArn?: string;
  /** Retention counts from here (reset for FIFO messages moved to a DLQ). */
  enqueuedAt: number;
  receiveCount: number;
  firstReceiveTimestamp?: number;
  /** The nonce of the latest receipt handle; undefined before the first receive. */
  receipt?: string;
  receivedAt?: number;
  /** Hidden until then: delay before the first receive, visibility timeout after a receive. */
  visibleAt: number;
}

/** A message as one receive hands it out: a snapshot plus the receipt handle of this receive. */
export interface ReceivedMessage {
  readonly message: Readonly<StoredMessage>;
  readonly receiptHandle: string;
}
