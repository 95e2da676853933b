// Capacity per instance type × availability zone × market, the account's quotas, and seeded fault
// injection: capacity errors, throttling, spot interruptions, boot and shutdown delays, lossy event
// delivery. Each concern draws from its own fork of the seed, so turning one knob does not shift the
// dice of another and a seed replays a scenario.
import { Market } from './types';
import { SeededRandom } from '../common/random';

export interface PoolKey {
  readonly instanceType: string;
  readonly availabilityZone: string;
  readonly market: Market;
}

/** How many instances a pool can hold at once. Unset fields match anything; the most specific rule wins. */
export interface CapacityRule extends Partial<PoolKey> {
  readonly available: number;
}

export interface Ec2Quotas {
  /** Spot instances running at once; beyond it: `MaxSpotInstanceCountExceeded`. @default no limit */
  readonly maxSpotInstances?: number;
  /** vCPUs of running on-demand instances; beyond it: `VcpuLimitExceeded`. @default no limit */
  readonly onDemandVcpuLimit?: number;
}

export interface CapacityOptions {
  /** Capacity of a pool no rule matches. @default Infinity */
  readonly defaultAvailable?: number;
  readonly rules?: readonly CapacityRule[];
  readonly quotas?: Ec2Quotas;
}

export interface MarketUsage {
  readonly instances: number;
  readonly vcpus: number;
}

/** How many more instances the quotas allow, and the quota that binds when that is finite. */
export interface QuotaRoom {
  readonly instances: number;
  readonly code?: 'MaxSpotInstanceCountExceeded' | 'VcpuLimitExceeded';
  readonly limit?: number;
}

const keyOf = (pool: PoolKey) => `${pool.instanceType}|${pool.availabilityZone}|${pool.market}`;
const matches = (rule: Partial<PoolKey>, pool: PoolKey) => (['instanceType', 'availabilityZone', 'market'] as const)
  .every((field) => rule[field] === undefined || rule[field] === pool[field]);

/** An instance holds one unit of its pool from launch until it is terminated (or stopped). */
export class CapacityModel {
  private readonly rules: CapacityRule[];
  private readonly held = new Map<string, number>();
  private readonly usage: Record<Market, { instances: number; vcpus: number }> = {
    'spot': { instances: 0, vcpus: 0 },
    'on-demand': { instances: 0, vcpus: 0 },
  };

  constructor(private readonly options: CapacityOptions = {}) {
    this.rules = [...(options.rules ?? [])];
  }

  /** Adds a rule, replacing an earlier one with the same selector. */
  setCapacity(rule: CapacityRule): void {
    const index = this.rules.findIndex((r) =>
      r.instanceType === rule.instanceType && r.availabilityZone === rule.availabilityZone && r.market === rule.market);
    this.rules.splice(index >= 0 ? index : this.rules.length, index >= 0 ? 1 : 0, rule);
  }

  /** Free units of the pool, less `reserved` units a launch plan has already promised: the most specific rule (a later one wins a tie) minus what is held. */
  available(pool: PoolKey, reserved = 0): number {
    let best: { rule?: CapacityRule; score: number } = { score: -1 };
    for (const rule of this.rules.filter((r) => matches(r, pool))) {
      const score = Number(rule.instanceType !== undefined) * 4 + Number(rule.availabilityZone !== undefined) * 2 + Number(rule.market !== undefined);
      if (score >= best.score) best = { rule, score };
    }
    const limit = best.rule?.available ?? this.options.defaultAvailable ?? Infinity;
    return Math.max(0, limit - (this.held.get(keyOf(pool)) ?? 0) - reserved);
  }

