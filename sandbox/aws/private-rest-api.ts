// An API Gateway private REST API (one stage, Lambda proxy integrations, v1 events) as a caller in the VPC sees it
// through an interface endpoint (reference/aws.md 5.4): IAM's engine evaluates the resource policy with the endpoint
// as aws:SourceVpce; AWS_IAM methods check SigV4 for `execute-api` and admit a caller of the account whom the resource
// policy or its own IAM policy allows (unless a deny says otherwise). Unknown paths answer 403 "Missing Authentication Token".
import { IncomingMessage, ServerResponse } from 'http';
import { anonymousPrincipal, runSimulation } from '@cloud-copilot/iam-simulate';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { gatewayReply, HttpReply, integrate, proxyResponse, send } from './api-gateway';
import { CallerIdentity, sessionOf } from './function-url';
import { AwsContext, awsContext, AwsSimulatorOptions } from './ids';
import { LambdaFunction } from './lambda-invoke';
import { exceptionType, SigV4Verifier } from './sigv4-verifier';
import { LoopbackService, readBody, sourceIpOf, tally } from '../common/http';

export interface PrivateRestApiMethod extends LambdaFunction<APIGatewayProxyEvent> {
  /** e.g. `/register` (the resource path, without the stage). */
  readonly path: string;
  readonly httpMethod: string;
  readonly authorizationType: 'NONE' | 'AWS_IAM';
}

/** A resource policy statement as the template holds it, intrinsics resolved; IAM's engine reads and checks it. */
export type ResourcePolicyStatement = Readonly<Record<string, unknown>>;

export interface PrivateRestApiOptions extends AwsSimulatorOptions {
  readonly apiId: string;
  readonly stageName: string;
  /** The interface endpoint every call arrives through. */
  readonly vpceId: string;
  readonly methods: readonly PrivateRestApiMethod[];
  readonly policy: readonly ResourcePolicyStatement[];
  readonly identityFor: (accessKeyId: string) => CallerIdentity | undefined;
  /** Whether the caller's role's own IAM policies allow `execute-api:Invoke` on the method's ARN. @default none do */
  readonly identityAllows?: (roleArn: string, methodArn: string, identity: CallerIdentity) => boolean | Promise<boolean>;
}

/** A caller who signed the request, with the key it signed with. */
type Caller = { readonly accessKeyId: string; readonly identity: CallerIdentity };

/** REST APIs give up on an integration after 29 s. */
const INTEGRATION_TIMEOUT_MS = 29_000;

export class PrivateRestApiSimulator extends LoopbackService {
  /** Invocations by resource path (`/register`), and requests refused before any function ran, by reason. */
  readonly counts = { byPath: {} as Record<string, number>, refused: {} as Record<string, number> };
  private readonly aws: AwsContext;
  private readonly verifier: SigV4Verifier;
  private readonly decisions = new Map<string, Promise<Decision>>();

  constructor(private readonly options: PrivateRestApiOptions) {
    super();
    this.aws = awsContext(options, 'private-rest-api');
    // Signatures are checked against wall time: curl and the SDK sign with the real clock.
    this.verifier = new SigV4Verifier(this.aws.region, 'execute-api', options.identityFor);
  }

  /** The stage's base URL on loopback, e.g. http://127.0.0.1:PORT/v1; stands for the endpoint's DNS alias. */
  get url(): string {
    return `${super.url}/${this.options.stageName}`;
  }

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const { apiId, stageName, vpceId } = this.options;
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = this.options.methods.find((m) => `/${stageName}${m.path}` === url.pathname && m.httpMethod === req.method);
    if (!method) return this.refuse(res, 'MissingAuthenticationTokenException', 'Missing Authentication Token');

    let caller: Caller | undefined;
    if (method.authorizationType === 'AWS_IAM') {
      const verdict = await this.verifier.verify(req, body);
      if (!verdict.ok) {
        return this.refuse(res, exceptionType(verdict.code), verdict.code === 'MissingAuthenticationToken' ? 'Missing Authentication Token' : verdict.message);
      }
      caller = { accessKeyId: verdict.accessKeyId, identity: this.options.identityFor(verdict.accessKeyId)! };
    }

    const apiArn = `arn:aws:execute-api:${this.aws.region}:${this.aws.accountId}:${apiId}`;
    const resource = `${stageName}/${method.httpMethod}${method.path}`;
    const identity = caller?.identity;
    const principal = identity && { roleArn: `arn:aws:iam::${identity.accountId}:role/${identity.roleName}`, sessionArn: sessionOf(identity).arn };
    const request = { resource, caller: principal, sourceVpce: vpceId };
    // One evaluation per resource, caller and endpoint: the answer does not change during a run.
    const key = JSON.stringify(request);
    if (!this.decisions.has(key)) this.decisions.set(key, evaluate(this.options.policy, apiArn, request));
    const resourceDecision = await this.decisions.get(key)!;
    // Same account and AWS_IAM: the caller's own policy may grant what the resource policy does not.
    const identityAllowed = identity?.accountId === this.aws.accountId
      && ((await this.options.identityAllows?.(principal!.roleArn, `${apiArn}/${resource}`, identity)) ?? false);
    const decision = resourceDecision === 'implicit-deny' && identityAllowed ? 'allow' : resourceDecision;
    if (decision !== 'allow') {
      const why = decision === 'deny' ? ' with an explicit deny' : '';
      return this.refuse(res, 'AccessDeniedException', `User: ${principal?.sessionArn ?? 'anonymous'} is not authorized to perform: execute-api:Invoke on resource: ${apiArn}/${resource}${why}`);
    }

