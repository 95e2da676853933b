// Every workflow_job example payload shipped in @octokit/webhooks-examples (api.github.com and all
// ghes-* sets), delivered signed, tampered, signed with another secret, and unsigned.

import { routingLabels } from '../../../src/runner-labels';
import { testConfig } from '../support/configs';
import { grantedRole } from '../support/construct-grants';
import { deliveryEvent } from '../support/deliveries';
import { DynamoTestEngine, startDynalite } from '../support/dynalite';
import { exampleSets, WorkflowJobExample, workflowJobExamples } from '../support/webhook-examples';
import { TEST_HOST, TEST_SECRET, webhookHarness } from '../support/webhook-harness';

// One config per label set the examples use; scopes of both kinds.
const CONFIGS = [
  testConfig('gpu-db', ['gpu', 'db-app', 'dc-03'], 'org'),
  testConfig('ubuntu', ['ubuntu-latest'], 'org'),
  testConfig('k8s', ['k8s'], 'repo'),
];

const examples = workflowJobExamples();
const name = (e: WorkflowJobExample) => `${e.set} #${e.index} ${e.action}`;

/** The pool the example should land in, worked out here from the payload by the documented rule. */
function expectedPool(payload: Record<string, unknown>): { poolId: string; configName: string } {
  const job = payload.workflow_job as { labels: string[] };
  const config = CONFIGS.find((c) => c.labels.join(',') === routingLabels(job.labels).join(','))!;
  const repository = payload.repository as { name: string; owner: { login: string } };
  const org = (payload.organization as { login?: string } | undefined)?.login;
  const scope = config.scope === 'org' && org ? org : `${repository.owner.login}/${repository.name}`;
  return { poolId: `${scope.toLowerCase()}#${config.name}`, configName: config.name };
}

let engine: DynamoTestEngine;

beforeAll(async () => {
  engine = await startDynalite({ asRole: grantedRole('webhook') });
});
afterAll(async () => {
  await engine.stop();
});

test('the examples come from the api.github.com set and from GHES sets', () => {
  expect(exampleSets()).toContain('api.github.com');
  expect(exampleSets().filter((s) => s.startsWith('ghes-')).length).toBeGreaterThanOrEqual(3);
  expect(new Set(examples.map((e) => e.set)).has('api.github.com')).toBe(true);
  expect(examples.some((e) => e.set.startsWith('ghes-'))).toBe(true);
  expect(new Set(examples.map((e) => e.action))).toEqual(new Set(['queued', 'in_progress', 'completed', 'waiting']));
});

describe.each(examples.map((e) => [name(e), e] as const))('example %s', (_, example) => {
  const body = JSON.stringify(example.payload);

  test('signed as GitHub signs it: accepted into its pool, or ignored if it is waiting', async () => {
    const h = await webhookHarness(engine, { configs: CONFIGS });

    const result = await h.handler(deliveryEvent(body, { secret: TEST_SECRET }));

    const items = await h.items();
    if (example.action === 'waiting') {
      expect(result.statusCode).toBe(200);
      expect(items).toEqual([]);
      expect(h.queue.messages).toEqual([]);
      return;
    }
    const { poolId, configName } = expectedPool(example.payload);
    const jobId = (example.payload.workflow_job as { id: number }).id;
    expect(result.statusCode).toBe(202);
    expect(h.queue.messages).toHaveLength(1);
    expect(h.queue.messages[0]).toMatchObject({ poolId, configName, reason: `workflow_job.${example.action}` });
    const job = items.find((i) => i.pk === `JOB#${TEST_HOST}#${jobId}`);
    expect(job).toMatchObject({ state: example.action, pool: poolId });
    expect(items).toHaveLength(2);
  });

  test.each([
    ['with one byte changed', () => {
      const event = deliveryEvent(body, { secret: TEST_SECRET });
      const i = event.body!.indexOf('"id":') + 5;
      return { ...event, body: `${event.body!.slice(0, i)}${event.body![i] === '9' ? '8' : '9'}${event.body!.slice(i + 1)}` };
    }],
    ['signed with another secret', () => deliveryEvent(body, { secret: 'another secret' })],
    ['unsigned', () => deliveryEvent(body)],
  ])('%s: 401 and nothing written', async (__, make) => {
    const h = await webhookHarness(engine, { configs: CONFIGS });

    const result = await h.handler(make());

    expect(result.statusCode).toBe(401);
    expect(await h.items()).toEqual([]);
    expect(h.queue.messages).toEqual([]);
  });
});
