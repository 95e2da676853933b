// SSM Parameter Store over JSON 1.1 (`X-Amz-Target: AmazonSSM.<Op>`): the control plane's reads (GetParameter, GetParameters,
// GetParametersByPath) and the setup's writes (PutParameter, DeleteParameter, DeleteParameters). SecureStrings are kept encrypted
// (AES-256-GCM under a per-simulator key, standing in for KMS) and decrypted only on request. Calls are counted and pass the IAM hook first.
import { createCipheriv, createDecipheriv, randomBytes } from 'crypto';
import { IncomingMessage, ServerResponse } from 'http';
import { LoopbackService, readBody, tally } from '../common/http';
import { ScaledClock, SimClock } from '../common/time';

export interface SsmSimulatorOptions {
  /** @default a real-time ScaledClock */
  readonly clock?: SimClock;
  /** @default 'us-east-1' */
  readonly region?: string;
  /** @default '123456789012' */
  readonly accountId?: string;
  /** IAM: decides each call from the operation, its input and the SigV4 header; a message refuses it with AccessDeniedException. */
  readonly authorize?: (operation: string, input: Record<string, unknown>, authorization: string | undefined) => Promise<string | undefined>;
}

/** JSON 1.1's error: HTTP 400 with `{"__type", "message"}`; ParameterNotFound comes without a message (reference/aws.md 8.3). */
export class SsmApiError extends Error {
  constructor(readonly code: string, readonly bodyMessage?: string, readonly status = 400) {
    super(bodyMessage ?? code);
    this.name = 'SsmApiError';
  }
}

type Json = Record<string, unknown>;
type Parameter = { readonly name: string; readonly value: string; readonly type: 'String' | 'StringList' | 'SecureString' };
type Stored = Parameter & { readonly version: number; readonly lastModified: number };

/** Looks like a KMS envelope (`AQICAH…`) so nobody mistakes it for the plain value. */
const CIPHERTEXT_HEADER = Buffer.from([0x01, 0x02, 0x02, 0x00, 0x78]);
/** GetParametersByPath returns at most 10 a page (reference/aws.md 8.2). */
const PAGE_SIZE = 10;
const noCalls = () => ({ total: 0, byAction: {} as Record<string, number> });

/** The SSM endpoint: `new SSMClient({ endpoint: sim.url, … })`. */
export class SsmSimulator extends LoopbackService {
  readonly clock: SimClock;
  /** By name; a SecureString's value is its ciphertext (base64). */
  private readonly parameters = new Map<string, Stored>();
  private readonly key = randomBytes(32);
  private counts = noCalls();
  private requestCounter = 0;

  private readonly operations: Record<string, (input: Json) => Json> = {
    GetParameter: (input) => this.getParameter(input),
    GetParametersByPath: (input) => this.getParametersByPath(input),
    PutParameter: (input) => this.putParameter(input),
    // https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameters.html: unknown names are listed, not an error.
    GetParameters: (input) => {
      const names = names10(input);
      const found = names.filter((n) => this.parameters.has(n));
      const parameters = found.map((n) => this.render(this.parameters.get(n)!, input.WithDecryption === true));
      return { Parameters: parameters, InvalidParameters: names.filter((n) => !found.includes(n)) };
    },
    DeleteParameter: (input) => {
      if (!this.parameters.delete(requiredString(input, 'Name'))) throw new SsmApiError('ParameterNotFound');
      return {};
    },
    // https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_DeleteParameters.html
    DeleteParameters: (input) => {
      const names = names10(input);
      const missing = names.filter((n) => !this.parameters.has(n));
      return { DeletedParameters: names.filter((n) => this.parameters.delete(n)), InvalidParameters: missing };
    },
  };

  constructor(private readonly options: SsmSimulatorOptions = {}) {
    super();
    this.clock = options.clock ?? new ScaledClock(1);
  }

  /** Writes (or overwrites, as a new version) a parameter without the API's name rules, e.g. a public `/aws/service/…` one. */
  seedParameter(input: Parameter): void {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = input.type === 'SecureString' ? Buffer.concat([cipher.update(input.value, 'utf8'), cipher.final()]) : undefined;
    const value = body ? Buffer.concat([CIPHERTEXT_HEADER, iv, cipher.getAuthTag(), body]).toString('base64') : input.value;
    const version = (this.parameters.get(input.name)?.version ?? 0) + 1;
    this.parameters.set(input.name, { ...input, value, version, lastModified: this.clock.now() });
  }

  apiCalls(): Readonly<ReturnType<typeof noCalls>> {
    return { total: this.counts.total, byAction: { ...this.counts.byAction } };
  }

