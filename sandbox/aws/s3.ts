// S3 as far as a runner instance uses it: GetObject of a job hook the deployment published as a file
// asset. The sandbox's DNS maps each bucket's virtual-hosted-style URL (`https://<bucket>.s3.<region>.amazonaws.com`)
// to `<this simulator>/<bucket>`. SigV4 for `s3`, with the x-amz-content-sha256 header S3 requires;
// IAM decides s3:GetObject on the object's ARN; errors are S3's REST XML answers
// (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html,
// https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html,
// https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html).
import * as fs from 'fs';
import { IncomingMessage, ServerResponse } from 'http';
import type { CallerIdentity } from './function-url';
import { CallAuthorizer, SigV4Verifier } from './sigv4-verifier';
import { flatHeaders, LoopbackService, readBody } from '../common/http';

export interface S3Options {
  readonly region: string;
  /** The objects that exist: `<bucket>/<key>` → the local file holding the object's bytes. */
  readonly objects: ReadonlyMap<string, string>;
  readonly identityFor: (accessKeyId: string) => CallerIdentity | undefined;
  /** IAM: a message refuses the call with AccessDenied. @default every call allowed */
  readonly authorize?: CallAuthorizer;
}

/** S3's error code for each refusal of the SigV4 check. */
const SIGNATURE_ERRORS: Record<string, [number, string]> = {
  MissingAuthenticationToken: [403, 'AccessDenied'],
  InvalidSignatureException: [403, 'SignatureDoesNotMatch'],
  UnrecognizedClientException: [403, 'InvalidAccessKeyId'],
  ExpiredTokenException: [400, 'ExpiredToken'],
  IncompleteSignatureException: [400, 'AuthorizationHeaderMalformed'],
};

export class S3Simulator extends LoopbackService {
  private readonly verifier: SigV4Verifier;
  /** GetObject calls answered, and refused by error code. */
  readonly gets: { ok: number; refused: Record<string, number> } = { ok: 0, refused: {} };

  constructor(private readonly options: S3Options) {
    super();
    this.verifier = new SigV4Verifier(options.region, 's3', options.identityFor);
  }

  /** The sandbox's DNS for S3: each bucket's virtual-hosted-style URL to this simulator. */
  localUrl(url: string): string {
    const buckets = new Set([...this.options.objects.keys()].map((object) => object.split('/')[0]));
    return [...buckets].reduce((u, bucket) => u.split(`https://${bucket}.s3.${this.options.region}.amazonaws.com`).join(`${this.url}/${bucket}`), url);
  }

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const error = (status: number, code: string, message: string) => {
      this.gets.refused[code] = (this.gets.refused[code] ?? 0) + 1;
      res.writeHead(status, { 'content-type': 'application/xml' });
      res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`);
    };
    if (req.method !== 'GET') return error(405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.');
    const body = await readBody(req);
    const headers = flatHeaders(req);
    // "The x-amz-content-sha256 header is required for all AWS Signature Version 4 requests" (sig-v4-header-based-auth).
    if (headers.authorization !== undefined && headers['x-amz-content-sha256'] === undefined) {
      return error(400, 'InvalidRequest', 'Missing required header for this request: x-amz-content-sha256');
    }
    const verdict = await this.verifier.verify(req, body);
    if (!verdict.ok) {
      const [status, code] = SIGNATURE_ERRORS[verdict.code] ?? [403, 'AccessDenied'];
      return error(status, code, verdict.message);
    }
    const [bucket, ...rest] = decodeURIComponent(new URL(req.url ?? '/', 'http://s3').pathname).slice(1).split('/');
    const key = rest.join('/');
    const denied = await this.options.authorize?.('GetObject', { Bucket: bucket, Key: key }, headers.authorization);
    if (denied !== undefined) return error(403, 'AccessDenied', denied);
    const file = this.options.objects.get(`${bucket}/${key}`);
    // Without s3:ListBucket on the bucket, a missing key is 403 AccessDenied, not 404 NoSuchKey (GetObject's
    // "Permissions"): the runner role may read its objects only, so it never learns which keys exist.
    if (file === undefined) return error(403, 'AccessDenied', 'Access Denied');
    const bytes = fs.readFileSync(file);
    this.gets.ok++;
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bytes.length });
    res.end(bytes);
  }
}
