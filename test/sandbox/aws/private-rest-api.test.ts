import { execFile } from 'child_process';
import { promisify } from 'util';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { CallerIdentity } from '../../../sandbox/aws/function-url';
import { evaluate, PrivateRestApiSimulator, ResourcePolicyStatement } from '../../../sandbox/aws/private-rest-api';
import { TemplateResolver } from '../../../sandbox/deployment';
import { EndpointAccess } from '../../../src';
import { synthRunners } from '../../src/support/synth';

const run = promisify(execFile);
const ACCOUNT = '123456789012';
const VPCE = 'vpce-0aaaaaaaaaaaaaaaa';
const runner: CallerIdentity = {
  accountId: ACCOUNT,
  roleName: 'RunnerRole',
  roleId: 'AROAEXAMPLEROLEID0001',
  sessionName: 'i-0123456789abcdef0',
  secretAccessKey: 'secret/key+for+tests',
  sessionToken: 'session-token-value',
};
const keys: Record<string, CallerIdentity> = {
  ASIARUNNER: runner,
  ASIAOTHER: { ...runner, roleName: 'SomeoneElse', roleId: 'AROAOTHERROLEID000001' },
};

/** The resource policy the construct synthesizes, with the endpoint and the runner role named as here. */
function constructPolicy(vpce: string): ResourcePolicyStatement[] {
  const template = synthRunners([{ name: 'linux', labels: ['linux'] }], (stack) => ({
    vpc: new ec2.Vpc(stack, 'Isolated', { natGateways: 0, subnetConfiguration: [{ name: 'runners', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] }),
    webhookAccess: EndpointAccess.privateApi(),
    registerAccess: EndpointAccess.privateApi(),
  })).toJSON() as { Resources: Record<string, { Type: string; Properties: { Policy?: { Statement: unknown } } }> };
  const idOf = (type: string, part = '') => Object.keys(template.Resources).find((id) => template.Resources[id].Type === type && id.includes(part))!;
  const resolver = new TemplateResolver(
    { [idOf('AWS::EC2::VPCEndpoint')]: vpce },
    { region: 'eu-west-1', accountId: ACCOUNT },
    { [idOf('AWS::IAM::Role', 'FleetRole')]: `arn:aws:iam::${ACCOUNT}:role/RunnerRole` },
  );
  return resolver.resolve(template.Resources[idOf('AWS::ApiGateway::RestApi')].Properties.Policy!.Statement) as ResourcePolicyStatement[];
}

function simulator(
  vpceId: string, result: (event: APIGatewayProxyEvent) => unknown, events: APIGatewayProxyEvent[], identityAllows?: (roleArn: string) => boolean,
): PrivateRestApiSimulator {
  const handler = async (event: APIGatewayProxyEvent) => {
    events.push(event);
    return result(event);
  };
  return new PrivateRestApiSimulator({
    apiId: 'abc123defg',
    stageName: 'v1',
    vpceId,
    region: 'eu-west-1',
    accountId: ACCOUNT,
    identityFor: (key) => keys[key],
    identityAllows,
    policy: POLICY,
    methods: [
      { path: '/webhook', httpMethod: 'POST', authorizationType: 'NONE', handler, functionName: 'webhook', functionTimeoutSeconds: 10 },
      { path: '/register', httpMethod: 'POST', authorizationType: 'AWS_IAM', handler, functionName: 'register', functionTimeoutSeconds: 30 },
    ],
  });
}

async function curl(url: string, args: string[]): Promise<{ status: number; body: string }> {
  const { stdout } = await run('curl', ['-sS', '-o', '-', '-w', '\n%{http_code}', ...args, url]);
  const lines = stdout.split('\n');
  return { status: Number(lines.pop()), body: lines.join('\n') };
}

/** What the bootstrap sends: POST, SigV4 for execute-api, the session token as a header. */
const signed = (key: string) => [
  '-X', 'POST', '--aws-sigv4', 'aws:amz:eu-west-1:execute-api', '--user', `${key}:${runner.secretAccessKey}`,
  '-H', `x-amz-security-token: ${runner.sessionToken}`, '-H', 'content-type: application/json', '--data', '{}',
];

const POLICY = constructPolicy(VPCE);

describe('private REST API, called through its VPC endpoint', () => {
  const events: APIGatewayProxyEvent[] = [];
  const api = simulator(VPCE, () => ({ statusCode: 200, headers: { 'content-type': 'text/plain' }, body: 'jit-config' }), events);
  beforeAll(() => api.start());
  afterAll(() => api.stop());
  beforeEach(() => { events.length = 0; });

  test('the runner role\'s signed call reaches the register function as a v1 event naming its session and the endpoint', async () => {
    const response = await curl(`${api.url}/register`, signed('ASIARUNNER'));

    expect(response).toEqual({ status: 200, body: 'jit-config' });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      resource: '/register',
      httpMethod: 'POST',
      requestContext: {
        stage: 'v1',
        path: '/v1/register',
        identity: {
          userArn: `arn:aws:sts::${ACCOUNT}:assumed-role/RunnerRole/i-0123456789abcdef0`,
          caller: 'AROAEXAMPLEROLEID0001:i-0123456789abcdef0',
          accessKey: 'ASIARUNNER',
          vpceId: VPCE,
        },
      },
    });
  });

  test('an unsigned call to the register route is refused before the function: Missing Authentication Token', async () => {
    const response = await curl(`${api.url}/register`, ['-X', 'POST', '--data', '{}']);

    expect(response.status).toBe(403);
    expect(JSON.parse(response.body)).toEqual({ message: 'Missing Authentication Token' });
    expect(events).toEqual([]);
  });

  test('a call signed with the wrong secret is refused', async () => {
    const response = await curl(`${api.url}/register`, ['-X', 'POST', '--aws-sigv4', 'aws:amz:eu-west-1:execute-api', '--user', 'ASIARUNNER:wrong', '-H', `x-amz-security-token: ${runner.sessionToken}`]);

    expect(response.status).toBe(403);
    expect(events).toEqual([]);
  });

  test('a call signed for the lambda service (a Function URL\'s signature) is refused', async () => {
    const response = await curl(`${api.url}/register`, signed('ASIARUNNER').map((a) => a.replace(':execute-api', ':lambda')));

    expect(response.status).toBe(403);
    expect(events).toEqual([]);
  });

  test('another role\'s valid signature is refused by the resource policy', async () => {
    const response = await curl(`${api.url}/register`, signed('ASIAOTHER'));

    expect(response.status).toBe(403);
    expect(JSON.parse(response.body).message).toMatch(/assumed-role\/SomeoneElse\/.* is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:eu-west-1:123456789012:abc123defg\/v1\/POST\/register with an explicit deny$/);
    expect(events).toEqual([]);
  });

  test('the webhook route takes an unsigned call and hands over headers as the client spelled them', async () => {
    const response = await curl(`${api.url}/webhook`, ['-X', 'POST', '-H', 'X-GitHub-Event: workflow_job', '-H', 'Content-Type: application/json', '--data', '{"action":"queued"}']);

    expect(response.status).toBe(200);
    expect(events[0].headers).toMatchObject({ 'X-GitHub-Event': 'workflow_job', 'Content-Type': 'application/json' });
    expect(events[0].multiValueHeaders['X-GitHub-Event']).toEqual(['workflow_job']);
    expect(events[0].body).toBe('{"action":"queued"}');
    expect(events[0].requestContext.identity.userArn).toBeNull();
  });

  test('an unknown path or method is a 403 Missing Authentication Token, as REST APIs answer', async () => {
    for (const args of [['-X', 'POST'], ['-X', 'GET']]) {
      const route = args[1] === 'GET' ? '/webhook' : '/nothing-here';
      const response = await curl(`${api.url}${route}`, args);
      expect({ route, status: response.status, body: JSON.parse(response.body) }).toEqual({ route, status: 403, body: { message: 'Missing Authentication Token' } });
    }
    expect(events).toEqual([]);
  });
});

