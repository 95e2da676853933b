// The workflow_job example payloads shipped in @octokit/webhooks-examples: the api.github.com set
// and every ghes-* set, discovered from the package rather than listed here.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface WorkflowJobExample {
  /** `api.github.com`, `ghes-35`, … */
  readonly set: string;
  readonly index: number;
  readonly action: string;
  readonly payload: Record<string, unknown>;
}

export function exampleSets(): string[] {
  const root = dirname(require.resolve('@octokit/webhooks-examples/package.json'));
  return readdirSync(root)
    .filter((entry) => entry === 'api.github.com' || /^ghes-\d+$/.test(entry))
    .filter((entry) => existsSync(join(root, entry, 'index.json')))
    .sort();
}

export function workflowJobExamples(): WorkflowJobExample[] {
  const root = dirname(require.resolve('@octokit/webhooks-examples/package.json'));
  const examples: WorkflowJobExample[] = [];
  for (const set of exampleSets()) {
    const definitions = JSON.parse(readFileSync(join(root, set, 'index.json'), 'utf8')) as { name: string; examples: Record<string, unknown>[] }[];
    for (const definition of definitions.filter((d) => d.name === 'workflow_job')) {
      definition.examples.forEach((payload, index) => examples.push({ set, index, action: String(payload.action), payload }));
    }
  }
  return examples;
}
