// Seeded fault injection: API 5xx and latency, secondary-rate-limit windows, webhook drop, duplicate and reorder. API and webhook
// faults draw from separate forks of the seed, so changing one kind does not move the other's.
import { SeededRandom } from '../common/random';

export interface FaultOptions {
  /** Fraction of public API calls answered with 500, 502 or 503. @default 0 */
  readonly serverErrorRate?: number;
  /** Only these routes (`'POST /orgs/{org}/actions/runners/generate-jitconfig'`) get 5xx. @default all */
  readonly serverErrorRoutes?: readonly string[];
  /** Fraction of injected 5xx sent after the request took effect: e.g. a retried registration meets 409 (reference/github.md 7). @default 0 */
  readonly serverErrorAfterEffectRate?: number;
  /** Added to every public API call (simulated ms). @default 0 */
  readonly latencyMs?: readonly [number, number] | number;
  /** Periods, in simulated ms from the simulator's start, during which every API call is secondary-rate-limited. */
  readonly rateLimitWindows?: readonly { readonly startMs: number; readonly durationMs: number }[];
  /** Fraction of webhook deliveries never made, recorded as `timed out` like GitHub would. @default 0 */
  readonly webhookDropRate?: number;
  /** Fraction of webhook deliveries sent twice. @default 0 */
  readonly webhookDuplicateRate?: number;
  /** Fraction of webhook deliveries held back 1–10 s, so later ones overtake them. @default 0 */
  readonly webhookReorderRate?: number;
}

export class FaultInjector {
  private readonly apiRng: SeededRandom;
  private readonly webhookRng: SeededRandom;
  /** Simulated epoch ms of the simulator's start, from which `rateLimitWindows` count. */
  startedAt = 0;
  /** Windows started by `trigger`, as [start, end) in simulated epoch ms. */
  private readonly triggered: [number, number][] = [];

  constructor(public options: FaultOptions, rng: SeededRandom) {
    this.apiRng = rng.fork('faults.api');
    this.webhookRng = rng.fork('faults.webhooks');
  }

  apiLatencyMs(): number {
    const latency = this.options.latencyMs ?? 0;
    return latency === 0 ? 0 : this.apiRng.between(latency);
  }

  /** Whether this call of `route` (`METHOD /template`) gets a 5xx, and when. */
  serverError(route: string): { status: number; afterEffect: boolean } | undefined {
    const { serverErrorRate: rate = 0, serverErrorRoutes: routes } = this.options;
    if (rate <= 0 || (routes && !routes.includes(route)) || !this.apiRng.chance(rate)) return undefined;
    return { status: this.apiRng.pick([500, 502, 503]), afterEffect: this.apiRng.chance(this.options.serverErrorAfterEffectRate ?? 0) };
  }

  trigger(now: number, durationMs: number): void {
    this.triggered.push([now, now + durationMs]);
  }

  /** Simulated ms left of the secondary-limit window active at `now`, if one is. */
  secondaryLimitLeft(now: number): number | undefined {
    const { startedAt } = this;
    const windows = (this.options.rateLimitWindows ?? []).map((w) => [startedAt + w.startMs, startedAt + w.startMs + w.durationMs]);
    const active = [...windows, ...this.triggered].find(([start, end]) => now >= start && now < end);
    return active && active[1] - now;
  }

  deliveryPlan(): { drop: boolean; duplicate: boolean; delayMs: number } {
    const o = this.options;
    // Draw the same number of values every time, so one setting does not shift the draws of another.
    const [drop, duplicate, reorder, delay] = Array.from({ length: 4 }, () => this.webhookRng.next());
    return {
      drop: drop < (o.webhookDropRate ?? 0),
      duplicate: duplicate < (o.webhookDuplicateRate ?? 0),
      delayMs: reorder < (o.webhookReorderRate ?? 0) ? 1000 + Math.floor(delay * 9001) : 0,
    };
  }
}