describe('private REST API, a role of the account whose own IAM policy allows execute-api:Invoke everywhere', () => {
  const events: APIGatewayProxyEvent[] = [];
  const api = simulator(VPCE, () => ({ statusCode: 200, body: 'ok' }), events, () => true);
  beforeAll(() => api.start());
  afterAll(() => api.stop());

  test('is refused the register route by the explicit deny on aws:PrincipalArn', async () => {
    const response = await curl(`${api.url}/register`, signed('ASIAOTHER'));

    expect(response.status).toBe(403);
    expect(JSON.parse(response.body).message).toMatch(/assumed-role\/SomeoneElse\/.* with an explicit deny$/);
    expect(events).toEqual([]);
  });

  test('while the runner role still gets in', async () => {
    expect((await curl(`${api.url}/register`, signed('ASIARUNNER'))).status).toBe(200);
  });
});

describe('private REST API, called through another VPC endpoint', () => {
  const events: APIGatewayProxyEvent[] = [];
  const api = simulator('vpce-0bbbbbbbbbbbbbbbb', () => ({ statusCode: 200, body: 'ok' }), events);
  beforeAll(() => api.start());
  afterAll(() => api.stop());

  test('the explicit deny refuses even the runner role\'s valid signature, and the open webhook route', async () => {
    const register = await curl(`${api.url}/register`, signed('ASIARUNNER'));
    const webhook = await curl(`${api.url}/webhook`, ['-X', 'POST', '--data', '{}']);

    expect(register.status).toBe(403);
    expect(JSON.parse(register.body).message).toMatch(/with an explicit deny$/);
    expect(webhook.status).toBe(403);
    expect(JSON.parse(webhook.body).message).toMatch(/^User: anonymous is not authorized .* with an explicit deny$/);
    expect(events).toEqual([]);
    expect(api.counts.refused).toEqual({ AccessDeniedException: 2 });
  });
});

