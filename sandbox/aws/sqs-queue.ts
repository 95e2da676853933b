// One FIFO SQS queue in memory, on the simulated clock: visibility timeouts and receipt handles, message groups
// (a group waits while an earlier message of it is in flight), de-duplication within five minutes, redrive to a
// dead-letter queue after maxReceiveCount receives; and SendMessage's checks with SQS's error codes and wording.
import { createHash } from 'crypto';
import type { AwsContext } from './ids';

/** An SQS error: `{"__type": "com.amazonaws.sqs#<code>"}` plus `x-amzn-query-error: <queryCode>;Sender`, from which the SDK picks its exception class. */
export class SqsApiError extends Error {
  constructor(readonly code: string, message: string, readonly status = 400, readonly queryCode = code) {
    super(message);
    this.name = 'SqsApiError';
  }
}

export const NS = 'AWS.SimpleQueueService.';
const invalidValue = (name: string, value: unknown, reason: string) =>
  new SqsApiError('InvalidParameterValue', `Value ${String(value)} for parameter ${name} is invalid. Reason: ${reason}`);

const DEDUPLICATION_INTERVAL_MS = 5 * 60 * 1000;
/** A message can stay invisible at most 12 hours. */
export const MAX_VISIBILITY_SECONDS = 43_200;
const RECEIPT_PREFIX = 'AQEB';
// 1-128 letters, digits and punctuation (SendMessage API reference, MessageGroupId and
// MessageDeduplicationId); the refusal's wording as AWS answers it (serverless-next.js #1616).
const GROUP_OR_DEDUP_ID = /^[A-Za-z0-9!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]{1,128}$/;

/** A SendMessage; `senderId` is `AIDA…` for a user, `AROA…:session` for a role. */
type SendInput = { readonly body: string; readonly messageGroupId: string; readonly messageDeduplicationId?: string; readonly senderId: string };

export interface StoredMessage {
  readonly messageId: string;
  readonly body: string;
  readonly md5OfBody: string;
  readonly senderId: string;
  readonly sentTimestamp: number;
  readonly messageGroupId: string;
  readonly messageDeduplicationId: string;
  readonly sequenceNumber: string;
  /** Set on messages a redrive moved into a dead-letter queue. */
  deadLetterQueueSourceArn?: string;
  receiveCount: number;
  firstReceiveTimestamp?: number;
  /** The nonce of the latest receipt handle. */
  receipt?: string;
  visibleAt: number;
}

/** A message as one receive hands it out: a snapshot plus the receipt handle of this receive. */
export type ReceivedMessage = { readonly message: Readonly<StoredMessage>; readonly receiptHandle: string };

/** A message's system attributes, all strings, as ReceiveMessage and the Lambda event carry them. */
export function systemAttributes(message: Readonly<StoredMessage>): Record<string, string> {
  const all: Record<string, string | number | undefined> = {
    ApproximateReceiveCount: message.receiveCount,
    SentTimestamp: message.sentTimestamp,
    SenderId: message.senderId,
    ApproximateFirstReceiveTimestamp: message.firstReceiveTimestamp,
    SequenceNumber: message.sequenceNumber,
    MessageGroupId: message.messageGroupId,
    MessageDeduplicationId: message.messageDeduplicationId,
    DeadLetterQueueSourceArn: message.deadLetterQueueSourceArn,
  };
  return Object.fromEntries(Object.entries(all).filter(([, v]) => v !== undefined).map(([k, v]) => [k, String(v)]));
}

/** A parameter, or a setting of a queue or a mapping, that must be an integer from `min` to `max`. */
export function inRange(name: string, value: number, min: number, max: number): number {
  if (Number.isInteger(value) && value >= min && value <= max) return value;
  throw invalidValue(name, value, `Must be between ${min} and ${max}, if provided.`);
}

export class SqsQueue {
  private readonly messages: StoredMessage[] = [];
  private readonly deduplication = new Map<string, { messageId: string; sequenceNumber: string; expiresAt: number }>();
  private readonly listeners = new Set<() => void>();
  private sequence = 18_849_496_460_467_696_128n;

  constructor(
    readonly name: string,
    readonly arn: string,
    /** A message received maxReceiveCount times goes to the DLQ on its next receive. */
    readonly settings: { readonly visibilityTimeoutSeconds: number; readonly deadLetterQueue?: { queue: SqsQueue; maxReceiveCount: number } },
    private readonly deps: Pick<AwsContext, 'clock' | 'ids'>,
  ) {}

