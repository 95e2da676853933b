// Errors of the GitHub adapter. Callers decide by class, never by message text.

/** The GitHub App is not installed where a job's runners must register. */
export class GitHubAppNotInstalledError extends Error {
  public readonly name = 'GitHubAppNotInstalledError';

  constructor(readonly scope: string, options?: ErrorOptions) {
    super(`the GitHub App is not installed on ${scope}: install it there, or route its jobs to another runner system`, options);
  }
}

/**
 * Whether a failed call hit a GitHub rate limit: 403 or 429 with no requests remaining, or a
 * message naming a (secondary) rate limit — the markers plugin-throttling looks for too.
 */
export function isRateLimited(error: unknown): boolean {
  const e = error as { status?: number; message?: string; response?: { headers?: Record<string, string | undefined> } } | undefined;
  if (!e || (e.status !== 403 && e.status !== 429)) return false;
  return e.response?.headers?.['x-ratelimit-remaining'] === '0' || /rate limit/i.test(e.message ?? '');
}
