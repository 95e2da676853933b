// Webhook deliveries: GitHub's headers and signatures, payloads shaped like the ghes-3.x examples with
// the docs' null rules, every attempt recorded and listed by the deliveries API (newest first, cursor
// pages, status filter), redelivery with the same GUID, no automatic retries, and seeded faults.
import { createHmac } from 'crypto';
import { IncomingHttpHeaders } from 'http';
import { client, OctokitClient, testKey, verifyWebhookSignature } from './octokit';
import { listenOnLoopback, LoopbackServer, readBody } from '../../../sandbox/common/http';
import { ScaledClock } from '../../../sandbox/common/time';
import { DeliveryRecord, GhesSimulator, GhesSimulatorOptions } from '../../../sandbox/ghes';

const ORG = 'octo-org';
const SECRET = "It's a Secret to Everybody";

interface Received {
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  readonly payload: Record<string, unknown> & { action: string; workflow_job: Record<string, unknown> };
}

/** A webhook receiver; `answer` decides the status of each delivery (never answering if it returns 'hang'). */
async function receiver(answer: (n: number) => number | 'hang' = () => 200): Promise<LoopbackServer & { received: Received[] }> {
  const received: Received[] = [];
  const server = await listenOnLoopback(async (req, res) => {
    const body = (await readBody(req)).toString('utf8');
    received.push({ headers: req.headers, body, payload: JSON.parse(body) as Received['payload'] });
    const status = answer(received.length);
    if (status !== 'hang') res.writeHead(status).end('thanks');
  });
  return Object.assign(server, { received });
}

function examples(): { ghes: Record<string, unknown>; queued: Record<string, unknown> } {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const load = (set: string): { name: string; examples: Record<string, unknown>[] }[] => require(`@octokit/webhooks-examples/${set}/index.json`);
  const wj = (set: string): Record<string, unknown>[] => load(set).find((e) => e.name === 'workflow_job')!.examples;
  return { ghes: wj('ghes-35')[0], queued: wj('api.github.com').find((e) => e.action === 'queued')! };
}

