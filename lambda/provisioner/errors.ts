// Errors of the provisioner. The handler decides by class whether a message is retried.

/** Another reconcile of the same pool saved first; reconciling again from fresh state is safe. */
export class ConcurrentReconcileError extends Error {
  public readonly name = 'ConcurrentReconcileError';

  constructor(readonly poolId: string) {
    super(`pool ${poolId} changed while it was reconciled; it is reconciled again`);
  }
}

/** Demand the pool could not meet now (no capacity, a quota, throttling); retried with backoff. */
export class DemandNotMetError extends Error {
  public readonly name = 'DemandNotMetError';

  constructor(readonly poolId: string, readonly shortfall: number, readonly reasons: readonly string[]) {
    super(`pool ${poolId}: ${shortfall} instance(s) could not be launched (${reasons.join(', ') || 'unknown'}); retrying with backoff`);
  }
}
