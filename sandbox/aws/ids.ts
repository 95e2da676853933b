// What the AWS stand-ins share: their account, Region, clock and seed, and identifiers in the
// formats AWS uses (UUIDs, API ids, request ids), drawn from a seeded source so a scenario replays
// with the same message ids, request ids and event ids.
import { SeededRandom } from '../common/random';
import { ScaledClock, SimClock } from '../common/time';

const HEX = '0123456789abcdef';
const LOWER_ALNUM = 'abcdefghijklmnopqrstuvwxyz0123456789';

export interface AwsSimulatorOptions {
  /** @default a real-time ScaledClock */
  readonly clock?: SimClock;
  /** @default 1 */
  readonly seed?: number;
  /** @default 'us-east-1' */
  readonly region?: string;
  /** @default '123456789012' */
  readonly accountId?: string;
}

/** The options with their defaults, and the seeded source. */
export function simulatorSettings(options: AwsSimulatorOptions): { clock: SimClock; region: string; accountId: string; random: SeededRandom } {
  const { clock = new ScaledClock(1), region = 'us-east-1', accountId = '123456789012', seed = 1 } = options;
  return { clock, region, accountId, random: new SeededRandom(seed) };
}

export class AwsIds {
  constructor(private readonly random: SeededRandom) {}

  /** A version 4 UUID. */
  uuid(): string {
    const h = this.hex(32);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${HEX[8 + this.random.integer(0, 3)]}${h.slice(17, 20)}-${h.slice(20)}`;
  }

  hex(length: number): string {
    return this.pick(HEX, length);
  }

  /** Lower-case letters and digits, as in API Gateway API ids (`r3pmxmplak`). */
  lowerAlphanumeric(length: number): string {
    return this.pick(LOWER_ALNUM, length);
  }

  private pick(alphabet: string, length: number): string {
    return Array.from({ length }, () => alphabet[this.random.integer(0, alphabet.length - 1)]).join('');
  }
}
