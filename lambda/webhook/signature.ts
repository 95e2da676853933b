// Checks `X-Hub-Signature-256`: `sha256=` + hex HMAC-SHA256 of the raw body keyed with the secret,
// compared in constant time by @octokit/webhooks-methods.
// https://docs.github.com/en/enterprise-server@3.19/webhooks/using-webhooks/validating-webhook-deliveries

import { verify } from '@octokit/webhooks-methods';

export const SIGNATURE_HEADER = 'x-hub-signature-256';

/** Whether `signature` is GitHub's signature of `rawBody` under `secret`. Never throws for bad input. */
export async function isSignatureValid(secret: string, rawBody: string, signature: string): Promise<boolean> {
  // verify() throws on empty arguments instead of answering false.
  if (secret === '' || rawBody === '' || signature === '') return false;
  return verify(secret, rawBody, signature);
}
