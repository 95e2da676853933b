// Runners launched (or claimed) a moment ago may be missing from the eventually consistent pool
// index; the pool item remembers them, so they count as supply and are not launched twice.
import { ProvisionerDeps } from './deps';
import { PoolRecord, RECENT_LAUNCH_WINDOW_MS } from '../core/pool';
import { RunnerRecord, RunnerView } from '../core/runner';

/**
 * The pool's runners with its recent launches the index does not list yet. A strongly consistent
 * read tells a lagging index from a runner that already left the pool (a short job can end within
 * the window, a warm instance can be claimed by another pool): only a launch whose runner item
 * cannot be read yet counts as new (`booting`, or `warming` in a warm pool).
 */
export async function withRecentLaunches(
  deps: ProvisionerDeps, runners: readonly RunnerRecord[], pool: PoolRecord, now: number, unreadState: 'booting' | 'warming' = 'booting',
): Promise<RunnerView[]> {
  const known = new Set(runners.map((r) => r.instanceId));
  const unlisted = pool.recentLaunches.filter((l) => !known.has(l.instanceId) && now - l.launchedAt < RECENT_LAUNCH_WINDOW_MS);
  if (unlisted.length === 0) return [...runners];
  const stored = await deps.runners.getRunners(unlisted.map((l) => l.instanceId));
  const recent: RunnerView[] = [];
  for (const recentLaunch of unlisted) {
    const runner = stored.get(recentLaunch.instanceId);
    if (runner) {
      if (runner.state !== 'gone' && runner.poolId === pool.poolId) recent.push(runner);
      continue;
    }
    recent.push({ instanceId: recentLaunch.instanceId, state: unreadState, market: recentLaunch.market, launchedAt: recentLaunch.launchedAt });
  }
  return [...runners, ...recent];
}
