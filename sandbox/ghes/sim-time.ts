// Time inside the simulator runs on the (scaled) SimClock. At the API's edge, JWT claims are judged on the clock clients mint with, and
// `Date` and `retry-after` are wall-clock values, as Octokit's skew repair and throttling read them.
import { SimClock } from '../common/time';

/** Formats epoch milliseconds as GitHub does: ISO 8601, second precision, `Z`. */
export function isoSeconds(epochMs: number): string {
  return new Date(Math.floor(epochMs / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

export class SimTime {
  private readonly pending = new Set<() => void>();

  /** @param jwtNow the clock clients mint App JWTs with (plain Octokit: `Date.now`), against which claims are judged */
  constructor(readonly clock: SimClock, readonly jwtNow: () => number) {}

  now(): number {
    return this.clock.now();
  }

  /** Runs `fn` after `simulatedMs`; `cancelAll` (on stop) cancels every timer still pending. */
  after(simulatedMs: number, fn: () => void): () => void {
    const cancel = (): void => {
      this.pending.delete(cancel);
      cancelTimer();
    };
    const cancelTimer = this.clock.after(simulatedMs, () => {
      this.pending.delete(cancel);
      fn();
    });
    this.pending.add(cancel);
    return cancel;
  }

  /** Waits `simulatedMs`; stays pending after `cancelAll`, as the server is gone then anyway. */
  sleep(simulatedMs: number): Promise<void> {
    return new Promise((resolve) => this.after(simulatedMs, resolve));
  }

  cancelAll(): void {
    for (const cancel of [...this.pending]) cancel();
  }

  /** A simulated duration in real seconds, rounded up and at least 1 (a `retry-after` of 0 means 60 to Octokit). */
  toClientSeconds(simulatedMs: number): number {
    return Math.max(1, Math.ceil((simulatedMs * this.clock.timeScale) / 1000));
  }
}
