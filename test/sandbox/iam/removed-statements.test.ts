// Taking one statement out of a function's or the runner role's policy
// makes its calls fail with the real access-denied error naming that action. Five removals, each
// exercised through the real SDK client (or the real bootstrap's curl call) as the role's session.
import { DynamoDBClient, QueryCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { CreateFleetCommand, EC2Client, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { parseScenario } from '../../../sandbox/scenario';
import { RunningSandbox, startSandbox } from '../../../sandbox/system';

jest.setTimeout(120_000);

const REGION = 'us-east-1';
const removed = [
  { role: 'provisioner', action: 'ec2:CreateFleet' },
  { role: 'webhook', action: 'sqs:SendMessage' },
  { role: 'reconciler', action: 'dynamodb:Scan' },
  { role: 'register', action: 'ssm:GetParameter' },
  { role: 'lifecycle', action: 'ec2:TerminateInstances' },
];
let sandbox: RunningSandbox;
const as = (fn: string) => {
  const s = sandbox.sessions.session(fn)!;
  const credentials = { accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey, sessionToken: s.sessionToken };
  return { region: REGION, maxAttempts: 1, credentials };
};
const deniedBecause = (fn: string, action: string) =>
  new RegExp(`assumed-role/${sandbox.sessions.session(fn)!.roleName}/${fn} is not authorized to perform: ${action} on resource: arn:aws:`);

beforeAll(async () => {
  sandbox = await startSandbox(parseScenario({
    name: 'iam-removals',
    runnerConfigs: [{ name: 'linux-x64', labels: ['linux', 'x64'], instanceTypes: ['m7i.large'], spot: 'ON_DEMAND_ONLY', maxRunners: 2 }],
    jobs: [],
    iam: { removeStatements: removed },
  }));
  // The SDK clients below find the simulators as an operator's shell does (AWS_ENDPOINT_URL_*); each signs with explicit credentials.
  Object.assign(process.env, sandbox.operatorEnvironment);
});
const saved = { ...process.env };
afterAll(async () => {
  process.env = saved;
  await sandbox?.stop();
});

describe('a statement removed from a role\'s policy', () => {
  test('provisioner without ec2:CreateFleet: CreateFleet answers UnauthorizedOperation (HTTP 403) naming ec2:CreateFleet', async () => {
    const ec2 = new EC2Client(as('provisioner'));
    const launchTemplateId = Object.values(JSON.parse(sandbox.stack.environment.LAUNCH_TEMPLATES!) as Record<string, string>)[0];

    const call = ec2.send(new CreateFleetCommand({
      Type: 'instant',
      LaunchTemplateConfigs: [{ LaunchTemplateSpecification: { LaunchTemplateId: launchTemplateId, Version: '$Latest' }, Overrides: [{ SubnetId: sandbox.stack.environment.SUBNET_IDS!.split(',')[0] }] }],
      TargetCapacitySpecification: { TotalTargetCapacity: 1, DefaultTargetCapacityType: 'on-demand' },
    }));

    await expect(call).rejects.toMatchObject({
      name: 'UnauthorizedOperation',
      $metadata: { httpStatusCode: 403 },
      message: expect.stringMatching(/^You are not authorized to perform this operation\. User: .*ec2:CreateFleet .*Encoded authorization failure message: \S+$/),
    });
    ec2.destroy();
  });

  test('webhook without sqs:SendMessage: SendMessage is refused with AccessDenied naming sqs:SendMessage', async () => {
    const sqs = new SQSClient(as('webhook'));

    const call = sqs.send(new SendMessageCommand({ QueueUrl: sandbox.stack.environment.QUEUE_URL!, MessageBody: '{}', MessageGroupId: 'g', MessageDeduplicationId: 'd' }));

    await expect(call).rejects.toMatchObject({ name: 'AccessDenied', message: expect.stringMatching(deniedBecause('webhook', 'sqs:SendMessage')) });
    sqs.destroy();
  });

  test('reconciler without dynamodb:Scan: scanning the pool index answers AccessDeniedException naming dynamodb:Scan on the index', async () => {
    const dynamo = new DynamoDBClient(as('reconciler'));

    const call = dynamo.send(new ScanCommand({ TableName: sandbox.stack.environment.TABLE_NAME!, IndexName: 'byPool' }));

    await expect(call).rejects.toMatchObject({
      name: 'AccessDeniedException',
      message: expect.stringMatching(new RegExp(`${deniedBecause('reconciler', 'dynamodb:Scan').source}dynamodb:${REGION}:\\d+:table/${sandbox.stack.environment.TABLE_NAME}/index/byPool`)),
    });
    dynamo.destroy();
  });

  test('register without ssm:GetParameter: reading the private key answers AccessDeniedException naming ssm:GetParameter', async () => {
    const ssm = new SSMClient(as('register'));

    const call = ssm.send(new GetParameterCommand({ Name: sandbox.stack.environment.PRIVATE_KEY_PARAMETER_NAME!, WithDecryption: true }));

    await expect(call).rejects.toMatchObject({ name: 'AccessDeniedException', message: expect.stringMatching(deniedBecause('register', 'ssm:GetParameter')) });
    ssm.destroy();
  });

  test('lifecycle without ec2:TerminateInstances: terminating answers UnauthorizedOperation naming ec2:TerminateInstances', async () => {
    const ec2 = new EC2Client(as('lifecycle'));

    const call = ec2.send(new TerminateInstancesCommand({ InstanceIds: ['i-0123456789abcdef0'] }));

    await expect(call).rejects.toMatchObject({ name: 'UnauthorizedOperation', message: expect.stringMatching(/ec2:TerminateInstances on resource: arn:aws:ec2:.*:instance\/i-0123456789abcdef0/) });
    ec2.destroy();
  });

  test('the untouched statements still allow: the provisioner reads the private key, the reconciler queries the pool index', async () => {
    const ssm = new SSMClient(as('provisioner'));
    const dynamo = new DynamoDBClient(as('reconciler'));

    const key = await ssm.send(new GetParameterCommand({ Name: sandbox.stack.environment.PRIVATE_KEY_PARAMETER_NAME!, WithDecryption: true }));
    const pool = await dynamo.send(new QueryCommand({
      TableName: sandbox.stack.environment.TABLE_NAME!, IndexName: 'byPool', KeyConditionExpression: 'poolId = :p', ExpressionAttributeValues: { ':p': { S: 'octo-org#linux-x64' } },
    }));

    expect(key.Parameter?.Value).toMatch(/PRIVATE KEY/);
    expect(pool.Items).toEqual([]);
    expect(sandbox.iam.denials).toEqual(expect.objectContaining({ 'ec2:CreateFleet': 1, 'sqs:SendMessage': 1, 'dynamodb:Scan': 1, 'ssm:GetParameter': 1, 'ec2:TerminateInstances': 1 }));
    ssm.destroy();
    dynamo.destroy();
  });
});
