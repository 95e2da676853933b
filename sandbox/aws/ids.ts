// Identifiers in the formats AWS uses (UUIDs, API ids, request ids), drawn from a seeded source so
// a scenario replays with the same message ids, request ids and event ids.
import { SeededRandom } from '../common/random';

const HEX = '0123456789abcdef';
const LOWER_ALNUM = 'abcdefghijklmnopqrstuvwxyz0123456789';

export class AwsIds {
  constructor(private readonly random: SeededRandom) {}

  /** A version 4 UUID. */
  uuid(): string {
    const h = this.hex(32).split('');
    h[12] = '4';
    h[16] = HEX[8 + this.random.integer(0, 3)];
    const s = h.join('');
    return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
  }

  hex(length: number): string {
    let out = '';
    for (let i = 0; i < length; i++) out += HEX[this.random.integer(0, 15)];
    return out;
  }

  /** Lower-case letters and digits, as in API Gateway API ids (`r3pmxmplak`). */
  lowerAlphanumeric(length: number): string {
    let out = '';
    for (let i = 0; i < length; i++) out += LOWER_ALNUM[this.random.integer(0, LOWER_ALNUM.length - 1)];
    return out;
  }
}
