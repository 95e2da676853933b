// What a pool remembers between reconciles: the launch in flight, the spot record, the jobs a
// spot interruption may have failed, and the launches too recent for the index to show.
import { JobKey } from './job';
import { EMPTY_SPOT_RECORD, SpotRecord } from './launch-plan';
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
  /** Epoch ms. */
  readonly startedAt: number;
}

export interface RecentLaunch {
  readonly instanceId: string;
  readonly market: Market;
  /** Epoch ms. */
  readonly launchedAt: number;
}

export interface PoolRecord {
  readonly poolId: string;
  readonly configName: string;
  readonly scope: RunnerScope;
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
  /** Jobs that were running on an interrupted spot instance; re-run if they fail. */
  readonly interruptedJobs: readonly JobKey[];
  /**
   * Instances launched in the last minutes. The pool index is eventually consistent: a runner
   * written a moment ago may be missing from a query, and counting it twice would double-launch.
   */
  readonly recentLaunches: readonly RecentLaunch[];
  /** Epoch ms of the last reconcile that found demand or supply. */
  readonly lastActiveAt: number;
}

/** How long a launch is remembered on the pool item besides the index. */
export const RECENT_LAUNCH_WINDOW_MS = 2 * 60_000;

export function emptyPool(poolId: string, configName: string, scope: RunnerScope): PoolRecord {
  return {
    poolId, configName, scope, version: 0, generation: 0, spot: EMPTY_SPOT_RECORD, interruptedJobs: [], recentLaunches: [], lastActiveAt: 0,
  };
}

/** Whether the pool has work the periodic reconciler must come back for even with no job or runner. */
export function hasPendingWork(pool: PoolRecord): boolean {
  return pool.pendingLaunch !== undefined || pool.interruptedJobs.length > 0;
}
