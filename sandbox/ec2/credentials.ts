// Temporary credentials of instance roles, as IMDS hands them out, and their reverse lookup so a
// SigV4 verifier elsewhere can check a signature and name the caller. The role session name of an
// instance profile is the instance id (reference/aws.md 4.4).
import { createHash, randomBytes } from 'crypto';
import { SimClock } from '../common/time';

export interface InstanceCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  /** Simulated epoch milliseconds. */
  readonly issuedAt: number;
  /** Simulated epoch milliseconds. */
  readonly expiration: number;
}

/** Who a set of credentials belongs to, in the fields a Function URL / API Gateway `iam` block carries. */
export interface CredentialIdentity extends InstanceCredentials {
  readonly instanceId: string;
  readonly roleName: string;
  readonly accountId: string;
  /** `AROA…`, the role's unique id. */
  readonly roleId: string;
  /** `AROA…:i-…` (`aws:userid` of an instance-profile session). */
  readonly userId: string;
  /** `arn:aws:sts::ACCOUNT:assumed-role/ROLE/i-…` */
  readonly arn: string;
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function base32(bytes: Buffer, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += BASE32[bytes[i % bytes.length] % 32];
  return out;
}

export class CredentialStore {
  private readonly byAccessKey = new Map<string, CredentialIdentity>();
  private readonly currentByInstance = new Map<string, CredentialIdentity>();

  constructor(
    private readonly clock: SimClock,
    private readonly accountId: string,
    /** Lifetime of one set of credentials (simulated). */
    private readonly durationMs = 6 * 3_600_000,
    /** IMDS offers fresh credentials this long before the current ones expire (at least 5 min in EC2). */
    private readonly refreshBeforeMs = 15 * 60_000,
  ) {}

  /** The credentials IMDS serves to the instance now, rotated shortly before they expire. */
  current(instanceId: string, roleName: string): CredentialIdentity {
    const existing = this.currentByInstance.get(instanceId);
    if (existing && existing.roleName === roleName && existing.expiration - this.clock.now() > this.refreshBeforeMs) {
      return existing;
    }
    const now = this.clock.now();
    const roleId = `AROA${base32(createHash('sha256').update(`${this.accountId}/${roleName}`).digest(), 17)}`;
    const identity: CredentialIdentity = {
      accessKeyId: `ASIA${base32(randomBytes(16), 16)}`,
      secretAccessKey: randomBytes(30).toString('base64'),
      sessionToken: `IQoJb3JpZ2luX2VjE${randomBytes(96).toString('base64')}`,
      issuedAt: now,
      expiration: now + this.durationMs,
      instanceId,
      roleName,
      accountId: this.accountId,
      roleId,
      userId: `${roleId}:${instanceId}`,
      arn: `arn:aws:sts::${this.accountId}:assumed-role/${roleName}/${instanceId}`,
    };
    this.byAccessKey.set(identity.accessKeyId, identity);
    this.currentByInstance.set(instanceId, identity);
    return identity;
  }

  /**
   * The identity behind an access key id, whether or not it has expired (the verifier compares
   * `expiration` with its clock and answers `ExpiredToken`). Credentials of a terminated instance stay
   * valid until they expire, as in AWS.
   */
  lookup(accessKeyId: string): CredentialIdentity | undefined {
    return this.byAccessKey.get(accessKeyId);
  }
}
