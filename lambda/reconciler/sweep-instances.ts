// The EC2 side of a run: instances of ours that no runner answers for are terminated. Only EC2 and
// DynamoDB are called, so this runs even while nothing is active.
import { hasNoLiveRunner, orphanCandidates, stalledBy } from './orphans';
import type { Run } from './run';
import { ReconcilerMetric } from '../../src/contracts/metrics';
import { InstanceInfo } from '../core/compute';

/**
 * A runner whose instance EC2 no longer lists as alive is closed here, in case its end event was
 * lost (EventBridge is best effort): otherwise it would hold a place of its pool's maxRunners
 * forever. Young runners are spared: a just-launched instance may not be listed yet.
 */
const VANISHED_GRACE_MS = 5 * 60_000;

export async function terminateOrphans(run: Run): Promise<void> {
  const { compute, runners, logger, metrics, settings } = run.deps;
  const instances = await compute.listInstances();
  const listed = new Set(instances.map((i) => i.instanceId));
  // A gauge once a run (its Maximum is the fleet's size): the alarm on a runaway fleet reads it.
  metrics.count(ReconcilerMetric.LIVE_INSTANCES, instances.length);
  for (const runner of run.live.values()) {
    if (listed.has(runner.instanceId) || runner.state === 'gone' || run.now - runner.launchedAt < VANISHED_GRACE_MS) continue;
    const closed = await runners.transitionRunner(runner.instanceId, [runner.state], 'gone', {}, run.now);
    if (!closed) continue;
    logger.warn('closed a runner whose instance is gone (its end event never arrived)', { instanceId: runner.instanceId, poolId: runner.poolId, runnerState: runner.state });
    metrics.count(ReconcilerMetric.VANISHED_RUNNERS_CLOSED, 1);
  }
  await terminateStalled(run, instances);
  const candidates = orphanCandidates(instances, new Set(run.live.keys()), run.now, settings.bootTimeoutMs);
  const orphans: string[] = [];
  for (const instance of candidates) {
    // The pool index lags; the runner item itself, read strongly consistent, decides.
    const runner = await runners.getRunner(instance.instanceId);
    if (!hasNoLiveRunner(runner)) continue;
    orphans.push(instance.instanceId);
    logger.warn('terminating an instance with no live runner', {
      instanceId: instance.instanceId,
      instanceState: instance.state,
      poolId: instance.poolId ?? runner?.poolId,
      runnerState: runner?.state ?? 'none',
      launchedAt: instance.launchedAt === undefined ? undefined : new Date(instance.launchedAt).toISOString(),
    });
  }
  if (orphans.length === 0) return;
  await compute.terminate(orphans);
  run.summary.orphansTerminated.push(...orphans);
  metrics.count(ReconcilerMetric.ORPHANS_TERMINATED, orphans.length);
}

/**
 * Terminates the instances of live runners whose end went unnoticed (see stalledBy): a retirement
 * whose terminate or stop event was lost, a claimed warm pool instance left stopped. A claimed one is
 * retired first, with a conditional write, so that it no longer counts as its pool's supply; its
 * runner is closed once EC2 no longer lists the instance, as for any terminated one.
 */
async function terminateStalled(run: Run, instances: readonly InstanceInfo[]): Promise<void> {
  const { compute, runners, logger, metrics } = run.deps;
  const stateOf = new Map(instances.map((i) => [i.instanceId, i.state]));
  const stalled: string[] = [];
  for (const runner of run.live.values()) {
    const instanceState = stateOf.get(runner.instanceId);
    const why = instanceState === undefined ? undefined : stalledBy(runner, instanceState, run.now);
    if (why === undefined) continue;
    if (why === 'stopped' && !await runners.transitionRunner(runner.instanceId, [runner.state], 'retiring', { retireReason: 'stopped' }, run.now)) continue;
    stalled.push(runner.instanceId);
    logger.warn('terminating the instance of a runner whose end went unnoticed', {
      instanceId: runner.instanceId, poolId: runner.poolId, runnerState: runner.state, instanceState, why,
    });
  }
  if (stalled.length === 0) return;
  await compute.terminate(stalled);
  run.summary.stalledTerminated.push(...stalled);
  metrics.count(ReconcilerMetric.STALLED_INSTANCES_TERMINATED, stalled.length);
}
