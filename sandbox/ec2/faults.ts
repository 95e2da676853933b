// Seeded fault injection for the EC2 simulator: capacity errors, throttling, spot interruptions,
// boot and shutdown delays, lossy event delivery. Each concern draws from its own fork of the seed,
// so turning one knob does not shift the dice of another and a seed replays a scenario.
import { PoolKey } from './capacity';
import { Market } from './types';
import { SeededRandom } from '../common/random';

/** Codes CreateFleet reports per override (inside a 200) for capacity trouble (reference/aws.md 1.7). */
export type CapacityErrorCode =
  | 'InsufficientInstanceCapacity'
  | 'UnfulfillableCapacity'
  | 'MaxSpotInstanceCountExceeded'
  | 'VcpuLimitExceeded'
  | 'InsufficientFreeAddressesInSubnet'
  | 'Unsupported'
  | 'RequestLimitExceeded';

/** Makes launches into matching pools fail with `code`. Unset fields match anything. */
export interface CapacityErrorRule {
  readonly instanceType?: string;
  readonly availabilityZone?: string;
  readonly market?: Market;
  /** @default 'InsufficientInstanceCapacity' */
  readonly code?: CapacityErrorCode;
  /** @default the message EC2 uses for the code */
  readonly message?: string;
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
  /** Probability that an EventBridge event is delivered twice. @default 0 */
  readonly eventDuplicateRate?: number;
  /** For this long after launch DescribeInstances / TerminateInstances / CreateTags do not know the
   * instance id yet (EC2 is eventually consistent). @default 0 */
  readonly launchVisibilityDelayMs?: number;
  /**
   * Instance types that exist but that a zone does not offer (a family not yet in the region, a
   * zone without it: us-east-1e has no c5.large). CreateFleet answers such a pool with
   * `InvalidFleetConfiguration`, as EC2 does. @default every type offered in every zone
   */
  readonly unofferedInstanceTypes?: readonly UnofferedInstanceType[];
}

/** A type a zone does not offer; without `availabilityZone`, no zone offers it. */
export interface UnofferedInstanceType {
  readonly instanceType: string;
  readonly availabilityZone?: string;
}

export type ThrottleVerdict = 'pass' | 'envelope' | 'in-response';
export type EventFate = 'deliver' | 'drop' | 'duplicate';

export interface CapacityFault {
  readonly code: CapacityErrorCode;
  readonly message?: string;
}

export class Ec2Faults {
  private options: Ec2FaultOptions;
  private readonly rules: { rule: CapacityErrorRule; remaining: number }[] = [];
  private readonly forced: { action?: string; remaining: number }[] = [];
  private readonly throttleDice: SeededRandom;
  private readonly capacityDice: SeededRandom;
  private readonly delayDice: SeededRandom;
  private readonly interruptionDice: SeededRandom;
  private readonly eventDice: SeededRandom;

  constructor(random: SeededRandom, options: Ec2FaultOptions = {}) {
    this.throttleDice = random.fork('throttle');
    this.capacityDice = random.fork('capacity');
    this.delayDice = random.fork('delays');
    this.interruptionDice = random.fork('interruptions');
    this.eventDice = random.fork('events');
    this.options = options;
    for (const rule of options.capacityErrors ?? []) this.addCapacityError(rule);
  }

  get current(): Ec2FaultOptions {
    return this.options;
  }

  /** Changes knobs while a scenario runs; explicit rules and forced throttles are kept. */
  update(options: Partial<Ec2FaultOptions>): void {
    this.options = { ...this.options, ...options };
    for (const rule of options.capacityErrors ?? []) this.addCapacityError(rule);
  }

  addCapacityError(rule: CapacityErrorRule): void {
    this.rules.push({ rule, remaining: rule.times ?? Infinity });
  }

  clearCapacityErrors(): void {
    this.rules.length = 0;
  }

  /** Throttles the next `count` calls (of `action`, or of any action). Deterministic, for tests. */
  throttleNext(count: number, action?: string): void {
    this.forced.push({ action, remaining: count });
  }

  throttle(action: string): ThrottleVerdict {
    const forced = this.forced.find((f) => f.remaining > 0 && (f.action === undefined || f.action === action));
    let throttled = false;
    if (forced) {
      forced.remaining -= 1;
      throttled = true;
    } else {
      const applies = this.options.throttleActions === undefined || this.options.throttleActions.includes(action);
      throttled = applies && this.throttleDice.chance(this.options.throttleRate ?? 0);
    }
    if (!throttled) return 'pass';
    if (action === 'CreateFleet' && this.throttleDice.chance(this.options.fleetThrottleInResponseShare ?? 0)) {
      return 'in-response';
    }
    return 'envelope';
  }

  /** A capacity error for one launch attempt into `pool`, or undefined when it may proceed. */
  capacityFault(pool: PoolKey): CapacityFault | undefined {
    for (const entry of this.rules) {
      const { rule } = entry;
      if (entry.remaining <= 0) continue;
      if (rule.instanceType !== undefined && rule.instanceType !== pool.instanceType) continue;
      if (rule.availabilityZone !== undefined && rule.availabilityZone !== pool.availabilityZone) continue;
      if (rule.market !== undefined && rule.market !== pool.market) continue;
      entry.remaining -= 1;
      return { code: rule.code ?? 'InsufficientInstanceCapacity', message: rule.message };
    }
    if (this.capacityDice.chance(this.options.capacityErrorRate ?? 0)) {
      return { code: this.capacityDice.pick(this.options.capacityErrorCodes ?? ['InsufficientInstanceCapacity']) };
    }
    return undefined;
  }

  bootDelay(): number {
    return this.draw(this.options.bootDelayMs ?? [10_000, 30_000]);
  }

  shutdownDelay(): number {
    return this.draw(this.options.shutdownDelayMs ?? [5_000, 15_000]);
  }

  /** Simulated ms until a fresh spot instance is reclaimed, or undefined if it never is. */
  interruptionDelay(): number | undefined {
    const perHour = this.options.spotInterruptionsPerHour ?? 0;
    if (!(perHour > 0)) return undefined;
    // Exponential waiting time of a Poisson process with the given rate.
    return (-Math.log(1 - this.interruptionDice.next()) / perHour) * 3_600_000;
  }

  eventFate(): EventFate {
    if (this.eventDice.chance(this.options.eventDropRate ?? 0)) return 'drop';
    if (this.eventDice.chance(this.options.eventDuplicateRate ?? 0)) return 'duplicate';
    return 'deliver';
  }

  /** Whether `availabilityZone` offers `instanceType` (DescribeInstanceTypeOfferings' answer). */
  offered(instanceType: string, availabilityZone: string): boolean {
    return !(this.options.unofferedInstanceTypes ?? []).some((u) =>
      u.instanceType === instanceType && (u.availabilityZone === undefined || u.availabilityZone === availabilityZone));
  }

  get launchVisibilityDelayMs(): number {
    return this.options.launchVisibilityDelayMs ?? 0;
  }

  private draw(range: DelayRange): number {
    return typeof range === 'number' ? range : this.delayDice.between([range[0], range[1]]);
  }
}
