// The reconciler's runner version step: asks the GitHub server which runner version it ships (the
// archives of "List runner applications"), keeps it in SSM for the image builds to refuse anything
// older, and counts each runner image whose runner is older than it (RunnerImagesBehind, by
// architecture): the dashboard shows it and an alarm fires on it (docs/operations.md).
import type { Run } from './run';
import { MetricDimension, ReconcilerMetric } from '../../src/contracts/metrics';
import { NO_RUNNER_VERSION } from '../../src/contracts/runner-version';
import { RunnerVersionRead } from '../core/reconciler-state';
import { imageRunnerStatus, parseRunnerVersion, RunnerVersionStore, serverRunnerVersion } from '../core/runner-version';

/** Runs with the GitHub sweep while a pool is active (the App is installed in its scope): at most one GitHub call. */
export async function checkRunnerVersions(run: Run): Promise<void> {
  const store = run.deps.runnerVersions;
  if (!store) return;
  const kept = await store.versions();
  const server = await serverVersion(run, store, kept.server);
  if (server === undefined) return;
  for (const status of imageRunnerStatus(kept.images, server, NO_RUNNER_VERSION)) {
    if (!status.behind) continue;
    run.deps.metrics.count(ReconcilerMetric.RUNNER_IMAGES_BEHIND, 1, { [MetricDimension.ARCHITECTURE]: status.architecture });
    run.deps.logger.warn('a runner image holds a runner older than the GitHub server ships: rebuild it (docs/operations.md)', {
      architecture: status.architecture, imageRunnerVersion: status.imageVersion, serverRunnerVersion: server,
    });
  }
}

/**
 * The server's runner version: the one kept in SSM (`stored`), or asked of GitHub when it may have changed, and
 * kept in SSM when it did. A GHES server ships one runner version per release, so it is asked again
 * only when the release its answers name (the sweep's calls before this step) differs from the one
 * of the last read; a server that names no release (github.com) is asked again after
 * `runnerVersionCheckEveryMs`. What was read last is in the reconciler state, so a new container
 * does not ask again.
 */
async function serverVersion(run: Run, store: RunnerVersionStore, stored: string): Promise<string | undefined> {
  const kept = stored !== NO_RUNNER_VERSION && parseRunnerVersion(stored) !== undefined ? stored : undefined;
  const github = await run.github();
  const release = github.serverRelease();
  if (kept !== undefined && !readDue(run, release)) return kept;
  const scope = run.pools[0]?.scope;
  if (!scope || !run.budget.take()) return kept;
  const server = serverRunnerVersion(await github.listRunnerDownloads(scope));
  // The release this answer names: the one the version read goes with.
  const read: RunnerVersionRead = { at: run.now, ...withRelease(github.serverRelease()) };
  if (server === undefined) {
    run.state = { ...run.state, runnerVersionRead: read };
    run.deps.logger.warn('the GitHub server lists no Linux runner archive; runner versions not checked', { scope });
    return undefined;
  }
  if (stored !== server) {
    await store.setServerVersion(server);
    run.deps.logger.info('the GitHub server ships a new runner version; image builds refuse older runners from now on', {
      serverRunnerVersion: server, serverRelease: read.serverRelease,
    });
  }
  // Only once SSM holds it: a failed write is read and written again at the next sweep.
  run.state = { ...run.state, runnerVersionRead: read };
  return server;
}

/** Whether the server's runner version must be read again, from what the last read saw. */
function readDue(run: Run, release: string | undefined): boolean {
  const last = run.state.runnerVersionRead;
  if (!last) return true;
  if (release !== undefined || last.serverRelease !== undefined) return release !== last.serverRelease;
  return run.now - last.at >= run.limits.runnerVersionCheckEveryMs;
}

function withRelease(release: string | undefined): { serverRelease?: string } {
  return release === undefined ? {} : { serverRelease: release };
}
