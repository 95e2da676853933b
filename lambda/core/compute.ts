// The compute port: launching and ending instances, in domain words, and how EC2's launch errors
// are classified. The EC2 adapter lives in lambda/compute/.
import { Market } from './runner';
import { InstanceRequirementsDocument } from '../../src/runner-config-document';

/** Tags every instance carries; the IAM conditions of the functions rely on the first one. */
export const TAG_MANAGED_BY = 'ephemeral-runners:managed-by';
export const TAG_POOL = 'ephemeral-runners:pool';
export const TAG_CONFIG = 'ephemeral-runners:config';
export const TAG_LAUNCH = 'ephemeral-runners:launch';

export interface LaunchRequest {
  readonly poolId: string;
  readonly configName: string;
  readonly market: Market;
  readonly count: number;
  /** Idempotency token: a retried call with the same token and parameters launches nothing new. */
  readonly clientToken: string;
  readonly instanceTypes: readonly string[];
  /** When set, EC2 chooses the types by these ranges and `instanceTypes` is empty. */
  readonly instanceRequirements?: InstanceRequirementsDocument;
  /** The AMI to boot, passed in every override. @default - the launch template's image */
  readonly imageId?: string;
  /** The image's architecture; attribute-based selection keeps to it. @default 'x64' */
  readonly architecture?: 'x64' | 'arm64';
}

export interface LaunchedInstance {
  readonly instanceId: string;
  readonly instanceType?: string;
  readonly availabilityZone?: string;
  readonly market: Market;
}

/**
 * - `capacity`: no capacity for a type/zone/market right now — try other markets or later;
 * - `quota`: an account limit (vCPUs, spot instances) — later, or on-demand;
 * - `throttle`: the API's rate limit — later, with backoff;
 * - `config`: the request is wrong (template, subnet, AMI) — no retry helps; an operator must act.
 */
export type LaunchErrorKind = 'capacity' | 'quota' | 'throttle' | 'config';

export interface LaunchError {
  readonly code: string;
  readonly message: string;
  readonly kind: LaunchErrorKind;
}

export interface LaunchResult {
  readonly instances: readonly LaunchedInstance[];
  /** Per-override errors of a partly or not fulfilled launch. */
  readonly errors: readonly LaunchError[];
}

export interface InstanceInfo {
  readonly instanceId: string;
  readonly state: string;
  readonly poolId?: string;
  readonly launchedAt?: number;
}

export interface ComputePort {
  /** Throws `LaunchFailedError` (kind attached) when the whole request fails. */
  launch(request: LaunchRequest): Promise<LaunchResult>;
  /** Terminates; instances already gone are not an error. */
  terminate(instanceIds: readonly string[]): Promise<void>;
  /** Our instances that are not terminated. */
  listInstances(): Promise<InstanceInfo[]>;
  /** Instances of one launch, found by its tag (recovering a launch whose result was lost). */
  findLaunch(clientToken: string): Promise<LaunchedInstance[]>;
}

const CAPACITY = new Set([
  'InsufficientInstanceCapacity', 'InsufficientCapacity', 'UnfulfillableCapacity', 'InsufficientHostCapacity',
  'InsufficientFreeAddressesInSubnet', 'SpotMaxPriceTooLow', 'Unsupported', 'InvalidFleetConfiguration',
]);
const QUOTA = new Set(['MaxSpotInstanceCountExceeded', 'VcpuLimitExceeded', 'InstanceLimitExceeded', 'MaxFleetCountExceeded']);
const THROTTLE = new Set(['RequestLimitExceeded', 'Throttling', 'ThrottlingException', 'RequestThrottled', 'InternalError', 'InternalFailure', 'ServiceUnavailable', 'Unavailable']);

/**
 * The kind of an EC2 error code. Unknown codes count as `config`: retrying an error we do not
 * understand forever would hide it; it is logged and alarmed instead, and the demand stays queued
 * for the next reconcile.
 */
export function classifyLaunchError(code: string): LaunchErrorKind {
  if (CAPACITY.has(code)) return 'capacity';
  if (QUOTA.has(code)) return 'quota';
  if (THROTTLE.has(code)) return 'throttle';
  return 'config';
}
