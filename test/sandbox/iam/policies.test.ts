// The synthesized policies, decided by the IAM engine as AWS would decide them, through the real
// SDK clients with each function's own role session.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateFleetCommand, EC2Client } from '@aws-sdk/client-ec2';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { BatchGetCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Principal } from '../../../sandbox/iam/authorizer';
import { spotServiceLinkedRoleRequest } from '../../../sandbox/iam/operations';
import { parseScenario } from '../../../sandbox/scenario';
import { RunningSandbox, startSandbox } from '../../../sandbox/system';

jest.setTimeout(120_000);

const REGION = 'us-east-1';
let sandbox: RunningSandbox;
const credentialsOf = (fn: string) => {
  const s = sandbox.sessions.session(fn)!;
  return { accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey, sessionToken: s.sessionToken };
};
const principalOf = (fn: string): Principal => {
  const s = sandbox.sessions.session(fn)!;
  return { accountId: s.accountId, roleName: s.roleName, sessionName: s.sessionName };
};
const launchTemplateId = () => Object.values(JSON.parse(sandbox.stack.environment.LAUNCH_TEMPLATES!) as Record<string, string>)[0];
const subnetIds = () => sandbox.stack.environment.SUBNET_IDS!.split(',');
const arn = (resource: string) => `arn:aws:ec2:${REGION}:${sandbox.ec2.accountId}:${resource}`;

beforeAll(async () => {
  sandbox = await startSandbox(parseScenario({
    name: 'iam-policies',
    runnerConfigs: [{ name: 'linux-x64', labels: ['linux', 'x64'], instanceTypes: ['m7i.large'], spot: 'SPOT_PREFERRED', maxRunners: 4 }],
    jobs: [],
  }));
  // The SDK clients below find the simulators as an operator's shell does (AWS_ENDPOINT_URL_*); each signs with explicit credentials.
  Object.assign(process.env, sandbox.operatorEnvironment);
});
const saved = { ...process.env };
afterAll(async () => {
  process.env = saved;
  await sandbox?.stop();
});

describe('the control plane policies under IAM', () => {
  test('each function signs with its own role session: the webhook may not read the private key the provisioner reads', async () => {
    // Arrange: SDK clients with each function's session, as its execution environments have them.
    const name = sandbox.stack.environment.PRIVATE_KEY_PARAMETER_NAME!;
    const read = (fn: string) => new SSMClient({ region: REGION, credentials: credentialsOf(fn), maxAttempts: 1 })
      .send(new GetParameterCommand({ Name: name, WithDecryption: true }));

    // Act
    const provisioner = await read('provisioner');
    const webhook = read('webhook');

    // Assert
    expect(provisioner.Parameter?.Name).toBe(name);
    await expect(webhook).rejects.toMatchObject({
      name: 'AccessDeniedException',
      message: expect.stringMatching(new RegExp(`assumed-role/${principalOf('webhook').roleName}/webhook is not authorized to perform: ssm:GetParameter on resource: arn:aws:ssm:`)),
    });
  });

  test('the provisioner may read a batch of runners (BatchGetItem), as reconcile-pool does when a recent launch is missing from the index', async () => {
    const client = DynamoDBDocumentClient.from(new DynamoDBClient({ region: REGION, credentials: credentialsOf('provisioner'), maxAttempts: 1 }));

    const result = await client.send(new BatchGetCommand({ RequestItems: { [sandbox.stack.environment.TABLE_NAME!]: { Keys: [{ pk: 'runner#i-0123456789abcdef0', sk: 'runner' }] } } }));

    expect(result.Responses?.[sandbox.stack.environment.TABLE_NAME!]).toEqual([]);
    client.destroy();
  });

  test('a spot launch from the deployment\'s launch template is authorized, spot-instances-request included', async () => {
    const ec2 = new EC2Client({ region: REGION, credentials: credentialsOf('provisioner'), maxAttempts: 1 });

    const fleet = await ec2.send(new CreateFleetCommand({
      Type: 'instant',
      LaunchTemplateConfigs: [{
        LaunchTemplateSpecification: { LaunchTemplateId: launchTemplateId(), Version: '$Latest' },
        // As the provisioner launches: the AMI in the overrides (the launch templates name none).
        Overrides: subnetIds().map((SubnetId) => ({ SubnetId, InstanceType: 'm7i.large', ImageId: 'ami-0123456789abcdef0' })),
      }],
      TargetCapacitySpecification: { TotalTargetCapacity: 1, DefaultTargetCapacityType: 'spot', SpotTargetCapacity: 1 },
      TagSpecifications: ['instance', 'volume', 'fleet'].map((t) => ({ ResourceType: t as 'instance', Tags: [{ Key: 'ephemeral-runners:managed-by', Value: sandbox.stack.environment.MANAGED_BY! }] })),
    }));

    expect(fleet.Errors ?? []).toEqual([]);
    expect(fleet.Instances?.[0]?.Lifecycle).toBe('spot');
    ec2.destroy();
  });

  test('the provisioner may let EC2 create the Spot service-linked role, for spot.amazonaws.com only', async () => {
    const request = spotServiceLinkedRoleRequest({ region: REGION, accountId: sandbox.ec2.accountId });

    const spot = await sandbox.iam.decide(principalOf('provisioner'), request);
    const other = await sandbox.iam.decide(principalOf('provisioner'), {
      ...request, resource: `arn:aws:iam::${sandbox.ec2.accountId}:role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS`, context: { 'iam:AWSServiceName': 'ecs.amazonaws.com' },
    });

    expect(spot).toBe('Allowed');
    expect(other).toBe('ImplicitlyDenied');
  });

  test('launches outside the deployment\'s launch templates, subnets and security groups are denied', async () => {
    const provisioner = principalOf('provisioner');
    const ours = { 'ec2:LaunchTemplate': arn(`launch-template/${launchTemplateId()}`), 'ec2:IsLaunchTemplateResource': 'true' };
    const run = (resource: string, context: Record<string, string>) => sandbox.iam.decide(provisioner, { action: 'ec2:RunInstances', resource, context });

    // Arrange/act: the same launch with one thing changed each time.
    const decisions = {
      ourSubnet: await run(arn(`subnet/${subnetIds()[0]}`), { ...ours, 'ec2:IsLaunchTemplateResource': 'false' }),
      otherSubnet: await run(arn('subnet/subnet-0otheraccountsnet'), { ...ours, 'ec2:IsLaunchTemplateResource': 'false' }),
      otherSecurityGroup: await run(arn('security-group/sg-0somebodyelses00'), ours),
      instanceWithoutTemplate: await run(arn('instance/*'), { ['aws:RequestTag/ephemeral-runners:managed-by']: sandbox.stack.environment.MANAGED_BY! }),
      otherTemplate: await run(arn('launch-template/lt-0someoneelses000'), { ...ours, 'ec2:LaunchTemplate': arn('launch-template/lt-0someoneelses000') }),
      interfaceWithoutTemplate: await run(arn('network-interface/*'), {}),
    };

    // Assert
    expect(decisions).toEqual({
      ourSubnet: 'Allowed',
      otherSubnet: 'ImplicitlyDenied',
      otherSecurityGroup: 'ImplicitlyDenied',
      instanceWithoutTemplate: 'ImplicitlyDenied',
      otherTemplate: 'ImplicitlyDenied',
      interfaceWithoutTemplate: 'ImplicitlyDenied',
    });
  });
});