  resetApiCalls(): void {
    this.counts = noCalls();
  }

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = `ssm-${String(++this.requestCounter).padStart(8, '0')}-0000-4000-8000-000000000000`;
    const send = (status: number, body: unknown) =>
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': requestId }).end(JSON.stringify(body));
    try {
      const target = String(req.headers['x-amz-target'] ?? '');
      const operation = target.replace(/^AmazonSSM\./, '');
      const body = (await readBody(req, 1024 * 1024)).toString('utf8');
      const handler = this.operations[operation];
      if (!handler) throw new SsmApiError('UnknownOperationException', `Unknown operation ${target}`);
      this.counts.total += 1;
      tally(this.counts.byAction, operation);
      const input = parseInput(body);
      // IAM refused the call (JSON 1.1: HTTP 400, `AccessDeniedException`, IAM's wording).
      const denied = await this.options.authorize?.(operation, input, req.headers.authorization);
      if (denied !== undefined) throw new SsmApiError('AccessDeniedException', denied);
      send(200, handler(input));
    } catch (err) {
      if (!(err instanceof SsmApiError)) console.error('SSM simulator: internal error', err);
      const e = err instanceof SsmApiError ? err : new SsmApiError('InternalServerError', 'An internal error occurred.', 500);
      send(e.status, { __type: e.code, message: e.bodyMessage }); // JSON.stringify drops an undefined message
    }
  }


  /**
   * Creates a parameter, or with `Overwrite` a new version of one; without it an existing name is ParameterAlreadyExists. Standard
   * tier: values up to 4 KB (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html).
   */
  private putParameter(input: Json): Json {
    const name = requiredString(input, 'Name');
    const value = requiredString(input, 'Value');
    const existing = this.parameters.get(name);
    if (existing && input.Overwrite !== true) {
      throw new SsmApiError('ParameterAlreadyExists', 'The parameter already exists. To overwrite this value, set the overwrite option in the request to true.');
    }
    const type = (input.Type ?? existing?.type) as Parameter['type'] | undefined;
    if (!type || !['String', 'StringList', 'SecureString'].includes(type)) throw new SsmApiError('ValidationException', 'A parameter type is required when you create a parameter.');
    if (Buffer.byteLength(value) > 4096) throw new SsmApiError('ValidationException', 'Standard tier parameters support a maximum parameter value of 4096 characters.');
    this.seedParameter({ name, value, type });
    return { Version: this.parameters.get(name)!.version, Tier: 'Standard' };
  }

  private getParameter(input: Json): Json {
    const p = this.parameters.get(requiredString(input, 'Name'));
    if (!p) throw new SsmApiError('ParameterNotFound');
    return { Parameter: this.render(p, input.WithDecryption === true) };
  }

  /** One level below `Path`, or every level (`Recursive`); pages by an opaque NextToken (reference/aws.md 8.2). */
  private getParametersByPath(input: Json): Json {
    const raw = requiredString(input, 'Path');
    const path = raw === '/' ? '/' : raw.replace(/\/+$/, '') + '/';
    const size = Math.min(PAGE_SIZE, Number(input.MaxResults ?? PAGE_SIZE));
    const matches = [...this.parameters.values()]
      .filter((p) => p.name.startsWith(path) && (input.Recursive === true || !p.name.slice(path.length).includes('/')))
      .sort((a, b) => (a.name < b.name ? -1 : 1));
    const offset = input.NextToken === undefined ? 0 : Number(Buffer.from(String(input.NextToken), 'base64').toString('utf8'));
    const next = offset + size < matches.length ? Buffer.from(String(offset + size)).toString('base64') : undefined;
    return { Parameters: matches.slice(offset, offset + size).map((p) => this.render(p, input.WithDecryption === true)), NextToken: next };
  }

  /** WithDecryption is ignored for String and StringList (reference/aws.md 8.2). */
  private render(p: Stored, withDecryption: boolean): Json {
    const { region = 'us-east-1', accountId = '123456789012' } = this.options;
    const ARN = `arn:aws:ssm:${region}:${accountId}:parameter/${p.name.replace(/^\//, '')}`;
    const Value = p.type === 'SecureString' && withDecryption ? this.decrypt(p.value) : p.value;
    return { Name: p.name, Type: p.type, Value, Version: p.version, LastModifiedDate: p.lastModified / 1000, ARN, DataType: 'text' };
  }

  private decrypt(stored: string): string {
    const raw = Buffer.from(stored, 'base64').subarray(CIPHERTEXT_HEADER.length);
    const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12)).setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
  }
}

function parseInput(body: string): Json {
  try {
    const input: unknown = body === '' ? {} : JSON.parse(body);
    if (typeof input === 'object' && input !== null && !Array.isArray(input)) return input as Json;
  } catch {
    // answered below
  }
  throw new SsmApiError('SerializationException', 'The request body must be a JSON object.');
}

function requiredString(input: Json, member: string): string {
  const value = input[member];
  if (typeof value === 'string' && value.length > 0) return value;
  throw new SsmApiError('ValidationException',
    `1 validation error detected: Value null at '${member[0].toLowerCase()}${member.slice(1)}' failed to satisfy constraint: Member must not be null`);
}

/** `Names`: 1 to 10 parameter names. */
function names10(input: Json): string[] {
  const names = input.Names;
  if (!Array.isArray(names) || names.length < 1 || names.length > 10) {
    throw new SsmApiError('ValidationException', "1 validation error detected: Value at 'names' failed to satisfy constraint: Member must have length between 1 and 10");
  }
  return names as string[];
}
