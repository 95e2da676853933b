// Rate limits as @octokit/plugin-throttling sees them: the GHES default (off: no headers), primary limits (403/429 with remaining 0 until reset) and secondary limits (a message with
// "secondary rate", retry-after or not) — and the plugin recovering from both.
import { appAuth, client, failure, OctokitClient, testKey, withToken } from './octokit';
import { ScaledClock } from '../../../sandbox/common/time';
import { GhesSimulator, GhesSimulatorOptions } from '../../../sandbox/ghes';

const ORG = 'octo-org';
const RUNNERS = 'GET /orgs/{org}/actions/runners';

describe('rate limits', () => {
  let sim: GhesSimulator;

  async function startSim(options: GhesSimulatorOptions = {}): Promise<void> {
    // 1 simulated second = 1 ms.
    sim = new GhesSimulator({ privateKey: testKey(), clock: new ScaledClock(0.001), seed: 13, org: ORG, ...options });
    await sim.start();
  }

  afterEach(() => sim.stop());

  test('with rate limiting off, as GHES ships, there are no x-ratelimit headers', async () => {
    await startSim();
    const octokit = client(sim, { installationId: sim.installationId(ORG) });

    const { headers } = await octokit.request(RUNNERS, { org: ORG });

    expect(Object.keys(headers).filter((h) => h.startsWith('x-ratelimit'))).toEqual([]);
  });

  test('with rate limiting on, every response carries the x-ratelimit headers', async () => {
    await startSim({ rateLimit: { limit: 100 } });
    const octokit = client(sim, { installationId: sim.installationId(ORG) });

    await octokit.request(RUNNERS, { org: ORG });
    const { headers } = await octokit.request(RUNNERS, { org: ORG });

    expect(headers).toMatchObject({ 'x-ratelimit-limit': '100', 'x-ratelimit-remaining': '98', 'x-ratelimit-used': '2', 'x-ratelimit-resource': 'core' });
    expect(Number(headers['x-ratelimit-reset'])).toBeGreaterThan(Date.now() / 1000);
  });

  test.each([403, 429] as const)('the primary limit answers %i with remaining 0; the throttling plugin waits for the reset and succeeds', async (status) => {
    await startSim({ rateLimit: { limit: 2, windowMs: 10 * 60_000, status } });
    const { token } = await appAuth(sim)({ type: 'installation', installationId: sim.installationId(ORG) });
    const raw = withToken(sim, token);
    await raw.request(RUNNERS, { org: ORG });
    await raw.request(RUNNERS, { org: ORG });

    const refused = await failure(raw.request(RUNNERS, { org: ORG }));
    const calls = { primary: [] as number[], secondary: [] as number[] };
    const recovered = await throttledClient(calls).request(RUNNERS, { org: ORG });

    expect(refused.status).toBe(status);
    expect(refused.message).toContain(`API rate limit exceeded for installation ID ${sim.installationId(ORG)}.`);
    expect(refused.response?.headers['x-ratelimit-remaining']).toBe('0');
    expect(recovered.status).toBe(200);
    expect(calls.primary.length).toBeGreaterThanOrEqual(1); // it may wake just before the reset and wait again
    expect(calls.primary[0]).toBeGreaterThanOrEqual(1);
    expect(calls.secondary).toEqual([]);
  });

  test('a secondary limit answers with "secondary rate limit" and retry-after; the throttling plugin retries after it', async () => {
    await startSim();
    const calls = { primary: [] as number[], secondary: [] as number[] };
    const octokit = throttledClient(calls);
    await octokit.request(RUNNERS, { org: ORG });

    sim.triggerSecondaryRateLimit(10 * 60_000);
    const raw = await failure(client(sim, { installationId: sim.installationId(ORG) }).request(RUNNERS, { org: ORG }));
    const recovered = await octokit.request(RUNNERS, { org: ORG });

    expect([raw.status, raw.message]).toEqual([403, expect.stringContaining('You have exceeded a secondary rate limit')]);
    expect(raw.response?.headers['retry-after']).toBe('1'); // 10 simulated minutes: 0.6 real seconds, rounded up
    expect(recovered.status).toBe(200);
    expect(calls.secondary.length).toBeGreaterThanOrEqual(1);
    expect(calls.secondary.every((s) => s === 1)).toBe(true);
  });

  test('a secondary limit with neither retry-after nor remaining 0 is still recognised by its message', async () => {
    await startSim({ faults: { rateLimitWindows: [{ startMs: 0, durationMs: 5 * 60_000, retryAfter: false, status: 429 }] } });
    const calls = { primary: [] as number[], secondary: [] as number[] };

    const { status } = await throttledClient(calls, 10).request(RUNNERS, { org: ORG });

    expect(status).toBe(200);
    expect(calls.secondary[0]).toBe(60); // the plugin's fallback when no retry-after is given
  });

  test('a rate-limit window from the fault settings limits every call during the window only', async () => {
    await startSim({ faults: { rateLimitWindows: [{ startMs: 10 * 60_000, durationMs: 5 * 60_000 }] } });
    const octokit = client(sim, { installationId: sim.installationId(ORG) });

    const before = await octokit.request(RUNNERS, { org: ORG });
    while (sim.clock.now() < sim.startedAt + 10 * 60_000) await sim.clock.sleep(10_000);
    const during = await failure(octokit.request(RUNNERS, { org: ORG }));
    await sim.clock.sleep(5 * 60_000);
    const after = await octokit.request(RUNNERS, { org: ORG });

    expect([before.status, during.status, after.status]).toEqual([200, 403, 200]);
  });

  test('more concurrent requests than maxConcurrentRequests get a secondary limit', async () => {
    await startSim({ rateLimit: { maxConcurrentRequests: 2 }, faults: { latencyMs: 50_000 } });
    const { token } = await appAuth(sim)({ type: 'installation', installationId: sim.installationId(ORG) });
    const raw = withToken(sim, token);

    const results = await Promise.allSettled([1, 2, 3, 4].map(() => raw.request(RUNNERS, { org: ORG })));

    const limited = results.filter((r) => r.status === 'rejected' && /secondary rate/.test(String(r.reason)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
    expect(limited).toHaveLength(2);
  });

  /**
   * A client with the throttling plugin that always retries and records the waits it was told. The
   * plugin waits retryAfter × retryAfterBaseValue ms: 250 keeps tests short yet outlasts the
   * simulated windows here, so the retry lands after them.
   */
  function throttledClient(calls: { primary: number[]; secondary: number[] }, retryAfterBaseValue = 250): OctokitClient {
    return client(sim, {
      installationId: sim.installationId(ORG),
      throttle: {
        retryAfterBaseValue,
        onRateLimit: (retryAfter) => calls.primary.push(retryAfter) > 0,
        onSecondaryRateLimit: (retryAfter) => calls.secondary.push(retryAfter) > 0,
      },
    });
  }
});
