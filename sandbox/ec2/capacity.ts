// Capacity per instance type × availability zone × market, and the account's quotas. An instance
// holds one unit of its pool from launch until it is terminated (or stopped).
import { Market } from './types';

export interface PoolKey {
  readonly instanceType: string;
  readonly availabilityZone: string;
  readonly market: Market;
}

/** How many instances a pool can hold at once. Unset fields match anything; the most specific rule wins. */
export interface CapacityRule {
  readonly instanceType?: string;
  readonly availabilityZone?: string;
  readonly market?: Market;
  readonly available: number;
}

export interface Ec2Quotas {
  /** Spot instances running at once; beyond it: `MaxSpotInstanceCountExceeded`. @default no limit */
  readonly maxSpotInstances?: number;
  /** vCPUs of running on-demand instances; beyond it: `VcpuLimitExceeded`. @default no limit */
  readonly onDemandVcpuLimit?: number;
  /** vCPUs of running spot instances; beyond it: `VcpuLimitExceeded`. @default no limit */
  readonly spotVcpuLimit?: number;
}

export type QuotaCode = 'MaxSpotInstanceCountExceeded' | 'VcpuLimitExceeded';

export interface QuotaRoom {
  /** Further instances of this size the quotas allow (Infinity when unlimited). */
  readonly instances: number;
  /** The quota that binds, when `instances` is finite. */
  readonly code?: QuotaCode;
  readonly limit?: number;
}

export interface MarketUsage {
  readonly instances: number;
  readonly vcpus: number;
}

export interface CapacityOptions {
  /** Capacity of a pool no rule matches. @default Infinity */
  readonly defaultAvailable?: number;
  readonly rules?: readonly CapacityRule[];
  readonly quotas?: Ec2Quotas;
}

const keyOf = (pool: PoolKey) => `${pool.instanceType}|${pool.availabilityZone}|${pool.market}`;

export class CapacityModel {
  private readonly rules: CapacityRule[];
  private readonly defaultAvailable: number;
  private quotas: Ec2Quotas;
  private readonly held = new Map<string, number>();
  private readonly usage: Record<Market, { instances: number; vcpus: number }> = {
    'spot': { instances: 0, vcpus: 0 },
    'on-demand': { instances: 0, vcpus: 0 },
  };

  constructor(options: CapacityOptions = {}) {
    this.rules = [...(options.rules ?? [])];
    this.defaultAvailable = options.defaultAvailable ?? Infinity;
    this.quotas = options.quotas ?? {};
  }

  /** Adds a rule, replacing an earlier one with the same selector. */
  setCapacity(rule: CapacityRule): void {
    const same = (r: CapacityRule) =>
      r.instanceType === rule.instanceType && r.availabilityZone === rule.availabilityZone && r.market === rule.market;
    const index = this.rules.findIndex(same);
    if (index >= 0) this.rules[index] = rule;
    else this.rules.push(rule);
  }

  setQuotas(quotas: Ec2Quotas): void {
    this.quotas = { ...this.quotas, ...quotas };
  }

  /** The pool's size: the most specific matching rule (a later rule wins a tie), else the default. */
  limit(pool: PoolKey): number {
    let best: CapacityRule | undefined;
    let bestScore = -1;
    for (const rule of this.rules) {
      if (rule.instanceType !== undefined && rule.instanceType !== pool.instanceType) continue;
      if (rule.availabilityZone !== undefined && rule.availabilityZone !== pool.availabilityZone) continue;
      if (rule.market !== undefined && rule.market !== pool.market) continue;
      const score = Number(rule.instanceType !== undefined) * 4 + Number(rule.availabilityZone !== undefined) * 2 +
        Number(rule.market !== undefined);
      if (score >= bestScore) {
        best = rule;
        bestScore = score;
      }
    }
    return best?.available ?? this.defaultAvailable;
  }

  /** Free units of the pool, less `reserved` units a launch plan has already promised elsewhere. */
  available(pool: PoolKey, reserved = 0): number {
    return Math.max(0, this.limit(pool) - (this.held.get(keyOf(pool)) ?? 0) - reserved);
  }

  /** How many more instances of `vcpus` each the quotas allow, counting a plan's own `pending` usage. */
  quotaRoom(market: Market, vcpus: number, pending: MarketUsage = { instances: 0, vcpus: 0 }): QuotaRoom {
    const used = this.usage[market];
    const rooms: QuotaRoom[] = [{ instances: Infinity }];
    if (market === 'spot' && this.quotas.maxSpotInstances !== undefined) {
      rooms.push({
        instances: Math.max(0, this.quotas.maxSpotInstances - used.instances - pending.instances),
        code: 'MaxSpotInstanceCountExceeded',
        limit: this.quotas.maxSpotInstances,
      });
    }
    const vcpuLimit = market === 'spot' ? this.quotas.spotVcpuLimit : this.quotas.onDemandVcpuLimit;
    if (vcpuLimit !== undefined) {
      rooms.push({
        instances: Math.max(0, Math.floor((vcpuLimit - used.vcpus - pending.vcpus) / vcpus)),
        code: 'VcpuLimitExceeded',
        limit: vcpuLimit,
      });
    }
    return rooms.reduce((a, b) => (b.instances < a.instances ? b : a));
  }

  acquire(pool: PoolKey, vcpus: number): void {
    this.held.set(keyOf(pool), (this.held.get(keyOf(pool)) ?? 0) + 1);
    this.usage[pool.market].instances += 1;
    this.usage[pool.market].vcpus += vcpus;
  }

  release(pool: PoolKey, vcpus: number): void {
    this.held.set(keyOf(pool), Math.max(0, (this.held.get(keyOf(pool)) ?? 0) - 1));
    this.usage[pool.market].instances = Math.max(0, this.usage[pool.market].instances - 1);
    this.usage[pool.market].vcpus = Math.max(0, this.usage[pool.market].vcpus - vcpus);
  }

  usageOf(market: Market): MarketUsage {
    return { ...this.usage[market] };
  }
}
