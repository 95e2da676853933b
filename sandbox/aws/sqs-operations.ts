// The SQS operations over JSON 1.0 shapes (`X-Amz-Target: AmazonSQS.<Op>`): input checks with
// SQS's codes, the batch variants' per-entry results, and the response fields @aws-sdk/client-sqs
// reads (MD5OfMessageBody is verified by the SDK on every send and receive).
import { selectMessageAttributes, selectSystemAttributes } from './sqs-attributes';
import { BatchErrorEntry, batchErrorEntry, SqsApiError, sqsErrors } from './sqs-errors';
import { md5OfMessageAttributes } from './sqs-md5';
import { SqsQueue } from './sqs-queue';
import { validateMessageAttributes } from './sqs-validation';

type Json = Record<string, unknown>;

/** What the operations need from the simulator around them. */
export interface SqsOperationContext {
  readonly queueByUrl: (url: string) => SqsQueue;
  readonly queueUrl: (queue: SqsQueue) => string;
  readonly queueByName: (name: string, accountId?: string) => SqsQueue | undefined;
  readonly queues: () => readonly SqsQueue[];
  readonly senderId: string;
  /** Receives, waiting up to `waitSeconds` of simulated time for a message (long polling). */
  readonly receive: (queue: SqsQueue, maxMessages: number, visibilityTimeoutSeconds: number | undefined, waitSeconds: number) =>
  Promise<ReturnType<SqsQueue['receive']>>;
}

const BATCH_ENTRY_ID = /^[A-Za-z0-9_-]{1,80}$/;

export function sqsOperations(ctx: SqsOperationContext): Readonly<Record<string, (input: Json) => Json | Promise<Json>>> {
  const queueOf = (input: Json) => ctx.queueByUrl(requiredString(input, 'QueueUrl'));

  const send = (queue: SqsQueue, entry: Json): Json => {
    const messageAttributes = validateMessageAttributes(entry.MessageAttributes);
    const system = entry.MessageSystemAttributes as Record<string, { StringValue?: string }> | undefined;
    const result = queue.send({
      body: requiredString(entry, 'MessageBody'),
      delaySeconds: optionalInteger(entry, 'DelaySeconds'),
      messageAttributes,
      traceHeader: system?.AWSTraceHeader?.StringValue,
      messageGroupId: optionalString(entry, 'MessageGroupId'),
      messageDeduplicationId: optionalString(entry, 'MessageDeduplicationId'),
      senderId: ctx.senderId,
    });
    return omitUndefined({
      MessageId: result.messageId,
      MD5OfMessageBody: result.md5OfMessageBody,
      MD5OfMessageAttributes: result.md5OfMessageAttributes,
      SequenceNumber: result.sequenceNumber,
    });
  };

  return {
    SendMessage: (input) => send(queueOf(input), input),

    SendMessageBatch: (input) => {
      const queue = queueOf(input);
      const entries = batchEntries(input, 'SendMessageBatchRequestEntry');
      const total = entries.reduce((sum, e) => sum + Buffer.byteLength(String(e.MessageBody ?? '')), 0);
      if (total > queue.settings.maximumMessageSize) throw sqsErrors.batchRequestTooLong(queue.settings.maximumMessageSize);
      return runBatch(entries, (entry) => ({ Id: entry.Id, ...send(queue, entry) }));
    },

    ReceiveMessage: async (input) => {
      const queue = queueOf(input);
      const max = optionalInteger(input, 'MaxNumberOfMessages') ?? 1;
      if (max < 1 || max > 10) throw sqsErrors.outOfRange('MaxNumberOfMessages', max, 1, 10);
      const wait = optionalInteger(input, 'WaitTimeSeconds') ?? queue.settings.receiveMessageWaitTimeSeconds;
      if (wait < 0 || wait > 20) throw sqsErrors.outOfRange('WaitTimeSeconds', wait, 0, 20);
      const visibility = optionalInteger(input, 'VisibilityTimeout');
      if (visibility !== undefined && (visibility < 0 || visibility > 43_200)) throw sqsErrors.outOfRange('VisibilityTimeout', visibility, 0, 43_200);
      const systemNames = [...stringList(input, 'AttributeNames'), ...stringList(input, 'MessageSystemAttributeNames')];
      const attributeNames = stringList(input, 'MessageAttributeNames');
      const received = await ctx.receive(queue, max, visibility, wait);
      if (received.length === 0) return {};
      return {
        Messages: received.map(({ message, receiptHandle }) => {
          const attributes = selectMessageAttributes(message.messageAttributes, attributeNames);
          return omitUndefined({
            MessageId: message.messageId,
            ReceiptHandle: receiptHandle,
            MD5OfBody: message.md5OfBody,
            Body: message.body,
            Attributes: selectSystemAttributes(message, systemNames),
            MD5OfMessageAttributes: md5OfMessageAttributes(attributes),
            MessageAttributes: attributes,
          });
        }),
      };
    },

    DeleteMessage: (input) => {
      queueOf(input).delete(requiredString(input, 'ReceiptHandle'));
      return {};
    },

    DeleteMessageBatch: (input) => {
      const queue = queueOf(input);
      return runBatch(batchEntries(input, 'DeleteMessageBatchRequestEntry'), (entry) => {
        queue.delete(requiredString(entry, 'ReceiptHandle'));
        return { Id: entry.Id };
      });
    },

    ChangeMessageVisibility: (input) => {
      queueOf(input).changeVisibility(requiredString(input, 'ReceiptHandle'), requiredInteger(input, 'VisibilityTimeout'));
      return {};
    },

    ChangeMessageVisibilityBatch: (input) => {
      const queue = queueOf(input);
      return runBatch(batchEntries(input, 'ChangeMessageVisibilityBatchRequestEntry'), (entry) => {
        queue.changeVisibility(requiredString(entry, 'ReceiptHandle'), requiredInteger(entry, 'VisibilityTimeout'));
        return { Id: entry.Id };
      });
    },

    GetQueueUrl: (input) => {
      const queue = ctx.queueByName(requiredString(input, 'QueueName'), optionalString(input, 'QueueOwnerAWSAccountId'));
      if (!queue) throw sqsErrors.queueDoesNotExist();
      return { QueueUrl: ctx.queueUrl(queue) };
    },

    GetQueueAttributes: (input) => ({ Attributes: queueAttributes(queueOf(input), stringList(input, 'AttributeNames')) }),

    ListQueues: (input) => {
      const prefix = optionalString(input, 'QueueNamePrefix') ?? '';
      const urls = ctx.queues().filter((q) => q.name.startsWith(prefix)).map((q) => ctx.queueUrl(q));
      return urls.length > 0 ? { QueueUrls: urls } : {};
    },

    PurgeQueue: (input) => {
      queueOf(input).purge();
      return {};
    },
  };
}

