// The SSM Parameter Store simulator: the JSON 1.1 protocol (`X-Amz-Target: AmazonSSM.<Op>`) that the
// real `@aws-sdk/client-ssm` speaks, for the two reads the control plane makes (GetParameter,
// GetParametersByPath), over parameters the sandbox seeds. SecureString values are kept encrypted
// (AES-256-GCM under a per-simulator key, standing in for KMS) and decrypted only on request. Calls
// are counted, can be throttled, and pass the IAM hook first.
import { createCipheriv, createDecipheriv, randomBytes } from 'crypto';
import { IncomingMessage, ServerResponse } from 'http';
import { listenOnLoopback, LoopbackServer, readBody } from '../common/http';
import { SeededRandom } from '../common/random';
import { ScaledClock, SimClock } from '../common/time';

export type ParameterType = 'String' | 'StringList' | 'SecureString';

export interface PutInput {
  readonly name: string;
  readonly value: string;
  readonly type: ParameterType;
}

export interface SsmSimulatorOptions {
  /** @default a real-time ScaledClock */
  readonly clock?: SimClock;
  /** @default 1 */
  readonly seed?: number;
  /** @default 'us-east-1' */
  readonly region?: string;
  /** @default '123456789012' */
  readonly accountId?: string;
  /** Probability that a call is refused with ThrottlingException ("Rate exceeded"). @default 0 */
  readonly throttleRate?: number;
  /**
   * IAM: decides each call before it runs, from the operation, its input and the SigV4
   * Authorization header; a message refuses it with AccessDeniedException. @default every call allowed
   */
  readonly authorize?: (operation: string, input: Record<string, unknown>, authorization: string | undefined) => Promise<string | undefined>;
}

export interface SsmCallCounts {
  readonly total: number;
  readonly byAction: Readonly<Record<string, number>>;
  readonly throttled: number;
  readonly errorsByCode: Readonly<Record<string, number>>;
}

/**
 * An error as JSON 1.1 carries it: HTTP 400 with `{"__type": code, "message": …}`; without a
 * message only `__type` is sent, as SSM does for ParameterNotFound (reference/aws.md 8.3).
 */
export class SsmApiError extends Error {
  constructor(readonly code: string, readonly bodyMessage?: string, readonly status = 400) {
    super(bodyMessage ?? code);
    this.name = 'SsmApiError';
  }
}

const validation = (message: string): SsmApiError => new SsmApiError('ValidationException', message);

interface Parameter extends PutInput {
  readonly version: number;
  /** Simulated epoch ms. */
  readonly lastModified: number;
}

type Json = Record<string, unknown>;

/** Looks like a KMS envelope (`AQICAH…`) so nobody mistakes it for the plain value. */
const CIPHERTEXT_HEADER = Buffer.from([0x01, 0x02, 0x02, 0x00, 0x78]);

export class SsmSimulator {
  readonly clock: SimClock;
  /** By name; a SecureString's value is its ciphertext (base64). */
  private readonly parameters = new Map<string, Parameter>();
  private readonly key = randomBytes(32);
  private readonly dice: SeededRandom;
  private readonly forcedThrottles: { operation?: string; remaining: number }[] = [];
  private readonly operations: Readonly<Record<string, (input: Json) => Json>> = {
    GetParameter: (input) => this.getParameter(input),
    GetParametersByPath: (input) => this.getParametersByPath(input),
  };
  private server?: LoopbackServer;
  private counts = { total: 0, byAction: {} as Record<string, number>, throttled: 0, errorsByCode: {} as Record<string, number> };
  private requestCounter = 0;

  constructor(private readonly options: SsmSimulatorOptions = {}) {
    this.clock = options.clock ?? new ScaledClock(1);
    this.dice = new SeededRandom(options.seed ?? 1).fork('ssm-throttle');
  }

  async start(): Promise<void> {
    this.server = await listenOnLoopback((req, res) => this.handle(req, res));
  }