  /** How many more instances of `vcpus` each the quotas allow, counting a plan's own `pending` usage. */
  quotaRoom(market: Market, vcpus: number, pending: MarketUsage): QuotaRoom {
    const used = this.usage[market];
    const quotas = this.options.quotas ?? {};
    const rooms: QuotaRoom[] = [{ instances: Infinity }];
    if (market === 'spot' && quotas.maxSpotInstances !== undefined) {
      const instances = Math.max(0, quotas.maxSpotInstances - used.instances - pending.instances);
      rooms.push({ instances, code: 'MaxSpotInstanceCountExceeded', limit: quotas.maxSpotInstances });
    }
    if (market === 'on-demand' && quotas.onDemandVcpuLimit !== undefined) {
      const instances = Math.max(0, Math.floor((quotas.onDemandVcpuLimit - used.vcpus - pending.vcpus) / vcpus));
      rooms.push({ instances, code: 'VcpuLimitExceeded', limit: quotas.onDemandVcpuLimit });
    }
    return rooms.reduce((a, b) => (b.instances < a.instances ? b : a));
  }

  /** One instance takes (+1) or gives back (-1) a unit of its pool. */
  hold(pool: PoolKey, vcpus: number, delta: 1 | -1): void {
    this.held.set(keyOf(pool), Math.max(0, (this.held.get(keyOf(pool)) ?? 0) + delta));
    this.usage[pool.market].instances = Math.max(0, this.usage[pool.market].instances + delta);
    this.usage[pool.market].vcpus = Math.max(0, this.usage[pool.market].vcpus + delta * vcpus);
  }

  usageOf(market: Market): MarketUsage {
    return { ...this.usage[market] };
  }
}

/** Codes CreateFleet reports per override (inside a 200) for capacity trouble (reference/aws.md 1.7). */
export type CapacityErrorCode =
  'InsufficientInstanceCapacity' | 'UnfulfillableCapacity' | 'MaxSpotInstanceCountExceeded' | 'VcpuLimitExceeded' |
  'InsufficientFreeAddressesInSubnet' | 'Unsupported';

/** Makes launches into matching pools fail with `code`. Unset fields match anything. */
export interface CapacityErrorRule extends Partial<PoolKey> {
  /** @default 'InsufficientInstanceCapacity' */
  readonly code?: CapacityErrorCode;
  /** How many launch attempts it fails before it expires. @default every attempt */
  readonly times?: number;
}

/** A simulated duration in milliseconds, or a `[min, max]` range to draw from. */
export type DelayRange = number | readonly [number, number];

export interface Ec2FaultOptions {
  /** Probability that one pool's launch attempt in a CreateFleet fails with a capacity error. @default 0 */
  readonly capacityErrorRate?: number;
  /** The codes random capacity errors use, drawn uniformly. @default ['InsufficientInstanceCapacity'] */
  readonly capacityErrorCodes?: readonly CapacityErrorCode[];
  /** Explicit capacity errors, checked before the random rate. */
  readonly capacityErrors?: readonly CapacityErrorRule[];
  /** Probability that an API call is refused with `RequestLimitExceeded` (HTTP 503). @default 0 */
  readonly throttleRate?: number;
  /** Actions the throttle rate applies to. @default every action */
  readonly throttleActions?: readonly string[];
  /**
   * Share of throttled CreateFleet calls answered as HTTP 200 carrying one `RequestLimitExceeded`
   * error item and no instances, as EC2 "usually (but not always!)" does (reference/aws.md 1.7).
   * @default 0 - always the 503 envelope
   */
  readonly fleetThrottleInResponseShare?: number;
  /** Expected interruptions per running spot instance per simulated hour (a Poisson rate). @default 0 */
  readonly spotInterruptionsPerHour?: number;
  /** pending → running. @default [10_000, 30_000] */
  readonly bootDelayMs?: DelayRange;
  /** shutting-down → terminated, and stopping → stopped. @default [5_000, 15_000] */
  readonly shutdownDelayMs?: DelayRange;
  /** Probability that an EventBridge event is never delivered (EC2 events are best effort). @default 0 */
  readonly eventDropRate?: number;
  /** For this long after launch DescribeInstances / TerminateInstances do not know the instance id
   * yet (EC2 is eventually consistent). @default 0 */
  readonly launchVisibilityDelayMs?: number;
  /**
   * Instance types that exist but that a zone does not offer (without `availabilityZone`, no zone
   * does). CreateFleet answers such a pool with `InvalidFleetConfiguration`, as EC2 does.
   * @default every type offered in every zone
   */
  readonly unofferedInstanceTypes?: readonly { readonly instanceType: string; readonly availabilityZone?: string }[];
}

