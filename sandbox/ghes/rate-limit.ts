// Primary and secondary rate limits (reference/github.md 7). GHES ships with rate limiting disabled:
// then no x-ratelimit-* headers are sent. Secondary limits can still be forced by fault windows, so a
// client's handling of them can be exercised either way.
import { GhesApiError, RATE_LIMIT_DOCS_URL } from './errors';
import { SimTime } from './sim-time';

export interface RateLimitOptions {
  /** Requests per window for each installation (and for the App's JWT). @default 5000 */
  readonly limit?: number;
  /** @default one hour (simulated) */
  readonly windowMs?: number;
  /** Status of a primary-limit refusal; GitHub sends 403 or 429. @default 403 */
  readonly status?: 403 | 429;
  /** More concurrent requests than this are refused with a secondary limit (GitHub: 100). @default 100 */
  readonly maxConcurrentRequests?: number;
}

/** A period during which every API request is secondary-rate-limited. */
export interface SecondaryWindow {
  /** Start, in simulated ms after the simulator started. */
  readonly startMs: number;
  readonly durationMs: number;
  /** @default 403 */
  readonly status?: 403 | 429;
  /** Whether to send `retry-after` (GitHub sometimes sends neither it nor remaining 0). @default true */
  readonly retryAfter?: boolean;
}

export class RateLimiter {
  /** Per bucket (an installation, or the App's JWT): GitHub's window starts with its first request. */
  private readonly buckets = new Map<string, { windowStart: number; used: number }>();
  private readonly triggered: { start: number; window: SecondaryWindow }[] = [];
  private inFlight = 0;

  constructor(
    private readonly options: RateLimitOptions | undefined,
    private readonly time: SimTime,
    private readonly faultWindows: () => readonly SecondaryWindow[],
    private readonly startedAt: () => number,
  ) {}

  /** Starts a secondary-limit window now. */
  trigger(window: Omit<SecondaryWindow, 'startMs'>): void {
    this.triggered.push({ start: this.time.now(), window: { ...window, startMs: 0 } });
  }

  /**
   * Marks a request in flight; throws a secondary limit when a window is active or too many run at
   * once. The message must contain "secondary rate" for @octokit/plugin-throttling.
   */
  enter(requestId: string, bucketKey: string): void {
    const now = this.time.now();
    const windows = [...this.faultWindows().map((w) => ({ window: w, start: this.startedAt() + w.startMs })), ...this.triggered];
    const active = windows.find(({ window, start }) => now >= start && now < start + window.durationMs);
    if (active || (this.options && this.inFlight >= (this.options.maxConcurrentRequests ?? 100))) {
      const headers = { ...this.headers(bucketKey) };
      const remainingMs = active ? active.start + active.window.durationMs - now : 60_000;
      if (active?.window.retryAfter ?? true) headers['retry-after'] = String(this.time.toClientSeconds(remainingMs));
      throw new GhesApiError(
        active?.window.status ?? 403,
        'You have exceeded a secondary rate limit. Please wait a few minutes before you try again. ' +
          `If you reach out to GitHub Support for help, please include the request ID ${requestId}.`,
        { documentationUrl: RATE_LIMIT_DOCS_URL, headers },
      );
    }
    this.inFlight++;
  }

  leave(): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
  }

  /** Counts one request; the primary limit is 403 or 429 with `x-ratelimit-remaining: 0` once the quota is spent. */
  consume(bucketKey: string, subject: string): Record<string, string> {
    if (!this.options) return {};
    const bucket = this.bucket(bucketKey);
    if (bucket.used >= (this.options.limit ?? 5000)) {
      const headers = this.headers(bucketKey);
      throw new GhesApiError(this.options.status ?? 403, `API rate limit exceeded for ${subject}.`, { documentationUrl: RATE_LIMIT_DOCS_URL, headers });
    }
    bucket.used++;
    return this.headers(bucketKey);
  }

  /** The x-ratelimit-* headers of a bucket (none while rate limiting is off), without counting a request. */
  headers(bucketKey: string): Record<string, string> {
    if (!this.options) return {};
    const { windowStart, used } = this.bucket(bucketKey);
    const limit = this.options.limit ?? 5000;
    return {
      'x-ratelimit-limit': String(limit),
      'x-ratelimit-remaining': String(Math.max(0, limit - used)),
      'x-ratelimit-used': String(used),
      'x-ratelimit-reset': String(Math.ceil(this.time.toClientEpochMs(windowStart + (this.options.windowMs ?? 3_600_000)) / 1000)),
      'x-ratelimit-resource': 'core',
    };
  }

  private bucket(key: string): { windowStart: number; used: number } {
    const now = this.time.now();
    let bucket = this.buckets.get(key);
    if (!bucket || now >= bucket.windowStart + (this.options?.windowMs ?? 3_600_000)) {
      bucket = { windowStart: now, used: 0 };
      this.buckets.set(key, bucket);
    }
    return bucket;
  }
}