  /** Called when a message may have become receivable sooner (a send, a visibility change). */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  send(input: SendInput) {
    const { messageGroupId, messageDeduplicationId } = input;
    // The queues of the template do not enable content-based de-duplication.
    if (messageDeduplicationId === undefined) {
      const reason = 'The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly';
      throw new SqsApiError('InvalidParameterValue', reason);
    }
    for (const [name, value] of Object.entries({ MessageGroupId: messageGroupId, MessageDeduplicationId: messageDeduplicationId })) {
      if (!GROUP_OR_DEDUP_ID.test(value)) throw invalidValue(name, value, `${name} can only include alphanumeric and punctuation characters. 1 to 128 in length.`);
    }
    const now = this.deps.clock.now();
    const md5OfMessageBody = createHash('md5').update(input.body).digest('hex');
    for (const [id, entry] of this.deduplication) if (entry.expiresAt <= now) this.deduplication.delete(id);
    const earlier = this.deduplication.get(messageDeduplicationId);
    // A duplicate is accepted, not delivered again: the answer names the original message.
    if (earlier) return { messageId: earlier.messageId, md5OfMessageBody, sequenceNumber: earlier.sequenceNumber };
    const messageId = this.deps.ids.uuid();
    const sequenceNumber = String(this.sequence += 1n);
    this.deduplication.set(messageDeduplicationId, { messageId, sequenceNumber, expiresAt: now + DEDUPLICATION_INTERVAL_MS });
    const message = { messageId, body: input.body, md5OfBody: md5OfMessageBody, senderId: input.senderId, sentTimestamp: Math.floor(now) };
    this.messages.push({ ...message, messageGroupId, messageDeduplicationId, sequenceNumber, receiveCount: 0, visibleAt: now });
    this.notify();
    return { messageId, md5OfMessageBody, sequenceNumber };
  }

  /** Takes up to `maxMessages` receivable messages, hiding them; a group waits while an earlier message of it is in flight. */
  receive(options: { readonly maxMessages: number }): ReceivedMessage[] {
    const now = this.deps.clock.now();
    const blockedGroups = new Set<string>();
    const received: ReceivedMessage[] = [];
    for (const message of [...this.messages]) {
      if (received.length >= options.maxMessages) break;
      if (message.visibleAt > now) blockedGroups.add(message.messageGroupId);
      if (blockedGroups.has(message.messageGroupId) || this.redriveIfExhausted(message)) continue;
      message.receiveCount++;
      message.firstReceiveTimestamp ??= Math.floor(now);
      message.receipt = this.deps.ids.hex(24);
      message.visibleAt = now + this.settings.visibilityTimeoutSeconds * 1000;
      const receiptHandle = RECEIPT_PREFIX + Buffer.from(`${this.arn} ${message.messageId} ${message.receipt}`, 'utf8').toString('base64');
      received.push({ message: { ...message }, receiptHandle });
    }
    return received;
  }

  /** Deletes a message; a stale handle or a message already gone deletes nothing and is no error (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_DeleteMessage.html). */
  delete(receiptHandle: string): void {
    const { messageId, nonce } = this.parseReceipt(receiptHandle);
    const index = this.messages.findIndex((m) => m.messageId === messageId && m.receipt === nonce);
    if (index >= 0) this.messages.splice(index, 1);
  }

  /** Sets when an in-flight message becomes visible again, counted from now. */
  changeVisibility(receiptHandle: string, timeoutSeconds: number): void {
    const { messageId, nonce } = this.parseReceipt(receiptHandle);
    const now = this.deps.clock.now();
    const message = this.messages.find((m) => m.messageId === messageId);
    if (!message || message.receipt !== nonce || message.visibleAt <= now) {
      throw new SqsApiError('MessageNotInflight', 'Message does not exist or is not available for visibility timeout change.', 400,
        `${NS}MessageNotInflight`);
    }
    message.visibleAt = now + inRange('VisibilityTimeout', timeoutSeconds, 0, MAX_VISIBILITY_SECONDS) * 1000;
    this.notify();
  }

  /** The earliest simulated time after now at which a hidden message becomes visible. */
  nextVisibleAt(): number | undefined {
    const now = this.deps.clock.now();
    const hidden = this.messages.map((m) => m.visibleAt).filter((t) => t > now);
    return hidden.length > 0 ? Math.min(...hidden) : undefined;
  }

  /** Every message still held (visible or in flight), oldest first; for reports and tests. */
  peek(): readonly Readonly<StoredMessage>[] {
    return this.messages.map((m) => ({ ...m }));
  }

  private redriveIfExhausted(message: StoredMessage): boolean {
    const dlq = this.settings.deadLetterQueue;
    if (!dlq || message.receiveCount < dlq.maxReceiveCount) return false;
    // Keeps its id, body and receive count (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html).
    this.messages.splice(this.messages.indexOf(message), 1);
    const moved = { ...message, deadLetterQueueSourceArn: this.arn, receipt: undefined, receivedAt: undefined };
    dlq.queue.messages.push({ ...moved, visibleAt: this.deps.clock.now() });
    dlq.queue.notify();
    return true;
  }

  private parseReceipt(handle: string) {
    const parts = Buffer.from(handle.slice(RECEIPT_PREFIX.length), 'base64').toString('utf8').split(' ');
    if (!handle.startsWith(RECEIPT_PREFIX) || parts.length !== 3 || parts[0] !== this.arn) {
      throw new SqsApiError('ReceiptHandleIsInvalid', `The input receipt handle "${handle}" is not a valid receipt handle.`, 404);
    }
    return { messageId: parts[1], nonce: parts[2] };
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }
}
