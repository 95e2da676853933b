// What the AWS stand-ins share: their account, Region, clock and seed, and identifiers in the formats AWS uses (UUIDs, API ids, request ids), drawn
// from a seeded source so a scenario replays with the same message ids, request ids and event ids.
import { SeededRandom } from '../common/random';
import { ScaledClock, SimClock } from '../common/time';

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

/** What a stand-in works with: the options with their defaults, and ids from the seed's `label` stream. */
export function awsContext(options: AwsSimulatorOptions, label: string) {
  const { clock = new ScaledClock(1) as SimClock, region = 'us-east-1', accountId = '123456789012', seed = 1 } = options;
  return { clock, region, accountId, ids: new AwsIds(new SeededRandom(seed).fork(label)) };
}

export type AwsContext = ReturnType<typeof awsContext>;

export class AwsIds {
  constructor(private readonly random: SeededRandom) {}

  /** A version 4 UUID. */
  uuid(): string {
    const h = this.hex(32);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${this.random.pick([...'89ab'])}${h.slice(17, 20)}-${h.slice(20)}`;
  }

  hex(length: number): string {
    return this.pick('0123456789abcdef', length);
  }

  /** Lower-case letters and digits, as in API Gateway API ids (`r3pmxmplak`). */
  lowerAlphanumeric(length: number): string {
    return this.pick('abcdefghijklmnopqrstuvwxyz0123456789', length);
  }

  private pick(alphabet: string, length: number): string {
    return Array.from({ length }, () => this.random.pick([...alphabet])).join('');
  }
}