describe('webhook deliveries', () => {
  let sim: GhesSimulator;
  let hook: Awaited<ReturnType<typeof receiver>>;
  let app: OctokitClient;

  async function startSim(answer?: (n: number) => number | 'hang', options: GhesSimulatorOptions = {}): Promise<void> {
    hook = await receiver(answer);
    sim = new GhesSimulator({
      privateKey: testKey(),
      clock: new ScaledClock(0.001),
      seed: 9,
      org: ORG,
      repos: ['app', 'alice/tool'],
      webhookUrl: `${hook.url}/webhook`,
      webhookSecret: SECRET,
      // GHES waits 30 s, which is 30 wall ms here: too short for a loaded test machine to answer in.
      webhookTimeoutMs: 10 * 60_000,
      ...options,
    });
    await sim.start();
    app = client(sim);
  }

  afterEach(async () => {
    await sim.stop();
    await hook.close();
  });

  test('a delivery carries GitHub\'s headers and both signatures of the raw body', async () => {
    await startSim();

    sim.queueJob('app', ['self-hosted'], 1000);
    await sim.deliveriesSettled();
    const [{ headers, body }] = hook.received;

    expect(headers).toMatchObject({
      'content-type': 'application/json',
      'x-github-event': 'workflow_job',
      'x-github-hook-id': expect.stringMatching(/^\d+$/),
      'x-github-hook-installation-target-type': 'integration',
      'x-github-hook-installation-target-id': String(sim.appId),
      'x-github-enterprise-host': '127.0.0.1',
      'x-github-enterprise-version': '3.19.0',
      'user-agent': expect.stringMatching(/^GitHub-Hookshot\/[0-9a-f]+$/),
      'x-github-delivery': expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
      'x-hub-signature-256': `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`,
      'x-hub-signature': `sha1=${createHmac('sha1', SECRET).update(body).digest('hex')}`,
    });
    expect(headers['x-github-hook-id']).not.toBe(String(sim.appId));
    expect(await verifyWebhookSignature(SECRET, body, String(headers['x-hub-signature-256']))).toBe(true);
  });

  test('workflow_job payloads have the examples\' fields, null runner fields while queued, and an App installation', async () => {
    await startSim();
    const { ghes, queued: queuedExample } = examples();
    const { data } = await client(sim, { installationId: sim.installationId(ORG) })
      .request('POST /orgs/{org}/actions/runners/generate-jitconfig', { org: ORG, name: 'r', runner_group_id: 1, labels: ['self-hosted'] });

    const job = sim.queueJob('app', ['self-hosted'], 1000);
    await sim.startRunner(data.encoded_jit_config).exit;
    sim.queueJob('alice/tool', ['self-hosted'], 1000);
    await sim.deliveriesSettled();
    const byAction = (repo: string, action: string): Received['payload'] =>
      hook.received.map((r) => r.payload).find((p) => p.action === action && (p.repository as { full_name: string }).full_name === repo)!;
    const queued = byAction(`${ORG}/app`, 'queued');

    const keys = (o: unknown): string[] => Object.keys(o as object).sort();
    expect(keys(queued)).toEqual(expect.arrayContaining(keys(ghes)));
    expect(keys(queued.workflow_job)).toEqual(expect.arrayContaining(keys(queuedExample.workflow_job)));
    expect(keys(queued.repository)).toEqual(expect.arrayContaining(keys(ghes.repository)));
    expect(queued.workflow_job).toMatchObject({
      id: job,
      status: 'queued',
      conclusion: null,
      completed_at: null,
      steps: [],
      labels: ['self-hosted'],
      runner_id: null,
      runner_name: null,
      runner_group_id: null,
      runner_group_name: null,
      run_attempt: 1,
    });
    expect(queued.installation).toEqual({ id: sim.installationId(ORG), node_id: expect.any(String) });
    expect(byAction(`${ORG}/app`, 'in_progress').workflow_job).toMatchObject({ status: 'in_progress', runner_name: 'r' });
    expect(byAction(`${ORG}/app`, 'completed').workflow_job).toMatchObject({ status: 'completed', conclusion: 'success' });
    // organization (and enterprise) only for an organization's repository
    expect(queued.organization).toMatchObject({ login: ORG });
    expect(byAction('alice/tool', 'queued').organization).toBeUndefined();
  });

  test('a failed delivery is listed by the deliveries API, is never retried, and redelivery sends the same GUID', async () => {
    await startSim((n) => (n === 1 ? 502 : 200));
    sim.queueJob('app', ['self-hosted'], 1000);
    await sim.deliveriesSettled();
    await sim.clock.sleep(10 * 60_000);

    const { data: failed } = await app.request('GET /app/hook/deliveries');
    const received = hook.received.length;
    const attempt = await app.request('POST /app/hook/deliveries/{delivery_id}/attempts', { delivery_id: Number(failed[0].id) });
    await sim.deliveriesSettled();
    const { data: all } = await app.request('GET /app/hook/deliveries');

    expect(received).toBe(1); // GitHub never retries on its own
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ status: 'Invalid HTTP Response: 502', status_code: 502, event: 'workflow_job', action: 'queued', redelivery: false });
    expect(attempt.status).toBe(202);
    expect(all[0]).toMatchObject({ guid: failed[0].guid, redelivery: true, status: 'OK', status_code: 200 });
    expect(all[0].id).not.toBe(failed[0].id);
    expect(hook.received.map((r) => r.headers['x-github-delivery'])).toEqual([failed[0].guid, failed[0].guid]);
  });

  test('the deliveries API lists newest first in cursor pages', async () => {
    await startSim();
    for (let i = 0; i < 5; i++) sim.queueJob('app', ['nobody'], 1000);
    await sim.deliveriesSettled();

    const first = await app.request('GET /app/hook/deliveries', { per_page: 2 });
    const next = /<([^>]+)>; rel="next"/.exec(first.headers.link ?? '')![1];
    const second = await app.request(`GET ${next.replace(sim.apiUrl, '')}`);

    const ids = sim.deliveries().map((d) => d.id).reverse();
    expect(first.data.map((d) => d.id)).toEqual(ids.slice(0, 2));
    expect(next).toContain('cursor=');
    expect((second.data as { id: number }[]).map((d) => d.id)).toEqual(ids.slice(2, 4));
    expect(sim.deliveries()[0]).toMatchObject({ event: 'workflow_job', payload: { action: 'queued' } });
  });

  test.each([
    { receiverCase: 'a receiver that never answers', answer: () => 'hang' as const, status: 'timed out' },
    { receiverCase: 'no receiver at all', answer: undefined, status: 'failed to connect to host' },
  ])('with $receiverCase the delivery is recorded as "$status" with status code 0', async ({ answer, status }) => {
    await startSim(answer, { webhookTimeoutMs: 30_000 });
    if (!answer) sim.setWebhookUrl('http://127.0.0.1:9/closed');

    sim.queueJob('app', ['self-hosted'], 1000);
    await sim.deliveriesSettled();
    const { data } = await app.request('GET /app/hook/deliveries');

    expect(data[0]).toMatchObject({ status, status_code: 0 });
  });

  test('a dropped delivery never reaches the receiver, is recorded as timed out, and can be redelivered', async () => {
    await startSim(undefined, { faults: { webhookDropRate: 1 } });
    sim.queueJob('app', ['self-hosted'], 1000);
    await sim.deliveriesSettled();
    const [dropped] = sim.deliveries();

    sim.setFaults({ webhookDropRate: 0 });
    await app.request('POST /app/hook/deliveries/{delivery_id}/attempts', { delivery_id: dropped.id });
    await sim.deliveriesSettled();

    expect(dropped).toMatchObject({ status: 'timed out', statusCode: 0 });
    expect(hook.received).toHaveLength(1);
    expect(hook.received[0].headers['x-github-delivery']).toBe(dropped.guid);
  });

  test('duplicated deliveries share a GUID; a held-back delivery arrives after a later one', async () => {
    // 1 simulated second = 50 ms: a held-back delivery waits at least that long.
    await startSim(undefined, { clock: new ScaledClock(0.05), faults: { webhookDuplicateRate: 1 } });
    const job = sim.queueJob('app', ['nobody'], 1000);
    await sim.deliveriesSettled();
    sim.setFaults({ webhookDuplicateRate: 0, webhookReorderRate: 1 });
    sim.queueJob('app', ['nobody'], 1000); // held back 1-10 s
    sim.setFaults({ webhookReorderRate: 0 });
    sim.cancelJob(job); // its `completed` overtakes the held-back `queued`
    await sim.deliveriesSettled();

    const guids = hook.received.map((r) => r.headers['x-github-delivery']);
    expect(guids[0]).toBe(guids[1]);
    expect(hook.received.map((r) => `${r.payload.workflow_job.id}:${r.payload.action}`)).toEqual([
      `${job}:queued`, `${job}:queued`, `${job}:completed`, `${job + 1}:queued`,
    ]);
  });

  test('the same seed replays the same faults and GUIDs', async () => {
    const run = async (): Promise<string[]> => {
      await startSim(undefined, { faults: { webhookDropRate: 0.5 } });
      for (let i = 0; i < 8; i++) sim.queueJob('app', ['nobody'], 1000);
      await sim.deliveriesSettled();
      const outcome = sim.deliveries().map((d: DeliveryRecord) => `${d.guid}:${d.status}`);
      await sim.stop();
      await hook.close();
      return outcome;
    };

    const [a, b] = [await run(), await run()];
    await startSim(); // for afterEach

    expect(a).toEqual(b);
    expect(new Set(a.map((s) => s.split(':')[1]))).toEqual(new Set(['OK', 'timed out']));
  });
});
