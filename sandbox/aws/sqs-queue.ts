// One SQS queue in memory, on the simulated clock: delays, visibility timeouts and receipt
// handles, retention, FIFO message groups (a group's later messages wait while an earlier one is
// in flight), FIFO de-duplication within five minutes, and redrive to a dead-letter queue on the
// receive after the maxReceiveCount-th. Time only moves when asked: every operation first looks
// at the clock, so there are no per-message timers.
import { createHash } from 'crypto';
import { AwsIds } from './ids';
import { sqsErrors } from './sqs-errors';
import { md5Hex, md5OfMessageAttributes } from './sqs-md5';
import { QueueSettings, ReceivedMessage, SendInput, SendResult, StoredMessage } from './sqs-types';
import { validateSend } from './sqs-validation';
import { SimClock } from '../common/time';

/** SQS remembers a FIFO de-duplication id for five minutes. */
export const DEDUPLICATION_INTERVAL_MS = 5 * 60 * 1000;
/** A message can stay invisible at most 12 hours after a receive. */
const MAX_VISIBILITY_SECONDS = 43_200;
const RECEIPT_PREFIX = 'AQEB';

export interface QueueCounts {
  /** Messages accepted and enqueued (duplicates excluded). */
  sent: number;
  /** FIFO sends dropped as duplicates within the de-duplication interval. */
  deduplicated: number;
  /** Receives of a message (a redelivery counts again). */
  received: number;
  deleted: number;
  /** Messages moved out of this queue to its dead-letter queue. */
  redriven: number;
  /** Messages dropped at the end of the retention period. */
  expired: number;
}

export interface QueueDeps {
  readonly clock: SimClock;
  readonly ids: AwsIds;
  /** Finds a queue by ARN, for redrive. */
  readonly queueByArn: (arn: string) => SqsQueue | undefined;
}

export interface ReceiveOptions {
  readonly maxMessages: number;
  /** Overrides the queue's visibility timeout for this receive. */
  readonly visibilityTimeoutSeconds?: number;
}

export class SqsQueue {
  readonly fifo: boolean;
  readonly createdAt: number;
  readonly counts: QueueCounts = { sent: 0, deduplicated: 0, received: 0, deleted: 0, redriven: 0, expired: 0 };
  private messages: StoredMessage[] = [];
  private readonly deduplication = new Map<string, { messageId: string; sequenceNumber?: string; expiresAt: number }>();
  private readonly listeners = new Set<() => void>();
  private sequence = 18_849_496_460_467_696_128n;

  constructor(
    readonly name: string,
    readonly arn: string,
    private currentSettings: QueueSettings,
    private readonly deps: QueueDeps,
  ) {
    this.fifo = name.endsWith('.fifo');
    this.createdAt = deps.clock.now();
  }

  get settings(): QueueSettings {
    return this.currentSettings;
  }

  updateSettings(settings: QueueSettings): void {
    this.currentSettings = settings;
    this.notify();
  }

