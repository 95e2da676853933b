// The EC2 Query protocol: form-encoded `Action=…&Version=2016-11-15` in, EC2 XML out, request-level errors in the EC2 envelope.

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
  unsupported: (message: string) => new Ec2ApiError('Unsupported', message),
};

/** EC2's UnauthorizedOperation text with IAM's reason and an encoded message (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html; karpenter-provider-aws#2813). */
export function unauthorizedMessage(reason: string, seed: string): string {
  const encoded = Buffer.from(`sandbox:${seed}:${reason}`).toString('base64').replace(/=+$/, '');
  return `You are not authorized to perform this operation. ${reason}. Encoded authorization failure message: ${encoded}`;
}

/** EC2 Query parameters: a flat form (`Filter.1.Value.2=x`) viewed as structures and 1-based flattened lists (reference/aws.md 1.2). */
export class QueryParams {
  constructor(private readonly flat: ReadonlyMap<string, string>, private readonly prefix = '') {}

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
export type XmlValue = string | number | boolean | undefined | readonly XmlValue[] | XmlObject;
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
  if (typeof value === 'object') return `<${name}>${renderChildren(value as XmlObject)}</${name}>`;
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

const renderChildren = (o: XmlObject) => Object.entries(o).map(([child, v]) => renderElement(child, v)).join('');

/** A success body: `<{Action}Response>` in the 2016-11-15 namespace with a lower-case `requestId`. */
export const renderEc2Response = (action: string, requestId: string, body: XmlObject) =>
  `<${action}Response xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">${renderElement('requestId', requestId)}${renderChildren(body)}</${action}Response>`;

/** The EC2 error envelope: root `Response`, no `<Type>`, `RequestID` with a capital D (reference/aws.md 1.8). */
export const renderEc2Error = (e: Ec2ApiError, requestId: string) =>
  `<Response><Errors><Error><Code>${escapeXml(e.code)}</Code><Message>${escapeXml(e.message)}</Message></Error></Errors>` +
  `<RequestID>${escapeXml(requestId)}</RequestID></Response>`;
