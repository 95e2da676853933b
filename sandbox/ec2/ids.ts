// Resource ids in EC2's formats, drawn from a seeded source so a scenario replays with the same ids.
import { SeededRandom } from '../common/random';

const HEX = '0123456789abcdef';

export class IdGenerator {
  private readonly used = new Set<string>();

  constructor(private readonly random: SeededRandom) {}

  /** `i-` + 17 hex digits. */
  instanceId(): string {
    return this.unique(() => `i-0${this.hex(16)}`);
  }

  /** `fleet-` + a UUID. */
  fleetId(): string {
    return this.unique(() => `fleet-${this.uuid()}`);
  }

  reservationId(): string {
    return this.unique(() => `r-0${this.hex(16)}`);
  }

  launchTemplateId(): string {
    return this.unique(() => `lt-0${this.hex(16)}`);
  }

  spotInstanceRequestId(): string {
    return this.unique(() => `sir-${this.hex(8)}`);
  }

  /** A version 4 UUID (request ids, event ids). */
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

  private unique(make: () => string): string {
    for (;;) {
      const id = make();
      if (!this.used.has(id)) {
        this.used.add(id);
        return id;
      }
    }
  }
}
