// Which of our instances have no runner to answer for them. An instance is recorded as a runner
// right after CreateFleet returns, so a young instance without a runner item may be a launch being
// written: only instances older than the boot timeout are ever judged (an instance that old with
// no live runner can no longer become one, as the register endpoint refuses it).
import { InstanceInfo } from '../core/compute';
import { RunnerRecord } from '../core/runner';

/** States in which terminating changes nothing. */
const ENDING = new Set(['shutting-down', 'terminated']);

/**
 * Instances to look up: launched more than `bootTimeoutMs` before `now`, not already ending, and
 * not among the live runners found in the pool index. An instance without a launch time is never
 * judged: without it, its age is unknown.
 */
export function orphanCandidates(
  instances: readonly InstanceInfo[], liveInstanceIds: ReadonlySet<string>, now: number, bootTimeoutMs: number,
): InstanceInfo[] {
  return instances.filter((i) =>
    !ENDING.has(i.state)
    && i.launchedAt !== undefined
    && now - i.launchedAt > bootTimeoutMs
    && !liveInstanceIds.has(i.instanceId));
}

/** Whether a runner item (read strongly consistent) leaves its instance, or its registration, without an owner. */
export function hasNoLiveRunner(runner: RunnerRecord | undefined): boolean {
  return runner === undefined || runner.state === 'gone';
}

/**
 * A runner retiring this long whose instance EC2 still lists has lost the end that goes with every
 * retirement: the provisioner's terminate after its write (throttled, or the function timed out
 * between the two), or the stop event of a warm pool template's instance, which powers off into
 * `stopped`. Otherwise a retired instance is gone within minutes: terminated by the provisioner,
 * powered off by the bootstrap on its 410, or reclaimed by EC2 two minutes after a spot notice.
 */
export const RETIRING_GRACE_MS = 10 * 60_000;
/**
 * A claimed warm pool instance that EC2 lists `stopped` this long after its claim has powered off
 * (after its job, or without one) and the stop event, on which the lifecycle function terminates it,
 * was lost; or the claim's StartInstances never went out. Within the grace, the claim's own start
 * may still be on its way.
 */
export const CLAIMED_STOPPED_GRACE_MS = 5 * 60_000;

/**
 * Why a live runner's instance, which EC2 lists in `instanceState`, must be terminated all the same:
 * `retiring` for a retirement whose end was lost, `stopped` for a claimed instance that stopped
 * unnoticed. Undefined when its instance is fine, or ending already. A parked warm instance is
 * stopped by design and never stalled.
 */
export function stalledBy(runner: RunnerRecord, instanceState: string, now: number): 'retiring' | 'stopped' | undefined {
  if (ENDING.has(instanceState) || runner.state === 'gone') return undefined;
  if (runner.state === 'retiring') return now - runner.updatedAt > RETIRING_GRACE_MS ? 'retiring' : undefined;
  const claimed = runner.claimedAt !== undefined && runner.state !== 'warming' && runner.state !== 'warm';
  return claimed && instanceState === 'stopped' && now - runner.claimedAt! > CLAIMED_STOPPED_GRACE_MS ? 'stopped' : undefined;
}
