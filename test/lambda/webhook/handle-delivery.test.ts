// The webhook end to end: API Gateway events in, answers out, with the real DynamoStateStore on
// dynalite (signing as the webhook's role, with what the construct grants it) and in-memory ports
// for queue, configs and secret.

import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { createLogger } from '../../../lambda/common/logger';
import { DeliveryRecord } from '../../../lambda/core/delivery';
import { ConfigError } from '../../../lambda/core/errors';
import { DeliveryStore } from '../../../lambda/core/ports';
import { MAX_BODY_BYTES } from '../../../lambda/webhook/handle-delivery';
import { testConfig } from '../support/configs';
import { grantedRole } from '../support/construct-grants';
import { deliveryEvent, deliveryIdOf, githubSignature } from '../support/deliveries';
import { DynamoTestEngine, startDynalite } from '../support/dynalite';
import { capturePrinted } from '../support/in-memory-ports';
import { workflowJobPayload } from '../support/payloads';
import { RUNNER_NAME_PREFIX, TEST_HOST, TEST_SECRET, WebhookHarness, webhookHarness } from '../support/webhook-harness';

// As the construct writes them: priority 0, ordered as listed.
const CONFIGS = [
  testConfig('linux-x64', ['linux', 'x64'], 'org', { priority: 0, order: 0 }),
  testConfig('linux-x64-large', ['linux', 'x64', 'large'], 'org', { priority: 0, order: 1 }),
  testConfig('linux-arm64', ['linux', 'arm64'], 'org', { priority: 0, order: 2 }),
  testConfig('dependabot', ['dependabot'], 'org', { priority: 0, order: 3 }),
  testConfig('k8s', ['k8s'], 'repo', { priority: 0, order: 4 }),
];

const role = grantedRole('webhook');
let engine: DynamoTestEngine;
let h: WebhookHarness;

beforeAll(async () => {
  engine = await startDynalite({ asRole: role });
});
afterAll(async () => {
  await engine.stop();
});
beforeEach(async () => {
  h = await webhookHarness(engine, { configs: CONFIGS });
});

function signed(payload: unknown, options: Parameters<typeof deliveryEvent>[1] = {}): APIGatewayProxyEventV2 {
  return deliveryEvent(JSON.stringify(payload), { secret: TEST_SECRET, ...options });
}

interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly raw: APIGatewayProxyStructuredResultV2;
}

async function send(event: APIGatewayProxyEventV2, handler = h.handler): Promise<Answer> {
  const raw = await handler(event);
  return { status: raw.statusCode!, body: JSON.parse(raw.body!) as Record<string, unknown>, raw };
}

function jobItem(items: Record<string, unknown>[], jobId: number): Record<string, unknown> | undefined {
  return items.find((i) => i.pk === `JOB#${TEST_HOST}#${jobId}`);
}

