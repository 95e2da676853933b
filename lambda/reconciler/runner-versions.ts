// The reconciler's runner version step: asks the GitHub server which runner version it ships (the
// archives of "List runner applications"), keeps it in SSM for the image builds to refuse anything
// older, and counts each runner image whose runner is older than it (RunnerImagesBehind, by
// architecture): the dashboard shows it and an alarm fires on it (docs/operations.md).
import type { Run } from './run';
import { MetricDimension, ReconcilerMetric } from '../../src/contracts/metrics';
import { NO_RUNNER_VERSION } from '../../src/contracts/runner-version';
import { imageRunnerStatus, RunnerVersionStore, serverRunnerVersion } from '../core/runner-version';

/** What the server answered last, per store (one per container): asked again after `runnerVersionCheckEveryMs`. */
const lastAnswers = new WeakMap<RunnerVersionStore, { readonly version: string; readonly at: number }>();

/** Runs with the GitHub sweep while a pool is active (the App is installed in its scope): at most one GitHub call. */
export async function checkRunnerVersions(run: Run): Promise<void> {
  const store = run.deps.runnerVersions;
  if (!store) return;
  const server = await serverVersion(run, store);
  if (server === undefined) return;
  for (const status of imageRunnerStatus(await store.imageVersions(), server, NO_RUNNER_VERSION)) {
    if (!status.behind) continue;
    run.deps.metrics.count(ReconcilerMetric.RUNNER_IMAGES_BEHIND, 1, { [MetricDimension.ARCHITECTURE]: status.architecture });
    run.deps.logger.warn('a runner image holds a runner older than the GitHub server ships: rebuild it (docs/operations.md)', {
      architecture: status.architecture, imageRunnerVersion: status.imageVersion, serverRunnerVersion: server,
    });
  }
}

/** The server's version: remembered, or asked of GitHub and kept in SSM when it changed. */
async function serverVersion(run: Run, store: RunnerVersionStore): Promise<string | undefined> {
  const last = lastAnswers.get(store);
  if (last && run.now - last.at < run.limits.runnerVersionCheckEveryMs) return last.version;
  const scope = run.pools[0]?.scope;
  if (!scope || !run.budget.take()) return last?.version;
  const github = await run.github();
  const server = serverRunnerVersion(await github.listRunnerDownloads(scope));
  if (server === undefined) {
    run.deps.logger.warn('the GitHub server lists no Linux runner archive; runner versions not checked', { scope });
    return undefined;
  }
  if ((await store.serverVersion()) !== server) {
    await store.setServerVersion(server);
    run.deps.logger.info('the GitHub server ships a new runner version; image builds refuse older runners from now on', { serverRunnerVersion: server });
  }
  lastAnswers.set(store, { version: server, at: run.now });
  return server;
}