export class Ec2Faults {
  private options: Ec2FaultOptions = {};
  private readonly rules: { rule: CapacityErrorRule; remaining: number }[] = [];
  private readonly forced: { action?: string; remaining: number }[] = [];
  private readonly dice: Record<'throttle' | 'capacity' | 'delays' | 'interruptions' | 'events', SeededRandom>;

  constructor(random: SeededRandom, options: Ec2FaultOptions = {}) {
    const fork = (label: string) => random.fork(label);
    this.dice = { throttle: fork('throttle'), capacity: fork('capacity'), delays: fork('delays'), interruptions: fork('interruptions'), events: fork('events') };
    this.update(options);
  }

  /** Changes knobs while a scenario runs; explicit rules and forced throttles are kept. */
  update(options: Partial<Ec2FaultOptions>): void {
    this.options = { ...this.options, ...options };
    for (const rule of options.capacityErrors ?? []) this.addCapacityError(rule);
  }

  addCapacityError(rule: CapacityErrorRule): void {
    this.rules.push({ rule, remaining: rule.times ?? Infinity });
  }

  /** Throttles the next `count` calls (of `action`, or of any action). Deterministic, for tests. */
  throttleNext(count: number, action?: string): void {
    this.forced.push({ action, remaining: count });
  }

  throttle(action: string): 'pass' | 'envelope' | 'in-response' {
    const forced = this.forced.find((f) => f.remaining > 0 && (f.action === undefined || f.action === action));
    if (forced) forced.remaining -= 1;
    const applies = this.options.throttleActions === undefined || this.options.throttleActions.includes(action);
    if (!forced && !(applies && this.dice.throttle.chance(this.options.throttleRate ?? 0))) return 'pass';
    return action === 'CreateFleet' && this.dice.throttle.chance(this.options.fleetThrottleInResponseShare ?? 0) ? 'in-response' : 'envelope';
  }

  /** A capacity error code for one launch attempt into `pool`, or undefined when it may proceed. */
  capacityFault(pool: PoolKey): CapacityErrorCode | undefined {
    const entry = this.rules.find((e) => e.remaining > 0 && matches(e.rule, pool));
    if (entry) {
      entry.remaining -= 1;
      return entry.rule.code ?? 'InsufficientInstanceCapacity';
    }
    if (!this.dice.capacity.chance(this.options.capacityErrorRate ?? 0)) return undefined;
    return this.dice.capacity.pick(this.options.capacityErrorCodes ?? ['InsufficientInstanceCapacity']);
  }

  bootDelay(): number {
    return this.dice.delays.between(this.options.bootDelayMs ?? [10_000, 30_000]);
  }

  shutdownDelay(): number {
    return this.dice.delays.between(this.options.shutdownDelayMs ?? [5_000, 15_000]);
  }

  /** Simulated ms until a fresh spot instance is reclaimed, or undefined if it never is. */
  interruptionDelay(): number | undefined {
    const perHour = this.options.spotInterruptionsPerHour ?? 0;
    // Exponential waiting time of a Poisson process with the given rate.
    return perHour > 0 ? (-Math.log(1 - this.dice.interruptions.next()) / perHour) * 3_600_000 : undefined;
  }

  eventDropped(): boolean {
    return this.dice.events.chance(this.options.eventDropRate ?? 0);
  }

  /** Whether `availabilityZone` offers `instanceType` (DescribeInstanceTypeOfferings' answer). */
  offered(instanceType: string, availabilityZone: string): boolean {
    return !(this.options.unofferedInstanceTypes ?? []).some((u) =>
      u.instanceType === instanceType && (u.availabilityZone === undefined || u.availabilityZone === availabilityZone));
  }

  get launchVisibilityDelayMs(): number {
    return this.options.launchVisibilityDelayMs ?? 0;
  }
}
