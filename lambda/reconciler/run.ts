// What the reconciler works with, what one run's steps share, and what a run reports.
import { GitHubCallBudget } from './budget';
import { ReconcilerLimits } from './reconciler-limits';
import { ReconcilerMetricName } from '../../src/contracts/metrics';
import { WarmPoolScheduleDocument } from '../../src/runner-config-document';
import { CountMetrics } from '../common/count-metrics';
import { Logger } from '../common/logger';
import { ComputePort } from '../core/compute';
import { FleetCap } from '../core/fleet-cap';
import { GitHubPort } from '../core/github';
import { Clock, JobStore, PoolQueue, RunnerStore } from '../core/ports';
import { ReconcilerState, ReconcilerStateStore } from '../core/reconciler-state';
import { Pool } from '../core/routing';
import { RunnerRecord } from '../core/runner';
import { RunnerVersionStore } from '../core/runner-version';

export interface ReconcilerSettings {
  readonly runnerNamePrefix: string;
  readonly bootTimeoutMs: number;
  readonly maxLifetimeMs: number;
}

export interface ReconcilerDeps {
  readonly settings: ReconcilerSettings;
  readonly runners: RunnerStore;
  readonly jobs: JobStore;
  readonly queue: PoolQueue;
  readonly compute: ComputePort;
  /**
   * The configs that keep a warm pool (the construct names them in the environment, so a sweep
   * reads no config): each is handed to the provisioner every sweep while its schedule keeps it.
   */
  readonly warmPoolConfigs?: readonly string[];
  /** The schedules of the warm pools kept on one, by config name; the others are kept always. */
  readonly warmPoolSchedules?: Readonly<Record<string, WarmPoolScheduleDocument>>;
  /** Built on first use only: an idle run never calls it. */
  readonly github: () => Promise<GitHubPort>;
  readonly state: ReconcilerStateStore;
  /** The runner versions of the images and of the server; unset when the deployment builds no image (its own AMI). */
  readonly runnerVersions?: RunnerVersionStore;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: CountMetrics<ReconcilerMetricName>;
  readonly limits?: Partial<ReconcilerLimits>;
  /** The deployment-wide cap on live instances; absent without `maxInstances`. */
  readonly fleet?: FleetCap;
}

export interface ReconcileSummary {
  /** No active pool and no recently active scope: no GitHub call was made but a read of the delivery log, every quarter of an hour. */
  idle: boolean;
  activePools: number;
  poolsMessaged: number;
  /** Warm pools handed to the provisioner (to refill, freshen or empty). */
  warmPoolsMessaged: number;
  orphansTerminated: string[];
  /** Instances of live runners whose end went unnoticed (retiring too long, claimed and stopped), terminated. */
  stalledTerminated: string[];
  stuckJobsChecked: number;
  stuckJobsRepaired: number;
  redelivered: string[];
  ghostsDeleted: number;
  /** Port calls to GitHub this run. */
  githubCalls: number;
  failedSteps: string[];
}

/** What the steps of one run share. `state` is updated by the steps as they go. */
export interface Run {
  readonly deps: ReconcilerDeps;
  readonly limits: ReconcilerLimits;
  readonly now: number;
  readonly runId: string;
  readonly pools: readonly Pool[];
  /** Configs whose warm pool holds instances (from the pool index). */
  readonly warmPoolConfigs: readonly string[];
  /** Live runners of the active pools, by instance id (pool index: eventually consistent). */
  readonly live: ReadonlyMap<string, RunnerRecord>;
  readonly budget: GitHubCallBudget;
  readonly summary: ReconcileSummary;
  state: ReconcilerState;
  github(): Promise<GitHubPort>;
}