  /** Called when a message may have become receivable sooner (a send, a visibility change). */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  send(input: SendInput): SendResult {
    validateSend(input, this.fifo, this.currentSettings);
    const now = this.deps.clock.now();
    const md5OfMessageBody = md5Hex(input.body);
    const md5OfAttributes = md5OfMessageAttributes(input.messageAttributes);
    let deduplicationId: string | undefined;
    if (this.fifo) {
      deduplicationId = input.messageDeduplicationId ?? createHash('sha256').update(input.body).digest('hex');
      this.forgetExpiredDeduplication(now);
      const earlier = this.deduplication.get(deduplicationId);
      if (earlier) {
        // Accepted, not delivered again: the answer names the original message.
        this.counts.deduplicated++;
        const { messageId, sequenceNumber } = earlier;
        return { messageId, md5OfMessageBody, md5OfMessageAttributes: md5OfAttributes, sequenceNumber, duplicate: true };
      }
    }
    const messageId = this.deps.ids.uuid();
    const sequenceNumber = this.fifo ? String(this.sequence += 1n) : undefined;
    if (deduplicationId !== undefined) {
      this.deduplication.set(deduplicationId, { messageId, sequenceNumber, expiresAt: now + DEDUPLICATION_INTERVAL_MS });
    }
    const delaySeconds = input.delaySeconds ?? this.currentSettings.delaySeconds;
    this.messages.push({
      messageId,
      body: input.body,
      md5OfBody: md5OfMessageBody,
      messageAttributes: input.messageAttributes,
      md5OfMessageAttributes: md5OfAttributes,
      traceHeader: input.traceHeader,
      senderId: input.senderId,
      sentTimestamp: Math.floor(now),
      messageGroupId: input.messageGroupId,
      messageDeduplicationId: this.fifo ? deduplicationId : undefined,
      sequenceNumber,
      enqueuedAt: now,
      receiveCount: 0,
      visibleAt: now + delaySeconds * 1000,
    });
    this.counts.sent++;
    this.notify();
    return { messageId, md5OfMessageBody, md5OfMessageAttributes: md5OfAttributes, sequenceNumber, duplicate: false };
  }

  /**
   * Takes up to `maxMessages` receivable messages and hides them for the visibility timeout. In a
   * FIFO queue a group is skipped while any earlier message of it is in flight or delayed, and a
   * batch may hold several messages of one group, in order.
   */
  receive(options: ReceiveOptions): ReceivedMessage[] {
    const now = this.deps.clock.now();
    this.dropExpired(now);
    const visibility = options.visibilityTimeoutSeconds ?? this.currentSettings.visibilityTimeoutSeconds;
    const blockedGroups = new Set<string>();
    const received: ReceivedMessage[] = [];
    for (const message of [...this.messages]) {
      if (received.length >= options.maxMessages) break;
      const group = message.messageGroupId;
      if (message.visibleAt > now) {
        if (this.fifo && group !== undefined) blockedGroups.add(group);
        continue;
      }
      if (this.fifo && group !== undefined && blockedGroups.has(group)) continue;
      if (this.redriveIfExhausted(message)) continue;
      message.receiveCount++;
      message.firstReceiveTimestamp ??= Math.floor(now);
      message.receipt = this.deps.ids.hex(24);
      message.receivedAt = now;
      message.visibleAt = now + visibility * 1000;
      this.counts.received++;
      received.push({ message: { ...message }, receiptHandle: this.receiptHandle(message) });
    }
    return received;
  }

  /**
   * Deletes the message a receipt handle names. A handle from an earlier receive of a message
   * received again since is accepted without deleting anything, as SQS documents; a message
   * already gone is not an error.
   */
  delete(receiptHandle: string): void {
    const { messageId, nonce } = this.parseReceipt(receiptHandle);
    const index = this.messages.findIndex((m) => m.messageId === messageId);
    if (index < 0 || this.messages[index].receipt !== nonce) return;
    this.messages.splice(index, 1);
    this.counts.deleted++;
  }

