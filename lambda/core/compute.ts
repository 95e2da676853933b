// The compute port: launching and ending instances, in domain words, the error a failed launch
// throws and how EC2's launch errors are classified. The EC2 adapter lives in lambda/compute/.
import { Market } from './runner';
import { TAG_CONFIG, TAG_LAUNCH, TAG_MANAGED_BY, TAG_POOL } from '../../src/contracts/instance-tags';
import { InstanceRequirementsDocument } from '../../src/runner-config-document';

/** Tags every instance carries (src/contracts/instance-tags.ts); the IAM conditions of the functions rely on the first one. */
export { TAG_CONFIG, TAG_LAUNCH, TAG_MANAGED_BY, TAG_POOL };

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
  /**
   * A warm pool launch: from the config's warm launch template, whose shutdown behaviour is `stop`
   * and whose bootstrap runs on every boot. Always on-demand (a one-time spot instance cannot be stopped).
   */
  readonly warm?: boolean;
}

/** An instance EC2 would not start, and why. */
export interface StartFailure {
  readonly instanceId: string;
  readonly code: string;
  readonly message: string;
}

export interface StartResult {
  /** Instances now pending or running. */
  readonly started: readonly string[];
  readonly failed: readonly StartFailure[];
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
 * - `spot`: spot cannot be bought in this account now, whatever the capacity (the Spot service-linked
 *   role is missing and may not be created, the spot instance limit, spot permissions denied) —
 *   SPOT_PREFERRED falls back to on-demand at once; SPOT_ONLY waits and raises an alarm;
 * - `config`: the request is wrong (template, subnet, AMI, an instance type no Availability Zone
 *   of the subnets offers) — no retry helps; an operator must act.
 */
export type LaunchErrorKind = 'capacity' | 'quota' | 'throttle' | 'spot' | 'config';

export interface LaunchError {
  readonly code: string;
  readonly message: string;
  readonly kind: LaunchErrorKind;
  /** The override's instance type, for per-override errors of a list of types. */
  readonly instanceType?: string;
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
  /** Throws {@link LaunchFailedError} (kind attached) when the whole request fails. */
  launch(request: LaunchRequest): Promise<LaunchResult>;
  /**
   * Starts stopped instances (a claimed warm pool). EC2's refusals (InsufficientInstanceCapacity,
   * IncorrectInstanceState, an instance gone) come back per instance in `failed`; other failures throw.
   */
  start(instanceIds: readonly string[]): Promise<StartResult>;
  /** Terminates; instances already gone are not an error. */
  terminate(instanceIds: readonly string[]): Promise<void>;
  /** Our instances that are not terminated. */
  listInstances(): Promise<InstanceInfo[]>;
  /** Instances of one launch, found by its tag (recovering a launch whose result was lost). */
  findLaunch(clientToken: string): Promise<LaunchedInstance[]>;
  /**
   * Adds (or overwrites) tags on instances and their EBS volumes, one call per instance. EC2's
   * refusals come back per instance in the result; an instance already gone is `gone`, not a failure.
   */
  tagInstances(requests: readonly InstanceTagRequest[]): Promise<TagResult>;
}

export interface InstanceTagRequest {
  readonly instanceId: string;
  readonly tags: Readonly<Record<string, string>>;
}

export interface TagResult {
  /** Instances tagged, with every volume attached to them. */
  readonly tagged: readonly string[];
  /** Instances EC2 no longer lists (terminated meanwhile): nothing to tag. */
  readonly gone: readonly string[];
  readonly failed: readonly StartFailure[];
}

/** CreateFleet failed as a whole (a request-level error), so nothing launched. Callers decide by `kind`, never by message text. */
export class LaunchFailedError extends Error {
  public readonly name = 'LaunchFailedError';

  constructor(readonly code: string, readonly kind: LaunchErrorKind, message: string, options?: ErrorOptions) {
    super(`CreateFleet failed with ${code} (${kind}): ${message}`, options);
  }
}

const CAPACITY = new Set([
  'InsufficientInstanceCapacity', 'InsufficientCapacity', 'UnfulfillableCapacity', 'InsufficientHostCapacity',
  'InsufficientFreeAddressesInSubnet', 'SpotMaxPriceTooLow', 'Unsupported', 'InvalidFleetConfiguration',
]);
const QUOTA = new Set(['VcpuLimitExceeded', 'InstanceLimitExceeded', 'MaxFleetCountExceeded']);
/**
 * Codes that stop spot but not on-demand: the spot instance count limit, and the Spot
 * service-linked role AWSServiceRoleForEC2Spot, which EC2 creates at an account's first spot
 * request only if the caller may (terraform-aws-github-runner#104, cdk-github-runners#182;
 * https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/service-linked-roles-spot-instance-requests.html).
 */
const SPOT_ONLY = new Set(['MaxSpotInstanceCountExceeded', 'AuthFailure.ServiceLinkedRoleCreationNotPermitted']);
/** Authorization failures: during a spot launch, most likely a spot-only permission (spot-instances-request). */
const AUTHORIZATION = new Set(['UnauthorizedOperation', 'AuthFailure']);
const THROTTLE = new Set(['RequestLimitExceeded', 'Throttling', 'ThrottlingException', 'RequestThrottled', 'InternalError', 'InternalFailure', 'ServiceUnavailable', 'Unavailable']);

/**
 * The kind of an EC2 error code. Unknown codes count as `config`: retrying an error we do not
 * understand forever would hide it; it is logged and alarmed instead, and the demand stays queued
 * for the next reconcile.
 */
export function classifyLaunchError(code: string, market?: Market): LaunchErrorKind {
  if (SPOT_ONLY.has(code)) return 'spot';
  // On-demand may still work: if it fails the same way, that launch is classified `config`.
  if (market === 'spot' && (AUTHORIZATION.has(code) || code.startsWith('AuthFailure.'))) return 'spot';
  if (CAPACITY.has(code)) return 'capacity';
  if (QUOTA.has(code)) return 'quota';
  if (THROTTLE.has(code)) return 'throttle';
  return 'config';
}

/** Per-override codes for a type that the override's Availability Zone does not offer (reference/aws.md 1.6, 1.7). */
const NOT_OFFERED = new Set(['Unsupported', 'InvalidFleetConfiguration']);

/**
 * A launch of named instance types that launched nothing because no Availability Zone of the
 * subnets offers any of them ("Your requested instance type (m6a.large) is not supported in your
 * requested Availability Zone (us-east-1e)") is a configuration error, not a shortage: retrying
 * can never help. Each such error becomes `config`, naming the fix; other results are unchanged.
 * One zone not offering a type is ordinary (another zone's override may launch it), so this holds
 * only when every error of the launch is of that kind and every requested type has one.
 */
export function withUnofferedTypes(result: LaunchResult, instanceTypes: readonly string[]): LaunchResult {
  if (result.instances.length > 0 || result.errors.length === 0 || instanceTypes.length === 0) return result;
  if (!result.errors.every((e) => NOT_OFFERED.has(e.code) && e.instanceType !== undefined)) return result;
  const failed = new Set(result.errors.map((e) => e.instanceType));
  if (!instanceTypes.every((t) => failed.has(t))) return result;
  return {
    instances: [],
    errors: result.errors.map((e) => ({
      ...e,
      kind: 'config',
      message: `instance type ${e.instanceType} is offered in none of the runner subnets' Availability Zones (${e.message}): `
        + 'list instance types these zones offer in the runner config, or add subnets in zones that offer them',
    })),
  };
}
