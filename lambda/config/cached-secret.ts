// The secret is read once per container and re-read when it may have been rotated: a caller whose
// check failed asks for a reload, which happens only if the cached value is older than `maxAgeMs`,
// so a stream of forged requests costs at most one SSM read per `maxAgeMs`.

import { Clock, SecretSource } from '../core/ports';

export const SECRET_RELOAD_AFTER_MS = 5 * 60 * 1000;

export class CachedSecret {
  private cached?: { readonly value: string; readonly readAt: number };

  constructor(
    private readonly source: SecretSource,
    private readonly clock: Clock,
    private readonly maxAgeMs = SECRET_RELOAD_AFTER_MS,
  ) {}

  async get(): Promise<string> {
    if (!this.cached) await this.read();
    return this.cached!.value;
  }

  /** Re-reads the secret if the cached value is older than `maxAgeMs`; returns whether it did. */
  async reloadIfStale(): Promise<boolean> {
    if (this.cached && this.clock.now() - this.cached.readAt <= this.maxAgeMs) return false;
    await this.read();
    return true;
  }

  private async read(): Promise<void> {
    const value = await this.source.readSecret();
    this.cached = { value, readAt: this.clock.now() };
  }
}
