// Reads a function's environment once, at cold start, and names every missing variable at once.

import { EnvironmentError } from './errors';

export type Environment<K extends string> = { readonly [name in K]: string };

/** Returns the named variables; throws {@link EnvironmentError} naming all that are missing or empty. */
export function readEnvironment<K extends string>(names: readonly K[], env: NodeJS.ProcessEnv = process.env): Environment<K> {
  const missing = names.filter((name) => !env[name]);
  if (missing.length > 0) {
    throw new EnvironmentError(
      `missing environment variable${missing.length > 1 ? 's' : ''} ${missing.join(', ')}: the construct sets them; redeploy it`,
      missing,
    );
  }
  return Object.fromEntries(names.map((name) => [name, env[name] as string])) as Environment<K>;
}

/**
 * The optional variables among `names` that are set, as whole numbers of milliseconds; throws
 * {@link EnvironmentError} naming every one that is set to anything else.
 */
export function readOptionalMilliseconds<K extends string>(
  names: readonly K[],
  env: NodeJS.ProcessEnv = process.env,
): { readonly [name in K]?: number } {
  const set = names.filter((name) => env[name] !== undefined && env[name] !== '');
  const invalid = set.filter((name) => !/^\d+$/.test(env[name]!.trim()));
  if (invalid.length > 0) {
    throw new EnvironmentError(
      `${invalid.map((name) => `${name}=${JSON.stringify(env[name])}`).join(', ')}: expected a whole number of milliseconds; set a number or unset it for the default`,
      invalid,
    );
  }
  return Object.fromEntries(set.map((name) => [name, Number(env[name])])) as { readonly [name in K]?: number };
}

const HOSTNAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;

/** A GitHub hostname such as `ghes.example.com`, lower-cased: it becomes part of job keys. */
export function parseGitHubHost(value: string, variable = 'GITHUB_HOST'): string {
  const host = value.trim().toLowerCase();
  if (!HOSTNAME.test(host)) {
    throw new EnvironmentError(`${variable} must be a hostname such as ghes.example.com (no scheme, path or port), found ${JSON.stringify(value)}`, [variable]);
  }
  return host;
}
