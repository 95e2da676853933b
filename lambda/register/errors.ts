// Errors of the register function. Each becomes one answer to the booting instance; callers
// decide by class, never by message text.

/**
 * The caller is not an instance-profile session of the runner role (403). The bootstrap retries
 * a 403 (AWS_IAM auth answers it too, e.g. while IAM propagates) until its config timeout, then
 * powers off.
 */
export class CallerNotAllowedError extends Error {
  public readonly name = 'CallerNotAllowedError';

  /** @param caller the principal ARN the endpoint named, if any, for the log */
  constructor(message: string, readonly caller?: string) {
    super(message);
  }
}

/**
 * A body that is neither an ask for a config (`{}`, or none) nor a problem report the endpoint knows
 * (400): nothing is changed. The bootstrap never sends one.
 */
export class BadRegisterRequestError extends Error {
  public readonly name = 'BadRegisterRequestError';
}

/**
 * The runner item changed under every one of several decisions in a row (each conditional write
 * lost to another writer). Answered 503: the instance asks again and the next call decides afresh.
 */
export class RunnerContendedError extends Error {
  public readonly name = 'RunnerContendedError';

  constructor(readonly instanceId: string, readonly attempts: number) {
    super(`runner ${instanceId} changed under ${attempts} decisions in a row; ask again`);
  }
}