  /** Sets when an in-flight message becomes visible again, counted from now. */
  changeVisibility(receiptHandle: string, timeoutSeconds: number): void {
    const { messageId, nonce } = this.parseReceipt(receiptHandle);
    if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 0 || timeoutSeconds > MAX_VISIBILITY_SECONDS) {
      throw sqsErrors.outOfRange('VisibilityTimeout', timeoutSeconds, 0, MAX_VISIBILITY_SECONDS);
    }
    const now = this.deps.clock.now();
    this.dropExpired(now);
    const message = this.messages.find((m) => m.messageId === messageId);
    if (!message || message.receipt !== nonce || message.visibleAt <= now) throw sqsErrors.messageNotInflight();
    if (now + timeoutSeconds * 1000 - message.receivedAt! > MAX_VISIBILITY_SECONDS * 1000) {
      throw sqsErrors.invalidParameterValue(`Value ${timeoutSeconds} for parameter VisibilityTimeout is invalid. ` +
        `Reason: Total VisibilityTimeout for the message is beyond the limit [${MAX_VISIBILITY_SECONDS} seconds]`);
    }
    message.visibleAt = now + timeoutSeconds * 1000;
    this.notify();
  }

  /** Takes in a message redriven from a source queue, keeping its id, body and receive count. */
  acceptRedriven(message: StoredMessage, sourceArn: string): void {
    const now = this.deps.clock.now();
    this.messages.push({
      ...message,
      deadLetterQueueSourceArn: sourceArn,
      // Standard queues keep the original enqueue time for retention; FIFO queues reset it.
      enqueuedAt: this.fifo ? now : message.enqueuedAt,
      receipt: undefined,
      receivedAt: undefined,
      visibleAt: now,
    });
    this.notify();
  }

  /** ApproximateNumberOfMessages / …NotVisible / …Delayed, exact here. */
  approximateCounts(): { visible: number; inFlight: number; delayed: number } {
    const now = this.deps.clock.now();
    this.dropExpired(now);
    let visible = 0;
    let inFlight = 0;
    let delayed = 0;
    for (const m of this.messages) {
      if (m.visibleAt <= now) visible++;
      else if (m.receipt !== undefined) inFlight++;
      else delayed++;
    }
    return { visible, inFlight, delayed };
  }

  /** The earliest simulated time after now at which a hidden message becomes visible. */
  nextVisibleAt(): number | undefined {
    const now = this.deps.clock.now();
    let next: number | undefined;
    for (const m of this.messages) {
      if (m.visibleAt > now && (next === undefined || m.visibleAt < next)) next = m.visibleAt;
    }
    return next;
  }

  /** Every message still held (visible, in flight or delayed), oldest first; for reports and tests. */
  peek(): readonly Readonly<StoredMessage>[] {
    this.dropExpired(this.deps.clock.now());
    return this.messages.map((m) => ({ ...m }));
  }

  /** PurgeQueue: drops every message, in flight or not. */
  purge(): void {
    this.messages = [];
    this.notify();
  }

  private redriveIfExhausted(message: StoredMessage): boolean {
    const policy = this.currentSettings.redrivePolicy;
    if (!policy || message.receiveCount < policy.maxReceiveCount) return false;
    const target = this.deps.queueByArn(policy.deadLetterTargetArn);
    // SQS leaves the message where it is while the dead-letter queue does not exist.
    if (!target) return false;
    this.messages.splice(this.messages.indexOf(message), 1);
    this.counts.redriven++;
    target.acceptRedriven(message, this.arn);
    return true;
  }

  private dropExpired(now: number): void {
    const retentionMs = this.currentSettings.messageRetentionSeconds * 1000;
    const before = this.messages.length;
    this.messages = this.messages.filter((m) => now < m.enqueuedAt + retentionMs);
    this.counts.expired += before - this.messages.length;
  }

  private forgetExpiredDeduplication(now: number): void {
    for (const [id, entry] of this.deduplication) if (entry.expiresAt <= now) this.deduplication.delete(id);
  }

  private receiptHandle(message: StoredMessage): string {
    return RECEIPT_PREFIX + Buffer.from(`${this.arn} ${message.messageId} ${message.receipt}`, 'utf8').toString('base64');
  }

  private parseReceipt(handle: string): { messageId: string; nonce: string } {
    if (typeof handle !== 'string' || !handle.startsWith(RECEIPT_PREFIX)) throw sqsErrors.receiptHandleIsInvalid(String(handle));
    const parts = Buffer.from(handle.slice(RECEIPT_PREFIX.length), 'base64').toString('utf8').split(' ');
    if (parts.length !== 3 || parts[0] !== this.arn) throw sqsErrors.receiptHandleIsInvalid(handle);
    return { messageId: parts[1], nonce: parts[2] };
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }
}