describe('private REST API integration answers', () => {
  const failing = simulator(VPCE, () => { throw new Error('boom'); }, []);
  const unstructured = simulator(VPCE, () => 'just a string', []);
  beforeAll(async () => { await failing.start(); await unstructured.start(); });
  afterAll(async () => { await failing.stop(); await unstructured.stop(); });

  test('a function error and a result without statusCode are both a 502 Internal server error', async () => {
    for (const api of [failing, unstructured]) {
      const response = await curl(`${api.url}/webhook`, ['-X', 'POST', '--data', '{}']);
      expect(response.status).toBe(502);
      expect(JSON.parse(response.body)).toEqual({ message: 'Internal server error' });
    }
  });
});

describe('resource policy evaluation by IAM\'s engine', () => {
  const policy = POLICY;
  const role = `arn:aws:iam::${ACCOUNT}:role/RunnerRole`;
  const sessionOf = (roleArn: string) => `arn:aws:sts::${ACCOUNT}:assumed-role/${roleArn.split('/').pop()}/i-0123456789abcdef0`;

  test.each([
    ['the runner role on register, through the endpoint', 'v1/POST/register', role, VPCE, 'allow'],
    ['anyone on the webhook, through the endpoint', 'v1/POST/webhook', undefined, VPCE, 'allow'],
    // A negated condition holds when its key is absent: an unsigned caller falls under the deny.
    ['anyone on register', 'v1/POST/register', undefined, VPCE, 'deny'],
    ['another stage', 'prod/POST/webhook', undefined, VPCE, 'implicit-deny'],
    ['another endpoint', 'v1/POST/webhook', undefined, 'vpce-0other', 'deny'],
    ['another role on register, through the endpoint', 'v1/POST/register', `arn:aws:iam::${ACCOUNT}:role/SomeoneElse`, VPCE, 'deny'],
  ] as const)('%s: %s', async (_, resource, roleArn, sourceVpce, expected) => {
    const caller = roleArn && { roleArn, sessionArn: sessionOf(roleArn) };

    expect(await evaluate(policy, `arn:aws:execute-api:eu-west-1:${ACCOUNT}:abc123defg`, { resource, caller, sourceVpce })).toBe(expected);
  });
});
