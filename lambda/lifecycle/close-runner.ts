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
import { keepScopeSwept, leaveToGhostSweep, poolOf, runnerKeys } from './runner-effects';
import { LifecycleMetric, MetricDimension } from '../../src/contracts/metrics';
import { buildPoolMessageFor } from '../core/pool-message';
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
    await deps.queue.send(buildPoolMessageFor(poolOf(runner), 'instance-state', event.eventId));
    deps.metrics.count(LifecycleMetric.RUNNERS_CLOSED, 1, { [MetricDimension.FROM]: runner.state });
    logger.info('runner closed: its instance is ending', { from: runner.state, deregistration });
    return 'closed';
  }
  throw new LifecycleConflictError(`runner item of ${event.instanceId}`, TRANSITION_ATTEMPTS);
}

/** What becomes of the runner's registration; the ghost sweep covers its scope for a while in every case but `none`. */
async function deregister(runner: RunnerRecord, deps: LifecycleDeps): Promise<Deregistration> {
  if (runner.runnerId === undefined) return 'none';
  if (runner.state === 'registered') {
    await leaveToGhostSweep(deps, runner, 'idle');
    return 'left-to-sweep';
  }
  // A registration a retirement failed to delete, or GitHub failed to remove, is the sweep's too.
  await keepScopeSwept(deps, runner);
  return runner.state === 'busy' ? 'removed-by-github' : 'deleted-before';
}
