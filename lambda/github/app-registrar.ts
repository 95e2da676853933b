// The GitHub server as the setup page calls it: anonymous lookups of an account, the manifest code's
// exchange (no authentication: the code is the credential), and, with the new App's own JWT, its
// webhook secret. 5xx and 429 are retried (@octokit/plugin-retry).
// https://docs.github.com/en/rest/apps/apps#create-a-github-app-from-a-manifest
import { Octokit } from '@octokit/core';
import { retry } from '@octokit/plugin-retry';
import { appJwtFactory } from './app-jwt';
import { AppRegistrar, CreatedApp, ManifestCodeError, OwnerLookup } from '../core/setup';

const RegistrarOctokit = Octokit.plugin(retry);

export interface AppRegistrarOptions {
  /** REST API base: `https://HOST/api/v3` for GHES, `https://api.github.com` for github.com. */
  readonly baseUrl: string;
  /** Base of plugin-retry's quadratic backoff, in ms (1000 in production). */
  readonly retryBaseMs?: number;
}

export class GitHubAppRegistrar implements AppRegistrar {
  private readonly octokit: InstanceType<typeof RegistrarOctokit>;

  constructor(options: AppRegistrarOptions) {
    this.octokit = new RegistrarOctokit({
      baseUrl: options.baseUrl,
      userAgent: 'cdk-ephemeral-runners-setup',
      retry: { retryAfterBaseValue: options.retryBaseMs ?? 1000 },
    });
  }

  async lookupOwner(login: string): Promise<OwnerLookup> {
    try {
      const { data } = await this.octokit.request('GET /users/{username}', { username: login, request: { retries: 0 } });
      return { isOrganization: (data as { type?: string }).type === 'Organization' };
    } catch (e) {
      const status = (e as { status?: number }).status;
      if (status === 404) return 'not-found';
      // Private mode refuses anonymous calls (401/403): the operator's choice stands.
      if (status === 401 || status === 403) return 'unknown';
      throw e;
    }
  }

  async convertManifestCode(code: string): Promise<CreatedApp> {
    if (!/^[A-Za-z0-9_-]{1,100}$/.test(code)) throw new ManifestCodeError(`'${code.slice(0, 100)}' is not a manifest code`);
    try {
      const { data } = await this.octokit.request('POST /app-manifests/{code}/conversions', { code });
      return {
        appId: String(data.id),
        slug: data.slug ?? String(data.id),
        name: data.name,
        htmlUrl: data.html_url,
        ownerLogin: (data.owner as { login?: string } | null)?.login ?? '',
        privateKeyPem: data.pem,
        webhookSecret: data.webhook_secret,
      };
    } catch (e) {
      // 404: unknown, used or expired; 422: refused (the endpoint's answer when it is spammed, too).
      const status = (e as { status?: number }).status;
      if (status === 404 || status === 422) throw new ManifestCodeError(`GitHub answered ${status} to the manifest code`, { cause: e });
      throw e;
    }
  }

  async setWebhookSecret(app: { readonly appId: string; readonly privateKeyPem: string }, secret: string): Promise<void> {
    const { jwt } = await appJwtFactory(app.privateKeyPem)(app.appId);
    await this.octokit.request('PATCH /app/hook/config', { secret, headers: { authorization: `bearer ${jwt}` } });
  }
}
