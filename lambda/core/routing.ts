// Routes a job to a runner config by its labels (the shared rule in src/runner-labels.ts) and
// names the pool — GitHub scope × runner config — that the job's demand belongs to.

import { foldName } from './github-names';
import { RunnerConfig } from './runner-config';
import { LabelledConfig, LabelMatch, matchLabels } from '../../src/runner-labels';

/** Where a pool's runners register: the enterprise, an organization, or one repository. Names are folded. */
export type RunnerScope =
  | { readonly kind: 'enterprise'; readonly enterprise: string }
  | { readonly kind: 'org'; readonly org: string }
  | { readonly kind: 'repo'; readonly owner: string; readonly repo: string };

/**
 * The prefix of an enterprise scope's key. A GitHub login holds no `:`, so an enterprise pool's id
 * cannot be read as an organization's.
 */
export const ENTERPRISE_KEY_PREFIX = 'enterprise:';

/** A pool: the unit the provisioner reconciles. */
export interface Pool {
  /** `<scope>#<configName>`, scope being `enterprise:<slug>`, the folded org login or the folded `owner/name`. */
  readonly poolId: string;
  readonly configName: string;
  readonly scope: RunnerScope;
}

/** Where a job comes from, with names already validated (see github-names.ts). */
export interface JobOrigin {
  readonly owner: string;
  readonly repo: string;
  /** The organization login, when the repository is owned by one. */
  readonly org?: string;
}

/**
 * The config for a job's labels: the most specific match wins, a tie goes to the higher priority,
 * then to the config listed first; `self-hosted` and case ignored. Ambiguous only for a tie between
 * configs whose documents carry no rank (an older deployment's) or the same one (edited by hand).
 */
export function routeJob<C extends LabelledConfig>(jobLabels: readonly string[], configs: readonly C[]): LabelMatch<C> {
  return matchLabels(jobLabels, configs);
}

/**
 * The scope runners of `config` register at for a job from `origin`. An `enterprise` config serves
 * every organization of the enterprise with one pool. An `org` config (and an `enterprise` one,
 * whose runners serve organizations only) falls back to the repository when the repository has no
 * organization (user-owned repositories).
 */
export function scopeFor(config: Pick<RunnerConfig, 'scope' | 'enterprise'>, origin: JobOrigin): RunnerScope {
  if (config.scope === 'enterprise' && config.enterprise !== undefined && origin.org !== undefined) {
    return { kind: 'enterprise', enterprise: foldName(config.enterprise) };
  }
  if ((config.scope === 'org' || config.scope === 'enterprise') && origin.org !== undefined) {
    return { kind: 'org', org: foldName(origin.org) };
  }
  return { kind: 'repo', owner: foldName(origin.owner), repo: foldName(origin.repo) };
}

export function poolIdOf(scope: RunnerScope, configName: string): string {
  return `${scopeName(scope)}#${configName}`;
}

/** `enterprise:<slug>`, the org login, or `owner/name`. */
export function scopeName(scope: RunnerScope): string {
  if (scope.kind === 'enterprise') return `${ENTERPRISE_KEY_PREFIX}${scope.enterprise}`;
  return scope.kind === 'org' ? scope.org : `${scope.owner}/${scope.repo}`;
}

export function poolFor(config: Pick<RunnerConfig, 'name' | 'scope' | 'enterprise'>, origin: JobOrigin): Pool {
  const scope = scopeFor(config, origin);
  return { poolId: poolIdOf(scope, config.name), configName: config.name, scope };
}
