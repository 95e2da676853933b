// Errors of the GitHub adapter. Callers decide by class, never by message text.

/** The GitHub App is not installed where a job's runners must register. */
export class GitHubAppNotInstalledError extends Error {
  public readonly name = 'GitHubAppNotInstalledError';

  constructor(readonly scope: string, options?: ErrorOptions) {
    super(`the GitHub App is not installed on ${scope}: install it there, or route its jobs to another runner system`, options);
  }
}

/** A rate limit asks for a longer wait than one call may sit out; retry after `retryAfterSeconds`. */
export class GitHubRateLimitedError extends Error {
  public readonly name = 'GitHubRateLimitedError';

  constructor(readonly kind: string, readonly retryAfterSeconds: number, request: string, options?: ErrorOptions) {
    super(`GitHub ${kind} rate limit on ${request}: retry after ${retryAfterSeconds} s`, options);
  }
}
