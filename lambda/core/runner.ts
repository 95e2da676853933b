// Runner states: one runner per EC2 instance, keyed by instance id (DESIGN.md section 4).
import { JobKey } from './job';
import { RunnerScope } from './routing';

/**
 * - `booting`: the instance exists and has not asked for its JIT config yet;
 * - `registered`: it holds a JIT config and is idle until GitHub hands it a job;
 * - `busy`: GitHub said (in_progress) that it runs a job;
 * - `retiring`: it must go — deregistered and terminated, or told to power off when it calls;
 * - `gone`: the instance is shutting down or terminated.
 */
export type RunnerState = 'booting' | 'registered' | 'busy' | 'retiring' | 'gone';

export type Market = 'spot' | 'on-demand';

/** Runner states that the control plane still expects to change. */
export const ACTIVE_RUNNER_STATES: readonly RunnerState[] = ['booting', 'registered', 'busy', 'retiring'];

/** Why a runner is retired. */
export type RetireReason =
  | 'surplus' // its pool has more runners than queued jobs
  | 'boot-timeout' // it never asked for its JIT config in time
  | 'max-lifetime' // it outlived the longest a job may run
  | 'interrupted' // spot reclaims it
  | 'orphan'; // its instance is unknown to the state table

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
  readonly scope: RunnerScope;
  /** The job it runs, once GitHub said so (in_progress). */
  readonly job?: JobKey;
  readonly retireReason?: RetireReason;
  /** Epoch ms of the last change. */
  readonly updatedAt: number;
  /** Counts the changes; every write is conditional on the version read. */
  readonly version: number;
}

/** Changes that go with a runner's transition. */
export interface RunnerChanges {
  readonly runnerName?: string;
  readonly runnerId?: number;
  readonly registeredAt?: number;
  readonly job?: JobKey;
  readonly retireReason?: RetireReason;
}
