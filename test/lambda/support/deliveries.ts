// GitHub deliveries as API Gateway HTTP API (payload format 2.0) events, signed the way GitHub
// signs them: `sha256=` + hex HMAC-SHA256 of the raw body bytes. Signed here with node:crypto, not
// with the library the webhook verifies with, so a bug in how it is called cannot hide.

import { createHmac, randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2 } from 'aws-lambda';
import { restApiIdentity } from '../../../sandbox/aws/private-rest-api';

export function githubSignature(secret: string, rawBody: string | Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(rawBody).digest('hex')}`;
}

export interface DeliveryOptions {
  /** Signs the body with this secret; `undefined` sends no signature header. */
  readonly secret?: string;
  /** Sends this signature header instead of computing one. */
  readonly signature?: string;
  /** `null` leaves the header out. */
  readonly event?: string | null;
  /** `null` leaves the header out; default: a fresh GUID. */
  readonly deliveryId?: string | null;
  readonly contentType?: string;
  /** Sends the body base64-encoded with `isBase64Encoded: true`, as API Gateway does for some content types. */
  readonly base64?: boolean;
  readonly method?: string;
  readonly extraHeaders?: Readonly<Record<string, string>>;
}

/** An HTTP API event carrying `rawBody` exactly as given. */
export function deliveryEvent(rawBody: string, options: DeliveryOptions = {}): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = {
    'content-type': options.contentType ?? 'application/json',
    'user-agent': 'GitHub-Hookshot/044aadd',
    'x-github-hook-id': '1',
    'x-github-hook-installation-target-type': 'integration',
    'x-github-hook-installation-target-id': '12',
    'x-github-enterprise-host': 'ghes.example.com',
    'x-github-enterprise-version': '3.19.0',
    ...options.extraHeaders,
  };
  if (options.event !== null) headers['x-github-event'] = options.event ?? 'workflow_job';
  if (options.deliveryId !== null) headers['x-github-delivery'] = options.deliveryId ?? randomUUID();
  if (options.signature !== undefined) {
    headers['x-hub-signature-256'] = options.signature;
  } else if (options.secret !== undefined) {
    headers['x-hub-signature-256'] = githubSignature(options.secret, rawBody);
  }
  const method = options.method ?? 'POST';
  return {
    version: '2.0',
    routeKey: `${method} /webhook`,
    rawPath: '/webhook',
    rawQueryString: '',
    headers,
    requestContext: {
      accountId: '123456789012',
      apiId: 'api1234',
      domainName: 'api1234.execute-api.us-east-1.amazonaws.com',
      domainPrefix: 'api1234',
      http: { method, path: '/webhook', protocol: 'HTTP/1.1', sourceIp: '192.0.2.10', userAgent: 'GitHub-Hookshot/044aadd' },
      requestId: randomUUID(),
      routeKey: `${method} /webhook`,
      stage: '$default',
      time: '15/Jan/2026:12:00:00 +0000',
      timeEpoch: Date.UTC(2026, 0, 15, 12),
    },
    body: options.base64 ? Buffer.from(rawBody, 'utf8').toString('base64') : rawBody,
    isBase64Encoded: options.base64 === true,
  };
}

/** How GitHub spells the headers it sends; the REST API (v1) passes names on as sent. */
const GITHUB_SPELLING: Readonly<Record<string, string>> = {
  'content-type': 'Content-Type',
  'user-agent': 'User-Agent',
  'x-github-event': 'X-GitHub-Event',
  'x-github-delivery': 'X-GitHub-Delivery',
  'x-hub-signature-256': 'X-Hub-Signature-256',
  'x-github-hook-id': 'X-GitHub-Hook-ID',
  'x-github-hook-installation-target-type': 'X-GitHub-Hook-Installation-Target-Type',
  'x-github-hook-installation-target-id': 'X-GitHub-Hook-Installation-Target-ID',
  'x-github-enterprise-host': 'X-GitHub-Enterprise-Host',
  'x-github-enterprise-version': 'X-GitHub-Enterprise-Version',
};

/**
 * The same delivery as the private REST API's Lambda proxy integration hands it over (v1 event):
 * `httpMethod`, headers as GitHub spells them plus `multiValueHeaders`, and the VPC endpoint it came
 * through in `requestContext.identity.vpceId`.
 */
export function restApiDeliveryEvent(rawBody: string, options: DeliveryOptions = {}): APIGatewayProxyEvent {
  const v2 = deliveryEvent(rawBody, options);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(v2.headers)) headers[GITHUB_SPELLING[name] ?? name] = value!;
  const method = v2.requestContext.http.method;
  return {
    resource: '/webhook',
    path: '/webhook',
    httpMethod: method,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, [value]])),
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    body: v2.body ?? null,
    isBase64Encoded: v2.isBase64Encoded,
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123defg',
      authorizer: null,
      httpMethod: method,
      identity: restApiIdentity({ sourceIp: '10.0.3.17', userAgent: 'GitHub-Hookshot/044aadd', vpceId: 'vpce-0123456789abcdef0' }),
      path: '/v1/webhook',
      protocol: 'HTTP/1.1',
      requestId: randomUUID(),
      requestTimeEpoch: v2.requestContext.timeEpoch,
      resourceId: 'r1',
      resourcePath: '/webhook',
      stage: 'v1',
    },
  };
}

/** The header value of an event, for assertions. */
export function deliveryIdOf(event: APIGatewayProxyEventV2): string {
  return event.headers['x-github-delivery']!;
}