    const event = this.event(req, url, method, body, caller);
    const outcome = await integrate(method, event, this.aws, INTEGRATION_TIMEOUT_MS);
    tally(this.counts.byPath, method.path);
    if (outcome === 'timeout') return this.send(res, gatewayReply(504, 'Endpoint request timed out'));
    // A function error, or a proxy result the gateway cannot read (a REST API needs an object with statusCode): 502.
    const result = outcome.ok ? outcome.result as { statusCode?: unknown } | null : undefined;
    const response = typeof result === 'object' && result !== null && typeof result.statusCode === 'number' ? proxyResponse(result) : undefined;
    return this.send(res, response && !response.invalid ? response : gatewayReply(502, 'Internal server error'));
  }

  private event(req: IncomingMessage, url: URL, method: PrivateRestApiMethod, body: Buffer, caller?: Caller): APIGatewayProxyEvent {
    const { httpMethod } = method;
    // Header names as the client sent them; repeated headers keep their last value in `headers`.
    const headers: Record<string, string> = {};
    const multiValueHeaders: Record<string, string[]> = {};
    for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
      const [name, value] = [req.rawHeaders[i], req.rawHeaders[i + 1]];
      headers[name] = value;
      (multiValueHeaders[name] ??= []).push(value);
    }
    const names = [...new Set(url.searchParams.keys())];
    const query = names.length > 0 ? Object.fromEntries(url.searchParams) : null;
    const multiQuery = names.length > 0 ? Object.fromEntries(names.map((k) => [k, url.searchParams.getAll(k)])) : null;
    const session = caller && sessionOf(caller.identity);
    return {
      resource: method.path,
      path: method.path,
      httpMethod,
      headers,
      multiValueHeaders,
      queryStringParameters: query,
      multiValueQueryStringParameters: multiQuery,
      pathParameters: null,
      stageVariables: null,
      requestContext: {
        accountId: this.aws.accountId,
        apiId: this.options.apiId,
        authorizer: null,
        httpMethod,
        identity: restApiIdentity({
          accessKey: caller?.accessKeyId ?? null,
          accountId: caller?.identity.accountId ?? null,
          caller: session?.callerId ?? null,
          sourceIp: sourceIpOf(req),
          user: session?.callerId ?? null,
          userAgent: req.headers['user-agent'] ?? null,
          userArn: session?.arn ?? null,
          vpceId: this.options.vpceId,
        }),
        path: `/${this.options.stageName}${method.path}`,
        protocol: 'HTTP/1.1',
        requestId: this.aws.ids.uuid(),
        requestTimeEpoch: Math.floor(this.aws.clock.now()),
        resourceId: this.aws.ids.lowerAlphanumeric(6),
        resourcePath: method.path,
        stage: this.options.stageName,
      },
      // Without binary media types configured, a REST API passes the body on as text.
      body: body.length > 0 ? body.toString('utf8') : null,
      isBase64Encoded: false,
    };
  }

  private refuse(res: ServerResponse, errorType: string, message: string): void {
    tally(this.counts.refused, errorType);
    this.send(res, { ...gatewayReply(403, message), headers: { 'content-type': 'application/json', 'x-amzn-errortype': errorType } });
  }

  private send(res: ServerResponse, reply: HttpReply): void {
    send(res, reply, { 'x-amzn-requestid': this.aws.ids.uuid() });
  }
}

type RestApiIdentity = APIGatewayProxyEvent['requestContext']['identity'];

const IDENTITY_FIELDS = ['accessKey', 'accountId', 'apiKey', 'apiKeyId', 'caller', 'clientCert', 'cognitoAuthenticationProvider',
  'cognitoAuthenticationType', 'cognitoIdentityId', 'cognitoIdentityPoolId', 'principalOrgId', 'user', 'userAgent', 'userArn'];

/** `requestContext.identity` of a v1 event: what the caller proved, every other field null. */
export function restApiIdentity(known: Partial<RestApiIdentity> & { sourceIp: string; vpceId?: string }): RestApiIdentity {
  return { ...Object.fromEntries(IDENTITY_FIELDS.map((field) => [field, null])), ...known } as RestApiIdentity;
}

type Decision = 'allow' | 'deny' | 'implicit-deny';
const DECISIONS: Record<string, Decision> = { Allowed: 'allow', ExplicitlyDenied: 'deny', ImplicitlyDenied: 'implicit-deny' };

/** The resource policy's decision alone, by IAM's engine, for `<stage>/<METHOD>/<path>`: `execute-api:/…` names this API, and API Gateway
 * supplies aws:SourceVpce and aws:PrincipalArn (https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-authorization-flow.html). */
export async function evaluate(
  policy: readonly ResourcePolicyStatement[], apiArn: string,
  request: { readonly resource: string; readonly caller?: { readonly roleArn: string; readonly sessionArn: string }; readonly sourceVpce: string },
): Promise<Decision> {
  const resourcePolicy = JSON.parse(JSON.stringify({ Version: '2012-10-17', Statement: policy }).split('"execute-api:/').join(`"${apiArn}/`)) as unknown;
  const result = await runSimulation({
    request: {
      principal: request.caller?.sessionArn ?? anonymousPrincipal,
      action: 'execute-api:Invoke',
      resource: { resource: `${apiArn}/${request.resource}`, accountId: apiArn.split(':')[4] },
      contextVariables: { 'aws:SourceVpce': request.sourceVpce, ...(request.caller ? { 'aws:PrincipalArn': request.caller.roleArn } : {}) },
    },
    identityPolicies: [],
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy,
  }, {});
  if (result.resultType === 'error') throw new Error(`resource policy: the IAM engine cannot evaluate it: ${JSON.stringify(result.errors)}`);
  return DECISIONS[result.overallResult];
}

