// The operations table against AWS's Service Authorization Reference (iam-data): every action it
// names exists and every resource ARN it builds matches a resource type the action allows —
// iam-simulate refuses the request otherwise.
import { IamAuthorizer, AuthorizationRequest } from '../../../sandbox/iam/authorizer';
import {
  createFleetRequests, fleetLaunchRequests, FleetRequestFacts, LaunchTemplateFacts, OPERATIONS, spotServiceLinkedRoleRequest,
} from '../../../sandbox/iam/operations';
import { rolesWithPolicies } from '../../../sandbox/iam/services';

const ctx = { region: 'us-east-1', accountId: '123456789012' };
const principal = { accountId: ctx.accountId, roleName: 'Caller', sessionName: 'test' };
const everything = new IamAuthorizer({ accountId: ctx.accountId, roles: rolesWithPolicies({ Caller: [{ Effect: 'Allow', Action: '*', Resource: '*' }] }) });

const template: LaunchTemplateFacts = {
  launchTemplateId: 'lt-0123456789abcdef0',
  imageId: 'ami-0123456789abcdef0',
  securityGroupIds: ['sg-0123456789abcdef0'],
  instanceProfileRoleArn: `arn:aws:iam::${ctx.accountId}:role/runner`,
  instanceTags: { team: 'ci' },
  volumeTags: { team: 'ci' },
};
const tags = { fleet: { a: '1' }, instance: { a: '1' }, volume: { a: '1' } };
const fleet: FleetRequestFacts = { templates: [template], subnetIds: ['subnet-0123456789abcdef0'], overrideImageIds: ['ami-0fedcba9876543210'], tags };

/** A sample input per table entry, shaped as the wire carries it. */
const samples: Record<string, unknown> = {
  'ec2:TerminateInstances': { instanceIds: ['i-0123456789abcdef0'], tagsOf: () => ({ owner: 'x' }) },
  'ec2:DescribeInstances': {},
  'ec2:CreateTags': { resourceIds: ['i-0123456789abcdef0', 'vol-0123456789abcdef0'], tagsOf: () => ({ owner: 'x' }), tags: { team: 'ci' } },
  'ec2:StartInstances': { instanceIds: ['i-0123456789abcdef0'], tagsOf: () => ({ owner: 'x' }), factsOf: () => ({ instanceType: 'm7i.large', availabilityZone: 'us-east-1a', market: 'on-demand' }) },
  'ec2:StopInstances': { instanceIds: ['i-0123456789abcdef0', 'i-0fedcba9876543210'], tagsOf: () => ({}), factsOf: () => undefined },
  'dynamodb:GetItem': { TableName: 't' },
  'dynamodb:PutItem': { TableName: 't' },
  'dynamodb:UpdateItem': { TableName: 't' },
  'dynamodb:DeleteItem': { TableName: 't' },
  'dynamodb:Query': { TableName: 't', IndexName: 'byPool' },
  'dynamodb:Scan': { TableName: 't', IndexName: 'byPool' },
  'dynamodb:BatchGetItem': { RequestItems: { t: {}, u: {} } },
  'dynamodb:BatchWriteItem': { RequestItems: { t: [] } },
  'ssm:GetParameter': { Name: '/a/b' },
  'cloudformation:DescribeStacks': { StackName: 'MyStack' },
  'ssm:PutParameter': { Name: '/a/b' },
  'ssm:DeleteParameter': { Name: '/a/b' },
  'ssm:GetParameters': { Names: ['/a/b', '/a/c'] },
  'ssm:DeleteParameters': { Names: ['/a/b'] },
  'ssm:GetParametersByPath': { Path: '/a', Recursive: true },
  'logs:CreateLogStream': { logGroupName: '/runners', logStreamName: 'i-1' },
  'logs:PutLogEvents': { logGroupName: '/runners', logStreamName: 'i-1' },
  's3:GetObject': { Bucket: 'cdk-hnb659fds-assets-123456789012-us-east-1', Key: 'abc.sh' },
  'lambda:InvokeFunctionUrl': { functionName: 'register' },
  'execute-api:Invoke': { methodArn: `arn:aws:execute-api:us-east-1:${ctx.accountId}:abc123/prod/POST/register` },
};
for (const op of ['SendMessage', 'SendMessageBatch', 'ReceiveMessage', 'DeleteMessage', 'DeleteMessageBatch', 'ChangeMessageVisibility',
  'ChangeMessageVisibilityBatch', 'GetQueueAttributes']) samples[`sqs:${op}`] = { QueueUrl: `https://sqs.us-east-1.amazonaws.com/${ctx.accountId}/pools.fifo` };
