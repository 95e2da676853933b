// A Lambda Function URL with AWS_IAM auth, in process: it refuses unsigned, mis-signed and expired requests as the service does, and hands the real
// handler the payload-2.0 event the service builds, naming the caller's role session in requestContext.authorizer.iam.
// https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html
import { randomUUID } from 'crypto';
import { IncomingMessage, ServerResponse } from 'http';
import type { APIGatewayProxyStructuredResultV2, LambdaFunctionURLEvent } from 'aws-lambda';
import { payloadV2Event } from './api-gateway';
import { SigningCredentials, SigV4Verifier } from './sigv4-verifier';
import { LoopbackService, readBody, tally } from '../common/http';

/** Who holds an access key: what STS knows of an assumed-role session. */
export interface CallerIdentity extends SigningCredentials {
  readonly accountId: string;
  readonly roleName: string;
  /** For an instance role, the instance id. */
  readonly sessionName: string;
  /** The role's unique id (AROA…). */
  readonly roleId: string;
}

/** The caller's assumed-role session ARN and `<role id>:<session>`, as events name them. */
export function sessionOf({ accountId, roleName, sessionName, roleId }: CallerIdentity): { arn: string; callerId: string } {
  return { arn: `arn:aws:sts::${accountId}:assumed-role/${roleName}/${sessionName}`, callerId: `${roleId}:${sessionName}` };
}

export type FunctionUrlHandler = (event: LambdaFunctionURLEvent) => Promise<APIGatewayProxyStructuredResultV2>;

export interface FunctionUrlOptions {
  readonly region: string;
  readonly accountId: string;
  readonly handler: FunctionUrlHandler;
  readonly identityFor: (accessKeyId: string) => CallerIdentity | undefined;
  /** IAM: whether the signed caller may invoke the URL (lambda:InvokeFunctionUrl); a message refuses it (403). @default all may */
  readonly authorize?: (identity: CallerIdentity) => Promise<string | undefined>;
}

const FORBIDDEN = 'Forbidden. For troubleshooting Function URL authorization issues, see: https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html';
const URL_ID = 'sandbox0register0url0id00000000';

export class FunctionUrlSimulator extends LoopbackService {
  /** Requests refused before reaching the function, by error code. */
  readonly refused: Record<string, number> = {};
  invocations = 0;
  // Signatures are checked against wall time: curl and the SDK sign with the real clock.
  private readonly verifier: SigV4Verifier;

  constructor(private readonly options: FunctionUrlOptions) {
    super();
    this.verifier = new SigV4Verifier(options.region, 'lambda', options.identityFor);
  }

  /** The URL to call, e.g. http://127.0.0.1:PORT/ */
  get url(): string {
    return `${super.url}/`;
  }

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req, 6 * 1024 * 1024);
    const verdict = await this.verifier.verify(req, body);
    const identity = verdict.ok ? this.options.identityFor(verdict.accessKeyId)! : undefined;
    // A Function URL answers an IAM denial like a bad signature: 403 and the same fixed text.
    const refusal = !verdict.ok ? verdict.code : await this.options.authorize?.(identity!) !== undefined ? 'AccessDeniedException' : undefined;
    if (refusal) {
      tally(this.refused, refusal);
      res.writeHead(403, { 'content-type': 'application/json', 'x-amzn-errortype': refusal });
      res.end(JSON.stringify({ Message: FORBIDDEN }));
      return;
    }
    this.invocations++;
    const now = Date.now();
    const event = payloadV2Event(req, body, {
      routeKey: '$default',
      accountId: this.options.accountId,
      apiId: URL_ID,
      domainName: `${URL_ID}.lambda-url.${this.options.region}.on.aws`,
      requestId: randomUUID(),
      now,
      traceId: `Root=1-${Math.floor(now / 1000).toString(16)}-${randomUUID().replace(/-/g, '').slice(0, 24)}`,
    });
    const { arn, callerId } = sessionOf(identity!);
    const accessKey = (verdict as { accessKeyId: string }).accessKeyId;
    const iam = { accessKey, accountId: identity!.accountId, callerId, cognitoIdentity: null, principalOrgId: null, userArn: arn, userId: callerId };
    const requestContext = { ...event.requestContext, authorizer: { iam } };
    const result = await this.options.handler({ ...event, requestContext } as LambdaFunctionURLEvent);
    res.writeHead(result.statusCode ?? 200, { 'content-type': 'application/json', ...(result.headers as Record<string, string> | undefined) });
    res.end(Buffer.from(result.body ?? '', result.isBase64Encoded ? 'base64' : 'utf8'));
  }
}