  async stop(): Promise<void> {
    await this.server?.close();
    this.server = undefined;
  }

  /** The SSM endpoint: `new SSMClient({ endpoint: sim.url, … })`. */
  get url(): string {
    if (!this.server) throw new Error('the SSM simulator is not started');
    return this.server.url;
  }

  /**
   * Writes (or overwrites, as a new version) a parameter without the API's name rules, e.g. the public
   * `/aws/service/…` parameters that a real account can read but not write. Returns the version.
   */
  seedParameter(input: PutInput): number {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const encrypted = (): string => {
      const body = Buffer.concat([cipher.update(input.value, 'utf8'), cipher.final()]);
      return Buffer.concat([CIPHERTEXT_HEADER, iv, cipher.getAuthTag(), body]).toString('base64');
    };
    const version = (this.parameters.get(input.name)?.version ?? 0) + 1;
    const value = input.type === 'SecureString' ? encrypted() : input.value;
    this.parameters.set(input.name, { ...input, value, version, lastModified: this.clock.now() });
    return version;
  }

  /** Throttles the next `count` calls (of `operation`, e.g. 'GetParameter', or of any). */
  throttleNext(count: number, operation?: string): void {
    this.forcedThrottles.push({ operation, remaining: count });
  }

  apiCalls(): SsmCallCounts {
    return { ...this.counts, byAction: { ...this.counts.byAction }, errorsByCode: { ...this.counts.errorsByCode } };
  }