describe('accepting workflow_job deliveries', () => {
  test('a queued job for a routed label set is accepted: one pool message, the job and the delivery recorded', async () => {
    const event = signed(workflowJobPayload({ action: 'queued', jobId: 101, labels: ['self-hosted', 'Linux', 'X64'] }));

    const { status, body } = await send(event);

    expect(status).toBe(202);
    expect(body).toMatchObject({ jobId: 101, poolId: 'octo-org#linux-x64', configName: 'linux-x64' });
    expect(h.queue.messages).toEqual([{
      version: 1,
      poolId: 'octo-org#linux-x64',
      configName: 'linux-x64',
      scope: { kind: 'org', org: 'octo-org' },
      reason: 'workflow_job.queued',
      deliveryId: deliveryIdOf(event),
    }]);
    const items = await h.items();
    expect(items).toHaveLength(2);
    expect(jobItem(items, 101)).toMatchObject({
      sk: 'JOB',
      state: 'queued',
      stateRank: 1,
      jobId: 101,
      runId: 940463255,
      runAttempt: 1,
      repo: 'octo-org/example-workflow',
      org: 'octo-org',
      labels: ['self-hosted', 'Linux', 'X64'],
      configName: 'linux-x64',
      poolId: 'octo-org#linux-x64',
      poolSort: 'JOB#queued#101',
    });
    expect(items.find((i) => i.pk === `DELIVERY#${deliveryIdOf(event)}`)).toMatchObject({ sk: 'DELIVERY', event: 'workflow_job', action: 'queued', answerStatus: 202 });
    expect(h.metrics.accepted).toEqual([{ configName: 'linux-x64', state: 'queued' }]);
  });

  test('a job two configs match equally well goes to the one listed first, or to the one of higher priority', async () => {
    const tied = signed(workflowJobPayload({ action: 'queued', jobId: 121, labels: ['self-hosted', 'linux'] }));

    expect((await send(tied)).body).toMatchObject({ jobId: 121, configName: 'linux-x64' });

    const armPreferred = h.newContainer([CONFIGS[0], testConfig('linux-arm64', ['linux', 'arm64'], 'org', { priority: 1, order: 2 })]);
    const answer = await send(signed(workflowJobPayload({ action: 'queued', jobId: 122, labels: ['linux'] })), armPreferred);
    expect(answer.body).toMatchObject({ jobId: 122, configName: 'linux-arm64' });
    expect(h.queue.messages.map((m) => m.configName)).toEqual(['linux-x64', 'linux-arm64']);
    expect(h.metrics.ignored).toEqual([]);
  });

  test('a job routed by a tie logs the winner and the configs it beat', async () => {
    const printed = await capturePrinted(async () => {
      h = await webhookHarness(engine, { configs: CONFIGS, logger: createLogger({ serviceName: 'webhook-test' }) });
      await send(signed(workflowJobPayload({ action: 'queued', jobId: 123, labels: ['linux'] })));
    });

    const lines = printed.join('').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.find((l) => String(l.message).startsWith('job labels match several runner configs equally well'))).toMatchObject({
      level: 'INFO', jobId: 123, config: 'linux-x64', tiedWith: ['linux-arm64'],
    });
  });

  test('a duplicate delivery gets the same answer, sends no second message and changes nothing', async () => {
    const event = signed(workflowJobPayload({ action: 'queued', jobId: 102 }));
    const first = await send(event);
    const itemsAfterFirst = await h.items();
    h.clock.advance(60_000);

    const second = await send(event);

    expect(second.status).toBe(first.status);
    expect(second.raw.body).toBe(first.raw.body);
    expect(h.queue.messages).toHaveLength(1);
    expect(await h.items()).toEqual(itemsAfterFirst);
  });

  test('a redelivery after a crash between the job write and the message still sends the message', async () => {
    const event = signed(workflowJobPayload({ action: 'queued', jobId: 103 }));
    h.queue.failNext = 1;

    const crashed = await send(event);

    expect(crashed.status).toBe(500);
    expect(h.queue.messages).toHaveLength(0);
    const afterCrash = await h.items();
    expect(afterCrash.map((i) => i.pk)).toEqual([`JOB#${TEST_HOST}#103`]);

    const redelivered = await send(event);

    expect(redelivered.status).toBe(202);
    expect(h.queue.messages.map((m) => m.poolId)).toEqual(['octo-org#linux-x64']);
    expect((await h.items()).some((i) => i.pk === `DELIVERY#${deliveryIdOf(event)}`)).toBe(true);
  });

  test('a redelivery after a crash between the message and the delivery record is answered, with one more message at most', async () => {
    let failures = 1;
    h = await webhookHarness(engine, {
      configs: CONFIGS,
      deliveries: (store): DeliveryStore => ({
        getDelivery: (id) => store.getDelivery(id),
        recordDelivery: async (record: DeliveryRecord) => {
          if (failures-- > 0) throw new Error('simulated DynamoDB outage');
          return store.recordDelivery(record);
        },
      }),
    });
    const event = signed(workflowJobPayload({ action: 'queued', jobId: 104 }));

    expect((await send(event)).status).toBe(500);
    expect((await send(event)).status).toBe(202);
    expect((await send(event)).status).toBe(202);

    expect(h.queue.messages).toHaveLength(2);
    expect(jobItem(await h.items(), 104)).toMatchObject({ state: 'queued' });
  });

  test('a job that starts reports how long it waited since it was queued; one first seen in progress reports nothing', async () => {
    await send(signed(workflowJobPayload({ action: 'queued', jobId: 110 })));
    h.clock.advance(42_000);
    await send(signed(workflowJobPayload({ action: 'in_progress', jobId: 110, runnerName: 'er-i-0123' })));
    await send(signed(workflowJobPayload({ action: 'in_progress', jobId: 111, runnerName: 'er-i-0456' })));

    expect(h.metrics.started).toEqual([{ configName: 'linux-x64', waitSeconds: 42 }]);
  });

  test('a started job\'s wait is told by how its runner came up: started from the warm pool, launched for it, or unknown (not ours)', async () => {
    const runner = (instanceId: string, claimedAt?: number) => ({
      instanceId,
      state: 'registered' as const,
      market: 'on-demand' as const,
      launchedAt: claimedAt ?? h.clock.now(),
      poolId: 'octo-org#linux-x64',
      configName: 'linux-x64',
      scope: { kind: 'org' as const, org: 'octo-org' },
      runnerName: `${RUNNER_NAME_PREFIX}${instanceId}`,
      ...(claimedAt === undefined ? {} : { claimedAt }),
      updatedAt: h.clock.now(),
      version: 1,
    });
    await h.runners.putRunner(runner('i-0aaaaaaaaaaaaaab1', h.clock.now()));
    await h.runners.putRunner(runner('i-0aaaaaaaaaaaaaab2'));
    for (const jobId of [130, 131, 132]) await send(signed(workflowJobPayload({ action: 'queued', jobId })));
    h.clock.advance(12_000);

    await send(signed(workflowJobPayload({ action: 'in_progress', jobId: 130, runnerName: `${RUNNER_NAME_PREFIX}i-0aaaaaaaaaaaaaab1` })));
    await send(signed(workflowJobPayload({ action: 'in_progress', jobId: 131, runnerName: `${RUNNER_NAME_PREFIX}i-0aaaaaaaaaaaaaab2` })));
    await send(signed(workflowJobPayload({ action: 'in_progress', jobId: 132, runnerName: 'someone-elses-runner' })));

    expect(h.metrics.started).toEqual([
      { configName: 'linux-x64', waitSeconds: 12, start: 'warm' },
      { configName: 'linux-x64', waitSeconds: 12, start: 'cold' },
      { configName: 'linux-x64', waitSeconds: 12 },
    ]);
  });

  test('a job that starts marks its runner busy at once; a runner of another pool has that pool handed over too; a name not ours is left alone', async () => {
    const runner = (instanceId: string, poolId: string) => ({
      instanceId,
      state: 'registered' as const,
      market: 'spot' as const,
      launchedAt: h.clock.now(),
      poolId,
      configName: poolId.split('#')[1],
      scope: { kind: 'org' as const, org: 'octo-org' },
      runnerName: `${RUNNER_NAME_PREFIX}${instanceId}`,
      updatedAt: h.clock.now(),
      version: 1,
    });
    await h.runners.putRunner(runner('i-0aaaaaaaaaaaaaaa1', 'octo-org#linux-x64'));
    await h.runners.putRunner(runner('i-0aaaaaaaaaaaaaaa2', 'octo-org#other'));

    await send(signed(workflowJobPayload({ action: 'queued', jobId: 120 })));
    await send(signed(workflowJobPayload({ action: 'in_progress', jobId: 120, runnerName: `${RUNNER_NAME_PREFIX}i-0aaaaaaaaaaaaaaa1` })));
    await send(signed(workflowJobPayload({ action: 'in_progress', jobId: 121, runnerName: `${RUNNER_NAME_PREFIX}i-0aaaaaaaaaaaaaaa2` })));
    await send(signed(workflowJobPayload({ action: 'in_progress', jobId: 122, runnerName: 'someone-elses-runner' })));

    expect(await h.runners.getRunner('i-0aaaaaaaaaaaaaaa1')).toMatchObject({ state: 'busy', job: { githubHost: TEST_HOST, jobId: 120 } });
    expect(await h.runners.getRunner('i-0aaaaaaaaaaaaaaa2')).toMatchObject({ state: 'busy', job: { githubHost: TEST_HOST, jobId: 121 } });
    expect(h.queue.messages.filter((m) => m.reason === 'runner-busy').map((m) => m.poolId)).toEqual(['octo-org#other']);
  });

  test('a job that starts leaves the queued count only once its runner is busy, so no reader sees the job gone and the runner idle', async () => {
    // Arrange: the job store, as the function uses it, records the runner's state as each job moves.
    const seen: string[] = [];
    const watched = await webhookHarness(engine, {
      configs: CONFIGS,
      jobs: (store) => Object.assign(Object.create(store) as typeof store, {
        applyJobTransition: async (t: Parameters<typeof store.applyJobTransition>[0]) => {
          seen.push(`${t.to}: runner ${(await watched.runners.getRunner('i-0aaaaaaaaaaaaaaa3'))?.state}`);
          return store.applyJobTransition(t);
        },
      }),
    });
    await watched.runners.putRunner({
      instanceId: 'i-0aaaaaaaaaaaaaaa3',
      state: 'registered',
      market: 'spot',
      launchedAt: watched.clock.now(),
      poolId: 'octo-org#linux-x64',
      configName: 'linux-x64',
      scope: { kind: 'org', org: 'octo-org' },
      runnerName: `${RUNNER_NAME_PREFIX}i-0aaaaaaaaaaaaaaa3`,
      updatedAt: watched.clock.now(),
      version: 1,
    });

    // Act
    await send(signed(workflowJobPayload({ action: 'queued', jobId: 130 })), watched.handler);
    await send(signed(workflowJobPayload({ action: 'in_progress', jobId: 130, runnerName: `${RUNNER_NAME_PREFIX}i-0aaaaaaaaaaaaaaa3` })), watched.handler);

    // Assert
    expect(seen).toEqual(['queued: runner registered', 'in_progress: runner busy']);
    expect(await watched.store.listActiveJobs('octo-org#linux-x64', 'in_progress')).toHaveLength(1);
  });

  test('a job keeps the App installation its first delivery came from, for the provisioner to get its runners\' token ahead', async () => {
    const payload = workflowJobPayload({ action: 'queued', jobId: 131 });

    await send(signed(payload));

    expect(payload.installation).toEqual(expect.objectContaining({ id: 5 }));
    expect(jobItem(await h.items(), 131)).toMatchObject({ installationId: 5 });
    const [job] = await h.store.listActiveJobs('octo-org#linux-x64', 'queued');
    expect(job.installationId).toBe(5);
  });

  test('a job keeps its workflow\'s name for cost allocation; a name of any shape never fails the delivery', async () => {
    const named = workflowJobPayload({ action: 'queued', jobId: 132 });
    const hostile = workflowJobPayload({ action: 'queued', jobId: 133 });
    (hostile.workflow_job as Record<string, unknown>).workflow_name = `aws:<script>${'\u{1F680}'.repeat(2000)}`;
    const odd = workflowJobPayload({ action: 'queued', jobId: 134 });
    (odd.workflow_job as Record<string, unknown>).workflow_name = { not: 'a string' };

    const answers = [await send(signed(named)), await send(signed(hostile)), await send(signed(odd))];

    expect(answers.map((a) => a.status)).toEqual([202, 202, 202]);
    expect(jobItem(await h.items(), 132)).toMatchObject({ workflowName: 'CI' });
    expect(String(jobItem(await h.items(), 133)?.workflowName)).toHaveLength(1024);
    expect(jobItem(await h.items(), 134)).not.toHaveProperty('workflowName');
  });

  test('in_progress delivered before queued leaves the job in_progress', async () => {
    await send(signed(workflowJobPayload({ action: 'in_progress', jobId: 105, runnerName: 'er-i-0123' })));
    const late = await send(signed(workflowJobPayload({ action: 'queued', jobId: 105 })));

    expect(late.status).toBe(202);
    expect(jobItem(await h.items(), 105)).toMatchObject({ state: 'in_progress', runnerName: 'er-i-0123', poolSort: 'JOB#in_progress#105' });
    expect(await h.store.listActiveJobs('octo-org#linux-x64', 'queued')).toEqual([]);
  });

  test('completed takes the job out of the pool index', async () => {
    await send(signed(workflowJobPayload({ action: 'queued', jobId: 106 })));
    expect(await h.store.listActiveJobs('octo-org#linux-x64')).toHaveLength(1);

    const done = await send(signed(workflowJobPayload({ action: 'completed', jobId: 106, conclusion: 'cancelled', runnerName: '' })));

    expect(done.status).toBe(202);
    expect(await h.store.listActiveJobs('octo-org#linux-x64')).toEqual([]);
    const item = jobItem(await h.items(), 106)!;
    expect(item).toMatchObject({ state: 'completed', conclusion: 'cancelled', pool: 'octo-org#linux-x64' });
    expect(item).not.toHaveProperty('poolId');
    expect(item).not.toHaveProperty('runnerName');
    expect(item.expiresAt).toBe(Math.floor(h.clock.now() / 1000) + 7 * 24 * 3600);
    expect(h.queue.messages.map((m) => m.reason)).toEqual(['workflow_job.queued', 'workflow_job.completed']);
  });

  test('a dependabot job without self-hosted is accepted', async () => {
    expect((await send(signed(workflowJobPayload({ jobId: 107, labels: ['dependabot'] })))).status).toBe(202);
    expect(h.queue.messages[0].configName).toBe('dependabot');
  });

  test('a user-owned repository pools an org config at the repository', async () => {
    await send(signed(workflowJobPayload({ jobId: 108, owner: 'Octocat', repo: 'Hello-World', org: null })));
    expect(h.queue.messages[0]).toMatchObject({ poolId: 'octocat/hello-world#linux-x64', scope: { kind: 'repo', owner: 'octocat', repo: 'hello-world' } });
  });

  test('a form-encoded delivery is accepted (the signature covers the raw form body)', async () => {
    const body = `payload=${encodeURIComponent(JSON.stringify(workflowJobPayload({ jobId: 109 })))}`;
    const event = deliveryEvent(body, { secret: TEST_SECRET, contentType: 'application/x-www-form-urlencoded' });

    expect((await send(event)).status).toBe(202);
    expect(jobItem(await h.items(), 109)).toMatchObject({ state: 'queued' });
  });

  test('a base64-encoded body is accepted', async () => {
    const payload = workflowJobPayload({ jobId: 110 });
    // Non-ASCII text: the signature covers the UTF-8 bytes.
    (payload.workflow_job as Record<string, unknown>).name = 'build ✓ 日本語';
    expect((await send(signed(payload, { base64: true }))).status).toBe(202);
  });

  test('a completed job that no config matches any more still closes, in the pool it was routed to', async () => {
    await send(signed(workflowJobPayload({ action: 'queued', jobId: 111, labels: ['k8s'] })));
    const afterConfigChange = h.newContainer([testConfig('linux-x64', ['linux', 'x64'])]);

    const done = await send(signed(workflowJobPayload({ action: 'completed', jobId: 111, labels: ['k8s'] })), afterConfigChange);

    expect(done.status).toBe(202);
    expect(jobItem(await h.items(), 111)).toMatchObject({ state: 'completed', pool: 'octo-org/example-workflow#k8s' });
    expect(h.queue.messages.map((m) => m.poolId)).toEqual(['octo-org/example-workflow#k8s', 'octo-org/example-workflow#k8s']);
  });
});

