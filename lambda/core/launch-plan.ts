// Which market a pool's next launch buys, per the config's spot strategy and the pool's recent
// spot trouble (DESIGN.md section 3.3). Pure: the pool's spot record comes in, a new one goes out.
import { Market } from './runner';
import { SpotStrategyName } from '../../src/runner-config-document';

/** What a pool remembers of spot: kept on the pool item, short-lived. */
export interface SpotRecord {
  /** Spot launches in a row that found no capacity. */
  readonly consecutiveFailures: number;
  /** Until this epoch ms, SPOT_PREFERRED launches on-demand (the breaker is open). */
  readonly preferOnDemandUntil: number;
  /** Instances owed on-demand capacity: relaunches of jobs that a spot interruption failed. */
  readonly onDemandCredits: number;
}

export const EMPTY_SPOT_RECORD: SpotRecord = { consecutiveFailures: 0, preferOnDemandUntil: 0, onDemandCredits: 0 };

export interface SpotPolicy {
  /** Spot capacity failures in a row after which SPOT_PREFERRED falls back to on-demand. */
  readonly fallbackAfterFailures: number;
  /** How long SPOT_PREFERRED then keeps buying on-demand before trying spot again. */
  readonly preferOnDemandForMs: number;
}

export const DEFAULT_SPOT_POLICY: SpotPolicy = { fallbackAfterFailures: 2, preferOnDemandForMs: 10 * 60_000 };

export interface LaunchPart {
  readonly market: Market;
  readonly count: number;
}

/** Splits `count` instances into at most two parts by market, spot first. */
export function planLaunch(count: number, strategy: SpotStrategyName, record: SpotRecord, now: number): LaunchPart[] {
  if (count <= 0) return [];
  if (strategy === 'ON_DEMAND_ONLY') return [{ market: 'on-demand', count }];
  // Relaunches of interrupted jobs go on-demand even for SPOT_ONLY: the job already lost a runner
  // to spot once. The credit is bounded by the interrupted jobs, so the cost is too.
  const credited = Math.min(count, record.onDemandCredits);
  const rest = count - credited;
  const restMarket: Market = strategy === 'SPOT_PREFERRED' && now < record.preferOnDemandUntil ? 'on-demand' : 'spot';
  return mergeParts([
    { market: 'on-demand', count: credited },
    { market: restMarket, count: rest },
  ]);
}

/** The pool's spot record after a launch attempt. */
export function recordLaunch(
  record: SpotRecord,
  policy: SpotPolicy,
  outcome: {
    readonly market: Market;
    readonly requested: number;
    readonly launched: number;
    readonly capacityFailure: boolean;
    /** Spot cannot be bought at all now (see the `spot` launch error kind): the breaker opens at once. */
    readonly spotUnavailable?: boolean;
  },
  now: number,
): SpotRecord {
  const usedCredits = outcome.market === 'on-demand' ? Math.min(record.onDemandCredits, outcome.launched) : 0;
  const onDemandCredits = record.onDemandCredits - usedCredits;
  if (outcome.market !== 'spot') return { ...record, onDemandCredits };
  if (outcome.spotUnavailable && outcome.launched < outcome.requested) {
    return { consecutiveFailures: 0, preferOnDemandUntil: now + policy.preferOnDemandForMs, onDemandCredits };
  }
  if (outcome.launched > 0 && !outcome.capacityFailure) {
    return { consecutiveFailures: 0, preferOnDemandUntil: record.preferOnDemandUntil, onDemandCredits };
  }
  if (!outcome.capacityFailure) return { ...record, onDemandCredits };
  const consecutiveFailures = record.consecutiveFailures + 1;
  const open = consecutiveFailures >= policy.fallbackAfterFailures;
  return {
    consecutiveFailures: open ? 0 : consecutiveFailures,
    preferOnDemandUntil: open ? now + policy.preferOnDemandForMs : record.preferOnDemandUntil,
    onDemandCredits,
  };
}

/** Whether the shortfall of a spot launch should be bought on-demand right away. */
export function fallBackNow(strategy: SpotStrategyName, before: SpotRecord, after: SpotRecord, now: number): boolean {
  return strategy === 'SPOT_PREFERRED' && now < after.preferOnDemandUntil && !(now < before.preferOnDemandUntil);
}

function mergeParts(parts: LaunchPart[]): LaunchPart[] {
  const merged: LaunchPart[] = [];
  for (const part of parts) {
    if (part.count <= 0) continue;
    const same = merged.find((m) => m.market === part.market);
    if (same) merged[merged.indexOf(same)] = { market: part.market, count: same.count + part.count };
    else merged.push(part);
  }
  return merged;
}
