// Seeded API faults (5xx, latency) with the retry plugin recovering, and API call counting by route
// template — what the sandbox report reads.
import { appAuth, client, testKey, withToken } from './octokit';
import { ScaledClock } from '../../../sandbox/common/time';
import { GhesSimulator, GhesSimulatorOptions } from '../../../sandbox/ghes';

const ORG = 'octo-org';
const RUNNERS = 'GET /orgs/{org}/actions/runners';

describe('faults and call counting', () => {
  const sims: GhesSimulator[] = [];

  async function startSim(options: GhesSimulatorOptions = {}): Promise<GhesSimulator> {
    // 1 simulated second = 1 ms.
    const sim = new GhesSimulator({ privateKey: testKey(), clock: new ScaledClock(0.001), seed: 21, org: ORG, ...options });
    sims.push(sim);
    await sim.start();
    return sim;
  }

  afterEach(async () => {
    await Promise.all(sims.splice(0).map((s) => s.stop()));
  });

  /** The statuses of `n` list calls made with a plain token client (no retries). */
  async function statuses(sim: GhesSimulator, n: number): Promise<number[]> {
    const { token } = await appAuth(sim)({ type: 'installation', installationId: sim.installationId(ORG) });
    const raw = withToken(sim, token);
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      out.push(await raw.request(RUNNERS, { org: ORG }).then((r) => r.status, (e: { status: number }) => e.status));
    }
    return out;
  }

  test('with 5xx on a third of the calls, the retry plugin still gets every request through', async () => {
    const sim = await startSim({ faults: { serverErrorRate: 0.3, serverErrorRoutes: [RUNNERS] } });
    const seen: number[] = [];
    sim.on('request', (e) => e.route === RUNNERS && seen.push(e.status));
    const octokit = client(sim, { installationId: sim.installationId(ORG), retry: { retries: 5 } });

    const results = await Promise.all(Array.from({ length: 10 }, () => octokit.request(RUNNERS, { org: ORG })));

    expect(results.map((r) => r.status)).toEqual(Array(10).fill(200));
    const failed = seen.filter((s) => s >= 500);
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.every((s) => [500, 502, 503].includes(s))).toBe(true);
    expect(sim.apiCalls().byRoute[RUNNERS]).toBe(10 + failed.length);
  });

  test('the same seed replays the same 5xx, a different seed does not', async () => {
    const faults = { serverErrorRate: 0.4, serverErrorRoutes: [RUNNERS] };

    const a = await statuses(await startSim({ seed: 1, faults }), 20);
    const b = await statuses(await startSim({ seed: 1, faults }), 20);
    const c = await statuses(await startSim({ seed: 2, faults }), 20);

    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(a).toContain(200);
    expect(a.some((s) => s >= 500)).toBe(true);
  });

  test('5xx are limited to the routes named in serverErrorRoutes', async () => {
    const sim = await startSim({ faults: { serverErrorRate: 1, serverErrorRoutes: ['GET /orgs/{org}/installation'] } });

    const runners = await statuses(sim, 3);

    expect(runners).toEqual([200, 200, 200]);
  });

  test('injected latency passes in simulated time', async () => {
    const sim = await startSim({ faults: { latencyMs: [30_000, 40_000] } });
    const { token } = await appAuth(sim)({ type: 'installation', installationId: sim.installationId(ORG) });

    const before = sim.clock.now();
    await withToken(sim, token).request(RUNNERS, { org: ORG });

    expect(sim.clock.now() - before).toBeGreaterThanOrEqual(30_000 - 5_000); // a timer may fire a wall ms (a simulated s) early
  });

  test('every request is counted under its route template, the unmatched ones too', async () => {
    const sim = await startSim({ repos: ['app'] });
    const octokit = client(sim, { installationId: sim.installationId(ORG) });
    for (const id of [1, 2, 3]) await octokit.request('DELETE /orgs/{org}/actions/runners/{runner_id}', { org: ORG, runner_id: id }).catch(() => undefined);
    await octokit.request('GET /repos/{owner}/{repo}/actions/runners', { owner: ORG, repo: 'app' });
    await octokit.request('GET /nothing/here').catch(() => undefined);

    const calls = sim.apiCalls();

    expect(calls.byRoute).toEqual({
      'GET (unmatched)': 1,
      'DELETE /orgs/{org}/actions/runners/{runner_id}': 3,
      'GET /repos/{owner}/{repo}/actions/runners': 1,
      'POST /app/installations/{installation_id}/access_tokens': 1,
    });
    expect(calls.total).toBe(6);
  });
});
