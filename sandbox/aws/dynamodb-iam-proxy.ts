// IAM in front of dynalite, which checks none: a proxy that verifies each request's SigV4 signature, asks `authorize` about the
// operation (X-Amz-Target) and its body, and forwards what is allowed unchanged. A refusal is DynamoDB's: HTTP 400,
// AccessDeniedException with IAM's message (JSON 1.0, https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.Errors.html).
import * as http from 'http';
import { CallAuthorizer, exceptionType, SigningCredentials, SigV4Verifier } from './sigv4-verifier';
import { flatHeaders, LoopbackService, readBody } from '../common/http';

export interface DynamoIamProxyOptions {
  /** The engine's endpoint, `http://127.0.0.1:PORT`. */
  readonly target: string;
  readonly region: string;
  /** Signing credentials of an access key; undefined refuses it (UnrecognizedClientException). */
  readonly credentialsFor: (accessKeyId: string) => SigningCredentials | undefined;
  /** Keys forwarded without a signature check or IAM (the sandbox's own setup calls). */
  readonly unchecked?: (accessKeyId: string) => boolean;
  /** IAM: a message refuses the call. */
  readonly authorize: CallAuthorizer;
}

export class DynamoIamProxy extends LoopbackService {
  private readonly verifier: SigV4Verifier;
  private readonly agent = new http.Agent({ keepAlive: true });
  /** The functions' and instances' calls allowed through, by operation (the sandbox's own unsigned-by-role calls are not counted). */
  readonly operations: Record<string, number> = {};

  constructor(private readonly options: DynamoIamProxyOptions) {
    super();
    this.verifier = new SigV4Verifier(options.region, 'dynamodb', options.credentialsFor);
  }

  async stop(): Promise<void> {
    await super.stop();
    this.agent.destroy();
  }

  protected async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const body = await readBody(req, 16 * 1024 * 1024);
    const headers = flatHeaders(req);
    const refuse = (type: string, message: string) => {
      res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' });
      res.end(JSON.stringify({ __type: `com.amazon.coral.service#${type}`, message }));
    };
    const key = /Credential=([^/]+)\//.exec(headers.authorization ?? '')?.[1];
    if (key === undefined || !this.options.unchecked?.(key)) {
      const verdict = await this.verifier.verify(req, body);
      if (!verdict.ok) return refuse(exceptionType(verdict.code), verdict.message);
      const operation = (headers['x-amz-target'] ?? '').replace(/^DynamoDB_20120810\./, '');
      let input: Record<string, unknown> = {};
      try {
        input = JSON.parse(body.toString('utf8') || '{}') as Record<string, unknown>;
      } catch {
        // The engine answers a malformed body itself.
      }
      const denied = await this.options.authorize(operation, input, headers.authorization);
      if (denied !== undefined) return refuse('AccessDeniedException', denied);
      this.operations[operation] = (this.operations[operation] ?? 0) + 1;
    }
    await this.forward(req, headers, body, res);
  }

  private forward(req: http.IncomingMessage, headers: Record<string, string>, body: Buffer, res: http.ServerResponse): Promise<void> {
    const target = new URL(req.url ?? '/', this.options.target);
    return new Promise((resolve) => {
      const options = { method: req.method, agent: this.agent, headers: { ...headers, 'host': target.host, 'content-length': String(body.length) } };
      const upstream = http.request(target, options, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        answer.on('end', resolve);
      });
      upstream.on('error', (err) => {
        res.writeHead(500, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: err.message }));
        resolve();
      });
      upstream.end(body);
    });
  }
}