  resetApiCalls(): void {
    this.counts = { total: 0, byAction: {}, throttled: 0, errorsByCode: {} };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = `ssm-${String(++this.requestCounter).padStart(8, '0')}-0000-4000-8000-000000000000`;
    const send = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': requestId });
      res.end(JSON.stringify(body));
    };
    try {
      const target = String(req.headers['x-amz-target'] ?? '');
      const operation = target.replace(/^AmazonSSM\./, '');
      const body = (await readBody(req, 1024 * 1024)).toString('utf8');
      if (!target.startsWith('AmazonSSM.') || !Object.hasOwn(this.operations, operation)) {
        throw new SsmApiError('UnknownOperationException', `Unknown operation ${target}`);
      }
      this.counts.total += 1;
      this.counts.byAction[operation] = (this.counts.byAction[operation] ?? 0) + 1;
      if (this.shouldThrottle(operation)) {
        this.counts.throttled += 1;
        throw new SsmApiError('ThrottlingException', 'Rate exceeded');
      }
      let input: unknown;
      try {
        input = body === '' ? {} : JSON.parse(body);
      } catch {
        throw new SsmApiError('SerializationException', 'The request body is not valid JSON.');
      }
      if (typeof input !== 'object' || input === null || Array.isArray(input)) {
        throw new SsmApiError('SerializationException', 'The request body must be a JSON object.');
      }
      // IAM refused the call (JSON 1.1: HTTP 400, `AccessDeniedException`, IAM's wording).
      const denied = await this.options.authorize?.(operation, input as Json, req.headers.authorization);
      if (denied !== undefined) throw new SsmApiError('AccessDeniedException', denied);
      send(200, this.operations[operation](input as Json));
    } catch (err) {
      if (!(err instanceof SsmApiError)) console.error('SSM simulator: internal error', err);
      const e = err instanceof SsmApiError ? err : new SsmApiError('InternalServerError', 'An internal error occurred.', 500);
      this.counts.errorsByCode[e.code] = (this.counts.errorsByCode[e.code] ?? 0) + 1;
      send(e.status, e.bodyMessage === undefined ? { __type: e.code } : { __type: e.code, message: e.bodyMessage });
    }
  }

  private getParameter(input: Json): Json {
    const p = this.parameters.get(requiredString(input, 'Name'));
    // Commonly returned with no message at all (reference/aws.md 8.3).
    if (!p) throw new SsmApiError('ParameterNotFound');
    return { Parameter: this.render(p, input.WithDecryption === true) };
  }

  /** One level below `Path`, or every level (`Recursive`); pages of up to 10 by an opaque NextToken (reference/aws.md 8.2). */
  private getParametersByPath(input: Json): Json {
    const raw = requiredString(input, 'Path');
    if (!raw.startsWith('/') || !/^[a-zA-Z0-9_.\-/]+$/.test(raw)) {
      throw validation(`The parameter path ${raw} is not valid: it must start with / and use letters, numbers and .-_/ only.`);
    }
    if (Array.isArray(input.ParameterFilters) && input.ParameterFilters.length > 0) {
      throw validation('The SSM simulator does not support ParameterFilters.');
    }
    const maxResults = input.MaxResults ?? 10;
    if (typeof maxResults !== 'number' || !Number.isInteger(maxResults) || maxResults < 1 || maxResults > 10) {
      throw validation(`1 validation error detected: Value '${String(maxResults)}' at 'maxResults' failed to satisfy constraint: ` +
        'Member must have value less than or equal to 10');
    }
    const path = raw === '/' ? '/' : raw.replace(/\/+$/, '') + '/';
    const matches = [...this.parameters.values()]
      .filter((p) => p.name.startsWith(path) && p.name !== path && (input.Recursive === true || !p.name.slice(path.length).includes('/')))
      .sort((a, b) => (a.name < b.name ? -1 : 1));
    const offset = decodeToken(input.NextToken, raw);
    const next = offset + maxResults < matches.length ? Buffer.from(JSON.stringify({ o: offset + maxResults, p: raw })).toString('base64') : undefined;
    return { Parameters: matches.slice(offset, offset + maxResults).map((p) => this.render(p, input.WithDecryption === true)), NextToken: next };
  }

  /** WithDecryption is ignored for String and StringList (reference/aws.md 8.2). */
  private render(p: Parameter, withDecryption: boolean): Json {
    return {
      Name: p.name,
      Type: p.type,
      Value: p.type === 'SecureString' && withDecryption ? this.decrypt(p.value) : p.value,
      Version: p.version,
      LastModifiedDate: p.lastModified / 1000,
      ARN: `arn:aws:ssm:${this.options.region ?? 'us-east-1'}:${this.options.accountId ?? '123456789012'}:parameter/${p.name.replace(/^\//, '')}`,
      DataType: 'text',
    };
  }

  private decrypt(stored: string): string {
    const raw = Buffer.from(stored, 'base64');
    const at = CIPHERTEXT_HEADER.length;
    const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(at, at + 12));
    decipher.setAuthTag(raw.subarray(at + 12, at + 28));
    return Buffer.concat([decipher.update(raw.subarray(at + 28)), decipher.final()]).toString('utf8');
  }

  private shouldThrottle(operation: string): boolean {
    const forced = this.forcedThrottles.find((f) => f.remaining > 0 && (f.operation === undefined || f.operation === operation));
    if (forced) forced.remaining -= 1;
    return forced !== undefined || this.dice.chance(this.options.throttleRate ?? 0);
  }
}

function requiredString(input: Json, member: string): string {
  const value = input[member];
  if (typeof value !== 'string' || value.length === 0) {
    throw validation(`1 validation error detected: Value null at '${member[0].toLowerCase()}${member.slice(1)}' failed to satisfy constraint: Member must not be null`);
  }
  return value;
}

function decodeToken(token: unknown, path: string): number {
  if (token === undefined) return 0;
  try {
    const parsed = JSON.parse(Buffer.from(String(token), 'base64').toString('utf8')) as { o?: unknown; p?: unknown };
    if (typeof parsed.o === 'number' && parsed.p === path) return parsed.o;
  } catch {
    // reported below
  }
  throw new SsmApiError('InvalidNextToken', "The specified token isn't valid.");
}
