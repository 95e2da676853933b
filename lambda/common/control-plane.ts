// The set of ports every control-plane function (provisioner, register, lifecycle, reconciler)
// shares. Built from the function's environment by lambda/handlers/wiring/control-plane.ts; the
// sandbox and the tests build the same from their simulators.
import { ComputePort } from '../core/compute';
import { FleetCap } from '../core/fleet-cap';
import { GitHubPort } from '../core/github';
import { Clock, JobStore, PoolQueue, PoolStore, RunnerConfigSource, RunnerStore } from '../core/ports';

export interface ControlPlaneSettings {
  readonly runnerNamePrefix: string;
  readonly managedBy: string;
  readonly bootTimeoutMs: number;
  readonly maxLifetimeMs: number;
}

/** The ports of the control plane. */
export interface ControlPlane {
  readonly settings: ControlPlaneSettings;
  readonly jobs: JobStore;
  readonly runners: RunnerStore;
  readonly pools: PoolStore;
  readonly queue: PoolQueue;
  readonly configs: RunnerConfigSource;
  readonly compute: ComputePort;
  readonly github: () => Promise<GitHubPort>;
  readonly clock: Clock;
  /** The deployment-wide cap on live instances; absent without `maxInstances`. */
  readonly fleet?: FleetCap;
}
