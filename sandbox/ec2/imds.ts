// A simulated IMDSv2 for every instance on one loopback server, each under its own path prefix, so a real script only changes
// the base URL (http://127.0.0.1:PORT/i-0123… instead of http://169.254.169.254). Token rules and status codes: reference/aws.md 4.
import { createHash, randomBytes } from 'crypto';
import { IncomingMessage, ServerResponse, STATUS_CODES } from 'http';
import { InstanceRecord } from './instances';
import { isoSeconds } from './types';
import { LoopbackService, tally } from '../common/http';
import { SimClock } from '../common/time';

const MAX_TOKEN_TTL_SECONDS = 21_600;
/** Instance role credentials last six hours; IMDS offers fresh ones 15 minutes before they expire (at least 5 in EC2). */
const CREDENTIAL_LIFETIME_MS = 6 * 3_600_000;
const REFRESH_BEFORE_MS = 15 * 60_000;

const base32 = (bytes: Buffer, length: number) =>
  Array.from({ length }, (_, i) => 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'[bytes[i % bytes.length] % 32]).join('');

/** Fresh role credentials for an instance, with who they belong to in the fields a Function URL / API Gateway `iam` block carries. */
function issueCredentials(accountId: string, roleName: string, instanceId: string, now: number) {
  // `aws:userid` of an instance-profile session is `AROA…:i-…`, the role's unique id and the session name.
  const roleId = `AROA${base32(createHash('sha256').update(`${accountId}/${roleName}`).digest(), 17)}`;
  return {
    accessKeyId: `ASIA${base32(randomBytes(16), 16)}`,
    secretAccessKey: randomBytes(30).toString('base64'),
    sessionToken: `IQoJb3JpZ2luX2VjE${randomBytes(96).toString('base64')}`,
    /** Simulated epoch ms, as `expiration`. */
    issuedAt: now,
    expiration: now + CREDENTIAL_LIFETIME_MS,
    instanceId,
    roleName,
    accountId,
    roleId,
    userId: `${roleId}:${instanceId}`,
    arn: `arn:aws:sts::${accountId}:assumed-role/${roleName}/${instanceId}`,
  };
}

export type CredentialIdentity = Readonly<ReturnType<typeof issueCredentials>>;

export class ImdsServer extends LoopbackService {
  private readonly tokens = new Map<string, { instanceId: string; expiresAt: number }>();
  private readonly credentialsByKey = new Map<string, CredentialIdentity>();
  private readonly currentCredentials = new Map<string, CredentialIdentity>();
  private readonly byStatus: Record<string, number> = {};

  constructor(private readonly deps: { clock: SimClock; region: string; accountId: string; instance: (id: string) => InstanceRecord | undefined }) {
    super();
  }

  /** Answers so far by HTTP status. */
  stats(): { readonly byStatus: Readonly<Record<string, number>> } {
    return { byStatus: { ...this.byStatus } };
  }

  /** The identity behind an access key id IMDS handed out, expired or not (a SigV4 verifier checks `expiration`); a terminated instance's stay valid until then, as in AWS. */
  credentialsFor(accessKeyId: string): CredentialIdentity | undefined {
    return this.credentialsByKey.get(accessKeyId);
  }

  /** The instance was started again: IMDS serves it new credentials from now on. */
  rotateCredentials(instanceId: string): void {
    this.currentCredentials.delete(instanceId);
  }

  /** The credentials IMDS serves to the instance now, rotated shortly before they expire; the session name is the instance id (reference/aws.md 4.4). */
  private credentials(instanceId: string, roleName: string): CredentialIdentity {
    const now = this.deps.clock.now();
    const existing = this.currentCredentials.get(instanceId);
    if (existing && existing.roleName === roleName && existing.expiration - now > REFRESH_BEFORE_MS) return existing;
    const identity = issueCredentials(this.deps.accountId, roleName, instanceId, now);
    this.credentialsByKey.set(identity.accessKeyId, identity);
    this.currentCredentials.set(instanceId, identity);
    return identity;
  }

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const reply = (status: number, body = '', headers: Record<string, string> = {}) => {
      tally(this.byStatus, status);
      const text = body || (STATUS_CODES[status] ?? '');
      // Everything is text/plain, JSON documents included.
      res.writeHead(status, { 'content-type': 'text/plain', 'server': 'EC2ws', 'content-length': Buffer.byteLength(text), ...headers });
      res.end(text);
    };
    const [, instanceId, ...rest] = new URL(req.url ?? '/', 'http://imds').pathname.split('/');
    const path = '/' + rest.join('/');
    const instance = instanceId ? this.deps.instance(instanceId) : undefined;
    if (!instance || instance.state === 'terminated') return reply(404);
    const options = instance.launchTemplate.data.metadataOptions;
    if (options.httpEndpoint === 'disabled') return reply(403);

    if (req.method === 'PUT' && path === '/latest/api/token') {
      const ttlHeader = req.headers['x-aws-ec2-metadata-token-ttl-seconds'];
      const ttl = typeof ttlHeader === 'string' && /^[0-9]+$/.test(ttlHeader.trim()) ? Number(ttlHeader.trim()) : NaN;
      if (!(ttl >= 1 && ttl <= MAX_TOKEN_TTL_SECONDS)) return reply(400);
      const now = this.deps.clock.now();
      if (this.tokens.size >= 1000) for (const [t, entry] of this.tokens) if (entry.expiresAt <= now) this.tokens.delete(t);
      const token = `AQAEA${randomBytes(42).toString('base64')}`;
      this.tokens.set(token, { instanceId: instance.instanceId, expiresAt: now + ttl * 1000 });
      return reply(200, token, { 'x-aws-ec2-metadata-token-ttl-seconds': String(ttl) });
    }
    if (req.method !== 'GET') return reply(405, '', { allow: 'GET, PUT' });

    const token = req.headers['x-aws-ec2-metadata-token'];
    if (token !== undefined) {
      const entry = typeof token === 'string' ? this.tokens.get(token) : undefined;
      // A token is good only for the instance that asked for it, until its TTL runs out.
      if (!entry || entry.instanceId !== instance.instanceId || entry.expiresAt <= this.deps.clock.now()) return reply(401);
    } else if (options.httpTokens === 'required') {
      return reply(401);
    }
    const body = this.paths(instance)[path.replace(/^\/latest\/meta-data\//, '')];
    return body === undefined ? reply(404) : reply(200, body());
  }

  /** The paths the runner bootstrap reads (image-builder/bootstrap.sh), under `/latest/meta-data/`; a directory lists its entries. */
  private paths(i: InstanceRecord): Record<string, (() => string) | undefined> {
    const profile = i.launchTemplate.data.iamInstanceProfile;
    const document = () => {
      const c = this.credentials(i.instanceId, profile!.roleName);
      const keys = { AccessKeyId: c.accessKeyId, SecretAccessKey: c.secretAccessKey, Token: c.sessionToken };
      const body = { Code: 'Success', LastUpdated: isoSeconds(c.issuedAt), Type: 'AWS-HMAC', ...keys, Expiration: isoSeconds(c.expiration) };
      return JSON.stringify(body, null, 2);
    };
    return {
      'instance-id': () => i.instanceId,
      'placement/region': () => this.deps.region,
      ...(profile && { 'iam/security-credentials/': () => profile.roleName, [`iam/security-credentials/${profile.roleName}`]: document }),
      // A spot instance's interruption notice, from the warning on (until then 404), with the time it
      // is reclaimed (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/spot-instance-termination-notices.html).
      ...(i.interruptAt !== undefined && { 'spot/instance-action': () => JSON.stringify({ action: 'terminate', time: isoSeconds(i.interruptAt!) }) }),
    };
  }
}
