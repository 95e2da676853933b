// Seeded fault injection: API 5xx and latency, secondary-rate-limit windows, webhook drop, duplicate
// and reorder, clock skew. API and webhook faults draw from separate forks of the seed, so changing one
// kind of fault does not move the other's.
import { SecondaryWindow } from './rate-limit';
import { SeededRandom } from '../common/random';

export type Range = readonly [number, number] | number;

export interface FaultOptions {
  /** Fraction of public API calls answered with a 5xx. @default 0 */
  readonly serverErrorRate?: number;
  /** @default [500, 502, 503] */
  readonly serverErrorStatuses?: readonly number[];
  /** Only these routes (`'POST /orgs/{org}/actions/runners/generate-jitconfig'`) get 5xx. @default all */
  readonly serverErrorRoutes?: readonly string[];
  /**
   * Fraction of injected 5xx that come after the request took effect — e.g. a JIT runner registered
   * although the client saw 503, so its retry meets 409 (reference/github.md 7). @default 0
   */
  readonly serverErrorAfterEffectRate?: number;
  /** Added to every public API call (simulated ms). @default 0 */
  readonly latencyMs?: Range;
  /** Periods (relative to start) during which every API call is secondary-rate-limited. */
  readonly rateLimitWindows?: readonly SecondaryWindow[];
  /** Fraction of webhook deliveries never made, recorded as `timed out` like GitHub would. @default 0 */
  readonly webhookDropRate?: number;
  /** Fraction of webhook deliveries sent twice. @default 0 */
  readonly webhookDuplicateRate?: number;
  /** Fraction of webhook deliveries held back by `webhookReorderDelayMs`, so later ones overtake them. @default 0 */
  readonly webhookReorderRate?: number;
  /** @default [1000, 10000] */
  readonly webhookReorderDelayMs?: Range;
  /** Delay before every webhook delivery (simulated ms). @default 0 */
  readonly webhookLatencyMs?: Range;
  /** How far the server's clock runs ahead of the clients' (negative: behind), for JWT checks and `Date`. @default 0 */
  readonly clockSkewMs?: number;
}

export class FaultInjector {
  private readonly apiRng: SeededRandom;
  private readonly webhookRng: SeededRandom;

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
    return {
      status: this.apiRng.pick(this.options.serverErrorStatuses ?? [500, 502, 503]),
      afterEffect: this.apiRng.chance(this.options.serverErrorAfterEffectRate ?? 0),
    };
  }

  deliveryPlan(): { drop: boolean; duplicate: boolean; delayMs: number } {
    const o = this.options;
    // Draw the same number of values every time, so one setting does not shift the draws of another.
    const draws = Array.from({ length: 5 }, () => this.webhookRng.next());
    const spread = (draw: number, range: Range): number =>
      typeof range === 'number' ? range : range[0] + Math.floor(draw * (range[1] - range[0] + 1));
    const reorderDelay = draws[2] < (o.webhookReorderRate ?? 0) ? spread(draws[3], o.webhookReorderDelayMs ?? [1000, 10_000]) : 0;
    return {
      drop: draws[0] < (o.webhookDropRate ?? 0),
      duplicate: draws[1] < (o.webhookDuplicateRate ?? 0),
      delayMs: spread(draws[4], o.webhookLatencyMs ?? 0) + reorderDelay,
    };
  }
}
