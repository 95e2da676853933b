// A received message's system attributes (all values strings, as SQS and the Lambda event carry
// them) and the attribute-name selection of ReceiveMessage.
import { MessageAttributes, StoredMessage } from './sqs-types';

export const SYSTEM_ATTRIBUTE_NAMES = [
  'SenderId', 'SentTimestamp', 'ApproximateReceiveCount', 'ApproximateFirstReceiveTimestamp',
  'SequenceNumber', 'MessageDeduplicationId', 'MessageGroupId', 'AWSTraceHeader', 'DeadLetterQueueSourceArn',
] as const;

export function systemAttributes(message: Readonly<StoredMessage>): Record<string, string> {
  const all: Record<string, string | undefined> = {
    ApproximateReceiveCount: String(message.receiveCount),
    SentTimestamp: String(message.sentTimestamp),
    SenderId: message.senderId,
    ApproximateFirstReceiveTimestamp: message.firstReceiveTimestamp === undefined ? undefined : String(message.firstReceiveTimestamp),
    SequenceNumber: message.sequenceNumber,
    MessageGroupId: message.messageGroupId,
    MessageDeduplicationId: message.messageDeduplicationId,
    AWSTraceHeader: message.traceHeader,
    DeadLetterQueueSourceArn: message.deadLetterQueueSourceArn,
  };
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(all)) if (value !== undefined) out[name] = value;
  return out;
}

/** The system attributes a ReceiveMessage asked for (`All` or names). */
export function selectSystemAttributes(message: Readonly<StoredMessage>, requested: readonly string[]): Record<string, string> | undefined {
  if (requested.length === 0) return undefined;
  const all = systemAttributes(message);
  if (requested.includes('All')) return all;
  const out: Record<string, string> = {};
  for (const name of requested) if (all[name] !== undefined) out[name] = all[name];
  return Object.keys(out).length > 0 ? out : undefined;
}

/** The message attributes a ReceiveMessage asked for: `All`, `.*`, `prefix.*` or exact names. */
export function selectMessageAttributes(attributes: MessageAttributes | undefined, requested: readonly string[]): MessageAttributes | undefined {
  if (!attributes || requested.length === 0) return undefined;
  const wanted = (name: string) => requested.some((r) => r === 'All' || r === '.*' || r === name || (r.endsWith('.*') && name.startsWith(r.slice(0, -1))));
  const out: Record<string, MessageAttributes[string]> = {};
  for (const [name, value] of Object.entries(attributes)) if (wanted(name)) out[name] = value;
  return Object.keys(out).length > 0 ? out : undefined;
}