describe('events the webhook answers without acting', () => {
  test.each<[string, APIGatewayProxyEventV2 | (() => APIGatewayProxyEventV2), number, string]>([
    ['ping', () => signed({ zen: 'Design for failure.', hook_id: 1, hook: { type: 'App', app_id: 12 } }, { event: 'ping' }), 200, 'pong'],
    ['another event', () => signed({ action: 'opened' }, { event: 'pull_request' }), 200, 'event pull_request ignored'],
    ['waiting', () => signed(workflowJobPayload({ action: 'waiting', jobId: 201 })), 200, 'workflow_job.waiting ignored'],
    ['labels no config matches', () => signed(workflowJobPayload({ jobId: 202, labels: ['ubuntu-latest'] })), 200, 'no runner config matches labels ["ubuntu-latest"]'],
    ['a look-alike label (Kelvin sign)', () => signed(workflowJobPayload({ jobId: 203, labels: ['\u212A8s'] })), 200, 'no runner config matches'],
    ['an in_progress job nobody routed', () => signed(workflowJobPayload({ action: 'in_progress', jobId: 205, labels: ['ubuntu-latest'] })), 200, 'no runner config matches'],
  ])('%s: 200, nothing written, no message', async (_, make, status, message) => {
    const event = typeof make === 'function' ? make() : make;

    const answer = await send(event);

    expect(answer.status).toBe(status);
    expect(answer.body.message).toContain(message);
    expect(await h.items()).toEqual([]);
    expect(h.queue.messages).toEqual([]);
  });

  test('a job tied between configs of an older deployment (no priority and order): 200, ambiguous, nothing written, and the fix named', async () => {
    const older = h.newContainer([testConfig('linux-x64', ['linux', 'x64']), testConfig('linux-arm64', ['linux', 'arm64'])]);

    const answer = await send(signed(workflowJobPayload({ jobId: 204, labels: ['linux'] })), older);

    expect(answer.status).toBe(200);
    expect(answer.body.message).toMatch(/match runner configs linux-x64, linux-arm64 equally well, and their parameters carry no priority and order.*Redeploy the construct/);
    expect(await h.items()).toEqual([]);
    expect(h.queue.messages).toEqual([]);
    expect(h.metrics.ignored).toEqual(['ambiguous']);
  });

  test('ignored events are counted by reason', async () => {
    await send(signed({ action: 'opened' }, { event: 'issues' }));
    await send(signed(workflowJobPayload({ jobId: 206, labels: ['ubuntu-latest'] })));
    expect(h.metrics.ignored).toEqual(['event', 'unmatched']);
  });
});

