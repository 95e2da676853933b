// What the lifecycle function works with, and what it answers: the types its steps share.
import { LifecycleMetricName } from '../../src/contracts/metrics';
import { CountMetrics } from '../common/count-metrics';
import { Logger } from '../common/logger';
import { ComputePort } from '../core/compute';
import { FleetCap } from '../core/fleet-cap';
import { GitHubPort } from '../core/github';
import { Clock, JobStore, PoolQueue, PoolStore, RunnerStore } from '../core/ports';
import { ReconcilerStateStore } from '../core/reconciler-state';

export interface LifecycleDeps {
  readonly runners: RunnerStore;
  readonly pools: PoolStore;
  readonly jobs: JobStore;
  readonly queue: PoolQueue;
  readonly compute: ComputePort;
  /** Built on first use only: most events need no GitHub call. */
  readonly github: () => Promise<GitHubPort>;
  /** Where a registration GitHub would not delete yet is handed to the reconciler's ghost sweep. */
  readonly reconcilerState: ReconcilerStateStore;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: CountMetrics<LifecycleMetricName>;
  /** The deployment-wide cap on live instances; absent without `maxInstances`. */
  readonly fleet?: FleetCap;
}

/**
 * - `ignored`: not an event that changes a runner (another detail type, `pending`, `running`);
 * - `unknown-instance`: not one of our runners;
 * - `closed`: the runner is gone now; `already-gone`: it was before (a repeated or late event);
 * - `retired`: an idle or booting spot runner is retired, deregistered and terminated;
 * - `job-marked`: a busy spot runner's job is marked for a re-run if it fails;
 * - `already-retiring`: a spot runner that was on its way out anyway;
 * - `parked`: a warm pool instance stopped after its first boot: it waits, stopped, to be claimed;
 * - `stale-event`: an event older than the claim of a warm pool instance (its warm-up's own stop).
 */
export type LifecycleOutcome = 'ignored' | 'unknown-instance' | 'closed' | 'already-gone' | 'retired' | 'job-marked' | 'already-retiring'
  | 'parked' | 'stale-event';
