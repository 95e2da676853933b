// Simulated time: every simulated delay is multiplied by one factor, so a scenario of simulated
// minutes runs in seconds. Wall-clock time divided by the factor gives simulated time back.

export interface SimClock {
  /** The factor applied to every simulated delay: 1 is real time, 0.01 makes a minute 600 ms. */
  readonly timeScale: number;
  /** Simulated epoch milliseconds. */
  now(): number;
  /** Waits `simulatedMs` of simulated time. */
  sleep(simulatedMs: number): Promise<void>;
  /** Runs `fn` after `simulatedMs` of simulated time; the returned function cancels it. */
  after(simulatedMs: number, fn: () => void): () => void;
}

/** A clock that starts at the wall clock's now and runs `1 / timeScale` times faster. */
export class ScaledClock implements SimClock {
  private readonly wallStart = Date.now();

  constructor(readonly timeScale = 1) {
    if (!(timeScale > 0) || !Number.isFinite(timeScale)) throw new Error(`timeScale must be a positive number, got ${timeScale}`);
  }

  now(): number {
    return this.wallStart + (Date.now() - this.wallStart) / this.timeScale;
  }

  sleep(simulatedMs: number): Promise<void> {
    return new Promise((resolve) => this.after(simulatedMs, resolve));
  }

  after(simulatedMs: number, fn: () => void): () => void {
    // Node's timers may fire a millisecond before Date.now() says the wait is over (a simulated second early, scaled): re-arm until due.
    const due = this.now() + Math.max(0, simulatedMs);
    let timer: NodeJS.Timeout;
    const arm = (wallMs: number) => {
      timer = setTimeout(() => {
        const left = due - this.now();
        if (left > 0) arm(Math.max(1, Math.ceil(left * this.timeScale)));
        else fn();
      }, wallMs);
      timer.unref?.();
    };
    arm(Math.max(0, simulatedMs * this.timeScale));
    return () => clearTimeout(timer);
  }
}
