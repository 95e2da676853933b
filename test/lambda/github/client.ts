// The GitHub client as the tests build it against a GHES simulator: the simulator's URL and App, a
// clock, no write spacing and short retries; anything else per test.
import { GitHubApi, GitHubApiOptions } from '../../../lambda/github/github-api';
import { SimClock } from '../../../sandbox/common/time';
import { GhesSimulator } from '../../../sandbox/ghes';

export function testClient(sim: GhesSimulator, privateKeyPem: string, clock: SimClock, more: Partial<GitHubApiOptions> = {}): GitHubApi {
  return new GitHubApi({
    baseUrl: sim.apiUrl,
    appId: String(sim.appId),
    privateKeyPem,
    now: () => clock.now(),
    writeSpacingMs: 0,
    retryBaseMs: 10,
    ...more,
  });
}
