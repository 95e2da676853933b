// Runner configs for tests, built through the same parser the functions use.

import { parseRunnerConfigDocument, RunnerConfig } from '../../../lambda/core/runner-config';
import { RoutingRank, routingLabels } from '../../../src/runner-labels';

/**
 * A valid config document as the construct writes it, before parsing. Without `rank` it is a
 * document of a deployment older than the tie rule: no `priority` and `order`.
 */
export function configDocument(name: string, labels: readonly string[], scope: 'org' | 'repo' = 'org', rank?: RoutingRank): Record<string, unknown> {
  return {
    version: 1,
    name,
    labels: routingLabels(labels),
    runnerLabels: ['self-hosted', ...labels],
    ...(rank ? { priority: rank.priority, order: rank.order } : {}),
    instanceTypes: ['m7i.large', 'm6i.large'],
    spot: 'SPOT_PREFERRED',
    maxRunners: 10,
    scope,
    runnerGroupId: 1,
  };
}

export function testConfig(name: string, labels: readonly string[], scope: 'org' | 'repo' = 'org', rank?: RoutingRank): RunnerConfig {
  return parseRunnerConfigDocument(`/test/runner-configs/${name}`, configDocument(name, labels, scope, rank));
}
