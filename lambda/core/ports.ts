// The interfaces the domain and the function logic depend on. Adapters in lambda/<adapter>/
// implement them over AWS SDK clients; tests and the sandbox implement them in memory.

import { DeliveryRecord } from './delivery';
import { JobKey, JobRecord, JobState, JobTransition, JobTransitionResult } from './job';
import { PoolMessage } from './pool-message';
import { RunnerConfig } from './runner-config';

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
}

/** The queue that hands pools to the provisioner. */
export interface PoolQueue {
  send(message: PoolMessage): Promise<void>;
}

/** The runner configs, validated. Throws `ConfigError` when any is unusable. */
export interface RunnerConfigSource {
  loadConfigs(): Promise<readonly RunnerConfig[]>;
}

/** The webhook secret. Throws `SecretNotSetError` when it has not been set. */
export interface SecretSource {
  readSecret(): Promise<string>;
}
