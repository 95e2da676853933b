// How the GitHub adapter tells the enterprise credential's problems apart. Enterprise endpoints take
// a personal access token (classic) with the `manage_runners:enterprise` scope, never a GitHub App
// token (src/contracts/github-app.ts). GitHub answers a classic token that lacks a scope with 404 or
// 403, as it answers a resource the caller may not see, and names the token's scopes in every
// response's `X-OAuth-Scopes` header; that header is what tells "lacks the scope" from "not found".
// https://docs.github.com/en/enterprise-server@3.19/rest/using-the-rest-api/troubleshooting-the-rest-api#404-not-found-for-an-existing-resource
import { allowsEnterpriseRunners, ENTERPRISE_RUNNER_SCOPE } from '../../src/contracts/github-app';
import { EnterpriseCredentialError } from '../core/github';

/** What the operator does about a token GitHub refused. */
const WRITE_A_TOKEN = `write a personal access token (classic) of an enterprise owner with the ${ENTERPRISE_RUNNER_SCOPE} scope `
  + '(and no other) to the enterprise token parameter (see docs/configuration.md, Enterprise runners)';

/**
 * The credential problem an enterprise call's failure reveals, or undefined (a runner not found,
 * a busy runner, an outage: the caller handles those as for any scope).
 */
export function enterpriseCredentialProblem(error: unknown, enterprise: string): EnterpriseCredentialError | undefined {
  const e = error as { status?: number; response?: { headers?: Record<string, string | undefined> } } | undefined;
  const status = e?.status;
  if (status === 401) return new EnterpriseCredentialError(enterprise, 'was refused (401 Bad credentials: revoked, expired or mistyped)', WRITE_A_TOKEN, { cause: error });
  if (status !== 403 && status !== 404) return undefined;
  const scopes = e?.response?.headers?.['x-oauth-scopes'];
  if (scopes === undefined) {
    // Only classic tokens (and OAuth App tokens) are answered with their scopes.
    return new EnterpriseCredentialError(enterprise, `is not a personal access token (classic) (GitHub answered ${status} without X-OAuth-Scopes)`,
      WRITE_A_TOKEN, { cause: error });
  }
  if (!allowsEnterpriseRunners(scopes)) {
    return new EnterpriseCredentialError(enterprise, `lacks the ${ENTERPRISE_RUNNER_SCOPE} scope (its scopes: ${scopes.trim() || 'none'})`,
      WRITE_A_TOKEN, { cause: error });
  }
  return undefined;
}

/** A credential that has the scope, yet the enterprise is not found: a wrong slug, or a token of someone not an enterprise owner. */
export function enterpriseNotFound(enterprise: string, error: unknown): EnterpriseCredentialError {
  return new EnterpriseCredentialError(enterprise, 'was refused for this enterprise (404 Not Found)',
    `check that github.enterprise is the enterprise's slug and that the token belongs to an owner of the enterprise; ${WRITE_A_TOKEN}`, { cause: error });
}

/** The token could not be read (not written yet, or SSM refused). */
export function enterpriseTokenUnreadable(enterprise: string, error: unknown): EnterpriseCredentialError {
  return new EnterpriseCredentialError(enterprise, `could not be read (${(error as Error).message})`, WRITE_A_TOKEN, { cause: error });
}
