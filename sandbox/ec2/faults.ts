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
 * A stopped instance's start, StartInstances to its OS running the user data. The sandbox runs the bootstrap as soon as the instance is
 * `running`, so the range stands for EC2's pending phase and the OS boot both, as the boot delay does for a launch. No AWS page gives a
 * figure; published measurements of a start: brevdev on m7i.large, pending → running 16.4 s then boot → SSH 3.0 s, 19.4 s in all against
 * 21.0 s for a launch (https://github.com/brevdev/ec2-coldboot-research, docs/start-stopped-results.md); WarpBuild's standby disks about
 * 15 s (https://docs.warpbuild.com/byoc/standby-disks); RunsOn's stopped pool under 15 s of a job's whole queue time
 * (https://runs-on.com/runners/pools); a GitHub runner autoscaler's warm pool 20-30 s
 * (https://github.com/frgrisk/github-runner-autoscaler/pull/14). Modelled as 10-20 s.
 */
export const START_DELAY_MS: readonly [number, number] = [10_000, 20_000];
/**
 * A hibernated instance's resume: EC2 reloads the RAM from the root volume and the processes resume without a boot
 * (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/Hibernate.html). brevdev measured pending → running 16.3 s then resume → SSH
 * 2.4 s, 0.7 s less than a start (docs/hibernate-results.md of the repository above): the start's range less 0.7 s.
 */
export const RESUME_DELAY_MS: readonly [number, number] = [9_300, 19_300];

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
