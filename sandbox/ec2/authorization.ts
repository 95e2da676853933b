// The seam to an IAM authorizer: it hears who called and what the request names, and may refuse the whole call (403
// UnauthorizedOperation) or single CreateFleet pools, which answer per-override errors as a denied RunInstances does.
import type { FleetService } from './fleet';
import { Market } from './types';
import { QueryParams } from './wire';

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
}

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
