// Installation tokens shared by the functions' containers. A container that mints a token seals it
// (AES-256-GCM, under a key derived from the App's private key with HKDF) into the shared cache, so
// a burst of cold containers mints one token per installation rather than one each. Whoever reads
// the state table without the private key learns nothing from an entry, and a replaced App (a new
// key) cannot open the entries of the old one: they read as misses.
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'crypto';
import { AuthAppCache, ExpiringTokenCache } from './token-cache';
import { SharedCache } from '../core/ports';

const CIPHER = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KDF_SALT = 'cdk-ephemeral-runners';
const KDF_INFO = 'installation-token-cache/v1';

export class SharedTokenCache implements AuthAppCache {
  private readonly key: Buffer;

  constructor(
    private readonly local: ExpiringTokenCache,
    private readonly shared: SharedCache,
    privateKeyPem: string,
    /** A failure of the shared cache: the token is minted (or kept) locally all the same. */
    private readonly onError: (error: unknown) => void,
  ) {
    this.key = Buffer.from(hkdfSync('sha256', privateKeyPem, KDF_SALT, KDF_INFO, 32));
  }

  async get(key: string): Promise<string | undefined> {
    const local = await this.local.get(key);
    if (local !== undefined) return local;
    let sealed: string | undefined;
    try {
      sealed = await this.shared.get(entryName(key));
    } catch (error) {
      this.onError(error);
      return undefined;
    }
    const value = sealed === undefined ? undefined : this.open(sealed, key);
    if (value === undefined) return undefined;
    await this.local.set(key, value);
    // The local cache's expiry margin applies to a shared token as to one of its own.
    return this.local.get(key);
  }

  async set(key: string, value: string): Promise<void> {
    await this.local.set(key, value);
    // auth-app stores `token|createdAt|expiresAt|...` (its cache.js).
    const expiresAt = Date.parse(value.split('|')[2] ?? '');
    if (!Number.isFinite(expiresAt)) return;
    try {
      await this.shared.put(entryName(key), this.seal(value, key), expiresAt);
    } catch (error) {
      this.onError(error);
    }
  }

  /** `iv | tag | ciphertext`, base64; the cache key is the associated data, so an entry opens only under its own key. */
  private seal(value: string, key: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(CIPHER, this.key, iv).setAAD(Buffer.from(key));
    const ciphertext = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), ciphertext]).toString('base64');
  }

  /** The token, or undefined when the entry was sealed under another key (another App) or is damaged. */
  private open(sealed: string, key: string): string | undefined {
    const bytes = Buffer.from(sealed, 'base64');
    if (bytes.length <= IV_BYTES + TAG_BYTES) return undefined;
    try {
      const decipher = createDecipheriv(CIPHER, this.key, bytes.subarray(0, IV_BYTES)).setAAD(Buffer.from(key));
      decipher.setAuthTag(bytes.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      return Buffer.concat([decipher.update(bytes.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      return undefined;
    }
  }
}

/** The shared entry of an auth-app cache key (which names the installation and the token's permissions), hashed to a fixed length. */
function entryName(key: string): string {
  return `github-token#${createHash('sha256').update(key).digest('hex')}`;
}
