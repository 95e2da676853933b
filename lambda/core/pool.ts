// What a pool remembers between reconciles: the launch in flight, the spot record, the jobs a
// spot interruption may have failed (and the re-runs GitHub asked to wait), and the launches too
// recent for the index to show.
import { JobKey } from './job';
import { LaunchHold } from './launch-hold';
import { EMPTY_SPOT_RECORD, SpotRecord } from './launch-plan';
import type { PoolStore } from './ports';
import { RunnerScope } from './routing';
import { Market } from './runner';
import { InstanceRequirementsDocument } from '../../src/runner-config-document';

/** A CreateFleet call that was started and whose instances are not yet recorded as runners. */
export interface PendingLaunch {
  readonly clientToken: string;
  readonly market: Market;
  readonly count: number;
  readonly instanceTypes: readonly string[];
  readonly instanceRequirements?: InstanceRequirementsDocument;
  /** The AMI the launch asked for; undefined when the launch template names the image. */
  readonly imageId?: string;
  /** A launch into the config's warm pool (see warm-pool.ts). */
  readonly warm?: boolean;
  /** Epoch ms. */
  readonly startedAt: number;
}

export interface RecentLaunch {
  readonly instanceId: string;
  readonly market: Market;
  /** Epoch ms. */
  readonly launchedAt: number;
}

/**
 * A re-run GitHub refused for now because another job of the workflow run was still queued or
 * running (403 "This workflow is already running"), or could not be asked (an outage, a rate limit).
 */
export interface RerunWait {
  /** Epoch ms of the first refusal. */
  readonly since: number;
  /** Times GitHub was asked and refused for now. */
  readonly attempts: number;
  /** Epoch ms before which GitHub is not asked again. */
  readonly nextAttemptAt: number;
}

/** A job that was running on an interrupted spot instance. */
export interface InterruptedJob extends JobKey {
  /** Set once GitHub refused its re-run for now. */
  readonly rerunWait?: RerunWait;
}

/**
 * How a re-run that must wait for its workflow run is retried: after 1 min, doubling, at most every
 * 15 min, and given up a day after the first refusal (about a hundred calls at most; a sibling job
 * that runs longer than a day is rare, and the job can still be re-run by hand for 30 days).
 */
export const RERUN_RETRY = { firstDelayMs: 60_000, maxDelayMs: 15 * 60_000, maxWaitMs: 24 * 3600_000 } as const;

/** The wait after one more refusal at `now`, or undefined when the re-run is to be given up. */
export function nextRerunWait(previous: RerunWait | undefined, now: number): RerunWait | undefined {
  const since = previous?.since ?? now;
  if (now - since >= RERUN_RETRY.maxWaitMs) return undefined;
  const attempts = (previous?.attempts ?? 0) + 1;
  const delay = Math.min(RERUN_RETRY.maxDelayMs, RERUN_RETRY.firstDelayMs * 2 ** (attempts - 1));
  return { since, attempts, nextAttemptAt: now + delay };
}

export interface PoolRecord {
  readonly poolId: string;
  readonly configName: string;
  /** Where its runners register; a config's warm pool has none (see warm-pool.ts). */
  readonly scope?: RunnerScope;
  /** Optimistic lock: every save expects the version it read. 0 for a pool never saved. */
  readonly version: number;
  /** Counts launches; with the pool id it makes each launch's ClientToken. */
  readonly generation: number;
  /**
   * Random, set at the pool item's first launch: with the deployment's id it keeps ClientTokens
   * apart across deployments and across pool items (a table replaced starts generations at 0 again).
   */
  readonly tokenSalt?: string;
  readonly pendingLaunch?: PendingLaunch;
  readonly spot: SpotRecord;
  /**
   * Jobs that were running on an interrupted spot instance; re-run if they fail. A re-run GitHub
   * refused for now stays here (the pool stays in the index, so the reconciler comes back).
   */
  readonly interruptedJobs: readonly InterruptedJob[];
  /**
   * Instances launched in the last minutes. The pool index is eventually consistent: a runner
   * written a moment ago may be missing from a query, and counting it twice would double-launch.
   */
  readonly recentLaunches: readonly RecentLaunch[];
  /** Epoch ms of the last reconcile that found demand or supply. */
  readonly lastActiveAt: number;
  /** Set by the register endpoint when it turned a runner away for a reason only an operator fixes (launch-hold.ts). */
  readonly launchHold?: LaunchHold;
}

/** How long a launch is remembered on the pool item besides the index. */
export const RECENT_LAUNCH_WINDOW_MS = 2 * 60_000;

export function emptyPool(poolId: string, configName: string, scope: RunnerScope | undefined): PoolRecord {
  return {
    poolId, configName, scope, version: 0, generation: 0, spot: EMPTY_SPOT_RECORD, interruptedJobs: [], recentLaunches: [], lastActiveAt: 0,
  };
}

/**
 * Whether the pool has work the periodic reconciler must come back for even with no job or runner. A
 * launch hold counts: the reconciler brings the pool back until the provisioner drops the hold (a runner
 * registered, or no job waits any more), and `status` finds it in the pool index.
 */
export function hasPendingWork(pool: PoolRecord): boolean {
  return pool.pendingLaunch !== undefined || pool.interruptedJobs.length > 0 || pool.launchHold !== undefined;
}

/**
 * Reads the pool item, applies `change` and saves the result on the version read; on a lost race,
 * reads again and re-applies, `maxAttempts` times in all. `change` gets the stored pool (undefined if
 * never saved) and returns the pool to save, or undefined to leave the item as it is; it must be a
 * function of what it is given (it may run more than once). `contended`: every attempt lost.
 */
export async function updatePool(
  store: PoolStore,
  poolId: string,
  change: (pool: PoolRecord | undefined) => PoolRecord | undefined,
  at: number,
  maxAttempts: number,
): Promise<'saved' | 'unchanged' | 'contended'> {
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const next = change(await store.getPool(poolId));
    if (next === undefined) return 'unchanged';
    if (await store.savePool(next, at)) return 'saved';
  }
  return 'contended';
}