samples['sqs:GetQueueUrl'] = { QueueName: 'pools.fifo' };

async function expectKnownToIamData(requests: readonly AuthorizationRequest[]): Promise<void> {
  expect(requests.length).toBeGreaterThan(0);
  // An invalid request (unknown action, ARN of no resource type of the action) makes decide() throw.
  for (const request of requests) await expect(everything.decide(principal, request)).resolves.toBe('Allowed');
}

describe('the IAM operations table', () => {
  test('every entry has a sample here', () => {
    expect(Object.keys(OPERATIONS).sort()).toEqual(Object.keys(samples).sort());
  });

  test.each(Object.keys(samples))('%s: every action exists and every ARN is a resource type the action takes', async (key) => {
    await expectKnownToIamData(OPERATIONS[key].requests(samples[key] as never, ctx));
  });

  test('CreateFleet and the RunInstances of each pool, on-demand and spot, and the Spot service-linked role are all valid requests', async () => {
    const launch = { template, subnetId: 'subnet-0123456789abcdef0', imageId: 'ami-0fedcba9876543210', imageFromOverride: true };
    const spot = fleetLaunchRequests({ ...launch, market: 'spot' }, tags, ctx);
    const onDemand = fleetLaunchRequests({ ...launch, market: 'on-demand' }, tags, ctx);

    await expectKnownToIamData([...createFleetRequests(fleet, ctx), ...spot, ...onDemand, spotServiceLinkedRoleRequest(ctx)]);
    expect(spot.map((r) => r.resource)).toContain(`arn:aws:ec2:us-east-1:${ctx.accountId}:spot-instances-request/*`);
    expect(onDemand.map((r) => r.resource).some((arn) => arn.includes('spot-instances-request'))).toBe(false);
  });

  test('a request the Service Authorization Reference does not know is refused, not decided', async () => {
    await expect(everything.decide(principal, { action: 'ec2:RunInstances', resource: `arn:aws:ec2:us-east-1:${ctx.accountId}:fleet/fleet-1` })).rejects.toThrow(/invalid/);
    await expect(everything.decide(principal, { action: 'ec2:RunInstancez', resource: '*' })).rejects.toThrow(/invalid/);
  });
});

describe('the IAM authorizer', () => {
  const methodArn = `arn:aws:execute-api:us-east-1:${ctx.accountId}:abc123/v1/POST/register`;
  const roles = rolesWithPolicies({ Caller: [{ Effect: 'Allow', Action: 'execute-api:Invoke', Resource: methodArn }] });
  const endpoint = (statement: unknown) => ({ vpceId: 'vpce-0123456789abcdef0', policy: { Version: '2012-10-17', Statement: [statement] } });

  test('a call through a VPC endpoint is allowed only when the endpoint policy allows it too', async () => {
    const authorizer = new IamAuthorizer({ accountId: ctx.accountId, roles });
    const request = { action: 'execute-api:Invoke', resource: methodArn };

    const open = await authorizer.authorize(principal, [request], endpoint({ Effect: 'Allow', Principal: { AWS: '*' }, Action: 'execute-api:Invoke', Resource: '*' }));
    const closed = await authorizer.authorize(principal, [request], endpoint({ Effect: 'Allow', Principal: { AWS: '*' }, Action: 'execute-api:Invoke', Resource: 'arn:aws:execute-api:us-east-1:999999999999:*' }));

    expect(open).toBeUndefined();
    expect(closed?.request.action).toBe('execute-api:Invoke');
  });

  test('a removed statement takes only its action away, and a removal that names nothing is refused', () => {
    const caller = rolesWithPolicies({ Caller: [{ Effect: 'Allow', Action: ['sqs:SendMessage', 'sqs:GetQueueUrl'], Resource: '*' }] });

    const build = (action: string) => new IamAuthorizer({ accountId: ctx.accountId, roles: caller, removals: [{ role: 'Caller', action }] });

    expect(() => build('sqs:SendMessage')).not.toThrow();
    expect(() => build('sqs:DeleteQueue')).toThrow(/not granted sqs:DeleteQueue/);
  });
});
