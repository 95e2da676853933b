// The FIFO message group of a pool. SQS limits MessageGroupId to 128 characters, alphanumeric and
// punctuation (SendMessage API reference,
// https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html), while a
// pool id `owner/repo#config` may reach 39 + 100 + 32 characters on github.com (more on GHES).
import { createHash } from 'crypto';

/** SQS's bound on MessageGroupId and MessageDeduplicationId. */
export const MAX_MESSAGE_GROUP_ID_LENGTH = 128;
/** The characters SQS accepts in a group or de-duplication id. */
export const MESSAGE_GROUP_ID_PATTERN = /^[A-Za-z0-9!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]{1,128}$/;

const HASH_HEX_LENGTH = 64;

/**
 * The message group of a pool: the pool id itself when SQS accepts it (readable in the console and
 * the logs), otherwise a readable prefix, `:` and the sha256 of the whole pool id — 128 characters,
 * the same for the same pool, and distinct for distinct pools but for a sha256 collision. The hashed
 * form never equals a short pool id: it ends in `:` and hex, where a pool id ends in `#config` and
 * config names have no `:`. The message body still carries the full pool id.
 */
export function messageGroupIdOf(poolId: string): string {
  if (MESSAGE_GROUP_ID_PATTERN.test(poolId)) return poolId;
  const hash = createHash('sha256').update(poolId, 'utf8').digest('hex');
  const readable = poolId.replace(/[^A-Za-z0-9!"#$%&'()*+,\-./;<=>?@[\\\]^_`{|}~]/g, '_');
  return `${readable.slice(0, MAX_MESSAGE_GROUP_ID_LENGTH - HASH_HEX_LENGTH - 1)}:${hash}`;
}
