// A simulated instance metadata service (IMDSv2) for every instance on one loopback server. Each
// instance's IMDS lives under its own path prefix, so a real script only changes the base URL:
// `curl "$IMDS/latest/meta-data/instance-id"` with IMDS=http://127.0.0.1:PORT/i-0123… instead of
// http://169.254.169.254. Token rules and status codes follow reference/aws.md 4.
import { randomBytes } from 'crypto';
import { IncomingMessage, ServerResponse } from 'http';
import { CredentialStore } from './credentials';
import { InstanceRecord } from './instances';
import { listenOnLoopback, LoopbackServer } from '../common/http';
import { SimClock } from '../common/time';

export interface ImdsDeps {
  readonly clock: SimClock;
  readonly region: string;
  readonly accountId: string;
  readonly instance: (instanceId: string) => InstanceRecord | undefined;
  readonly credentials: CredentialStore;
}

export interface ImdsStats {
  readonly total: number;
  readonly byStatus: Readonly<Record<string, number>>;
}

type Node = string | { readonly [name: string]: Node | undefined };

const MAX_TOKEN_TTL_SECONDS = 21_600;

/** IMDS times have second precision: `2026-01-01T12:00:00Z`. */
const isoSeconds = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

export class ImdsServer {
  private server?: LoopbackServer;
  private readonly tokens = new Map<string, { instanceId: string; expiresAt: number }>();
  private total = 0;
  private readonly byStatus: Record<string, number> = {};

  constructor(private readonly deps: ImdsDeps) {}

  async start(): Promise<void> {
    this.server = await listenOnLoopback((req, res) => this.handle(req, res));
  }

  async stop(): Promise<void> {
    await this.server?.close();
    this.server = undefined;
  }

  /** `http://127.0.0.1:PORT` */
  get url(): string {
    if (!this.server) throw new Error('the IMDS server is not started');
    return this.server.url;
  }

  /** The base URL that replaces `http://169.254.169.254` for one instance. */
  baseUrlFor(instanceId: string): string {
    return `${this.url}/${instanceId}`;
  }

