// The EC2 Query protocol: form-encoded `Action=…&Version=2016-11-15` in, EC2 XML out. Counts every
// call, applies throttling before an action runs (so a throttled call changes nothing and consumes
// no ClientToken), asks IAM, and renders request-level errors in the EC2 envelope.
import { IncomingMessage, ServerResponse } from 'http';
import type { Ec2Decision } from './authorization';
import type { Ec2Faults } from './faults';
import type { IdGenerator } from './types';
import { listenOnLoopback, LoopbackServer, readBody } from '../common/http';

/** A request-level EC2 error: rendered as `<Response><Errors><Error>…` with `status` (reference/aws.md 1.8). */
export class Ec2ApiError extends Error {
  constructor(readonly code: string, message: string, readonly status = 400, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'Ec2ApiError';
  }
}

export const apiErrors = {
  missingParameter: (name: string) => new Ec2ApiError('MissingParameter', `The request must contain the parameter ${name}`),
  invalidParameterValue: (message: string) => new Ec2ApiError('InvalidParameterValue', message),
  invalidParameterCombination: (message: string) => new Ec2ApiError('InvalidParameterCombination', message),
  unsupported: (message: string) => new Ec2ApiError('Unsupported', message),
  /** 503, as observed for CreateFleet (reference/aws.md 1.7). */
  requestLimitExceeded: (accountId: string, action: string) => new Ec2ApiError('RequestLimitExceeded',
    `Request limit exceeded. Account ${accountId} has been throttled on ec2:${action} because it exceeded its request rate limit.`, 503),
  idempotentParameterMismatch: () => new Ec2ApiError('IdempotentParameterMismatch',
    'Arguments on this idempotent request are inconsistent with arguments used in previous request(s).'),
};

/**
 * EC2's UnauthorizedOperation text: the fixed sentence, IAM's reason, and the encoded message
 * `sts decode-authorization-message` would read
 * (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html; karpenter-provider-aws#2813 shows the full text).
 */
export function unauthorizedMessage(reason: string, seed: string): string {
  const encoded = Buffer.from(`sandbox:${seed}:${reason}`).toString('base64').replace(/=+$/, '');
  return `You are not authorized to perform this operation. ${reason}. Encoded authorization failure message: ${encoded}`;
}

/** EC2 Query parameters: a flat form (`Filter.1.Value.2=x`) viewed as structures and 1-based flattened lists (reference/aws.md 1.2). */
export class QueryParams {
  static parse(form: string): QueryParams {
    return new QueryParams(new Map(new URLSearchParams(form)), '');
  }

  constructor(private readonly flat: ReadonlyMap<string, string>, private readonly prefix: string) {}

  /** The full parameter name of a member of this view, for error messages. */
  nameOf(member: string): string {
    return this.prefix + member;
  }

  string(member: string): string | undefined {
    return this.flat.get(this.prefix + member);
  }

  requiredString(member: string): string {
    const value = this.string(member);
    if (value === undefined || value === '') throw apiErrors.missingParameter(this.nameOf(member));
    return value;
  }

  integer(member: string): number | undefined {
    const raw = this.string(member);
    if (raw !== undefined && !Number.isInteger(Number(raw))) {
      throw apiErrors.invalidParameterValue(`Invalid value '${raw}' for ${this.nameOf(member)}: expected an integer`);
    }
    return raw === undefined ? undefined : Number(raw);
  }

  /** True when any parameter lives under `member` (a structure that was sent). */
  has(member: string): boolean {
    const full = this.prefix + member;
    return [...this.flat.keys()].some((key) => key === full || key.startsWith(full + '.'));
  }

  struct(member: string): QueryParams {
    return new QueryParams(this.flat, `${this.prefix}${member}.`);
  }

  /** A list of structures, `Member.1.*`, `Member.2.*`, … in index order. */
  list(member: string): QueryParams[] {
    return this.indexes(member).map((i) => this.struct(`${member}.${i}`));
  }

  /** A list of strings, `Member.1`, `Member.2`, … in index order. */
  strings(member: string): string[] {
    return this.indexes(member).map((i) => this.string(`${member}.${i}`)).filter((v): v is string => v !== undefined);
  }

  /** Every parameter name, for refusing the ones the simulator does not model. */
  names(): string[] {
    return [...this.flat.keys()];
  }

  /** Every parameter except the given names, sorted: the fingerprint of a request for idempotency. */
  fingerprint(exclude: readonly string[]): string {
    return [...this.flat].filter(([key]) => !exclude.includes(key)).map(([k, v]) => `${k}=${v}`).sort().join('&');
  }

  private indexes(member: string): number[] {
    const head = `${this.prefix}${member}.`;
    const found = new Set<number>();
    for (const key of this.flat.keys()) {
      const index = key.startsWith(head) ? key.slice(head.length).split('.')[0] : '';
      if (/^[0-9]+$/.test(index)) found.add(Number(index));
    }
    return [...found].sort((a, b) => a - b);
  }
}

/** A value rendered as EC2 XML: camelCase elements in key order, every list a wrapper of `<item>` children (reference/aws.md 1.5). */
export type XmlValue = string | number | boolean | Date | undefined | readonly XmlValue[] | XmlObject;
export interface XmlObject {
  readonly [element: string]: XmlValue;
}

const escapeXml = (text: string) =>
  text.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[ch]!);

