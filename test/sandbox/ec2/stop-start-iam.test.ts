// StartInstances and StopInstances are authorized as EC2 authorizes them: each named instance's ARN, with its tags and the
// instance condition keys, decided for the caller's role; one denied instance fails the whole call with UnauthorizedOperation.
import { EC2Client, StartInstancesCommand, StopInstancesCommand } from '@aws-sdk/client-ec2';
import { createFleet, ec2Client, fleetInput, RUNNER_TEMPLATE, startSimulator, waitFor } from './helpers';
import { Ec2Simulator } from '../../../sandbox/ec2';
import { IamAuthorizer } from '../../../sandbox/iam/authorizer';
import { ec2Authorizer, rolesWithPolicies } from '../../../sandbox/iam/services';

const ACCOUNT = '123456789012';
const ROLE_KEY = 'ASIAPOOLMANAGER00001';

describe('IAM on StopInstances and StartInstances', () => {
  let sim: Ec2Simulator;
  let operator: EC2Client;
  let poolManager: EC2Client;
  let templateId: string;

  beforeAll(async () => {
    // The role may stop instances tagged for the project, and start only on-demand ones (ec2:InstanceMarketType).
    const roles = rolesWithPolicies({
      PoolManager: [
        { Effect: 'Allow', Action: 'ec2:StopInstances', Resource: `arn:aws:ec2:us-east-1:${ACCOUNT}:instance/*`, Condition: { StringEquals: { 'aws:ResourceTag/Project': 'ephemeral-runners' } } },
        { Effect: 'Allow', Action: 'ec2:StartInstances', Resource: '*', Condition: { StringEquals: { 'ec2:InstanceMarketType': 'spot' } } },
      ],
    });
    const authorizer = new IamAuthorizer({ accountId: ACCOUNT, roles });
    sim = await startSimulator({
      faults: { bootDelayMs: 1_000, shutdownDelayMs: 1_000 },
      authorize: ec2Authorizer({
        authorizer: () => authorizer,
        context: { region: 'us-east-1', accountId: ACCOUNT },
        // The operator's key (the test's own launches) is not checked; the role's is.
        identityFor: (key) => (key === ROLE_KEY
          ? { accessKeyId: key, secretAccessKey: 's', accountId: ACCOUNT, roleName: 'PoolManager', sessionName: 'warm-pool', roleId: 'AROAPOOLMANAGER00001' }
          : undefined),
        account: { hasSpotServiceLinkedRole: true },
      }),
    });
    operator = ec2Client(sim);
    poolManager = new EC2Client({ endpoint: sim.url, region: sim.region, credentials: { accessKeyId: ROLE_KEY, secretAccessKey: 's' }, maxAttempts: 1 });
    templateId = sim.registerLaunchTemplate(RUNNER_TEMPLATE).launchTemplateId;
  });

  afterAll(async () => {
    operator.destroy();
    poolManager.destroy();
    await sim.stop();
  });

  test('a stop the policy allows goes through; a start its condition keys deny is UnauthorizedOperation (403) naming the action and instance', async () => {
    // Arrange
    const target = { TotalTargetCapacity: 1, DefaultTargetCapacityType: 'on-demand' as const };
    const id = (await createFleet(operator, fleetInput(templateId, 1, { TargetCapacitySpecification: target }))).Instances![0].InstanceIds![0];
    await waitFor(() => sim.instance(id)?.state === 'running');

    // Act
    const stop = await poolManager.send(new StopInstancesCommand({ InstanceIds: [id] }));
    await waitFor(() => sim.instance(id)?.state === 'stopped');
    const start = poolManager.send(new StartInstancesCommand({ InstanceIds: [id] }));

    // Assert
    expect(stop.StoppingInstances![0].CurrentState!.Name).toBe('stopping');
    await expect(start).rejects.toMatchObject({
      name: 'UnauthorizedOperation',
      $metadata: { httpStatusCode: 403 },
      message: expect.stringMatching(new RegExp(`is not authorized to perform: ec2:StartInstances on resource: arn:aws:ec2:us-east-1:${ACCOUNT}:instance/${id}`)),
    });
    expect(sim.instance(id)!.state).toBe('stopped');
    // The operator, whose key IAM does not check, may start it.
    const started = await operator.send(new StartInstancesCommand({ InstanceIds: [id] }));
    expect(started.StartingInstances![0].CurrentState!.Name).toBe('pending');
  });
});