describe('bad input gets a clear error and writes nothing', () => {
  const payload = workflowJobPayload({ jobId: 301 });
  const body = JSON.stringify(payload);

  function withJob(change: (job: Record<string, unknown>) => void): Record<string, unknown> {
    const p = workflowJobPayload({ jobId: 302 });
    change(p.workflow_job as Record<string, unknown>);
    return p;
  }

  test.each<[string, () => APIGatewayProxyEventV2, number, string]>([
    ['no signature', () => deliveryEvent(body), 401, 'X-Hub-Signature-256 header missing'],
    ['one byte of the body changed', () => {
      const event = signed(payload);
      return { ...event, body: event.body!.replace('"queued"', '"queueD"') };
    }, 401, 'does not match'],
    ['a signature made with another secret', () => deliveryEvent(body, { secret: 'not the secret' }), 401, 'does not match'],
    ['a sha1 signature only', () => deliveryEvent(body, { extraHeaders: { 'x-hub-signature': `sha1=${'0'.repeat(40)}` } }), 401, 'header missing'],
    ['a malformed signature', () => deliveryEvent(body, { signature: 'sha256=zz' }), 401, 'does not match'],
    ['a body above 1 MiB', () => deliveryEvent('x'.repeat(MAX_BODY_BYTES + 1), { secret: TEST_SECRET }), 413, 'at most 1048576'],
    ['an unsigned body above 1 MiB', () => deliveryEvent('x'.repeat(MAX_BODY_BYTES + 1)), 413, 'at most 1048576'],
    ['a base64 body above 1 MiB', () => deliveryEvent('x'.repeat(MAX_BODY_BYTES + 1), { secret: TEST_SECRET, base64: true }), 413, 'at most'],
    ['an empty body', () => deliveryEvent('', { signature: 'sha256=00' }), 400, 'body is empty'],
    ['malformed JSON', () => deliveryEvent('{"action": "queued",', { secret: TEST_SECRET }), 400, 'not valid JSON'],
    ['a JSON array', () => deliveryEvent('[1]', { secret: TEST_SECRET }), 400, 'JSON object'],
    ['no X-GitHub-Event', () => signed(payload, { event: null }), 400, 'X-GitHub-Event header is missing'],
    ['no X-GitHub-Delivery', () => signed(payload, { deliveryId: null }), 400, 'X-GitHub-Delivery header is missing'],
    ['a delivery id with #', () => signed(payload, { deliveryId: 'a#b' }), 400, 'X-GitHub-Delivery'],
    ['a form body without payload', () => deliveryEvent('other=1', { secret: TEST_SECRET, contentType: 'application/x-www-form-urlencoded' }), 400, 'no `payload` field'],
    ['an unsupported content type', () => signed(payload, { contentType: 'text/xml' }), 415, 'application/json'],
    ['no action', () => signed({ ...payload, action: undefined }), 400, 'action must be a string'],
    ['no workflow_job', () => signed({ ...payload, workflow_job: undefined }), 400, 'workflow_job must be an object'],
    ['no job id', () => signed(withJob((j) => delete j.id)), 400, 'workflow_job.id must be a positive integer'],
    ['a job id beyond 2^53', () => deliveryEvent(body.replace('"id":301', '"id":12345678901234567890'), { secret: TEST_SECRET }), 400, 'workflow_job.id'],
    ['no run id', () => signed(withJob((j) => delete j.run_id)), 400, 'workflow_job.run_id'],
    ['labels not an array', () => signed(withJob((j) => (j.labels = 'linux'))), 400, 'workflow_job.labels must be an array of strings'],
    ['a label that is not a string', () => signed(withJob((j) => (j.labels = ['linux', 1]))), 400, 'workflow_job.labels'],
    ['too many labels', () => signed(withJob((j) => (j.labels = Array.from({ length: 300 }, () => 'linux')))), 400, 'at most 256'],
    ['no repository', () => signed({ ...payload, repository: undefined }), 400, 'repository must be an object'],
    ['an owner login with #', () => signed(workflowJobPayload({ owner: 'octo#org', org: null })), 400, 'repository.owner.login'],
    ['an owner login with a newline', () => signed(workflowJobPayload({ owner: 'octo\norg', org: null })), 400, 'repository.owner.login'],
    ['a repository name with /', () => signed(workflowJobPayload({ repo: 'a/b' })), 400, 'repository.name'],
    ['the repository name ..', () => signed(workflowJobPayload({ repo: '..' })), 400, 'repository.name'],
    ['a look-alike letter in the org login', () => signed(workflowJobPayload({ owner: 'octo', org: 'o\u212Ato' })), 400, 'organization.login'],
    ['an organization without login', () => signed({ ...payload, organization: { id: 4 } }), 400, 'organization.login'],
    ['a runner name that is not a string', () => signed(withJob((j) => (j.runner_name = 5))), 400, 'workflow_job.runner_name'],
    ['GET instead of POST', () => signed(payload, { method: 'GET' }), 405, 'POST'],
  ])('%s', async (_, make, status, message) => {
    const answer = await send(make());

    expect(answer.status).toBe(status);
    expect(answer.body.message).toContain(message);
    expect(answer.raw.headers).toEqual({ 'content-type': 'application/json' });
    expect(await h.items()).toEqual([]);
    expect(h.queue.messages).toEqual([]);
  });

  test('no error answer echoes the signature or the secret', async () => {
    const event = deliveryEvent(body, { secret: 'not the secret' });
    const answer = await send(event);
    expect(answer.raw.body).not.toContain(event.headers['x-hub-signature-256']!.slice(7));
    expect(answer.raw.body).not.toContain(TEST_SECRET);
  });
});

