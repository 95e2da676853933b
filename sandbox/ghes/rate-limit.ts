// Primary and secondary rate limits (reference/github.md 7). GHES ships with rate limiting disabled:
// then no x-ratelimit-* headers are sent and GET /rate_limit is 404. Secondary limits can still be
// forced by fault windows, so a client's handling of them can be exercised either way.
import { PrimaryRateLimitError, SecondaryRateLimitError } from './errors';
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

export interface RateLimitStatus {
  readonly limit: number;
  readonly remaining: number;
  readonly used: number;
  /** Epoch seconds on the clients' clock. */
  readonly reset: number;
}

interface Bucket {
  windowStart: number;
  used: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly triggered: { start: number; window: SecondaryWindow }[] = [];
  private inFlight = 0;

  constructor(
    private readonly options: RateLimitOptions | undefined,
    private readonly time: SimTime,
    private readonly faultWindows: () => readonly SecondaryWindow[],
    private readonly startedAt: () => number,
  ) {}

  get enabled(): boolean {
    return this.options !== undefined;
  }

  /** Starts a secondary-limit window now. */
  trigger(window: Omit<SecondaryWindow, 'startMs'>): void {
    this.triggered.push({ start: this.time.now(), window: { ...window, startMs: 0 } });
  }

  /** Marks a request in flight; throws a secondary limit when a window is active or too many run at once. */
  enter(requestId: string, primaryHeaders: () => Record<string, string>): void {
    const active = this.activeWindow();
    const max = this.options?.maxConcurrentRequests ?? 100;
    if (active || (this.enabled && this.inFlight >= max)) {
      const headers = { ...primaryHeaders() };
      const retryAfter = active ? active.window.retryAfter ?? true : true;
      const remainingMs = active ? active.end - this.time.now() : 60_000;
      if (retryAfter) headers['retry-after'] = String(this.time.toClientSeconds(remainingMs));
      throw new SecondaryRateLimitError(active?.window.status ?? 403, requestId, headers);
    }
    this.inFlight++;
  }

  leave(): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
  }

  /** Counts one request against a bucket; throws the primary limit when the window's quota is spent. */
  consume(bucketKey: string, subject: string): Record<string, string> {
    if (!this.options) return {};
    const bucket = this.bucket(bucketKey);
    if (bucket.used >= this.limit) {
      throw new PrimaryRateLimitError(this.options.status ?? 403, subject, this.headers(bucketKey));
    }
    bucket.used++;
    return this.headers(bucketKey);
  }

  /** The x-ratelimit-* headers of a bucket, without counting a request. */
  headers(bucketKey: string): Record<string, string> {
    if (!this.options) return {};
    const s = this.status(bucketKey);
    return {
      'x-ratelimit-limit': String(s.limit),
      'x-ratelimit-remaining': String(s.remaining),
      'x-ratelimit-used': String(s.used),
      'x-ratelimit-reset': String(s.reset),
      'x-ratelimit-resource': 'core',
    };
  }

  status(bucketKey: string): RateLimitStatus {
    const bucket = this.bucket(bucketKey);
    const resetMs = bucket.windowStart + (this.options?.windowMs ?? 3_600_000);
    return {
      limit: this.limit,
      remaining: Math.max(0, this.limit - bucket.used),
      used: bucket.used,
      reset: Math.ceil(this.time.toClientEpochMs(resetMs) / 1000),
    };
  }

  private get limit(): number {
    return this.options?.limit ?? 5000;
  }

  /** GitHub's window starts with the first request and lasts an hour. */
  private bucket(key: string): Bucket {
    const now = this.time.now();
    let bucket = this.buckets.get(key);
    if (!bucket || now >= bucket.windowStart + (this.options?.windowMs ?? 3_600_000)) {
      bucket = { windowStart: now, used: 0 };
      this.buckets.set(key, bucket);
    }
    return bucket;
  }

  private activeWindow(): { window: SecondaryWindow; end: number } | undefined {
    const now = this.time.now();
    const planned = this.faultWindows().map((w) => ({ window: w, start: this.startedAt() + w.startMs }));
    for (const { window, start } of [...planned, ...this.triggered]) {
      const end = start + window.durationMs;
      if (now >= start && now < end) return { window, end };
    }
    return undefined;
  }
}
