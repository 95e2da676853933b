// Seeded randomness for the simulators: the same seed replays the same faults, delays and choices.
/* eslint-disable no-bitwise -- a PRNG and a string hash are bit arithmetic by nature */

/** A reproducible pseudo-random source (mulberry32). Not for cryptography. */
export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** True with the given probability (0 never, 1 always). */
  chance(probability: number): boolean {
    return probability > 0 && this.next() < probability;
  }

  /** An integer in [min, max], both included. */
  integer(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** A value from a `[min, max]` range, or the value itself when it is a single number. */
  between(range: readonly [number, number] | number): number {
    return typeof range === 'number' ? range : this.integer(range[0], range[1]);
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('SeededRandom.pick needs at least one item');
    return items[Math.floor(this.next() * items.length)];
  }

  /** A child source that depends only on this seed and the label: draws added in one simulator shift no other's. */
  fork(label: string): SeededRandom {
    let h = this.state ^ 0x9e3779b9;
    for (const ch of label) h = Math.imul(h ^ ch.charCodeAt(0), 0x85ebca6b) >>> 0;
    return new SeededRandom(h);
  }
}
