// Domain types shared by the EC2 simulator's parts: markets, instance states, the instance type
// catalog entry, subnets, tags.

/** The purchase option of an instance, spelled as CreateFleet's `lifecycle` spells it. */
export type Market = 'spot' | 'on-demand';

export const MARKETS: readonly Market[] = ['spot', 'on-demand'];

export type InstanceStateName = 'pending' | 'running' | 'shutting-down' | 'terminated' | 'stopping' | 'stopped';

/** Instance state codes (low byte of the 16-bit code; see reference/aws.md 2.1). */
export const STATE_CODES: Readonly<Record<InstanceStateName, number>> = {
  'pending': 0,
  'running': 16,
  'shutting-down': 32,
  'terminated': 48,
  'stopping': 64,
  'stopped': 80,
};

/** What the launch template says an OS-initiated shutdown (`poweroff`) does. EC2's default is stop. */
export type ShutdownBehavior = 'terminate' | 'stop';

/** An instance type the simulated region offers. Prices are per hour and only order the pools. */
export interface InstanceTypeInfo {
  readonly name: string;
  readonly vcpus: number;
  readonly memoryMiB: number;
  readonly architecture: 'x86_64' | 'arm64';
  readonly onDemandPrice: number;
  /** @default 30 % of the on-demand price */
  readonly spotPrice?: number;
}

export interface SubnetInfo {
  readonly subnetId: string;
  readonly availabilityZone: string;
  /** @default 'vpc-0sandbox000000001' */
  readonly vpcId?: string;
  /** Used for private IP addresses of instances in the subnet, e.g. `10.0.1`. @default derived from the subnet's position */
  readonly ipPrefix?: string;
}

/** Tags in insertion order; EC2 keys are case-sensitive. */
export type Tags = Map<string, string>;

export interface MetadataOptions {
  readonly httpTokens: 'required' | 'optional';
  readonly httpEndpoint: 'enabled' | 'disabled';
  readonly httpPutResponseHopLimit: number;
  readonly instanceMetadataTags: 'enabled' | 'disabled';
}

export interface IamInstanceProfile {
  /** e.g. `arn:aws:iam::123456789012:instance-profile/runner` */
  readonly arn: string;
  /** The role inside the profile: IMDS serves its credentials under this name. */
  readonly roleName: string;
}

export function tagsToObject(tags: Tags): Record<string, string> {
  return Object.fromEntries(tags);
}