function queueAttributes(queue: SqsQueue, requested: readonly string[]): Record<string, string> {
  const counts = queue.approximateCounts();
  const s = queue.settings;
  const all: Record<string, string | undefined> = {
    QueueArn: queue.arn,
    ApproximateNumberOfMessages: String(counts.visible),
    ApproximateNumberOfMessagesNotVisible: String(counts.inFlight),
    ApproximateNumberOfMessagesDelayed: String(counts.delayed),
    CreatedTimestamp: String(Math.floor(queue.createdAt / 1000)),
    LastModifiedTimestamp: String(Math.floor(queue.createdAt / 1000)),
    VisibilityTimeout: String(s.visibilityTimeoutSeconds),
    MaximumMessageSize: String(s.maximumMessageSize),
    MessageRetentionPeriod: String(s.messageRetentionSeconds),
    DelaySeconds: String(s.delaySeconds),
    ReceiveMessageWaitTimeSeconds: String(s.receiveMessageWaitTimeSeconds),
    SqsManagedSseEnabled: 'true',
    RedrivePolicy: s.redrivePolicy ? JSON.stringify(s.redrivePolicy) : undefined,
    FifoQueue: queue.fifo ? 'true' : undefined,
    ContentBasedDeduplication: queue.fifo ? String(s.contentBasedDeduplication) : undefined,
    DeduplicationScope: queue.fifo ? 'queue' : undefined,
    FifoThroughputLimit: queue.fifo ? 'perQueue' : undefined,
  };
  const names = requested.includes('All') ? Object.keys(all) : requested;
  const out: Record<string, string> = {};
  for (const name of names) {
    if (!(name in all)) throw sqsErrors.invalidAttributeName(name);
    if (all[name] !== undefined) out[name] = all[name]!;
  }
  return out;
}

function batchEntries(input: Json, entryName: string): (Json & { Id: string })[] {
  const entries = input.Entries;
  if (!Array.isArray(entries) || entries.length === 0) throw sqsErrors.emptyBatch(entryName);
  if (entries.length > 10) throw sqsErrors.tooManyEntries(entries.length);
  const seen = new Set<string>();
  for (const entry of entries as Json[]) {
    const id = entry?.Id;
    if (typeof id !== 'string' || !BATCH_ENTRY_ID.test(id)) throw sqsErrors.invalidBatchEntryId();
    if (seen.has(id)) throw sqsErrors.batchEntryIdsNotDistinct(id);
    seen.add(id);
  }
  return entries as (Json & { Id: string })[];
}

/** Runs each entry on its own: one entry's error is reported for it and the others go on. */
function runBatch(entries: (Json & { Id: string })[], run: (entry: Json & { Id: string }) => Json): Json {
  const successful: Json[] = [];
  const failed: BatchErrorEntry[] = [];
  for (const entry of entries) {
    try {
      successful.push(run(entry));
    } catch (error) {
      if (!(error instanceof SqsApiError)) throw error;
      failed.push(batchErrorEntry(entry.Id, error));
    }
  }
  return { Successful: successful, Failed: failed };
}

function requiredString(input: Json, name: string): string {
  const value = input[name];
  if (value === undefined || value === null || value === '') throw sqsErrors.missingParameter(name);
  if (typeof value !== 'string') throw sqsErrors.invalidParameterValue(`Value ${JSON.stringify(value)} for parameter ${name} is invalid. Reason: must be a string.`);
  return value;
}

function optionalString(input: Json, name: string): string | undefined {
  return input[name] === undefined || input[name] === null ? undefined : requiredString(input, name);
}

function requiredInteger(input: Json, name: string): number {
  const value = optionalInteger(input, name);
  if (value === undefined) throw sqsErrors.missingParameter(name);
  return value;
}

function optionalInteger(input: Json, name: string): number | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw sqsErrors.invalidParameterValue(`Value ${JSON.stringify(value)} for parameter ${name} is invalid. Reason: must be an integer.`);
  }
  return value;
}

function stringList(input: Json, name: string): string[] {
  const value = input[name];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function omitUndefined(object: Record<string, unknown>): Json {
  return Object.fromEntries(Object.entries(object).filter(([, v]) => v !== undefined));
}
