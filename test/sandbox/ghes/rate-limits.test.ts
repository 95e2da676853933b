// Rate limits as @octokit/plugin-throttling sees them: the GHES default (off: no x-ratelimit headers)
// and secondary limits (a message with "secondary rate" and retry-after), which the plugin recovers from.
import { client, failure, OctokitClient, testKey } from './octokit';
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

  test('a secondary limit answers with "secondary rate limit" and retry-after; the throttling plugin retries after it', async () => {
    await startSim();
    const calls: number[] = [];
    const octokit = throttledClient(calls);
    await octokit.request(RUNNERS, { org: ORG });

    sim.triggerSecondaryRateLimit(10 * 60_000);
    const raw = await failure(client(sim, { installationId: sim.installationId(ORG) }).request(RUNNERS, { org: ORG }));
    const recovered = await octokit.request(RUNNERS, { org: ORG });

    expect([raw.status, raw.message]).toEqual([403, expect.stringContaining('You have exceeded a secondary rate limit')]);
    expect(raw.response?.headers['retry-after']).toBe('1'); // 10 simulated minutes: 0.6 real seconds, rounded up
    expect(recovered.status).toBe(200);
    expect(calls.length).toBeGreaterThanOrEqual(1);
    expect(calls.every((s) => s === 1)).toBe(true);
  });

  test('a rate-limit window from the fault settings limits every call during the window only', async () => {
    await startSim({ faults: { rateLimitWindows: [{ startMs: 10 * 60_000, durationMs: 5 * 60_000 }] } });
    const started = sim.clock.now();
    const octokit = client(sim, { installationId: sim.installationId(ORG) });

    const before = await octokit.request(RUNNERS, { org: ORG });
    while (sim.clock.now() < started + 10 * 60_000) await sim.clock.sleep(10_000);
    const during = await failure(octokit.request(RUNNERS, { org: ORG }));
    await sim.clock.sleep(5 * 60_000);
    const after = await octokit.request(RUNNERS, { org: ORG });

    expect([before.status, during.status, after.status]).toEqual([200, 403, 200]);
  });

  /**
   * A client with the throttling plugin that always retries and records the secondary-limit waits it
   * was told. The plugin waits retryAfter × 250 ms: short, yet longer than the simulated windows here.
   */
  function throttledClient(calls: number[]): OctokitClient {
    return client(sim, {
      installationId: sim.installationId(ORG),
      throttle: {
        retryAfterBaseValue: 250,
        onRateLimit: () => false,
        onSecondaryRateLimit: (retryAfter) => calls.push(retryAfter) > 0,
      },
    });
  }
});
