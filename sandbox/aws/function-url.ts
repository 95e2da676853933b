// A Lambda Function URL with AWS_IAM auth, in process: it refuses unsigned, mis-signed and expired
// requests as the service does, and hands the real handler the payload-2.0 event the service
// builds, naming the caller's role session in requestContext.authorizer.iam.
import { randomUUID } from 'crypto';
import type { APIGatewayProxyStructuredResultV2, LambdaFunctionURLEvent } from 'aws-lambda';
import { requestTime } from './http-api-event';
import { SigningCredentials, SigV4Verifier } from './sigv4-verifier';
import { flatHeaders, listenOnLoopback, LoopbackServer, readBody } from '../common/http';

/** Who holds an access key: what STS knows of an assumed-role session. */
export interface CallerIdentity extends SigningCredentials {
  readonly accountId: string;
  readonly roleName: string;
  /** For an instance role, the instance id. */
  readonly sessionName: string;
  /** The role's unique id (AROA…). */
  readonly roleId: string;
}

export type FunctionUrlHandler = (event: LambdaFunctionURLEvent) => Promise<APIGatewayProxyStructuredResultV2>;

export interface FunctionUrlOptions {
  readonly region: string;
  readonly accountId: string;
  readonly handler: FunctionUrlHandler;
  readonly identityFor: (accessKeyId: string) => CallerIdentity | undefined;
  /**
   * IAM: whether the signed caller may invoke the URL (lambda:InvokeFunctionUrl); a message refuses
   * it with 403 Forbidden. @default every signed caller allowed
   */
  readonly authorize?: (identity: CallerIdentity) => Promise<string | undefined>;
  /** Epoch ms; the sandbox passes its scaled clock. */
  readonly now?: () => number;
}

const FORBIDDEN = 'Forbidden. For troubleshooting Function URL authorization issues, see: https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html';

export class FunctionUrlSimulator {
  private server?: LoopbackServer;
  /** Requests refused before reaching the function, by error code. */
  readonly refused: Record<string, number> = {};
  invocations = 0;

  constructor(private readonly options: FunctionUrlOptions) {}

  /** The URL to call, e.g. http://127.0.0.1:PORT/ */
  get url(): string {
    if (!this.server) throw new Error('FunctionUrlSimulator is not started');
    return `${this.server.url}/`;
  }

  async start(): Promise<void> {
    // Signatures are checked against wall time: curl and the SDK sign with the real clock.
    const verifier = new SigV4Verifier(this.options.region, 'lambda', this.options.identityFor);
    this.server = await listenOnLoopback(async (req, res) => {
      const body = await readBody(req, 6 * 1024 * 1024);
      const headers = flatHeaders(req);
      const verdict = await verifier.verify({ method: req.method ?? 'GET', url: req.url ?? '/', headers, body });
      if (!verdict.ok) {
        this.refused[verdict.code] = (this.refused[verdict.code] ?? 0) + 1;
        res.writeHead(verdict.status, { 'content-type': 'application/json', 'x-amzn-errortype': verdict.code });
        res.end(JSON.stringify({ Message: FORBIDDEN }));
        return;
      }
      const identity = this.options.identityFor(verdict.accessKeyId)!;
      if (await this.options.authorize?.(identity) !== undefined) {
        // A Function URL answers an IAM denial like a bad signature: 403 and the same fixed text.
        this.refused.AccessDeniedException = (this.refused.AccessDeniedException ?? 0) + 1;
        res.writeHead(403, { 'content-type': 'application/json', 'x-amzn-errortype': 'AccessDeniedException' });
        res.end(JSON.stringify({ Message: FORBIDDEN }));
        return;
      }
      this.invocations++;
      const result = await this.options.handler(this.event(req.method ?? 'GET', req.url ?? '/', headers, body, verdict.accessKeyId, identity));
      const status = result.statusCode ?? 200;
      res.writeHead(status, { 'content-type': 'application/json', ...(result.headers as Record<string, string> | undefined) });
      res.end(result.isBase64Encoded ? Buffer.from(result.body ?? '', 'base64') : result.body ?? '');
    });
  }

  async stop(): Promise<void> {
    await this.server?.close();
    this.server = undefined;
  }

  private event(
    method: string, rawUrl: string, headers: Record<string, string>, body: Buffer, accessKey: string, identity: CallerIdentity,
  ): LambdaFunctionURLEvent {
    const url = new URL(rawUrl, 'http://localhost');
    const now = this.options.now?.() ?? Date.now();
    const urlId = 'sandbox0register0url0id00000000';
    const text = body.toString('utf8');
    const binary = Buffer.from(text, 'utf8').equals(body) === false;
    return {
      version: '2.0',
      routeKey: '$default',
      rawPath: url.pathname,
      rawQueryString: url.search.replace(/^\?/, ''),
      headers,
      requestContext: {
        accountId: this.options.accountId,
        apiId: urlId,
        authorizer: {
          iam: {
            accessKey,
            accountId: identity.accountId,
            callerId: `${identity.roleId}:${identity.sessionName}`,
            cognitoIdentity: null,
            principalOrgId: null,
            userArn: `arn:aws:sts::${identity.accountId}:assumed-role/${identity.roleName}/${identity.sessionName}`,
            userId: `${identity.roleId}:${identity.sessionName}`,
          },
        },
        domainName: `${urlId}.lambda-url.${this.options.region}.on.aws`,
        domainPrefix: urlId,
        http: { method, path: url.pathname, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: headers['user-agent'] ?? '' },
        requestId: randomUUID(),
        routeKey: '$default',
        stage: '$default',
        time: requestTime(now),
        timeEpoch: now,
      },
      body: binary ? body.toString('base64') : text,
      isBase64Encoded: binary,
    } as LambdaFunctionURLEvent;
  }
}
