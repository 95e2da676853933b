// What the lifecycle does to a runner's surroundings: its pool, its job mark, and the reconciler's
// ghost sweep. Each is idempotent, so a repeated event repeats it harmlessly.
import type { LifecycleDeps } from './deps';
import { LifecycleConflictError } from './errors';
import { LifecycleMetric, MetricDimension } from '../../src/contracts/metrics';
import { JobKey } from '../core/job';
import { emptyPool, updatePool } from '../core/pool';
import { ghostsMarkedSince, markGhostsLeft, scopeMarkedSince, touchScopes, updateReconcilerState } from '../core/reconciler-state';
import { Pool } from '../core/routing';
import { RunnerRecord, scopeOf } from '../core/runner';

const POOL_SAVE_ATTEMPTS = 5;
/** A scope marked for the ghost sweep this recently needs no new mark. */
const SCOPE_MARK_FRESH_MS = 5 * 60_000;

export function poolOf(runner: RunnerRecord): Pool {
  return { poolId: runner.poolId, configName: runner.configName, scope: scopeOf(runner) };
}

/** Correlation fields of a runner for the log lines that follow. */
export function runnerKeys(runner: RunnerRecord): Record<string, string | number | undefined> {
  return {
    poolId: runner.poolId,
    runnerState: runner.state,
    runnerName: runner.runnerName,
    runnerId: runner.runnerId,
    jobId: runner.job?.jobId,
    market: runner.market,
  };
}

/**
 * Adds `job` to the pool's interrupted jobs (the provisioner re-runs it on on-demand capacity if it
 * completes as failed). Saves on the pool's version, re-reading on a lost race. False when the job
 * was marked already.
 */
export async function markInterruptedJob(deps: LifecycleDeps, runner: RunnerRecord, job: JobKey): Promise<boolean> {
  const outcome = await updatePool(deps.pools, runner.poolId, (stored) => {
    const pool = stored ?? emptyPool(runner.poolId, runner.configName, runner.scope);
    if (pool.interruptedJobs.some((k) => k.githubHost === job.githubHost && k.jobId === job.jobId)) return undefined;
    return { ...pool, interruptedJobs: [...pool.interruptedJobs, job] };
  }, deps.clock.now(), POOL_SAVE_ATTEMPTS);
  if (outcome === 'contended') throw new LifecycleConflictError(`pool item ${runner.poolId}`, POOL_SAVE_ATTEMPTS);
  return outcome === 'saved';
}

/**
 * A registration GitHub would not (or could not) delete now: the reconciler's next ghost sweep
 * covers the runner's scope. Counted.
 */
export async function leaveToGhostSweep(deps: LifecycleDeps, runner: RunnerRecord, reason: string): Promise<void> {
  deps.metrics.count(LifecycleMetric.REGISTRATIONS_LEFT_TO_SWEEP, 1, { [MetricDimension.REASON]: reason });
  await askForGhostSweep(deps, runner);
}

/**
 * A registration may be left in the runner's scope: its next ghost sweep is due, whatever happens
 * to the pool. A mark no sweep has covered yet, made within the last few minutes, is left as it is
 * (no write, so a burst of ending runners does not contend for the reconciler's one state item).
 * Failing here loses nothing the sweep's periodic backstop does not cover: logged, not thrown.
 */
export async function askForGhostSweep(deps: LifecycleDeps, runner: RunnerRecord): Promise<void> {
  const now = deps.clock.now();
  try {
    await updateReconcilerState(deps.reconcilerState, (state) => (ghostsMarkedSince(state, scopeOf(runner), now - SCOPE_MARK_FRESH_MS)
      ? state
      : markGhostsLeft(state, scopeOf(runner), now)), now);
  } catch (error) {
    deps.logger.error('could not hand the registration to the ghost sweep', { error: error as Error });
  }
}

/**
 * Keeps the runner's scope among the recently active ones for its sweep window, so the periodic
 * backstop sweep still covers it after its pools go quiet. A scope
 * marked within the last few minutes is left as it is: no write, so a burst of ending runners
 * does not contend for the reconciler's one state item.
 */
export async function keepScopeSwept(deps: LifecycleDeps, runner: RunnerRecord): Promise<void> {
  const now = deps.clock.now();
  try {
    await updateReconcilerState(deps.reconcilerState, (state) => (scopeMarkedSince(state, scopeOf(runner), now - SCOPE_MARK_FRESH_MS)
      ? state
      : touchScopes(state, [scopeOf(runner)], now)), now);
  } catch (error) {
    deps.logger.error('could not hand the registration to the ghost sweep', { error: error as Error });
  }
}
