// The setup page: the GitHub App manifest flow, from the operator's browser to stored credentials.
// 1. GET  ?token=T            the form (owner, App name), for the holder of the deploy-time token;
// 2. POST (token, owner, name) a page that posts the manifest to GitHub, bound to this browser by a
//                              cookie holding the token and an HMAC (keyed by it) of the round trip's `state`;
// 3. GET  ?code=C&state=S     GitHub's redirect: the code is exchanged for the App's credentials,
//                              which are stored (never overwriting) and the token ends.
// Every refusal is a page that says what to do, and changes nothing.
// https://docs.github.com/en/apps/sharing-github-apps/registering-a-github-app-from-a-manifest

import { createHmac, timingSafeEqual } from 'crypto';
import { Page, pages } from './pages';
import { appManifest, GITHUB_LOGIN, manifestFormUrl } from '../../src/contracts/github-app';
import { setupTokenHash } from '../../src/contracts/setup-token';
import type { RunnerScopeName } from '../../src/runner-config-document';
import { Logger } from '../common/logger';
import { Clock } from '../core/ports';
import { AppCredentialStore, AppRegistrar, CredentialsExistError, ManifestCodeError } from '../core/setup';

/** The cookie that binds GitHub's redirect to the browser that started the round trip. */
export const STATE_COOKIE = 'er-setup-state';
/** GitHub wants the three steps done within an hour; the state lasts as long. */
export const STATE_TTL_MS = 60 * 60 * 1000;
/** GitHub's longest App name. */
const APP_NAME_MAX = 34;

export interface SetupRequest {
  readonly method: string;
  readonly query: Readonly<Record<string, string | undefined>>;
  /** The form fields of a POST. */
  readonly form: Readonly<Record<string, string | undefined>>;
  readonly cookies: Readonly<Record<string, string | undefined>>;
}

export interface SetupSettings {
  /** The server's base URL, where the browser registers the App. */
  readonly githubUrl: string;
  readonly webhookUrl: string;
  /** This page's URL (without a query): GitHub redirects back to it. */
  readonly setupUrl: string;
  readonly scopes: readonly RunnerScopeName[];
  readonly stackName: string;
}

export interface SetupDeps {
  readonly store: AppCredentialStore;
  readonly registrar: AppRegistrar;
  readonly settings: SetupSettings;
  readonly clock: Clock;
  /** A fresh random string of at least 128 bits, URL-safe. */
  readonly random: () => string;
  readonly logger: Logger;
}

export async function handleSetupRequest(request: SetupRequest, deps: SetupDeps): Promise<Page> {
  const p = pages(deps.settings);
  if (request.method === 'GET' && request.query.code !== undefined) return complete(request, deps);
  if (request.method !== 'GET' && request.method !== 'POST') return p.error(405, 'Method not allowed', 'Open the setup link in a browser.');
  const token = request.method === 'GET' ? request.query.token : request.form.token;
  const tokenHash = await deps.store.tokenHash();
  if (tokenHash === undefined) return noToken(deps);
  if (token === undefined || !sameHash(setupTokenHash(token), tokenHash)) {
    return p.error(403, 'This setup link is not valid', 'Open the SetupUrl output of the stack as it is, with its token.');
  }
  const existing = await deps.store.existingCredentials();
  if (existing.length > 0) return p.credentialsExist(existing);
  if (request.method === 'GET') return p.form(token);
  return begin(request, token, deps);
}

async function begin(request: SetupRequest, token: string, deps: SetupDeps): Promise<Page> {
  const p = pages(deps.settings);
  const owner = (request.form.owner ?? '').trim();
  const name = (request.form.name ?? '').trim();
  if (!GITHUB_LOGIN.test(owner)) {
    return p.form(token, `'${owner}' is not an organization or user name: letters, digits and single hyphens, at most 39 characters.`);
  }
  if (name.length === 0 || name.length > APP_NAME_MAX) return p.form(token, `Give the App a name of 1 to ${APP_NAME_MAX} characters.`);
  const lookup = await deps.registrar.lookupOwner(owner);
  if (lookup === 'not-found') return p.form(token, `There is no organization or user named '${owner}' on ${new URL(deps.settings.githubUrl).host}.`);
  // A server that answers no anonymous call (private mode) leaves it to the operator's choice.
  const isOrganization = lookup === 'unknown' ? request.form.ownerType !== 'user' : lookup.isOrganization;
  const state = `${deps.clock.now() + STATE_TTL_MS}.${deps.random()}`;
  const manifest = appManifest({
    name, webhookUrl: deps.settings.webhookUrl, redirectUrl: deps.settings.setupUrl, scopes: deps.settings.scopes, forUser: !isOrganization,
  });
  const action = manifestFormUrl(deps.settings.githubUrl, { login: owner, isOrganization }, state);
  return { ...p.confirm(action, manifest, owner, isOrganization), setCookie: stateCookie(`${token}.${stateMac(token, state)}`, STATE_TTL_MS / 1000) };
}

