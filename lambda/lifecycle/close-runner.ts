// An instance shuts down, stops or is gone: its runner is closed (→ gone), its GitHub registration
// left to GitHub and the reconciler's sweep, and its pool handed to the provisioner so demand that
// lost its runner is launched for again.
//
// No GitHub call: a one-job runner that ran its job is removed by GitHub itself, one retired by the
// control plane had its registration deleted when it was retired, and whatever is left over (a
// runner that never got a job, a delete that failed) is the ghost sweep's — one list call per scope
// for a burst of endings rather than a DELETE per instance whose job the control plane may not know
// of (a lost in_progress webhook leaves a runner that ran its job `registered` here).
//
// EC2 comes before the state write: if the function dies half-way, EventBridge's retry finds the
// runner not yet gone and repeats it (idempotent). Once gone, a repeated or late event changes nothing.
import type { LifecycleDeps, LifecycleOutcome } from './deps';
import { LifecycleConflictError } from './errors';
import { ENDING_STATES, InstanceEvent } from './instance-event';
import { askForGhostSweep, keepScopeSwept, leaveToGhostSweep, poolOf, runnerKeys } from './runner-effects';
import { LifecycleMetric, MetricDimension } from '../../src/contracts/metrics';
import { buildPoolMessageFor, buildWarmPoolMessage } from '../core/pool-message';
import { RunnerRecord } from '../core/runner';

type StateChange = Extract<InstanceEvent, { kind: 'state-change' }>;

/**
 * - `none`: it never registered;
 * - `deleted-before`: whoever retired it (the provisioner, the spot warning, the register endpoint)
 *   deleted its registration first;
 * - `removed-by-github`: it took a job, and GitHub removes a one-job runner once that job ends;
 * - `left-to-sweep`: idle as far as the control plane knows — it may have run a job whose webhooks
 *   were lost (then GitHub removed it), or never got one (then the ghost sweep deletes it).
 */
type Deregistration = 'none' | 'deleted-before' | 'removed-by-github' | 'left-to-sweep';

const TRANSITION_ATTEMPTS = 3;

export async function closeRunner(event: StateChange, deps: LifecycleDeps): Promise<LifecycleOutcome> {
  // pending and running change nothing: the runner was recorded at launch, and a `running` that
  // arrives after `terminated` must not revive it. No read at all for them.
  if (!ENDING_STATES.includes(event.state)) return 'ignored';
  const { runners, logger } = deps;
  for (let attempt = 0; attempt < TRANSITION_ATTEMPTS; attempt++) {
    const runner = await runners.getRunner(event.instanceId);
    if (!runner) return 'unknown-instance';
    logger.appendKeys(runnerKeys(runner));
    if (runner.state === 'gone') return 'already-gone';
    const stop = event.state === 'stopping' || event.state === 'stopped';
    if (stop && (runner.state === 'warming' || runner.state === 'warm')) {
      const parked = await park(event, runner, deps);
      if (parked === undefined) continue;
      return parked;
    }
    if (stop && runner.claimedAt !== undefined && event.time !== undefined && event.time < runner.claimedAt) {
      // EventBridge delivers at least once and in no promised order: a stop older than the claim
      // is the warm-up's own, and the instance, started since, must not be terminated for it.
      logger.info('stop event older than the warm pool claim ignored', { eventTime: new Date(event.time).toISOString(), claimedAt: new Date(runner.claimedAt).toISOString() });
      return 'stale-event';
    }

    const deregistration = await deregister(runner, deps);
    if (event.state === 'stopping' || event.state === 'stopped') {
      // A stopped runner instance never runs a job again (its runner was one-shot); only its disks would cost.
      await deps.compute.terminate([event.instanceId]);
    }
    // Conditional on the state the decisions were made on: if it changed (a registration, a job),
    // decide again.
    const closed = await runners.transitionRunner(event.instanceId, [runner.state], 'gone', {}, deps.clock.now());
    if (!closed) continue;
    // After the write, so the provisioner counts the runner out. Should this send fail, the retried
    // event finds the runner gone; the reconciler hands the pool over within a minute while it has demand.
    await deps.queue.send(runner.scope === undefined
      ? buildWarmPoolMessage(runner.configName, 'instance-state', event.eventId)
      : buildPoolMessageFor(poolOf(runner), 'instance-state', event.eventId));
    deps.metrics.count(LifecycleMetric.RUNNERS_CLOSED, 1, { [MetricDimension.FROM]: runner.state });
    logger.info('runner closed: its instance is ending', { from: runner.state, deregistration });
    return 'closed';
  }
  throw new LifecycleConflictError(`runner item of ${event.instanceId}`, TRANSITION_ATTEMPTS);
}

/**
 * A warm pool instance powered off after its first boot (the register endpoint told it to; its
 * shutdown behaviour is `stop`): once `stopped` it is parked, ready to be claimed. `stopping`
 * changes nothing yet: a stopping instance cannot be started. Undefined when the write lost a race.
 */
async function park(event: StateChange, runner: RunnerRecord, deps: LifecycleDeps): Promise<LifecycleOutcome | undefined> {
  if (runner.state === 'warm') return 'parked';
  if (event.state === 'stopping') return 'ignored';
  const parked = await deps.runners.transitionRunner(runner.instanceId, ['warming'], 'warm', {}, deps.clock.now());
  if (!parked) return undefined;
  deps.metrics.count(LifecycleMetric.WARM_INSTANCES_PARKED, 1);
  deps.logger.info('warm pool instance parked: stopped, waiting for a job');
  return 'parked';
}

/**
 * What becomes of the runner's registration. An idle one is left to the ghost sweep, due at once;
 * a retired one too, since whether the retirement's delete went through is not recorded; a busy
 * one GitHub removes with its job, and the sweep's periodic backstop covers its scope a while.
 */
async function deregister(runner: RunnerRecord, deps: LifecycleDeps): Promise<Deregistration> {
  if (runner.runnerId === undefined) return 'none';
  if (runner.state === 'registered') {
    await leaveToGhostSweep(deps, runner, 'idle');
    return 'left-to-sweep';
  }
  if (runner.state === 'busy') {
    await keepScopeSwept(deps, runner);
    return 'removed-by-github';
  }
  await askForGhostSweep(deps, runner);
  return 'deleted-before';
}
