// Walks the simulator's manifest flow as a browser does (form posts, the redirect), without a browser.
import type { GhesSimulator } from '../../../sandbox/ghes';

export const MANIFEST = {
  name: 'runners',
  url: 'https://setup.example/setup',
  hook_attributes: { url: 'https://hooks.example/webhook', active: true },
  redirect_url: 'https://setup.example/setup',
  public: false,
  default_events: ['workflow_job'],
  default_permissions: { actions: 'write', metadata: 'read', organization_self_hosted_runners: 'write' },
};

const hidden = (html: string, name: string) => new RegExp(`name="${name}" value="([^"]*)"`).exec(html)?.[1]
  ?.replace(/&#(\d+);/g, (_, c: string) => String.fromCharCode(Number(c)));

/** Posts the manifest to the organization's page (no org: the signed-in user's), then "Create GitHub App": the redirect GitHub answers. */
export async function createFromManifest(sim: GhesSimulator, org: string | undefined, manifest: object = MANIFEST, state = 'state-1'): Promise<Response> {
  const form = await fetch(`${sim.url}${org === undefined ? '' : `/organizations/${org}`}/settings/apps/new?state=${state}`, {
    method: 'POST', body: new URLSearchParams({ manifest: JSON.stringify(manifest) }),
  });
  const html = await form.text();
  if (form.status !== 200) return new Response(html, { status: form.status });
  return fetch(`${sim.url}/settings/apps/new/manifest`, {
    method: 'POST',
    redirect: 'manual',
    body: new URLSearchParams({ manifest: hidden(html, 'manifest')!, owner: hidden(html, 'owner')!, state: hidden(html, 'state') ?? '', name: 'runners' }),
  });
}

/** The code of a fresh manifest flow. */
export async function manifestCode(sim: GhesSimulator, org: string): Promise<string> {
  const redirect = await createFromManifest(sim, org);
  const code = new URL(redirect.headers.get('location')!).searchParams.get('code');
  if (!code) throw new Error(`no code in the redirect (${redirect.status})`);
  return code;
}
