// Runner states: one runner per EC2 instance, keyed by instance id (DESIGN.md section 4).
import { UnscopedRunnerError } from './errors';
import { JobKey } from './job';
import { RunnerScope } from './routing';

/**
 * - `warming`: a warm pool instance booting for the first time; told to power off when it asks;
 * - `warm`: a warm pool instance parked stopped, waiting to be claimed by a pool with demand;
 * - `booting`: the instance exists (or was claimed from the warm pool and started) and has not
 *   asked for its JIT config yet;
 * - `registered`: it holds a JIT config and is idle until GitHub hands it a job;
 * - `busy`: GitHub said (in_progress) that it runs a job;
 * - `retiring`: it must go — deregistered and terminated, or told to power off when it calls;
 * - `gone`: the instance is shutting down or terminated.
 */
export type RunnerState = 'warming' | 'warm' | 'booting' | 'registered' | 'busy' | 'retiring' | 'gone';

export const RUNNER_STATES: readonly RunnerState[] = ['warming', 'warm', 'booting', 'registered', 'busy', 'retiring', 'gone'];

export type Market = 'spot' | 'on-demand';

/** Runner states that the control plane still expects to change. */
export const ACTIVE_RUNNER_STATES: readonly RunnerState[] = ['warming', 'warm', 'booting', 'registered', 'busy', 'retiring'];

/** Why a runner is retired. */
export type RetireReason =
  | 'surplus' // its pool has more runners than queued jobs
  | 'boot-timeout' // it never asked for its JIT config in time
  | 'max-lifetime' // it outlived the longest a job may run
  | 'interrupted' // spot reclaims it
  | 'orphan' // its instance is unknown to the state table
  | 'stale-image' // a warm pool instance built from an older runner image than the current one
  | 'start-failed' // a claimed warm pool instance EC2 would not start
  | 'stopped' // a claimed warm pool instance found stopped long after its claim: its end went unnoticed
  | 'runner-missing'; // its image holds no runner (the bootstrap found no run.sh)

/** What the control plane knows of one runner. */
export interface RunnerView {
  readonly instanceId: string;
  readonly state: RunnerState;
  readonly market: Market;
  /** Epoch ms of the launch. */
  readonly launchedAt: number;
  /** Epoch ms of the JIT config's issue, once registered. */
  readonly registeredAt?: number;
  /** Runner name, once registered. */
  readonly runnerName?: string;
  /** GitHub's runner id, once registered. */
  readonly runnerId?: number;
  /** The AMI it was launched from, when the launch named one (warm pool instances: kept fresh by it). */
  readonly imageId?: string;
  /** The job it runs, once GitHub said so (in_progress). */
  readonly job?: JobKey;
  /** The job whose cost tags the instance was given (claimed before the EC2 call, so it is tagged once). */
  readonly costTaggedJob?: number;
}

/** The runner name of an instance: a fixed prefix, so the reconciler can tell ours, and the id. */
export function runnerName(prefix: string, instanceId: string): string {
  return `${prefix}${instanceId}`;
}

/** The instance id inside one of our runner names, or undefined for anybody else's runner. */
export function instanceIdOfRunner(prefix: string, name: string | null | undefined): string | undefined {
  if (!name || !name.startsWith(prefix)) return undefined;
  const id = name.slice(prefix.length);
  return /^i-[0-9a-f]{8,17}$/.test(id) ? id : undefined;
}

/** A runner as stored: what reconcile sees, plus what the control plane needs to act on it. */
export interface RunnerRecord extends RunnerView {
  readonly poolId: string;
  readonly configName: string;
  /** Where it registers; a warm pool instance has none until a pool claims it. */
  readonly scope?: RunnerScope;
  /**
   * Epoch ms a pool claimed it from the warm pool. `launchedAt` is then the claim (its boot timeout
   * and lifetime count from there); an instance event older than the claim is the warm-up's own stop.
   */
  readonly claimedAt?: number;
  readonly retireReason?: RetireReason;
  /** Epoch ms of the last change. */
  readonly updatedAt: number;
  /** Counts the changes; every write is conditional on the version read. */
  readonly version: number;
}

/** Changes that go with a runner's transition. */
export interface RunnerChanges {
  /** A warm pool instance claimed by a pool: its new pool, scope and times. */
  readonly claim?: { readonly poolId: string; readonly scope: RunnerScope; readonly at: number };
  readonly runnerName?: string;
  readonly runnerId?: number;
  readonly registeredAt?: number;
  readonly job?: JobKey;
  readonly retireReason?: RetireReason;
}

/** The runner after a transition to `to` at `at` with `changes`; version and time moved on. */
export function applyRunnerChanges(current: RunnerRecord, to: RunnerState, changes: RunnerChanges, at: number): RunnerRecord {
  const { claim, ...rest } = changes;
  const claimed = claim ? { poolId: claim.poolId, scope: claim.scope, launchedAt: claim.at, claimedAt: claim.at } : {};
  return { ...current, ...rest, ...claimed, state: to, updatedAt: at, version: current.version + 1 };
}

/** How a runner's instance came up for its job: launched for it, or started from a warm pool. */
export type RunnerStart = 'cold' | 'warm';

export function startOf(runner: Pick<RunnerRecord, 'claimedAt'>): RunnerStart {
  return runner.claimedAt === undefined ? 'cold' : 'warm';
}

/** Where a runner registers: every runner has a scope but a warm pool instance no pool has claimed. */
export function scopeOf(runner: Pick<RunnerRecord, 'scope' | 'instanceId' | 'poolId'>): RunnerScope {
  if (!runner.scope) throw new UnscopedRunnerError(runner.instanceId, runner.poolId);
  return runner.scope;
}