/** `undefined` renders nothing, so optional fields vanish. */
function renderElement(name: string, value: XmlValue): string {
  if (value === undefined) return '';
  if (Array.isArray(value)) {
    const items = (value as readonly XmlValue[]).map((item) => renderElement('item', item)).join('');
    return items === '' ? `<${name}/>` : `<${name}>${items}</${name}>`;
  }
  if (value instanceof Date) return `<${name}>${value.toISOString()}</${name}>`;
  if (typeof value === 'object') return `<${name}>${renderChildren(value as XmlObject)}</${name}>`;
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

const renderChildren = (o: XmlObject) => Object.entries(o).map(([child, v]) => renderElement(child, v)).join('');

export type Ec2ActionHandler = (params: QueryParams, ctx: { throttledInResponse: boolean; decision?: Ec2Decision }) => XmlObject;

export interface ApiCallCounts {
  readonly total: number;
  readonly byAction: Readonly<Record<string, number>>;
  /** Calls refused with RequestLimitExceeded (503). */
  readonly throttled: number;
  /** Request-level errors returned, by code (throttling included). */
  readonly errorsByCode: Readonly<Record<string, number>>;
}

export interface Ec2ApiServerDeps {
  readonly handlers: Readonly<Record<string, Ec2ActionHandler>>;
  readonly faults: Ec2Faults;
  readonly ids: IdGenerator;
  readonly accountId: string;
  readonly authorize?: (action: string, params: QueryParams, authorization: string | undefined) => Promise<Ec2Decision | undefined>;
}

export class Ec2ApiServer {
  private server?: LoopbackServer;
  private counts = { total: 0, byAction: {} as Record<string, number>, throttled: 0, errorsByCode: {} as Record<string, number> };

  constructor(private readonly deps: Ec2ApiServerDeps) {}

  async start(): Promise<void> {
    this.server = await listenOnLoopback((req, res) => this.handle(req, res));
  }

  async stop(): Promise<void> {
    await this.server?.close();
    this.server = undefined;
  }

  get url(): string {
    if (!this.server) throw new Error('the EC2 simulator is not started');
    return this.server.url;
  }

  calls(): ApiCallCounts {
    return { ...this.counts, byAction: { ...this.counts.byAction }, errorsByCode: { ...this.counts.errorsByCode } };
  }

  resetCalls(): void {
    this.counts = { total: 0, byAction: {}, throttled: 0, errorsByCode: {} };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = this.deps.ids.uuid();
    const send = (status: number, body: string) => {
      res.writeHead(status, { 'content-type': 'text/xml;charset=UTF-8', 'x-amzn-requestid': requestId });
      res.end(`<?xml version="1.0" encoding="UTF-8"?>\n${body}`);
    };
    try {
      // EC2 takes the Query parameters in a form-encoded POST body or in a GET query string.
      const form = req.method === 'POST' ? (await readBody(req)).toString('utf8') : new URL(req.url ?? '/', 'http://ec2').search.slice(1);
      const params = QueryParams.parse(form);
      const action = params.string('Action');
      if (action === undefined) throw new Ec2ApiError('MissingAction', 'The request must contain the parameter Action');
      this.counts.total += 1;
      this.counts.byAction[action] = (this.counts.byAction[action] ?? 0) + 1;
      const handler = Object.prototype.hasOwnProperty.call(this.deps.handlers, action) ? this.deps.handlers[action] : undefined;
      if (!handler) throw new Ec2ApiError('InvalidAction', `The action ${action} is not valid for this web service.`);
      if (params.string('Version') === undefined) throw apiErrors.missingParameter('Version');
      const verdict = this.deps.faults.throttle(action);
      if (verdict === 'envelope') {
        this.counts.throttled += 1;
        throw apiErrors.requestLimitExceeded(this.deps.accountId, action);
      }
      const decision = await this.deps.authorize?.(action, params, req.headers.authorization);
      if (decision?.denied !== undefined) {
        throw new Ec2ApiError('UnauthorizedOperation', unauthorizedMessage(decision.denied, this.deps.ids.uuid()), 403);
      }
      // DryRun is answered before the action runs; its parameters are not validated [simplification].
      if (params.string('DryRun') === 'true') throw new Ec2ApiError('DryRunOperation', 'Request would have succeeded, but DryRun flag is set.', 412);
      const body = handler(params, { throttledInResponse: verdict === 'in-response', decision });
      send(200, `<${action}Response xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">${renderElement('requestId', requestId)}` +
        `${renderChildren(body)}</${action}Response>`);
    } catch (err) {
      if (!(err instanceof Ec2ApiError)) console.error('EC2 simulator: internal error', err);
      const e = err instanceof Ec2ApiError ? err : new Ec2ApiError('InternalError', 'An internal error has occurred', 500, { cause: err });
      this.counts.errorsByCode[e.code] = (this.counts.errorsByCode[e.code] ?? 0) + 1;
      // The EC2 error envelope: root `Response`, no `<Type>`, `RequestID` with a capital D (reference/aws.md 1.8).
      send(e.status, `<Response><Errors><Error><Code>${escapeXml(e.code)}</Code><Message>${escapeXml(e.message)}</Message>` +
        `</Error></Errors><RequestID>${escapeXml(requestId)}</RequestID></Response>`);
    }
  }
}
