import { PoolMessageError } from '../../../lambda/core/errors';
import { buildPoolMessage, parsePoolMessage } from '../../../lambda/core/pool-message';
import { Pool } from '../../../lambda/core/routing';

const ORG_POOL: Pool = { poolId: 'octo-org#linux-x64', configName: 'linux-x64', scope: { kind: 'org', org: 'octo-org' } };
const REPO_POOL: Pool = { poolId: 'octocat/app#k8s', configName: 'k8s', scope: { kind: 'repo', owner: 'octocat', repo: 'app' } };

describe('pool messages', () => {
  test('a message names the pool, its scope, the reason and the delivery', () => {
    expect(buildPoolMessage(ORG_POOL, 'queued', 'guid-1')).toEqual({
      version: 1, poolId: 'octo-org#linux-x64', configName: 'linux-x64', scope: { kind: 'org', org: 'octo-org' }, reason: 'workflow_job.queued', deliveryId: 'guid-1',
    });
  });

  test.each([ORG_POOL, REPO_POOL])('what is sent reads back the same (%#)', (pool) => {
    const message = buildPoolMessage(pool, 'completed', 'guid-2');
    expect(parsePoolMessage(JSON.stringify(message))).toEqual(message);
  });

  test.each<[string, string]>([
    ['not JSON', '{'],
    ['another version', JSON.stringify({ ...buildPoolMessage(ORG_POOL, 'queued', 'g'), version: 2 })],
    ['no pool id', JSON.stringify({ ...buildPoolMessage(ORG_POOL, 'queued', 'g'), poolId: undefined })],
    ['a scope without org', JSON.stringify({ ...buildPoolMessage(ORG_POOL, 'queued', 'g'), scope: { kind: 'org' } })],
    ['a pool id that disagrees with its scope', JSON.stringify({ ...buildPoolMessage(ORG_POOL, 'queued', 'g'), poolId: 'other#linux-x64' })],
  ])('%s is refused', (_, body) => {
    expect(() => parsePoolMessage(body)).toThrow(PoolMessageError);
  });
});
