// The reconciler's runner version step: asks the GitHub server which runner version it ships (the
// archives of "List runner applications"), keeps it in SSM for the image builds to refuse anything
// older, and counts each runner image whose runner is older than it (RunnerImagesBehind, by
// architecture): the dashboard shows it and an alarm fires on it (docs/operations.md).
import type { Run } from './run';
import { MetricDimension, ReconcilerMetric } from '../../src/contracts/metrics';
import { NO_RUNNER_VERSION } from '../../src/contracts/runner-version';
import { imageRunnerStatus, serverRunnerVersion } from '../core/runner-version';

/** Runs with the GitHub sweep, in a scope that is active (the App is installed there): one GitHub call. */
export async function checkRunnerVersions(run: Run): Promise<void> {
  const store = run.deps.runnerVersions;
  const scope = run.pools[0]?.scope;
  if (!store || !scope || !run.budget.take()) return;
  const github = await run.github();
  const server = serverRunnerVersion(await github.listRunnerDownloads(scope));
  if (server === undefined) {
    run.deps.logger.warn('the GitHub server lists no Linux runner archive; runner versions not checked', { scope });
    return;
  }
  if ((await store.serverVersion()) !== server) {
    await store.setServerVersion(server);
    run.deps.logger.info('the GitHub server ships a new runner version; image builds refuse older runners from now on', { serverRunnerVersion: server });
  }
  for (const status of imageRunnerStatus(await store.imageVersions(), server, NO_RUNNER_VERSION)) {
    if (!status.behind) continue;
    run.deps.metrics.count(ReconcilerMetric.RUNNER_IMAGES_BEHIND, 1, { [MetricDimension.ARCHITECTURE]: status.architecture });
    run.deps.logger.warn('a runner image holds a runner older than the GitHub server ships: rebuild it (docs/operations.md)', {
      architecture: status.architecture, imageRunnerVersion: status.imageVersion, serverRunnerVersion: server,
    });
  }
}