describe('the webhook secret', () => {
  test('a secret that was never set gets 503 naming the parameter, and writes nothing', async () => {
    h = await webhookHarness(engine, { configs: CONFIGS, secret: undefined });

    const answer = await send(signed(workflowJobPayload()));

    expect(answer.status).toBe(503);
    expect(answer.body.message).toContain('/test/webhook-secret');
    expect(await h.items()).toEqual([]);
  });

  test('a rotated secret is re-read once the cached one is older than 5 minutes', async () => {
    expect((await send(signed(workflowJobPayload({ jobId: 401 })))).status).toBe(202);
    h.secretSource.secret = 'rotated secret';
    const rotated = (jobId: number) => deliveryEvent(JSON.stringify(workflowJobPayload({ jobId })), { secret: 'rotated secret' });

    expect((await send(rotated(402))).status).toBe(401);
    expect(h.secretSource.reads).toBe(1);

    h.clock.advance(5 * 60 * 1000 + 1);
    expect((await send(rotated(403))).status).toBe(202);
    expect(h.secretSource.reads).toBe(2);

    // A forged request right after the re-read does not cause another.
    expect((await send(deliveryEvent('{}', { secret: 'forged' }))).status).toBe(401);
    expect(h.secretSource.reads).toBe(2);
  });
});