async function complete(request: SetupRequest, deps: SetupDeps): Promise<Page> {
  const p = pages(deps.settings);
  const { code, state } = request.query;
  const tokenHash = await deps.store.tokenHash();
  if (tokenHash === undefined) return noToken(deps);
  const expiresAt = Number(/^(\d+)\.[A-Za-z0-9_-]+$/.exec(state ?? '')?.[1]);
  // The cookie holds the token (so only its holder completes setup) and the state's HMAC under it (so only this browser's round trip).
  const [token, mac] = (request.cookies[STATE_COOKIE] ?? '').split('.');
  const bound = token && mac && state && sameHash(setupTokenHash(token), tokenHash) && sameHash(stateMac(token, state), mac);
  if (!state || !Number.isFinite(expiresAt) || !bound) {
    return p.error(403, 'This browser did not start this setup',
      'The answer from GitHub does not match a setup started in this browser (its state differs). Start again from the setup link, in this browser.');
  }
  if (deps.clock.now() > expiresAt) return p.error(400, 'This setup expired', 'GitHub\'s answer came more than an hour after the setup started. Start again from the setup link.');
  const existing = await deps.store.existingCredentials();
  if (existing.length > 0) return p.credentialsExist(existing);
  let app;
  try {
    app = await deps.registrar.convertManifestCode(code ?? '');
  } catch (e) {
    if (!(e instanceof ManifestCodeError)) throw e;
    return p.error(400, 'GitHub does not know this code',
      'The code in this link expired (after an hour) or was used already; nothing was stored. Start again from the setup link.');
  }
  let webhookSecret = app.webhookSecret;
  if (!webhookSecret) {
    webhookSecret = deps.random();
    await deps.registrar.setWebhookSecret(app, webhookSecret);
  }
  try {
    await deps.store.storeCredentials({ appId: app.appId, privateKeyPem: app.privateKeyPem, webhookSecret });
  } catch (e) {
    if (!(e instanceof CredentialsExistError)) throw e;
    deps.logger.warn('GitHub App created, but another setup stored credentials first: this one is unused', { appId: app.appId, slug: app.slug });
    return p.error(409, 'Another setup finished first',
      `Credentials were stored by another setup meanwhile; the App '${app.name}' just created is not used. Delete it on its settings page: ${app.htmlUrl}`);
  }
  await deps.store.deleteToken();
  deps.logger.info('GitHub App created and its credentials stored', { appId: app.appId, slug: app.slug, owner: app.ownerLogin });
  return { ...p.done(app), setCookie: stateCookie('', 0) };
}

/** No token: setup stored credentials already, or an operator removed them without a new token. */
async function noToken(deps: SetupDeps): Promise<Page> {
  const p = pages(deps.settings);
  const existing = await deps.store.existingCredentials();
  if (existing.length > 0) return p.credentialsExist(existing);
  return p.error(403, 'Setup needs a new link', `This deployment has no setup token. Make one: npx cdk-ephemeral-runners reset --stack ${deps.settings.stackName}`);
}

function stateMac(token: string, state: string): string {
  return createHmac('sha256', token).update(`state:${state}`).digest('base64url');
}

function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function stateCookie(value: string, maxAgeSeconds: number): string {
  // Lax: sent along GitHub's redirect (a top-level GET), never with a cross-site POST.
  return `${STATE_COOKIE}=${value}; Max-Age=${maxAgeSeconds}; Path=/; HttpOnly; Secure; SameSite=Lax`;
}
