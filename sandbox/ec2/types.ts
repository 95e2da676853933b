// Domain types shared by the EC2 simulator's parts, resource ids in EC2's formats, the error of driving the simulator wrongly
// (a mistake of a test or the sandbox; never on the wire), and the seam to an IAM authorizer.
import type { FleetService } from './fleet';
import type { QueryParams } from './wire';
import { SeededRandom } from '../common/random';

/** The purchase option of an instance, spelled as CreateFleet's `lifecycle` spells it. */
export type Market = 'spot' | 'on-demand';

export const MARKETS: readonly Market[] = ['spot', 'on-demand'];

export type InstanceStateName = 'pending' | 'running' | 'shutting-down' | 'terminated' | 'stopping' | 'stopped';

/** Instance state codes (low byte of the 16-bit code; see reference/aws.md 2.1). */
export const STATE_CODES: Readonly<Record<InstanceStateName, number>> = {
  'pending': 0, 'running': 16, 'shutting-down': 32, 'terminated': 48, 'stopping': 64, 'stopped': 80,
};

/** An instance type the simulated region offers. Prices are per hour and only order the pools. */
export type InstanceTypeInfo = Readonly<{ name: string; vcpus: number; memoryMiB: number; architecture: 'x86_64' | 'arm64'; onDemandPrice: number }>;

export type SubnetInfo = Readonly<{ subnetId: string; availabilityZone: string }>;

export type MetadataOptions = Readonly<{
  httpTokens: 'required' | 'optional'; httpEndpoint: 'enabled' | 'disabled'; httpPutResponseHopLimit: number; instanceMetadataTags: 'enabled' | 'disabled';
}>;

/** `arn` is the profile's (`arn:aws:iam::123456789012:instance-profile/runner`); IMDS serves the role's credentials under `roleName`. */
export type IamInstanceProfile = Readonly<{ arn: string; roleName: string }>;

/** Resource ids in EC2's formats, drawn from a seeded source so a scenario replays with the same ids. */
export class IdGenerator {
  private readonly used = new Set<string>();

  constructor(private readonly random: SeededRandom) {}

  /** `prefix` + `0` + 16 hex digits (`i-`, `r-`, `lt-`), unique within this generator. */
  resourceId(prefix: string): string {
    const id = `${prefix}0${this.hex(16)}`;
    if (this.used.has(id)) return this.resourceId(prefix);
    this.used.add(id);
    return id;
  }

  /** A version 4 UUID (fleet ids, request ids, event ids). */
  uuid(): string {
    const h = this.hex(32);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${'89ab'[this.random.integer(0, 3)]}${h.slice(17, 20)}-${h.slice(20)}`;
  }

  private hex(length: number): string {
    return Array.from({ length }, () => this.random.integer(0, 15).toString(16)).join('');
  }
}

/** The simulator was driven wrongly: an unknown instance, an action its state or market does not allow, a bad template registration. */
export class Ec2SimulatorError extends Error {
  override readonly name = 'Ec2SimulatorError';
}

/** EventBridge and IMDS times have second precision: `2026-01-01T12:00:00Z`. */
export const isoSeconds = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

/** The EventBridge events EC2 emits for instances (reference/aws.md 3). */
export type Ec2InstanceEvent = Readonly<{ version: '0'; id: string; source: 'aws.ec2'; account: string; time: string; region: string }> & {
  readonly resources: readonly string[];
} & (
  | { readonly 'detail-type': 'EC2 Instance State-change Notification'; readonly 'detail': { readonly 'instance-id': string; readonly 'state': InstanceStateName } }
  | { readonly 'detail-type': 'EC2 Spot Instance Interruption Warning'; readonly 'detail': { readonly 'instance-id': string; readonly 'instance-action': 'terminate' } }
);

// IAM hears who called and what the request names, and may refuse the whole call (403 UnauthorizedOperation) or single
// CreateFleet pools, which answer per-override errors as a denied RunInstances does.

/** One pool an instant fleet could launch into, as far as authorization cares. */
export type FleetLaunchKey = Readonly<{ launchTemplateId: string; subnetId: string; imageId?: string; imageFromOverride: boolean; market: Market }>;

/** What a CreateFleet request names: its templates, launches (deduplicated), subnets, override images and tags. */
export type Ec2FleetFacts = NonNullable<ReturnType<FleetService['facts']>>;

export interface Ec2Call {
  readonly action: string;
  readonly params: QueryParams;
  /** The access key of the SigV4 Authorization header; undefined for an unsigned request. */
  readonly accessKeyId?: string;
  /** CreateFleet: what the request names, parsed; undefined when the request is invalid (the action refuses it). */
  readonly fleet?: Ec2FleetFacts;
  readonly instanceTags: (instanceId: string) => Readonly<Record<string, string>>;
  /** The tags of an instance or a volume (`vol-…`) by id; empty for an unknown one. */
  readonly resourceTags: (resourceId: string) => Readonly<Record<string, string>>;
  /** What IAM's instance condition keys read (ec2:InstanceType, ec2:AvailabilityZone, ec2:InstanceMarketType); undefined for an unknown id. */
  readonly instanceFacts: (instanceId: string) => InstanceFacts | undefined;
}

export type InstanceFacts = Readonly<{ instanceType: string; availabilityZone: string; market: Market }>;

export interface Ec2Decision {
  /** The whole call is refused with this UnauthorizedOperation message. */
  readonly denied?: string;
  /** CreateFleet: the error one pool answers instead of launching. */
  readonly launchError?: (launch: FleetLaunchKey) => { readonly code: string; readonly message: string } | undefined;
}

export type Ec2Authorizer = (call: Ec2Call) => Promise<Ec2Decision | undefined>;

/** A stable key for a pool's decision. */
export function launchKey(l: FleetLaunchKey): string {
  return `${l.launchTemplateId}|${l.subnetId}|${l.imageId}|${l.imageFromOverride}|${l.market}`;
}
