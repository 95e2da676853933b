// Runner configs for tests, built through the same parser the functions use.

import { parseRunnerConfigDocument, RunnerConfig } from '../../../lambda/core/runner-config';
import { routingLabels } from '../../../src/runner-labels';

/** A valid config document as the construct writes it, before parsing. */
export function configDocument(name: string, labels: readonly string[], scope: 'org' | 'repo' = 'org'): Record<string, unknown> {
  return {
    version: 1,
    name,
    labels: routingLabels(labels),
    runnerLabels: ['self-hosted', ...labels],
    instanceTypes: ['m7i.large', 'm6i.large'],
    spot: 'SPOT_PREFERRED',
    maxRunners: 10,
    scope,
    runnerGroupId: 1,
  };
}

export function testConfig(name: string, labels: readonly string[], scope: 'org' | 'repo' = 'org'): RunnerConfig {
  return parseRunnerConfigDocument(`/test/runner-configs/${name}`, configDocument(name, labels, scope));
}
