import { request } from 'http';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { HttpApiSimulator, requestTime } from '../../../sandbox/aws/api-gateway';
import { ScaledClock } from '../../../sandbox/common/time';

const clock = new ScaledClock(0.001);
const events: APIGatewayProxyEventV2[] = [];
let answer: (event: APIGatewayProxyEventV2) => unknown = () => ({ statusCode: 202, headers: { 'x-handled': 'yes' }, body: '{"accepted":true}' });

const api = new HttpApiSimulator({
  clock,
  seed: 5,
  region: 'eu-central-1',
  routes: [
    {
      routeKey: 'POST /webhook',
      functionName: 'webhook',
      functionTimeoutSeconds: 60,
      handler: async (event) => {
        events.push(event);
        return answer(event);
      },
    },
  ],
});

beforeAll(() => api.start());
afterAll(() => api.stop());
beforeEach(() => {
  events.length = 0;
  answer = () => ({ statusCode: 202, headers: { 'x-handled': 'yes' }, body: '{"accepted":true}' });
});

/** A request through node's http, which can repeat a header (fetch folds repeats into one line). */
function rawPost(path: string, headers: Record<string, string | string[]>, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${api.url}${path}`, { method: 'POST', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('HTTP API (payload format 2.0)', () => {
  test('a webhook POST reaches the handler as the HTTP API event, and its answer is written back', async () => {
    const response = await fetch(`${api.url}/webhook?a=1&a=2&b=x`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-GitHub-Event': 'workflow_job', 'User-Agent': 'GitHub-Hookshot/abc', 'Cookie': 'k1=v1; k2=v2' },
      body: '{"action":"queued"}',
    });

    expect(response.status).toBe(202);
    expect(response.headers.get('x-handled')).toBe('yes');
    expect(response.headers.get('apigw-requestid')).toMatch(/=$/);
    expect(await response.text()).toBe('{"accepted":true}');
    expect(events).toHaveLength(1);
    const event = events[0];
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: 'POST /webhook',
      rawPath: '/webhook',
      rawQueryString: 'a=1&a=2&b=x',
      cookies: ['k1=v1', 'k2=v2'],
      queryStringParameters: { a: '1,2', b: 'x' },
      body: '{"action":"queued"}',
      isBase64Encoded: false,
      requestContext: {
        accountId: '123456789012',
        apiId: api.apiId,
        domainName: `${api.apiId}.execute-api.eu-central-1.amazonaws.com`,
        domainPrefix: api.apiId,
        http: { method: 'POST', path: '/webhook', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'GitHub-Hookshot/abc' },
        routeKey: 'POST /webhook',
        stage: '$default',
      },
    });
    expect(event.headers).toMatchObject({ 'content-type': 'application/json', 'x-github-event': 'workflow_job', 'x-forwarded-proto': 'https' });
    expect(Object.keys(event.headers).every((name) => name === name.toLowerCase())).toBe(true);
    expect(event.headers.cookie).toBeUndefined();
    expect(event.requestContext.time).toBe(requestTime(event.requestContext.timeEpoch));
    expect(event.requestContext.time).toMatch(/^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);
    expect(event.pathParameters).toBeUndefined();
  });

  test('repeated headers arrive once, their values joined by commas', async () => {
    await rawPost('/webhook', { 'Content-Type': 'application/json', 'X-Repeated': ['one', 'two'] }, '{}');

    expect(events[0].headers['x-repeated']).toBe('one,two');
  });

  test('a binary body arrives base64-encoded with isBase64Encoded', async () => {
    const bytes = Uint8Array.from([0xff, 0x00, 0x10, 0x80]);

    await fetch(`${api.url}/webhook`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: bytes });

    expect(events[0]).toMatchObject({ isBase64Encoded: true, body: Buffer.from(bytes).toString('base64') });
  });

  test('a JSON body that is not valid UTF-8 arrives base64-encoded', async () => {
    await fetch(`${api.url}/webhook`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: Uint8Array.from([0x7b, 0xc3, 0x28, 0x7d]) });

    expect(events[0].isBase64Encoded).toBe(true);
  });

  test.each([
    ['an object without statusCode', { ok: true }, '{"ok":true}'],
    ['a string', 'hello', '"hello"'],
  ])('%s is sent whole as a 200 JSON body', async (_what, result, body) => {
    answer = () => result;

    const response = await fetch(`${api.url}/webhook`, { method: 'POST', body: '{}' });

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.text()).toBe(body);
  });

  test('a base64 result with cookies is decoded and each cookie becomes a set-cookie header', async () => {
    answer = () => ({ statusCode: 200, body: Buffer.from([1, 2, 3]).toString('base64'), isBase64Encoded: true, cookies: ['a=1', 'b=2; Max-Age=60'] });

    const response = await fetch(`${api.url}/webhook`, { method: 'POST', body: '{}' });

    expect(Array.from(new Uint8Array(await response.arrayBuffer()))).toEqual([1, 2, 3]);
    expect(response.headers.getSetCookie()).toEqual(['a=1', 'b=2; Max-Age=60']);
  });

  test.each([
    ['an unknown path', '/nowhere', 'POST'],
    ['a known path with another method', '/webhook', 'GET'],
    ['a path with an extra segment', '/webhook/extra', 'POST'],
  ])('%s is 404 {"message":"Not Found"} and reaches no handler', async (_what, path, method) => {
    const response = await fetch(`${api.url}${path}`, { method });

    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ message: 'Not Found' });
    expect(events).toHaveLength(0);
  });

  test('a handler that takes longer than 30 s is answered 503 by the gateway', async () => {
    answer = async () => {
      await clock.sleep(45_000);
      return { statusCode: 200 };
    };

    const response = await fetch(`${api.url}/webhook`, { method: 'POST', body: '{}' });

    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ message: 'Service Unavailable' });
  });

  test.each([
    ['throws', () => {
      throw new Error('boom');
    }],
    ['returns a non-numeric statusCode', () => ({ statusCode: 'ok' })],
  ])('a handler that %s is answered 500 {"message":"Internal Server Error"}', async (_what, fn) => {
    answer = fn;

    const response = await fetch(`${api.url}/webhook`, { method: 'POST', body: '{}' });

    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ message: 'Internal Server Error' });
  });

});
