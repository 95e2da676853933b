// Self-hosted runner routes through real Octokit: JIT registration and its errors, listing with
// pagination, delete (404, 422 while busy), and the removal of JIT runners that never connect.
import { client, failure, OctokitClient, testKey } from './octokit';
import { ScaledClock } from '../../../sandbox/common/time';
import { decodeJitConfig, GhesSimulator, GhesSimulatorOptions } from '../../../sandbox/ghes';

const ORG = 'octo-org';
const JIT_ORG = 'POST /orgs/{org}/actions/runners/generate-jitconfig';
const JIT_REPO = 'POST /repos/{owner}/{repo}/actions/runners/generate-jitconfig';

describe('self-hosted runners', () => {
  let sim: GhesSimulator;
  let octokit: OctokitClient;

  async function startSim(options: GhesSimulatorOptions = {}): Promise<void> {
    // 1 simulated second = 1 ms.
    sim = new GhesSimulator({ privateKey: testKey(), clock: new ScaledClock(0.001), seed: 11, org: ORG, repos: ['app', 'api'], ...options });
    await sim.start();
    octokit = client(sim, { installationId: sim.installationId(ORG) });
  }

  afterEach(() => sim.stop());

  const register = (name: string, labels = ['self-hosted', 'linux']): ReturnType<OctokitClient['request']> =>
    octokit.request(JIT_ORG, { org: ORG, name, runner_group_id: 1, labels });
  /** The organization runner with this id as the runner list shows it, if it is listed. */
  const listed = async (id: number): Promise<Record<string, unknown> | undefined> =>
    (await octokit.request('GET /orgs/{org}/actions/runners', { org: ORG })).data.runners.find((r) => r.id === id);

  test('generate-jitconfig registers an offline runner at once and returns a config a runner can decode', async () => {
    await startSim();

    const { status, data } = await octokit.request(JIT_REPO, {
      owner: ORG, repo: 'app', name: 'i-0abc', runner_group_id: 1, labels: ['self-hosted', 'Linux', 'gpu'], work_folder: '_w',
    });

    expect(status).toBe(201);
    expect(data.runner).toMatchObject({
      name: 'i-0abc',
      os: 'unknown',
      status: 'offline',
      busy: false,
      ephemeral: true,
      runner_group_id: 1,
      version: null,
      labels: [
        { name: 'self-hosted', type: 'read-only' }, { name: 'Linux', type: 'read-only' }, { name: 'gpu', type: 'custom' },
      ],
    });
    const files = JSON.parse(Buffer.from(data.encoded_jit_config, 'base64').toString()) as Record<string, string>;
    expect(Object.keys(files).sort()).toEqual(['.credentials', '.credentials_rsaparams', '.runner']);
    expect(decodeJitConfig(data.encoded_jit_config)).toMatchObject({
      agentId: data.runner.id, agentName: 'i-0abc', workFolder: '_w',
    });
  });

  test('a runner name already taken in the scope is refused with 409; the other scope may use it', async () => {
    await startSim();
    await register('dup');

    const again = await failure(register('dup'));
    const atRepo = await octokit.request(JIT_REPO, { owner: ORG, repo: 'app', name: 'dup', runner_group_id: 1, labels: ['x'] });

    expect([again.status, again.message]).toEqual([409, expect.stringContaining('Already exists - A runner with the name dup already exists.')]);
    expect(atRepo.status).toBe(201);
  });

  test.each([
    ['no labels', { name: 'r', runner_group_id: 1 }],
    ['an empty label list', { name: 'r', runner_group_id: 1, labels: [] }],
    ['101 labels', { name: 'r', runner_group_id: 1, labels: Array.from({ length: 101 }, (_, i) => `l${i}`) }],
    ['an empty label', { name: 'r', runner_group_id: 1, labels: ['ok', ''] }],
    ['no name', { runner_group_id: 1, labels: ['x'] }],
    ['a runner group id that is not an integer', { name: 'r', runner_group_id: '1', labels: ['x'] }],
  ])('generate-jitconfig with %s is refused with 422 and registers nothing', async (_case, body) => {
    await startSim();

    const refused = await failure(octokit.request(JIT_ORG, { org: ORG, ...(body as object) } as never));

    expect(refused.status).toBe(422);
    expect(sim.runners()).toEqual([]);
  });

  test('a runner group that does not exist is 404', async () => {
    await startSim();

    const refused = await failure(octokit.request(JIT_ORG, { org: ORG, name: 'r', runner_group_id: 7, labels: ['x'] }));

    expect(refused.status).toBe(404);
  });

  test('the runner list is paged with per_page and page', async () => {
    await startSim();
    for (const n of [1, 2, 3, 4, 5]) await register(`runner-${n}`);

    const first = await octokit.request('GET /orgs/{org}/actions/runners', { org: ORG, per_page: 2 });
    const last = await octokit.request('GET /orgs/{org}/actions/runners', { org: ORG, per_page: 2, page: 3 });

    expect(first.data.total_count).toBe(5);
    expect(first.data.runners.map((r) => r.name)).toEqual(['runner-1', 'runner-2']);
    expect(last.data.runners.map((r) => r.name)).toEqual(['runner-5']);
  });

  test('a runner is listed in its own scope only and can be deleted there; then it is 404, as in another scope', async () => {
    await startSim();
    const { data } = await register('to-delete');
    const id = data.runner.id;

    const inOrg = await listed(id);
    const { data: inRepo } = await octokit.request('GET /repos/{owner}/{repo}/actions/runners', { owner: ORG, repo: 'app' });
    const otherScope = await failure(octokit.request('DELETE /repos/{owner}/{repo}/actions/runners/{runner_id}', { owner: ORG, repo: 'app', runner_id: id }));
    const deleted = await octokit.request('DELETE /orgs/{org}/actions/runners/{runner_id}', { org: ORG, runner_id: id });
    const gone = await listed(id);
    const deleteAgain = await failure(octokit.request('DELETE /orgs/{org}/actions/runners/{runner_id}', { org: ORG, runner_id: id }));

    expect(inOrg).toMatchObject({ name: 'to-delete' });
    expect(inRepo.total_count).toBe(0);
    expect(gone).toBeUndefined();
    expect([otherScope.status, deleted.status, deleteAgain.status]).toEqual([404, 204, 404]);
  });

  test('deleting a runner while it runs a job is refused with 422; after its one job it is deregistered', async () => {
    await startSim();
    const { data } = await register('busy-one');
    const job = sim.queueJob('app', ['self-hosted'], 10 * 60_000);
    const started = sim.startRunner(data.encoded_jit_config);
    await sim.waitForJob(job, 'in_progress');

    const busy = await listed(data.runner.id);
    const refused = await failure(octokit.request('DELETE /orgs/{org}/actions/runners/{runner_id}', { org: ORG, runner_id: data.runner.id }));
    await started.exit;
    const afterJob = await failure(octokit.request('DELETE /orgs/{org}/actions/runners/{runner_id}', { org: ORG, runner_id: data.runner.id }));

    expect(busy).toMatchObject({ status: 'online', busy: true, os: 'Linux', version: expect.any(String) });
    expect([refused.status, refused.message]).toEqual([422, expect.stringContaining('Bad request - Runner "busy-one" is still running a job')]);
    expect(afterJob.status).toBe(404);
  });

  test('a JIT runner that never connects is removed after jitRunnerTimeoutMs', async () => {
    await startSim({ jitRunnerTimeoutMs: 3 * 60_000 });
    const registeredAt = sim.clock.now();
    const { data } = await register('never-boots');

    const listedAtFirst = await listed(data.runner.id);
    while (await listed(data.runner.id)) await sim.clock.sleep(5_000);
    const goneAt = sim.clock.now();

    expect(listedAtFirst).toMatchObject({ status: 'offline' });
    // A timer may fire a wall millisecond early, which is a simulated second here.
    expect(goneAt - registeredAt).toBeGreaterThanOrEqual(3 * 60_000 - 5_000);
  });

  test('a JIT runner that connects is not removed by the JIT timeout and shows online while idle', async () => {
    await startSim({ jitRunnerTimeoutMs: 60_000 });
    const { data } = await register('boots');
    const started = sim.startRunner(data.encoded_jit_config);

    await sim.clock.sleep(3 * 60_000);
    const idle = await listed(data.runner.id);

    expect(idle).toMatchObject({ status: 'online', busy: false });
    started.runner.kill();
    expect(await started.exit).toMatchObject({ reason: 'killed' });
  });

  test('a 5xx that came after the runner was registered makes the retry plugin\'s retry meet 409', async () => {
    await startSim({
      faults: { serverErrorRate: 1, serverErrorRoutes: [JIT_ORG], serverErrorAfterEffectRate: 1 },
    });
    const retrying = client(sim, { installationId: sim.installationId(ORG), retry: { retries: 2 } });

    const result = await failure(retrying.request(JIT_ORG, { org: ORG, name: 'flaky', runner_group_id: 1, labels: ['x'] }));

    // 5xx although registered, then 409 — which is not in the retry plugin's doNotRetry list, so it
    // is retried too and still 409: the JIT config of the first call is lost, so a control plane must
    // expect 409 for a name it has just registered (delete that runner, or register another name).
    expect(result.status).toBe(409);
    expect(sim.apiCalls().byRoute[JIT_ORG]).toBe(3);
    expect(sim.runners().map((r) => r.name)).toEqual(['flaky']);
  });
});
