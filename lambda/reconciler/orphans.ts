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
