// What the GitHub App needs, in one place for the setup page (the manifest it sends), the status
// command (what it checks an installation against) and the docs. Pure: the functions' bundles and
// the command's include it.
// https://docs.github.com/en/apps/sharing-github-apps/registering-a-github-app-from-a-manifest

import type { RunnerScopeName } from '../runner-config-document';

/** An App permission's access level, as the REST API and the manifest write it. */
export type PermissionAccess = 'read' | 'write';

/** The events the App subscribes to: `workflow_job` needs at least `actions: read`. */
export const APP_EVENTS: readonly string[] = ['workflow_job'];

/**
 * The permissions the App needs for runners of these scopes, and whether it is registered for a user
 * account (whose repositories' jobs register at the repository, whatever the config's scope):
 * - `actions: write` reads jobs and re-runs one after a spot interruption;
 * - `metadata: read` is what GitHub gives every App;
 * - organization runners: `organization_self_hosted_runners: write`;
 * - repository runners (and a user's repositories): `administration: write`.
 * https://docs.github.com/en/rest/actions/self-hosted-runners
 */
export function appPermissions(scopes: readonly RunnerScopeName[], forUser = false): Record<string, PermissionAccess> {
  // Enterprise runners register with the enterprise credential (ENTERPRISE_RUNNER_SCOPE): the App
  // only delivers the organizations' workflow_job events and reads and re-runs their jobs.
  const permissions: Record<string, PermissionAccess> = { actions: 'write', metadata: 'read' };
  if (scopes.includes('org') && !forUser) permissions.organization_self_hosted_runners = 'write';
  if (scopes.includes('repo') || forUser) permissions.administration = 'write';
  return permissions;
}

/**
 * The scope a personal access token (classic) needs for enterprise runners. The enterprise
 * endpoints (generate-jitconfig, list and delete runners, runner groups) work with no GitHub App
 * token and no fine-grained token: "OAuth app tokens and personal access tokens (classic) need the
 * `manage_runners:enterprise` scope" and "This endpoint does not work with GitHub App user access
 * tokens, GitHub App installation access tokens, or fine-grained personal access tokens"
 * (https://docs.github.com/en/enterprise-server@3.19/rest/actions/self-hosted-runners#generate-configuration-for-a-just-in-time-runner-for-an-enterprise;
 * the GHES OpenAPI description marks them `enabledForGitHubApps: false`). It is the least of the
 * scopes that work: `admin:enterprise` includes it and grants every enterprise administration besides
 * (https://github.blog/changelog/2021-10-11-github-actions-granular-personal-access-token-scopes-for-self-hosted-runners-in-enterprises).
 */
export const ENTERPRISE_RUNNER_SCOPE = 'manage_runners:enterprise';

/** Scopes that include {@link ENTERPRISE_RUNNER_SCOPE}. */
const ENTERPRISE_RUNNER_SCOPES = [ENTERPRISE_RUNNER_SCOPE, 'admin:enterprise'];

/**
 * Whether a classic token's scopes, as GitHub lists them in the `X-OAuth-Scopes` response header
 * (comma-separated, https://docs.github.com/en/enterprise-server@3.19/apps/oauth-apps/building-oauth-apps/scopes-for-oauth-apps),
 * allow enterprise runners.
 */
export function allowsEnterpriseRunners(oauthScopesHeader: string | undefined): boolean {
  const scopes = (oauthScopesHeader ?? '').split(',').map((s) => s.trim());
  return scopes.some((s) => ENTERPRISE_RUNNER_SCOPES.includes(s));
}

/** Whether `granted` covers `needed`: every needed permission at its level or above. */
export function missingPermissions(
  needed: Readonly<Record<string, PermissionAccess>>,
  granted: Readonly<Record<string, string | undefined>>,
): string[] {
  return Object.entries(needed)
    .filter(([name, access]) => granted[name] !== access && !(access === 'read' && granted[name] === 'write'))
    .map(([name, access]) => `${name}: ${access}`);
}

/** What the setup page asks GitHub to create. */
export interface AppManifestOptions {
  readonly name: string;
  readonly webhookUrl: string;
  /** Where GitHub sends the browser back with the code: the setup page. */
  readonly redirectUrl: string;
  readonly scopes: readonly RunnerScopeName[];
  readonly forUser: boolean;
}

/**
 * The GitHub App manifest: `url` and `hook_attributes.url` are the required fields; `public` must be
 * a JSON boolean (a string is refused by GHES). Private: only the account that owns it may install it.
 */
export function appManifest(options: AppManifestOptions): Record<string, unknown> {
  return {
    name: options.name,
    url: options.redirectUrl,
    description: 'Self-hosted GitHub Actions runners on ephemeral EC2 instances (cdk-ephemeral-runners)',
    hook_attributes: { url: options.webhookUrl, active: true },
    redirect_url: options.redirectUrl,
    // Private: only the account that owns it may install it. An enterprise's runners serve jobs of
    // every organization, each of which must install the App to deliver its events: that takes an
    // App installable by any account on the server.
    // https://docs.github.com/en/enterprise-server@3.19/apps/using-github-apps/installing-your-own-github-app
    public: options.scopes.includes('enterprise'),
    default_events: [...APP_EVENTS],
    default_permissions: appPermissions(options.scopes, options.forUser),
  };
}

/** A GitHub login: letters, digits and single inner hyphens, at most 39 characters. */
export const GITHUB_LOGIN = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/;

/** Where the browser registers an App from a manifest: an organization's page, or the signed-in user's. */
export function manifestFormUrl(githubUrl: string, owner: { login: string; isOrganization: boolean }, state: string): string {
  const base = githubUrl.replace(/\/$/, '');
  const path = owner.isOrganization ? `/organizations/${encodeURIComponent(owner.login)}/settings/apps/new` : '/settings/apps/new';
  return `${base}${path}?state=${encodeURIComponent(state)}`;
}
