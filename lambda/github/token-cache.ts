// The installation-token cache for @octokit/auth-app. Its own cache keeps a token for 59 minutes
// of wall-clock time; this one keeps it until shortly before the expiry GitHub sent with it,
// measured on an injected clock, so a token is never used in its last minutes.

/** The cache shape @octokit/auth-app accepts (its `cache` option). */
export interface AuthAppCache {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string): Promise<void>;
}

/** Renew this long before the token expires. */
const EXPIRY_MARGIN_MS = 5 * 60_000;

export class ExpiringTokenCache implements AuthAppCache {
  private readonly entries = new Map<string, string>();

  constructor(private readonly now: () => number = Date.now) {}

  async get(key: string): Promise<string | undefined> {
    const value = this.entries.get(key);
    if (value === undefined) return undefined;
    // auth-app stores `token|createdAt|expiresAt|...` (its cache.js).
    const expiresAt = Date.parse(value.split('|')[2] ?? '');
    if (!Number.isFinite(expiresAt) || this.now() >= expiresAt - EXPIRY_MARGIN_MS) {
      this.entries.delete(key);
      return undefined;
    }
    return value;
  }

  async set(key: string, value: string): Promise<void> {
    this.entries.set(key, value);
  }
}
