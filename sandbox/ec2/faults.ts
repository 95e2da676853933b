// Capacity per instance type × zone × market, and seeded faults (capacity errors, throttling, spot interruptions, delays, unoffered
// types), each from its own fork of the seed so one knob does not shift another's dice.
import { Market } from './types';
import { SeededRandom } from '../common/random';

export type PoolKey = Readonly<{ instanceType: string; availabilityZone: string; market: Market }>;

/** How many instances the pools it matches can hold at once. Unset fields match anything; the last matching rule wins. */
export interface CapacityRule extends Partial<PoolKey> {
  readonly available: number;
}

export const keyOf = (pool: PoolKey) => `${pool.instanceType}|${pool.availabilityZone}|${pool.market}`;
const matches = (rule: Partial<PoolKey>, pool: PoolKey) => (['instanceType', 'availabilityZone', 'market'] as const)
  .every((field) => rule[field] === undefined || rule[field] === pool[field]);

/** An instance holds one unit of its pool from launch until it is terminated (or stopped). */
export class CapacityModel {
  private readonly held = new Map<string, number>();

  constructor(private readonly rules: CapacityRule[] = []) {}

  /** Adds a rule; it overrides earlier ones for the pools it matches. */
  setCapacity(rule: CapacityRule): void {
    this.rules.push(rule);
  }

  /** Free units of the pool, less `reserved` units a launch plan has already promised. */
  available(pool: PoolKey, reserved = 0): number {
    const limit = [...this.rules].reverse().find((r) => matches(r, pool))?.available ?? Infinity;
    return Math.max(0, limit - (this.held.get(keyOf(pool)) ?? 0) - reserved);
  }

  /** One instance takes (+1) or gives back (-1) a unit of its pool. */
  hold(pool: PoolKey, delta: 1 | -1): void {
    this.held.set(keyOf(pool), Math.max(0, (this.held.get(keyOf(pool)) ?? 0) + delta));
  }
}

/** Codes CreateFleet reports per override (inside a 200) for capacity trouble (reference/aws.md 1.7). */
export type CapacityErrorCode = 'InsufficientInstanceCapacity' | 'UnfulfillableCapacity' | 'MaxSpotInstanceCountExceeded';

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
  /** Probability that one pool's launch attempt in a CreateFleet fails with InsufficientInstanceCapacity. @default 0 */
  readonly capacityErrorRate?: number;
  /** Explicit capacity errors, checked before the random rate. */
  readonly capacityErrors?: readonly CapacityErrorRule[];
  /** Probability that an API call is refused with `RequestLimitExceeded` (HTTP 503). @default 0 */
  readonly throttleRate?: number;
  /** Expected interruptions per running spot instance per simulated hour (a Poisson rate). @default 0 */
  readonly spotInterruptionsPerHour?: number;
  /** pending → running. @default [10_000, 30_000] */
  readonly bootDelayMs?: DelayRange;
  /** shutting-down → terminated, and stopping → stopped. @default [5_000, 15_000] */
  readonly shutdownDelayMs?: DelayRange;
  /** pending → running after StartInstances of a stopped instance. @default START_DELAY_MS */
  readonly startDelayMs?: DelayRange;
  /** pending → running after StartInstances of a hibernated instance. @default RESUME_DELAY_MS */
  readonly resumeDelayMs?: DelayRange;
  /** Probability that StartInstances fails with InsufficientInstanceCapacity (for the first instance drawn to lack capacity, the whole call). @default 0 */
  readonly startCapacityErrorRate?: number;
  /** Types that exist but a zone does not offer (without `availabilityZone`, no zone does): CreateFleet answers `InvalidFleetConfiguration` there. */
  readonly unofferedInstanceTypes?: readonly { readonly instanceType: string; readonly availabilityZone?: string }[];
}