  stats(): ImdsStats {
    return { total: this.total, byStatus: { ...this.byStatus } };
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    this.total += 1;
    const reply = (status: number, body = '', headers: Record<string, string> = {}) => {
      this.byStatus[status] = (this.byStatus[status] ?? 0) + 1;
      const text = body || (status === 200 ? '' : STATUS_TEXT[status] ?? '');
      // Everything is text/plain, JSON documents included.
      res.writeHead(status, { 'content-type': 'text/plain', 'server': 'EC2ws', 'content-length': Buffer.byteLength(text), ...headers });
      res.end(req.method === 'HEAD' ? undefined : text);
    };
    const url = new URL(req.url ?? '/', 'http://imds');
    const [, instanceId, ...rest] = url.pathname.split('/');
    const path = '/' + rest.join('/');
    const instance = instanceId ? this.deps.instance(instanceId) : undefined;
    if (!instance || instance.state === 'terminated') return reply(404);
    const options = instance.launchTemplate.data.metadataOptions;
    if (options.httpEndpoint === 'disabled') return reply(403);

    if (req.method === 'PUT') {
      if (path !== '/latest/api/token') {
        // A token PUT to a versioned path is forbidden; other PUTs are not allowed at all.
        return /^\/[^/]+\/api\/token\/?$/.test(path) ? reply(403) : reply(405, '', { allow: 'GET, HEAD' });
      }
      if (req.headers['x-forwarded-for'] !== undefined) return reply(403);
      const ttlHeader = req.headers['x-aws-ec2-metadata-token-ttl-seconds'];
      const ttl = typeof ttlHeader === 'string' && /^[0-9]+$/.test(ttlHeader.trim()) ? Number(ttlHeader.trim()) : NaN;
      if (!(ttl >= 1 && ttl <= MAX_TOKEN_TTL_SECONDS)) return reply(400);
      this.purgeExpiredTokens();
      const token = `AQAEA${randomBytes(42).toString('base64')}`;
      this.tokens.set(token, { instanceId: instance.instanceId, expiresAt: this.deps.clock.now() + ttl * 1000 });
      return reply(200, token, { 'x-aws-ec2-metadata-token-ttl-seconds': String(ttl) });
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(405, '', { allow: 'GET, HEAD, PUT' });

    const token = req.headers['x-aws-ec2-metadata-token'];
    if (token !== undefined) {
      const entry = typeof token === 'string' ? this.tokens.get(token) : undefined;
      // A token is good only for the instance that asked for it, until its TTL runs out.
      if (!entry || entry.instanceId !== instance.instanceId || entry.expiresAt <= this.deps.clock.now()) return reply(401);
    } else if (options.httpTokens === 'required') {
      return reply(401);
    }
    if (path === '/latest/api/token') return reply(405, '', { allow: 'PUT' });
    const node = resolve(this.tree(instance), path);
    if (node === undefined) return reply(404);
    if (typeof node === 'string') return reply(200, node);
    return reply(200, Object.entries(node)
      .filter(([, child]) => child !== undefined)
      .map(([name, child]) => (typeof child === 'string' ? name : `${name}/`))
      .join('\n'));
  }

  private purgeExpiredTokens(): void {
    if (this.tokens.size < 1000) return;
    const now = this.deps.clock.now();
    for (const [token, entry] of this.tokens) if (entry.expiresAt <= now) this.tokens.delete(token);
  }

  private tree(i: InstanceRecord): Node {
    const lt = i.launchTemplate.data;
    const mac = `0e:${i.instanceId.slice(-10).match(/../g)!.join(':')}`;
    const profile = lt.iamInstanceProfile;
    const credentials = profile ? this.deps.credentials.current(i.instanceId, profile.roleName) : undefined;
    const interruption = i.interruption;
    const tagsVisible = lt.metadataOptions.instanceMetadataTags === 'enabled';
    return {
      latest: {
        'meta-data': {
          'ami-id': i.imageId,
          'ami-launch-index': String(i.amiLaunchIndex),
          'hostname': `ip-${i.privateIpAddress.replace(/\./g, '-')}.ec2.internal`,
          'iam': profile && credentials ? {
            'info': JSON.stringify({
              Code: 'Success',
              LastUpdated: isoSeconds(credentials.issuedAt),
              InstanceProfileArn: profile.arn,
              InstanceProfileId: `AIPA${i.launchTemplate.launchTemplateId.slice(3, 20).toUpperCase()}`,
            }, null, 2),
            'security-credentials': {
              [profile.roleName]: JSON.stringify({
                Code: 'Success',
                LastUpdated: isoSeconds(credentials.issuedAt),
                Type: 'AWS-HMAC',
                AccessKeyId: credentials.accessKeyId,
                SecretAccessKey: credentials.secretAccessKey,
                Token: credentials.sessionToken,
                Expiration: isoSeconds(credentials.expiration),
              }, null, 2),
            },
          } : undefined,
          'instance-id': i.instanceId,
          'instance-life-cycle': i.market,
          'instance-type': i.instanceType,
          'local-hostname': `ip-${i.privateIpAddress.replace(/\./g, '-')}.ec2.internal`,
          'local-ipv4': i.privateIpAddress,
          'mac': mac,
          'network': { interfaces: { macs: { [mac]: { 'subnet-id': i.subnetId, 'vpc-id': i.vpcId, 'local-ipv4s': i.privateIpAddress } } } },
          'placement': { 'availability-zone': i.availabilityZone, 'region': this.deps.region },
          // 404 until the interruption warning (reference/aws.md 3.3).
          'spot': interruption ? {
            'instance-action': JSON.stringify({ action: interruption.action, time: isoSeconds(interruption.time) }),
            'termination-time': isoSeconds(interruption.time),
          } : undefined,
          'tags': tagsVisible ? { instance: Object.fromEntries(i.tags) } : undefined,
        },
        'user-data': lt.userData,
        'dynamic': {
          'instance-identity': {
            document: JSON.stringify({
              accountId: this.deps.accountId,
              architecture: i.architecture,
              availabilityZone: i.availabilityZone,
              billingProducts: null,
              devpayProductCodes: null,
              marketplaceProductCodes: null,
              imageId: i.imageId,
              instanceId: i.instanceId,
              instanceType: i.instanceType,
              kernelId: null,
              pendingTime: isoSeconds(i.launchTime),
              privateIp: i.privateIpAddress,
              ramdiskId: null,
              region: this.deps.region,
              version: '2017-09-30',
            }, null, 2),
          },
        },
      },
    };
  }
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
};

function resolve(root: Node, path: string): Node | undefined {
  let node: Node | undefined = root;
  for (const segment of path.split('/').filter((s) => s !== '')) {
    if (node === undefined || typeof node === 'string') return undefined;
    node = node[segment];
  }
  return node;
}
