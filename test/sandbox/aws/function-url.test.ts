import { execFile } from 'child_process';
import { createHash } from 'crypto';
import { promisify } from 'util';
import type { LambdaFunctionURLEvent } from 'aws-lambda';
import { CallerIdentity, FunctionUrlSimulator } from '../../../sandbox/aws/function-url';

const run = promisify(execFile);
const identity: CallerIdentity = {
  accountId: '123456789012',
  roleName: 'RunnerRole',
  roleId: 'AROAEXAMPLEROLEID0001',
  sessionName: 'i-0123456789abcdef0',
  secretAccessKey: 'secret/key+for+tests',
  sessionToken: 'session-token-value',
};
const keys: Record<string, CallerIdentity> = {
  ASIAVALID: identity,
  ASIAEXPIRED: { ...identity, expiresAt: Date.now() - 1000 },
};

describe('Function URL with AWS_IAM auth', () => {
  const events: LambdaFunctionURLEvent[] = [];
  const url = new FunctionUrlSimulator({
    region: 'eu-west-1',
    accountId: '123456789012',
    identityFor: (key) => keys[key],
    handler: async (event) => {
      events.push(event);
      return { statusCode: 200, body: 'ok' };
    },
  });

  beforeAll(() => url.start());
  afterAll(() => url.stop());
  beforeEach(() => { events.length = 0; });

  async function curl(args: string[]): Promise<{ status: number; body: string }> {
    const { stdout } = await run('curl', ['-sS', '-o', '-', '-w', '\n%{http_code}', ...args, url.url]);
    const lines = stdout.split('\n');
    return { status: Number(lines.pop()), body: lines.join('\n') };
  }

  const signed = (key: string, secret: string, service = 'lambda') => [
    '-X', 'POST', '--aws-sigv4', `aws:amz:eu-west-1:${service}`, '--user', `${key}:${secret}`,
    '-H', `x-amz-security-token: ${identity.sessionToken}`, '-H', 'content-type: application/json', '--data', '{"a":1}',
  ];

  test('a request signed by curl --aws-sigv4 reaches the handler with the caller\'s role session', async () => {
    const response = await curl(signed('ASIAVALID', identity.secretAccessKey));
    expect(response).toEqual({ status: 200, body: 'ok' });
    expect(events).toHaveLength(1);
    expect((events[0].requestContext as { authorizer?: { iam?: unknown } }).authorizer?.iam).toMatchObject({
      accessKey: 'ASIAVALID',
      userArn: 'arn:aws:sts::123456789012:assumed-role/RunnerRole/i-0123456789abcdef0',
      callerId: 'AROAEXAMPLEROLEID0001:i-0123456789abcdef0',
    });
    expect(events[0].body).toBe('{"a":1}');
    // The format the Lambda developer guide shows for a Function URL event ("12/Mar/2020:19:03:58 +0000").
    expect(events[0].requestContext.time).toMatch(/^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);
  });

  test.each([
    ['unsigned', ['-X', 'POST', '--data', '{}'], 'MissingAuthenticationToken'],
    ['signed with the wrong secret', signed('ASIAVALID', 'not-the-secret'), 'InvalidSignatureException'],
    ['signed for another service', signed('ASIAVALID', identity.secretAccessKey, 'execute-api'), 'InvalidSignatureException'],
    ['signed with an unknown key', signed('ASIAUNKNOWN', identity.secretAccessKey), 'UnrecognizedClientException'],
    ['signed with expired credentials', signed('ASIAEXPIRED', identity.secretAccessKey), 'ExpiredTokenException'],
  ])('a request %s is refused with 403 and never reaches the handler', async (_what, args, code) => {
    const before = url.refused[code as string] ?? 0;
    const response = await curl(args as string[]);
    expect(response.status).toBe(403);
    expect(url.refused[code as string]).toBe(before + 1);
    expect(events).toHaveLength(0);
  });

  test('a signed request whose body was changed on the way is refused', async () => {
    // Sign one body, send another: the payload hash no longer matches.
    const args = signed('ASIAVALID', identity.secretAccessKey).map((a) => (a === '{"a":1}' ? '{"a":2}' : a));
    args.push('-H', `x-amz-content-sha256: ${createHash('sha256').update('{"a":1}').digest('hex')}`);
    const response = await curl(args);
    expect(response.status).toBe(403);
    expect(events).toHaveLength(0);
  });
});
