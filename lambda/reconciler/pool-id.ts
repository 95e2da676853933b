// The pool behind an id from the pool index. The index holds ids only; the id is built from the
// scope and config name by `poolIdOf`, whose parts cannot contain `#` or `/` (github-names.ts,
// runner-config.ts), so it reads back without a lookup.
import { PoolIdError } from './errors';
import { ENTERPRISE_KEY_PREFIX, Pool, poolIdOf, RunnerScope } from '../core/routing';

export function poolFromId(poolId: string): Pool {
  const hash = poolId.lastIndexOf('#');
  const scopePart = poolId.slice(0, Math.max(hash, 0));
  const configName = poolId.slice(hash + 1);
  const slash = scopePart.indexOf('/');
  const scope: RunnerScope = scopePart.startsWith(ENTERPRISE_KEY_PREFIX) && slash < 0
    ? { kind: 'enterprise', enterprise: scopePart.slice(ENTERPRISE_KEY_PREFIX.length) }
    : slash < 0
      ? { kind: 'org', org: scopePart }
      : { kind: 'repo', owner: scopePart.slice(0, slash), repo: scopePart.slice(slash + 1) };
  const pool = { poolId, configName, scope };
  // Only an exact round trip is a pool id of ours.
  if (hash <= 0 || configName === '' || poolIdOf(scope, configName) !== poolId || /[#/]/.test(configName)
    || (scope.kind === 'enterprise' && scope.enterprise === '')
    || (scope.kind === 'repo' && (scope.owner === '' || scope.repo === '' || scope.repo.includes('/')))) {
    throw new PoolIdError(poolId);
  }
  return pool;
}
