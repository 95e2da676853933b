// Errors of the reconciler. Callers decide by class, never by message text.

/** A pool id in the index that is not `<org>#<config>` or `<owner>/<repo>#<config>`: an item written by something else. */
export class PoolIdError extends Error {
  public readonly name = 'PoolIdError';

  constructor(readonly poolId: string) {
    super(`pool id ${JSON.stringify(poolId)} is not <org>#<config> or <owner>/<repo>#<config>; an item in the pool index was not written by this control plane`);
  }
}
