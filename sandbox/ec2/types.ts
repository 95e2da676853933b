// Domain types shared by the EC2 simulator's parts, resource ids in EC2's formats, and the errors
// of driving the simulator programmatically (mistakes of a test or the sandbox; never on the wire).
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
export interface InstanceTypeInfo {
  readonly name: string;
  readonly vcpus: number;
  readonly memoryMiB: number;
  readonly architecture: 'x86_64' | 'arm64';
  readonly onDemandPrice: number;
}

export interface SubnetInfo {
  readonly subnetId: string;
  readonly availabilityZone: string;
}

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

/** Resource ids in EC2's formats, drawn from a seeded source so a scenario replays with the same ids. */
export class IdGenerator {
  private readonly used = new Set<string>();

  constructor(private readonly random: SeededRandom) {}

  /** `prefix` + `0` + 16 hex digits (`i-`, `r-`, `lt-`), unique within this generator. */
  resourceId(prefix: string, digits = 16): string {
    for (;;) {
      const id = `${prefix}${digits === 16 ? '0' : ''}${this.hex(digits)}`;
      if (!this.used.has(id)) {
        this.used.add(id);
        return id;
      }
    }
  }

  /** A version 4 UUID (fleet ids, request ids, event ids). */
  uuid(): string {
    const h = this.hex(32).split('');
    h[12] = '4';
    h[16] = '89ab'[this.random.integer(0, 3)];
    const s = h.join('');
    return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
  }

  private hex(length: number): string {
    let out = '';
    for (let i = 0; i < length; i++) out += this.random.integer(0, 15).toString(16);
    return out;
  }
}

/** The simulator was asked about an instance it never launched (or forgot after the visibility window). */
export class UnknownInstanceError extends Error {
  constructor(readonly instanceId: string) {
    super(`no instance ${instanceId} in the EC2 simulator; launch it with CreateFleet first`);
    this.name = 'UnknownInstanceError';
  }
}

/** A programmatic action that the instance's current state does not allow. */
export class InvalidInstanceStateError extends Error {
  constructor(readonly instanceId: string, readonly state: string, readonly action: string) {
    super(`cannot ${action} instance ${instanceId} in state ${state}`);
    this.name = 'InvalidInstanceStateError';
  }
}

/** Spot-only actions on an on-demand instance. */
export class NotSpotInstanceError extends Error {
  constructor(readonly instanceId: string) {
    super(`instance ${instanceId} is on-demand; only spot instances can be interrupted`);
    this.name = 'NotSpotInstanceError';
  }
}

/** A launch template registration is inconsistent. */
export class Ec2SimulatorConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Ec2SimulatorConfigError';
  }
}