describe('runner configs', () => {
  test('unusable configs answer 500 naming the parameter, write nothing, and are read again on the next delivery', async () => {
    h.configSource.failure = new ConfigError('runner config parameter /runners/configs/broken: `spot` must be one of ...', '/runners/configs/broken');
    const event = signed(workflowJobPayload({ jobId: 501 }));

    const answer = await send(event);

    expect(answer.status).toBe(500);
    expect(answer.body.message).toContain('/runners/configs/broken');
    expect(await h.items()).toEqual([]);

    h.configSource.failure = undefined;
    expect((await send(event)).status).toBe(202);
  });

  test('configs are read once per container', async () => {
    await send(signed(workflowJobPayload({ jobId: 502 })));
    await send(signed(workflowJobPayload({ jobId: 503 })));
    expect(h.configSource.loads).toBe(1);
  });

  test('ping and other events do not need the configs', async () => {
    h.configSource.failure = new ConfigError('broken');
    expect((await send(signed({ zen: 'z' }, { event: 'ping' }))).status).toBe(200);
  });
});

describe('logs', () => {
  test('log lines are JSON with the delivery, job and pool, and never hold the secret, a signature or a computed HMAC', async () => {
    const payload = workflowJobPayload({ jobId: 601 });
    const good = signed(payload);
    const forged = deliveryEvent(JSON.stringify(workflowJobPayload({ jobId: 602 })), { secret: 'another secret' });
    const tampered = { ...signed(payload), body: good.body!.replace('601', '609') };
    const secrets = [
      TEST_SECRET,
      'another secret',
      ...[good, forged, tampered].map((e) => e.headers['x-hub-signature-256']!.slice('sha256='.length)),
      githubSignature(TEST_SECRET, forged.body!).slice('sha256='.length),
      githubSignature(TEST_SECRET, tampered.body!).slice('sha256='.length),
    ];

    const printed = await capturePrinted(async () => {
      const logger = createLogger({ serviceName: 'webhook-test', logLevel: 'DEBUG' });
      h = await webhookHarness(engine, { configs: CONFIGS, logger });
      for (const event of [good, forged, tampered, good]) await h.handler(event);
    });

    const lines = printed.join('').split('\n').filter((l) => l.trim() !== '');
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) {
      expect(() => JSON.parse(line)).not.toThrow();
      for (const secret of secrets) expect(line).not.toContain(secret);
    }
    const accepted = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.message === 'job event accepted');
    expect(accepted).toMatchObject({ deliveryId: deliveryIdOf(good), jobId: 601, poolId: 'octo-org#linux-x64', level: 'INFO' });
  });
});

describe('the webhook\'s role', () => {
  test('without dynamodb:PutItem, which the construct grants, a delivery fails with DynamoDB\'s AccessDeniedException and is not recorded', async () => {
    const event = signed(workflowJobPayload({ action: 'queued', jobId: 701 }));

    let answer: Answer | undefined;
    const printed = await capturePrinted(async () => {
      h = await webhookHarness(engine, { configs: CONFIGS, logger: createLogger({ serviceName: 'webhook-test' }) });
      answer = await role.without(['dynamodb:PutItem'], () => send(event));
    });

    expect(answer?.status).toBe(500);
    expect(printed.join('')).toContain('AccessDeniedException');
    expect(printed.join('')).toContain('is not authorized to perform: dynamodb:PutItem');
    expect((await h.items()).some((i) => i.pk === `DELIVERY#${deliveryIdOf(event)}`)).toBe(false);
    // With the grant back, GitHub's redelivery of the same delivery is accepted.
    expect((await send(event)).status).toBe(202);
  });
});
