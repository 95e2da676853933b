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
  const permissions: Record<string, PermissionAccess> = { actions: 'write', metadata: 'read' };
  if (scopes.includes('org') && !forUser) permissions.organization_self_hosted_runners = 'write';
  if (scopes.includes('repo') || forUser) permissions.administration = 'write';
  return permissions;
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
    public: false,
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
