// The GitHub App's JWT (RS256), minted by us rather than by @octokit/auth-app so that every JWT
// carries a unique `jti`: two JWTs minted in the same second are then never byte-identical, and a
// server that refuses replays (or a log that de-duplicates tokens) cannot confuse them.
// Shape follows GitHub's rules: iat 60 s in the past for clock drift, exp at most 10 minutes ahead.
// https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-json-web-token-jwt-for-a-github-app
import { createPrivateKey, KeyObject, randomUUID, sign } from 'crypto';

export interface AppJwt {
  readonly jwt: string;
  /** ISO date-time. */
  readonly expiresAt: string;
}

const base64url = (data: string | Buffer) => Buffer.from(data).toString('base64url');

/** A `createJwt` strategy for @octokit/auth-app. `now` returns epoch milliseconds. */
export function appJwtFactory(privateKeyPem: string, now: () => number = Date.now) {
  const key: KeyObject = createPrivateKey(privateKeyPem.replace(/\\n/g, '\n'));
  return async (appId: string | number, timeDifference = 0): Promise<AppJwt> => {
    const issuedAt = Math.floor(now() / 1000) + timeDifference - 60;
    const expiresAt = issuedAt + 9 * 60; // 9 of the 10 minutes allowed, counted from iat
    const header = base64url(JSON.stringify({ alg: 'RS256', typ: 'JWT' }));
    const payload = base64url(JSON.stringify({ iat: issuedAt, exp: expiresAt, iss: String(appId), jti: randomUUID() }));
    const signature = sign('RSA-SHA256', Buffer.from(`${header}.${payload}`), key);
    return { jwt: `${header}.${payload}.${base64url(signature)}`, expiresAt: new Date(expiresAt * 1000).toISOString() };
  };
}
