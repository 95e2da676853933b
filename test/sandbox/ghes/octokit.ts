// Real Octokit for the GHES simulator tests. The Octokit packages are ES modules only: jest transpiles
// them (see the jest config), but `tsc` with `module: node16` refuses a static import of an ES module
// from a CommonJS file (TS1479). So the types are imported with `resolution-mode: import` and the
// values are required, once, here.
/* eslint-disable @typescript-eslint/no-require-imports */
import { generateKeyPairSync } from 'crypto';
import type * as AuthApp from '@octokit/auth-app' with { 'resolution-mode': 'import' };
import type * as Core from '@octokit/core' with { 'resolution-mode': 'import' };
import type * as Retry from '@octokit/plugin-retry' with { 'resolution-mode': 'import' };
import type * as Throttling from '@octokit/plugin-throttling' with { 'resolution-mode': 'import' };
import type * as WebhooksMethods from '@octokit/webhooks-methods' with { 'resolution-mode': 'import' };
import type { GhesSimulator } from '../../../sandbox/ghes';

export const { Octokit } = require('@octokit/core') as typeof Core;
export const { createAppAuth } = require('@octokit/auth-app') as typeof AuthApp;
export const { retry } = require('@octokit/plugin-retry') as typeof Retry;
export const { throttling } = require('@octokit/plugin-throttling') as typeof Throttling;
/** Octokit's own webhook signature check: an implementation independent of the simulator's. */
export const { verify: verifyWebhookSignature } = require('@octokit/webhooks-methods') as typeof WebhooksMethods;

export type OctokitClient = Core.Octokit;

const keys: string[] = [];
/**
 * An App private key shared by the tests of a file (`n` picks another one): generating a 2048-bit RSA
 * key takes a few hundred ms, and most tests start a simulator of their own.
 */
export function testKey(n = 0): string {
  while (keys.length <= n) {
    keys.push(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString());
  }
  return keys[n];
}

/** Octokit errors carry the response; this is the part the tests look at. */
export interface RequestFailure {
  readonly status: number;
  readonly message: string;
  readonly response?: { readonly headers: Record<string, string | undefined>; readonly data: unknown };
}

export const quietLog = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

export interface ClientOptions {
  /** Authenticate as this installation; omitted: as the App (JWT) only. */
  readonly installationId?: number;
  /** App id or client id to put in `iss`. @default the simulator's App id */
  readonly appId?: number | string;
  readonly privateKey?: string;
  readonly retry?: { readonly retries?: number };
  readonly throttle?: {
    /** The plugin waits retryAfter × this many ms. @default 5 */
    retryAfterBaseValue?: number;
    onRateLimit: (retryAfter: number, options: unknown, octokit: unknown, retryCount: number) => boolean;
    onSecondaryRateLimit: (retryAfter: number, options: unknown, octokit: unknown, retryCount: number) => boolean;
  };
  readonly log?: typeof quietLog;
}

let throttleIds = 0;

/**
 * An Octokit authenticated as the simulator's App via @octokit/auth-app, with the retry and
 * throttling plugins when asked for. Their waits are shortened to milliseconds (retryAfterBaseValue),
 * so tests assert on behaviour and counts, not on real seconds.
 */
export function client(sim: GhesSimulator, options: ClientOptions = {}): OctokitClient {
  const plugins = [...(options.retry ? [retry] : []), ...(options.throttle ? [throttling] : [])];
  const Client = plugins.length > 0 ? Octokit.plugin(...plugins) : Octokit;
  return new Client({
    baseUrl: sim.apiUrl,
    authStrategy: createAppAuth,
    auth: {
      appId: options.appId ?? sim.appId,
      privateKey: options.privateKey ?? sim.privateKey,
      ...(options.installationId !== undefined ? { installationId: options.installationId } : {}),
    },
    log: options.log ?? quietLog,
    ...(options.retry ? { retry: { retryAfterBaseValue: 5, ...options.retry } } : {}),
    // A throttle id of its own per client: the plugin's limiters are shared per id across instances.
    ...(options.throttle ? { throttle: { id: `ghes-test-${++throttleIds}`, retryAfterBaseValue: 5, ...options.throttle } } : {}),
  }) as OctokitClient;
}

/** A standalone @octokit/auth-app `auth()` for the simulator's App, for tokens handled by hand. */
export function appAuth(sim: GhesSimulator): ReturnType<typeof createAppAuth> {
  return createAppAuth({ appId: sim.appId, privateKey: sim.privateKey, request: new Octokit({ baseUrl: sim.apiUrl }).request });
}

/** An Octokit that sends the given token or JWT as it is (`token …` or `bearer …`). */
export function withToken(sim: GhesSimulator, token: string): OctokitClient {
  return new Octokit({ baseUrl: sim.apiUrl, auth: token, log: quietLog });
}

/** Runs a request expected to fail and returns the failure (fails the test if it succeeds). */
export async function failure(promise: Promise<unknown>): Promise<RequestFailure> {
  try {
    await promise;
  } catch (err) {
    return err as RequestFailure;
  }
  throw new Error('expected the request to fail, but it succeeded');
}
