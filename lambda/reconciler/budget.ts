// A cap on GitHub calls per reconciler run. Every minute, with no GitHub rate limit on GHES by
// default and a secondary limit everywhere, the sweep must never be the thing that exhausts them.

export class GitHubCallBudget {
  private used = 0;

  constructor(readonly limit: number) {}

  /** Reserves `calls`; false (and nothing reserved) when they do not fit. */
  take(calls = 1): boolean {
    if (this.used + calls > this.limit) return false;
    this.used += calls;
    return true;
  }

  /** Gives back a reservation that was not used. */
  refund(calls: number): void {
    this.used = Math.max(0, this.used - calls);
  }

  /** Stops every further call of the run (GitHub asked us to wait). */
  exhaust(): void {
    this.used = this.limit;
  }

  get spent(): number {
    return this.used;
  }

  get remaining(): number {
    return this.limit - this.used;
  }
}
