// Time inside the GHES simulator. Everything the simulator does runs on the SimClock (scaled). Two
// other clocks meet it at the API's edge:
// - the clock the client mints App JWTs with: Date.now() for plain Octokit, the SimClock when the
//   control plane's adapter is given it (the sandbox) — JWT claims are judged on that one;
// - the wall clock Octokit's internals read: auth-app's skew repair compares the `Date` header with
//   Date.now(), plugin-throttling sleeps `retry-after` real seconds. So those values are always
//   expressed on the wall clock, converted from simulated time.
import { SimClock } from '../common/time';

/** Formats epoch milliseconds as GitHub does: ISO 8601, second precision, `Z`. */
export function isoSeconds(epochMs: number): string {
  return new Date(Math.floor(epochMs / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

export class SimTime {
  private readonly pending = new Set<() => void>();

  /** @param jwtNow the clock clients mint App JWTs with (plain Octokit: `Date.now`), against which claims are judged */
  constructor(readonly clock: SimClock, readonly jwtNow: () => number) {}

  /** Simulated epoch milliseconds. */
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
