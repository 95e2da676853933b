// Verifies a SigV4-signed HTTP request the way an AWS_IAM-authorized endpoint does: recompute the
// signature over exactly the headers the client signed, with the secret of its access key, and
// compare. The signing itself is @smithy/signature-v4's (the AWS SDK's own signer).
import { createHash, createHmac, Hash, Hmac, timingSafeEqual } from 'crypto';
import { IncomingMessage } from 'http';
import { SignatureV4 } from '@smithy/signature-v4';
import { flatHeaders } from '../common/http';

type Bytes = string | ArrayBuffer | ArrayBufferView;
const bytes = (data: Bytes): Buffer => (typeof data === 'string' || data instanceof ArrayBuffer ? Buffer.from(data as string) : Buffer.from(data.buffer, data.byteOffset, data.byteLength));

/** SHA-256, or HMAC-SHA256 when given a secret: the checksum shape the signer takes. */
export class NodeSha256 {
  private hash!: Hash | Hmac;

  constructor(private readonly secret?: Bytes) {
    this.reset();
  }

  update(data: Bytes): void {
    this.hash.update(bytes(data));
  }

  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }

  reset(): void {
    this.hash = this.secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(this.secret));
  }
}

/** `expiresAt`: epoch ms after which the credentials are refused. */
export type SigningCredentials = { readonly secretAccessKey: string; readonly sessionToken?: string; readonly expiresAt?: number };

/** IAM for a JSON-protocol call, from its operation, input and SigV4 Authorization header: a message refuses it. */
export type CallAuthorizer = (operation: string, input: Record<string, unknown>, authorization: string | undefined) => Promise<string | undefined>;

export type VerifyResult = { readonly ok: true; readonly accessKeyId: string }
  | { readonly ok: false; readonly code: string; readonly message: string };

/** The error type a refusal is answered with: `InvalidSignatureException`, `MissingAuthenticationTokenException`, … */
export const exceptionType = (code: string): string => `${code.replace(/Exception$/, '')}Exception`;

const AUTHORIZATION = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/;
/** AWS refuses requests signed more than 5 minutes away from its clock. */
const MAX_SKEW_MS = 5 * 60_000;

export class SigV4Verifier {
  constructor(
    private readonly region: string,
    private readonly service: string,
    private readonly credentialsFor: (accessKeyId: string) => SigningCredentials | undefined,
  ) {}

  /** Verifies `req`, whose `body` was read. */
  async verify(req: IncomingMessage, body: Buffer): Promise<VerifyResult> {
    const deny = (code: string, message: string): VerifyResult => ({ ok: false, code, message });
    const headers = flatHeaders(req);
    const match = AUTHORIZATION.exec(headers.authorization ?? '');
    if (!match) return deny('MissingAuthenticationToken', 'the request is not signed with AWS Signature Version 4');
    const [, accessKeyId, , region, service, signedHeaderList, signature] = match;
    if (region !== this.region || service !== this.service) {
      return deny('InvalidSignatureException', `credential scope ${region}/${service} does not match ${this.region}/${this.service}`);
    }
    const credentials = this.credentialsFor(accessKeyId);
    if (!credentials) return deny('UnrecognizedClientException', 'the security token included in the request is invalid');
    if (credentials.expiresAt !== undefined && Date.now() >= credentials.expiresAt) {
      return deny('ExpiredTokenException', 'the security token included in the request is expired');
    }
    if (credentials.sessionToken !== undefined && headers['x-amz-security-token'] !== credentials.sessionToken) {
      return deny('UnrecognizedClientException', 'the security token included in the request is invalid');
    }
    const signedAt = parseAmzDate(headers['x-amz-date'] ?? '');
    if (signedAt === undefined) return deny('IncompleteSignatureException', 'x-amz-date is missing or malformed');
    if (Math.abs(Date.now() - signedAt) > MAX_SKEW_MS) {
      return deny('InvalidSignatureException', 'signature expired: the request was signed more than 5 minutes away from now');
    }

    const declaredHash = headers['x-amz-content-sha256'];
    if (declaredHash !== undefined && declaredHash !== createHash('sha256').update(body).digest('hex')) {
      return deny('InvalidSignatureException', 'x-amz-content-sha256 does not match the body that arrived');
    }

    // Sign again over exactly the headers the client signed. Old curl (7.81) does not sign
    // x-amz-security-token, so the token is signed only when the client listed it.
    const signedHeaders = signedHeaderList.split(';');
    const signed = Object.fromEntries(signedHeaders.map((name) => [name, headers[name] ?? '']));
    const url = new URL(req.url ?? '/', `http://${headers.host ?? 'localhost'}`);
    const query = Object.fromEntries([...new Set(url.searchParams.keys())].map((k) => [k, url.searchParams.getAll(k)]));
    const sessionToken = signedHeaders.includes('x-amz-security-token') ? credentials.sessionToken : undefined;
    const options = { region, service, sha256: NodeSha256, uriEscapePath: true, applyChecksum: false };
    const signer = new SignatureV4({ ...options, credentials: { accessKeyId, secretAccessKey: credentials.secretAccessKey, sessionToken } });
    const { headers: resigned } = await signer.sign(
      { method: req.method ?? 'GET', protocol: 'http:', hostname: url.hostname, port: Number(url.port) || undefined, path: url.pathname, query, headers: signed, body },
      { signingDate: new Date(signedAt), signableHeaders: new Set(signedHeaders) },
    );
    const expected = /Signature=([0-9a-f]{64})/.exec(String(resigned.authorization ?? resigned.Authorization))?.[1] ?? '';
    if (expected.length !== signature.length || !timingSafeEqual(Buffer.from(expected), Buffer.from(signature))) {
      return deny('InvalidSignatureException', 'the request signature we calculated does not match the signature you provided');
    }
    return { ok: true, accessKeyId };
  }
}

function parseAmzDate(value: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  return m ? Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) : undefined;
}
