// What the functions check in their environment beyond its contract (src/contracts/environment.ts):
// the contract decodes every variable at cold start; a value that is well-formed but unusable is
// refused here with the same error, so a bad environment is one error class in the logs.
import { EnvironmentVariableError, WEBHOOK_ENVIRONMENT } from '../../src/contracts/environment';

const HOSTNAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;

/** A GitHub hostname such as `ghes.example.com`, lower-cased: it becomes part of job keys. */
export function parseGitHubHost(value: string, variable = WEBHOOK_ENVIRONMENT.githubHost.name): string {
  const host = value.trim().toLowerCase();
  if (!HOSTNAME.test(host)) {
    throw new EnvironmentVariableError(`${variable} must be a hostname such as ghes.example.com (no scheme, path or port), found ${JSON.stringify(value)}`, [variable]);
  }
  return host;
}
