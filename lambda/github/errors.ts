// How the GitHub adapter recognises Octokit's errors before translating them into the port's
// (lambda/core/github.ts). Callers decide by class, never by message text.

/**
 * Whether a failed call hit a GitHub rate limit: 403 or 429 with no requests remaining, or a
 * message naming a (secondary) rate limit — the markers plugin-throttling looks for too.
 */
export function isRateLimited(error: unknown): boolean {
  const e = error as { status?: number; message?: string; response?: { headers?: Record<string, string | undefined> } } | undefined;
  if (!e || (e.status !== 403 && e.status !== 429)) return false;
  return e.response?.headers?.['x-ratelimit-remaining'] === '0' || /rate limit/i.test(e.message ?? '');
}
