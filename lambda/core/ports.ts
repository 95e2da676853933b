// The interfaces the domain and the function logic depend on. Adapters in lambda/<adapter>/
// implement them over AWS SDK clients; tests and the sandbox implement them in memory.

import { DeliveryRecord } from './delivery';
import { JobKey, JobRecord, JobState, JobTransition, JobTransitionResult } from './job';
import { PoolRecord } from './pool';
import { ProvisionerMessage } from './pool-message';
import { RunnerChanges, RunnerRecord, RunnerState } from './runner';
import { RunnerConfig } from './runner-config';
import { ImageSourceDocument } from '../../src/runner-config-document';

/** Time, injected so the domain never reads the clock itself. */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
}

/** Remembered deliveries, keyed by the delivery GUID. */
export interface DeliveryStore {
  /** The recorded delivery, read strongly consistent; `undefined` if it was never recorded. */
  getDelivery(deliveryId: string): Promise<DeliveryRecord | undefined>;
  /** Records a delivery unless one with its GUID exists already; `false` when it did. */
  recordDelivery(record: DeliveryRecord): Promise<boolean>;
}

/** Jobs, each moved by single-item conditional writes (see `applyJobTransition` in job.ts for the semantics). */
export interface JobStore {
  /** Applies the transition if it moves the job forward; returns the job as it is afterwards. */
  applyJobTransition(transition: JobTransition): Promise<JobTransitionResult>;
  getJob(key: JobKey): Promise<JobRecord | undefined>;
  /** The pool's active (queued and in-progress) jobs, or those in one state. Eventually consistent. */
  listActiveJobs(poolId: string, state?: Exclude<JobState, 'completed'>): Promise<JobRecord[]>;
  /** How many of the pool's jobs are in `state`, counting no further than `atMost`. Eventually consistent. */
  countActiveJobs(poolId: string, state: Exclude<JobState, 'completed'>, atMost: number): Promise<number>;
}

/** The queue that hands pools to the provisioner. */
export interface PoolQueue {
  send(message: ProvisionerMessage): Promise<void>;
}

/** The runner configs, validated. Throws `ConfigError` when any is unusable. */
export interface RunnerConfigSource {
  loadConfigs(): Promise<readonly RunnerConfig[]>;
}

/** The webhook secret. Throws `SecretNotSetError` when it has not been set. */
export interface SecretSource {
  readSecret(): Promise<string>;
}

/** Runners, keyed by instance id; every change is a conditional write on the runner's state. */
export interface RunnerStore {
  /** Records a launched instance unless it is recorded already; `false` when it was. */
  putRunner(runner: RunnerRecord): Promise<boolean>;
  getRunner(instanceId: string): Promise<RunnerRecord | undefined>;
  /** The runners of these instances that are recorded, read strongly consistent, by instance id. */
  getRunners(instanceIds: readonly string[]): Promise<Map<string, RunnerRecord>>;
  /**
   * Moves a runner to `to` if its state is one of `from`; the runner as it is afterwards, or
   * `undefined` when the condition failed (another writer got there first) or it is unknown.
   */
  transitionRunner(
    instanceId: string, from: readonly RunnerState[], to: RunnerState, changes: RunnerChanges, at: number,
  ): Promise<RunnerRecord | undefined>;
  /**
   * Records that the busy runner's instance gets the cost tags of `job`, if it runs that job and has
   * not got them yet; `false` when another reconcile did, or the runner no longer runs the job.
   */
  claimCostTags(instanceId: string, job: JobKey): Promise<boolean>;
  /** The pool's runners that are not gone, or those in one state. Eventually consistent. */
  listPoolRunners(poolId: string, state?: RunnerState): Promise<RunnerRecord[]>;
  /** Every pool with an active job, a live runner or pending work. Eventually consistent. */
  listActivePools(): Promise<string[]>;
}

/** Pool records, saved with an optimistic lock on their version. */
export interface PoolStore {
  /** The pool, read strongly consistent; `undefined` if never saved. */
  getPool(poolId: string): Promise<PoolRecord | undefined>;
  /** Saves `pool` as version `pool.version + 1` if the stored version is still `pool.version`; `false` when it is not. */
  savePool(pool: PoolRecord, at: number): Promise<boolean>;
}

/** The AMI a config's instances boot, resolved at launch. */
export interface ImageSource {
  /** The AMI id, or `undefined` while the image does not exist yet (its parameter is not written). */
  imageIdFor(source: ImageSourceDocument): Promise<string | undefined>;
}

/**
 * A small store the control plane's functions share across their containers: what one container
 * learnt from GitHub (an installation id, a sealed installation token) saves the next one the
 * call. Values are opaque strings; an entry is gone after `expiresAt`. Best effort: a caller
 * treats any failure as a miss.
 */
export interface SharedCache {
  get(key: string): Promise<string | undefined>;
  /** `expiresAt`: epoch ms. */
  put(key: string, value: string, expiresAt: number): Promise<void>;
}
