// The SQS event Lambda builds from a received batch (reference/aws.md 6.1) and how it reads the
// function's answer with ReportBatchItemFailures (6.2).
import type { SQSMessageAttributes, SQSRecord } from 'aws-lambda';
import { systemAttributes } from './sqs-attributes';
import { ReceivedMessage } from './sqs-types';

/** One record: attributes are all strings; message attributes are camelCase, unlike the SQS API. */
export function sqsRecord(received: ReceivedMessage, queueArn: string, region: string): SQSRecord {
  const { message } = received;
  const messageAttributes: SQSMessageAttributes = {};
  for (const [name, value] of Object.entries(message.messageAttributes ?? {})) {
    messageAttributes[name] = value.BinaryValue !== undefined
      ? { binaryValue: value.BinaryValue, stringListValues: [], binaryListValues: [], dataType: value.DataType }
      : { stringValue: value.StringValue, stringListValues: [], binaryListValues: [], dataType: value.DataType };
  }
  const record: Record<string, unknown> = {
    messageId: message.messageId,
    receiptHandle: received.receiptHandle,
    body: message.body,
    attributes: systemAttributes(message),
    messageAttributes,
  };
  if (message.md5OfMessageAttributes !== undefined) record.md5OfMessageAttributes = message.md5OfMessageAttributes;
  Object.assign(record, { md5OfBody: message.md5OfBody, eventSource: 'aws:sqs', eventSourceARN: queueArn, awsRegion: region });
  return record as unknown as SQSRecord;
}

export type BatchVerdict =
  /** Delete every message. */
  | { readonly kind: 'success' }
  /** Keep the listed messages (by messageId); delete the others. */
  | { readonly kind: 'partial'; readonly failed: ReadonlySet<string> }
  /** Keep every message: the whole batch is retried after its visibility timeout. */
  | { readonly kind: 'failure'; readonly reason: string };

/**
 * Reads a function's result as Lambda does for SQS. Without ReportBatchItemFailures any result
 * is a success. With it: null, an empty object or an empty/null list is a success; a list whose
 * every entry names a message of the batch keeps those; anything else fails the whole batch.
 */
export function batchVerdict(result: unknown, messageIds: readonly string[], reportBatchItemFailures: boolean): BatchVerdict {
  if (!reportBatchItemFailures || result === null || result === undefined) return { kind: 'success' };
  // [GAP] The docs do not say what a non-object result means; failing the batch surfaces the bug.
  if (typeof result !== 'object' || Array.isArray(result)) return { kind: 'failure', reason: `the response is not an object: ${JSON.stringify(result)}` };
  const list = (result as { batchItemFailures?: unknown }).batchItemFailures;
  if (list === undefined || list === null) return { kind: 'success' };
  if (!Array.isArray(list)) return { kind: 'failure', reason: 'batchItemFailures is not a list' };
  if (list.length === 0) return { kind: 'success' };
  const known = new Set(messageIds);
  const failed = new Set<string>();
  for (const item of list) {
    const id = (item as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (typeof id !== 'string' || id === '' || !known.has(id)) {
      return { kind: 'failure', reason: `batchItemFailures entry ${JSON.stringify(item)} does not name a message of the batch` };
    }
    failed.add(id);
  }
  return { kind: 'partial', failed };
}
