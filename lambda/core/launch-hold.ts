// Launches held back after a pool's runners were turned away for a reason only an operator fixes: the
// App not installed on the scope, a runner group that does not exist, no usable enterprise credential.
// Without it each refused instance powers off, its job is still queued, and the pool launches another:
// an instance a minute per queued job until someone acts (or GitHub drops the job after a day). Held,
// the pool launches nothing for a while, then one instance at a time (a probe), after 1 minute and
// doubling up to 15, and launches in full again as soon as one of its runners registers.
import { RunnerView } from './runner';
import { HoldReason } from '../../src/contracts/launch-hold';

export { isHoldReason, type HoldReason } from '../../src/contracts/launch-hold';

export interface LaunchHold {
  readonly reason: HoldReason;
  /** Refusals that set or lengthened the hold: the first, then each refused probe. */
  readonly refusals: number;
  /** Epoch ms of the last of them. */
  readonly refusedAt: number;
  /** Epoch ms before which the pool launches nothing. */
  readonly until: number;
}

export const LAUNCH_HOLD = { firstMs: 60_000, maxMs: 15 * 60_000 } as const;

/**
 * The hold after a refusal at `now`, or `undefined` when the one in force stays as it is: instances
 * launched before a hold are refused within seconds of each other, and only count once. A refusal
 * after the hold ran out (the probe's) doubles it.
 */
export function holdAfterRefusal(current: LaunchHold | undefined, reason: HoldReason, now: number): LaunchHold | undefined {
  if (current && now < current.until) return undefined;
  const refusals = (current?.refusals ?? 0) + 1;
  const holdMs = Math.min(LAUNCH_HOLD.maxMs, LAUNCH_HOLD.firstMs * 2 ** Math.min(refusals - 1, 30));
  return { reason, refusals, refusedAt: now, until: now + holdMs };
}

export interface HoldDecision {
  /** Launches (or warm starts) the pool may make now, of those it wants. */
  readonly allowed: number;
  /** The hold can go: a runner registered since the last refusal (the cause is fixed), or no job waits. */
  readonly lifted: boolean;
}

/**
 * How many of `wanted` launches the pool may make under its hold. `runners`: the pool's runners as the
 * reconcile read them; `demand`: its jobs still queued (a warm pool: the instances it lacks). While a
 * probe is on its way (a runner booting, or claimed and not yet given a runner id: registering, or
 * refused and powering off; a warm pool instance warming), none. A runner GitHub registered (it has
 * a runner id) after the last refusal lifts the hold, and so does a warm pool instance launched
 * after it that parked: its image holds a runner.
 */
export function launchesUnderHold(
  hold: LaunchHold | undefined, runners: readonly RunnerView[], demand: number, wanted: number, now: number,
): HoldDecision {
  if (!hold) return { allowed: wanted, lifted: false };
  // No job waits any more (cancelled, or GitHub gave up on them): nothing to hold back, and a hold
  // kept would keep the pool in the reconciler's sweeps. The next refusal sets a new one.
  if (demand === 0) return { allowed: wanted, lifted: true };
  const provenSince = runners.some((r) => (r.runnerId !== undefined && (r.registeredAt ?? 0) > hold.refusedAt)
    || (r.state === 'warm' && r.launchedAt > hold.refusedAt));
  if (provenSince) return { allowed: wanted, lifted: true };
  const probing = runners.some((r) => r.state === 'booting' || r.state === 'warming' || (r.state === 'registered' && r.runnerId === undefined));
  if (now < hold.until || probing) return { allowed: 0, lifted: false };
  return { allowed: Math.min(wanted, 1), lifted: false };
}
