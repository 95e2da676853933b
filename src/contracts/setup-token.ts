// The setup token: made at deploy (or by `reset`), handed out once in the setup link, kept only as
// its SHA-256. Shared by the setup functions and the command.
import { createHash, randomBytes } from 'crypto';

/** A new token: 256 random bits, URL-safe. */
export function newSetupToken(): string {
  return randomBytes(32).toString('base64url');
}

/** What the token parameter holds: the token's SHA-256, hex. */
export function setupTokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}
