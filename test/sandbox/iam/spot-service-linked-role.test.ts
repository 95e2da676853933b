// An account that never ran spot has no AWSServiceRoleForEC2Spot: the first spot launch creates it
// on the caller's authority (iam:CreateServiceLinkedRole for spot.amazonaws.com), or every spot
// pool of the instant fleet answers AuthFailure.ServiceLinkedRoleCreationNotPermitted.
import { CreateFleetCommand, EC2Client } from '@aws-sdk/client-ec2';
import { parseScenario } from '../../../sandbox/scenario';
import { RunningSandbox, startSandbox } from '../../../sandbox/system';

jest.setTimeout(120_000);

let sandbox: RunningSandbox;

beforeAll(async () => {
  sandbox = await startSandbox(parseScenario({
    name: 'no-spot-role-denied',
    accountHasSpotServiceLinkedRole: false,
    runnerConfigs: [{ name: 'linux-x64', labels: ['linux', 'x64'], instanceTypes: ['m7i.large'], spot: 'SPOT_PREFERRED', maxRunners: 2 }],
    jobs: [],
    iam: { removeStatements: [{ role: 'provisioner', action: 'iam:CreateServiceLinkedRole' }] },
  }));
  // The SDK clients below find the simulators as an operator's shell does (AWS_ENDPOINT_URL_*); each signs with explicit credentials.
  Object.assign(process.env, sandbox.operatorEnvironment);
});
const saved = { ...process.env };
afterAll(async () => {
  process.env = saved;
  await sandbox?.stop();
});

const launch = (market: 'spot' | 'on-demand') => {
  const s = sandbox.sessions.session('provisioner')!;
  const ec2 = new EC2Client({ region: 'us-east-1', maxAttempts: 1, credentials: { accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey, sessionToken: s.sessionToken } });
  const launchTemplateId = Object.values(JSON.parse(sandbox.stack.environment.LAUNCH_TEMPLATES!) as Record<string, string>)[0];
  return ec2.send(new CreateFleetCommand({
    Type: 'instant',
    LaunchTemplateConfigs: [{
      LaunchTemplateSpecification: { LaunchTemplateId: launchTemplateId, Version: '$Latest' },
      // As the provisioner launches: the AMI in the overrides (the launch templates name none).
      Overrides: sandbox.stack.environment.SUBNET_IDS!.split(',').map((SubnetId) => ({ SubnetId, InstanceType: 'm7i.large', ImageId: 'ami-0123456789abcdef0' })),
    }],
    TargetCapacitySpecification: { TotalTargetCapacity: 1, DefaultTargetCapacityType: market },
    TagSpecifications: ['instance', 'volume', 'fleet'].map((t) => ({ ResourceType: t as 'instance', Tags: [{ Key: 'ephemeral-runners:managed-by', Value: sandbox.stack.environment.MANAGED_BY! }] })),
  })).finally(() => ec2.destroy());
};

test('without the role and without iam:CreateServiceLinkedRole, a spot fleet answers AuthFailure.ServiceLinkedRoleCreationNotPermitted per pool and launches nothing', async () => {
  const fleet = await launch('spot');

  expect(fleet.Instances ?? []).toEqual([]);
  expect(new Set(fleet.Errors?.map((e) => e.ErrorCode))).toEqual(new Set(['AuthFailure.ServiceLinkedRoleCreationNotPermitted']));
  expect(fleet.Errors?.[0].ErrorMessage).toBe('The provided credentials do not have permission to create the service-linked role for EC2 Spot Instances.');
  expect(sandbox.iam.denials['iam:CreateServiceLinkedRole']).toBeGreaterThan(0);
});

test('an on-demand fleet needs no Spot role and launches', async () => {
  const fleet = await launch('on-demand');

  expect(fleet.Errors ?? []).toEqual([]);
  expect(fleet.Instances?.[0]?.Lifecycle ?? 'on-demand').toBe('on-demand');
  expect(fleet.Instances?.[0]?.InstanceIds).toHaveLength(1);
});