/**
 * A stopped instance's pending phase on StartInstances. No AWS page gives a figure; published measurements of stopped-instance pools put
 * the whole start, OS boot included, at about 15 s (WarpBuild standby disks, https://docs.warpbuild.com/byoc/standby-disks) to 20-30 s
 * (a GitHub runner autoscaler's warm pool, https://github.com/frgrisk/github-runner-autoscaler/pull/14, down from ~90 s cold). The EC2
 * part is modelled as 5-15 s; the OS boot that follows is the bootstrap's own time [I].
 */
export const START_DELAY_MS: readonly [number, number] = [5_000, 15_000];
/**
 * A hibernated instance's pending phase: EC2 reloads the RAM from the root volume and the processes resume without a boot
 * (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/Hibernate.html); no published figure for the EC2 part was found, so it is modelled
 * as the start's range less a few seconds [I].
 */
export const RESUME_DELAY_MS: readonly [number, number] = [3_000, 10_000];

export class Ec2Faults {
  private readonly rules: { rule: CapacityErrorRule; remaining: number }[];
  private readonly forced: { action?: string; remaining: number }[] = [];
  private readonly dice: Record<'throttle' | 'capacity' | 'delays' | 'interruptions' | 'startCapacity', SeededRandom>;

  constructor(random: SeededRandom, private readonly options: Ec2FaultOptions = {}) {
    const fork = (label: string) => random.fork(label);
    this.dice = { throttle: fork('throttle'), capacity: fork('capacity'), delays: fork('delays'), interruptions: fork('interruptions'), startCapacity: fork('start-capacity') };
    this.rules = (options.capacityErrors ?? []).map((rule) => ({ rule, remaining: rule.times ?? Infinity }));
  }

  /** Throttles the next `count` calls (of `action`, or of any action). Deterministic, for tests. */
  throttleNext(count: number, action?: string): void {
    this.forced.push({ action, remaining: count });
  }

  throttled(action: string): boolean {
    const forced = this.forced.find((f) => f.remaining > 0 && (f.action === undefined || f.action === action));
    if (forced) forced.remaining -= 1;
    return forced !== undefined || this.dice.throttle.chance(this.options.throttleRate ?? 0);
  }

  /** A capacity error code for one launch attempt into `pool`, or undefined when it may proceed. */
  capacityFault(pool: PoolKey): CapacityErrorCode | undefined {
    const entry = this.rules.find((e) => e.remaining > 0 && matches(e.rule, pool));
    if (entry) {
      entry.remaining -= 1;
      return entry.rule.code ?? 'InsufficientInstanceCapacity';
    }
    return this.dice.capacity.chance(this.options.capacityErrorRate ?? 0) ? 'InsufficientInstanceCapacity' : undefined;
  }

  /** Whether StartInstances finds no capacity for one instance (the seeded `startCapacityErrorRate`). */
  startCapacityFault(): boolean {
    return this.dice.startCapacity.chance(this.options.startCapacityErrorRate ?? 0);
  }

  delay(kind: 'boot' | 'shutdown' | 'start' | 'resume'): number {
    const ranges = {
      boot: this.options.bootDelayMs ?? [10_000, 30_000],
      shutdown: this.options.shutdownDelayMs ?? [5_000, 15_000],
      start: this.options.startDelayMs ?? START_DELAY_MS,
      resume: this.options.resumeDelayMs ?? RESUME_DELAY_MS,
    } as const;
    return this.dice.delays.between(ranges[kind]);
  }

  /** Simulated ms until a fresh spot instance is reclaimed, or undefined if it never is. */
  interruptionDelay(): number | undefined {
    const perHour = this.options.spotInterruptionsPerHour ?? 0;
    // Exponential waiting time of a Poisson process with the given rate.
    return perHour > 0 ? (-Math.log(1 - this.dice.interruptions.next()) / perHour) * 3_600_000 : undefined;
  }

  /** Whether `availabilityZone` offers `instanceType` (DescribeInstanceTypeOfferings' answer). */
  offered(instanceType: string, availabilityZone: string): boolean {
    return !(this.options.unofferedInstanceTypes ?? []).some((u) =>
      u.instanceType === instanceType && (u.availabilityZone === undefined || u.availabilityZone === availabilityZone));
  }
}
