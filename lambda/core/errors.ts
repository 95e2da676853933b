// Named errors of the domain and its ports. Callers decide by class (`instanceof`), never by
// message text; messages say what was expected, what was found and what to do.

/** A runner config document is unusable. Names the SSM parameter and what is wrong with it. */
export class ConfigError extends Error {
  public readonly name = 'ConfigError';

  constructor(message: string, readonly parameterName?: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/** A secret (webhook secret, App private key) has not been set yet: the construct cannot write it, it must not be in the template. */
export class SecretNotSetError extends Error {
  public readonly name = 'SecretNotSetError';

  constructor(readonly parameterName: string, options?: ErrorOptions, what = 'the webhook secret') {
    super(`${what} is not set: create the GitHub App with the stack's setup page (its SetupUrl output), or write the SSM parameter ${parameterName}`, options);
  }
}

/** An SQS pool message does not have the shape of {@link PoolMessage} version 1. */
export class PoolMessageError extends Error {
  public readonly name = 'PoolMessageError';

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/** A runner without a scope (a warm pool instance no pool has claimed) was asked where it registers. */
export class UnscopedRunnerError extends Error {
  public readonly name = 'UnscopedRunnerError';

  constructor(readonly instanceId: string, readonly poolId: string) {
    super(`runner ${instanceId} of ${poolId} has no scope: a warm pool instance registers nowhere until a pool claims it`);
  }
}
