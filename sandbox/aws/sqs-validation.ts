// SendMessage's checks that depend on the queue: FIFO-only and standard-only parameters, message
// group and de-duplication ids, body characters, attributes and size — with SQS's codes and wording.
import { sqsErrors } from './sqs-errors';
import { MessageAttributes, QueueSettings, SendInput } from './sqs-types';

// The characters SQS accepts in a body (SendMessage API reference): anything else is InvalidMessageContents.
const FORBIDDEN_CHARACTER = /[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
// 1-128 letters, digits and punctuation (SendMessage API reference, MessageGroupId and
// MessageDeduplicationId); the refusal's wording as AWS answers it (serverless-next.js #1616).
const GROUP_OR_DEDUP_ID = /^[A-Za-z0-9!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]{1,128}$/;
const ATTRIBUTE_NAME = /^[A-Za-z0-9_.-]{1,256}$/;
const DATA_TYPE = /^(String|Number|Binary)(\.[A-Za-z0-9_.-]+)?$/;
const MAX_ATTRIBUTES = 10;

export function validateSend(input: SendInput, fifo: boolean, settings: QueueSettings): void {
  if (input.body.length === 0) throw sqsErrors.missingParameter('MessageBody');
  const bad = FORBIDDEN_CHARACTER.exec(input.body);
  if (bad) {
    const code = bad[0].codePointAt(0)!.toString(16).toUpperCase();
    throw sqsErrors.invalidMessageContents(`Invalid binary character '#x${code}' was found in the message body, the set of allowed characters is ` +
      '#x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF');
  }
  if (input.delaySeconds !== undefined) {
    if (!Number.isInteger(input.delaySeconds) || input.delaySeconds < 0 || input.delaySeconds > 900) {
      throw sqsErrors.outOfRange('DelaySeconds', input.delaySeconds, 0, 900);
    }
    // FIFO queues take a delay only at the queue level.
    if (fifo && input.delaySeconds > 0) throw sqsErrors.notValidForQueueType('DelaySeconds', input.delaySeconds);
  }
  if (fifo) {
    if (input.messageGroupId === undefined) throw sqsErrors.missingParameter('MessageGroupId');
    if (input.messageDeduplicationId === undefined && !settings.contentBasedDeduplication) {
      throw sqsErrors.invalidParameterValue('The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly');
    }
  } else if (input.messageDeduplicationId !== undefined) {
    throw sqsErrors.notValidForQueueType('MessageDeduplicationId', input.messageDeduplicationId);
  }
  // Standard queues take a MessageGroupId too (fair queues); its format is the same.
  checkId('MessageGroupId', input.messageGroupId);
  checkId('MessageDeduplicationId', input.messageDeduplicationId);
  const size = Buffer.byteLength(input.body, 'utf8') + attributesSize(input.messageAttributes);
  if (size > settings.maximumMessageSize) {
    throw sqsErrors.invalidParameterValue(`One or more parameters are invalid. Reason: Message must be shorter than ${settings.maximumMessageSize} bytes.`);
  }
}

function checkId(name: string, value: string | undefined): void {
  if (value !== undefined && !GROUP_OR_DEDUP_ID.test(value)) {
    throw sqsErrors.invalidParameterValue(`Value ${value} for parameter ${name} is invalid. ` +
      `Reason: ${name} can only include alphanumeric and punctuation characters. 1 to 128 in length.`);
  }
}

/** Checks the attributes' shapes; returns them with the values SQS stores. */
export function validateMessageAttributes(attributes: unknown): MessageAttributes | undefined {
  if (attributes === undefined || attributes === null) return undefined;
  if (typeof attributes !== 'object' || Array.isArray(attributes)) throw sqsErrors.invalidParameterValue('MessageAttributes must be a map.');
  const entries = Object.entries(attributes as Record<string, unknown>);
  if (entries.length === 0) return undefined;
  if (entries.length > MAX_ATTRIBUTES) {
    throw sqsErrors.invalidParameterValue(`Number of message attributes [${entries.length}] exceeds the allowed maximum [${MAX_ATTRIBUTES}].`);
  }
  const out: Record<string, { DataType: string; StringValue?: string; BinaryValue?: string }> = {};
  for (const [name, raw] of entries) {
    const reserved = /^(aws\.|amazon\.)/i.test(name);
    if (!ATTRIBUTE_NAME.test(name) || reserved || name.startsWith('.') || name.endsWith('.') || name.includes('..')) {
      throw sqsErrors.invalidParameterValue(`Message (user) attribute '${name}' is invalid. The attribute name can contain only ` +
        "A-Z, a-z, 0-9, '_', '-' and '.', must not start or end with '.', must not contain '..' and must not start with 'AWS.' or 'Amazon.'.");
    }
    const value = (raw ?? {}) as { DataType?: unknown; StringValue?: unknown; BinaryValue?: unknown };
    if (typeof value.DataType !== 'string' || value.DataType === '') {
      throw sqsErrors.invalidParameterValue(`The message attribute '${name}' must contain non-empty message attribute type.`);
    }
    if (!DATA_TYPE.test(value.DataType)) {
      throw sqsErrors.invalidParameterValue(`The type of message (user) attribute '${name}' is invalid. You must use only the following supported type prefixes: Binary, Number, String.`);
    }
    const binary = value.DataType.startsWith('Binary');
    const present = binary ? typeof value.BinaryValue === 'string' && value.BinaryValue !== '' : typeof value.StringValue === 'string' && value.StringValue !== '';
    if (!present) {
      throw sqsErrors.invalidParameterValue(`The message attribute '${name}' must contain non-empty message attribute value for message attribute type '${value.DataType.split('.')[0]}'.`);
    }
    if (value.DataType.startsWith('Number') && !Number.isFinite(Number(value.StringValue))) {
      throw sqsErrors.invalidParameterValue(`Can't cast the value of message (user) attribute '${name}' to a number.`);
    }
    out[name] = binary
      ? { DataType: value.DataType, BinaryValue: value.BinaryValue as string }
      : { DataType: value.DataType, StringValue: value.StringValue as string };
  }
  return out;
}

function attributesSize(attributes: MessageAttributes | undefined): number {
  let size = 0;
  for (const [name, value] of Object.entries(attributes ?? {})) {
    size += Buffer.byteLength(name) + Buffer.byteLength(value.DataType);
    size += value.BinaryValue !== undefined ? Buffer.from(value.BinaryValue, 'base64').length : Buffer.byteLength(value.StringValue ?? '');
  }
  return size;
}
