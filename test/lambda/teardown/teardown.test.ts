// The teardown function's entry point with its production wiring: EC2 on the EC2 simulator and
// CloudFormation (DescribeStacks, the presigned answer URL) on its simulator, every call signed as
// the role the construct grants the function and decided by IAM.
import { EC2Client } from '@aws-sdk/client-ec2';
import { Ec2Fleet } from '../../../lambda/compute/ec2-fleet';
import { handler } from '../../../lambda/handlers/teardown';
import { CloudFormationSimulator, CustomResourceResponse } from '../../../sandbox/aws/cloudformation';
import { encodeEnvironment, TEARDOWN_ENVIRONMENT } from '../../../src/contracts/environment';
import { RUNNER_TEMPLATE } from '../../sandbox/ec2/helpers';
import { MANAGED_BY, startEc2, Ec2Harness, waitFor, POOL } from '../reconciler/harness';
import { grantedRole, STACK_ID } from '../support/construct-grants';
import { sdkEnvironment } from '../support/function-environment';

const role = grantedRole('teardown', { managedBy: MANAGED_BY });
const OTHER_DEPLOYMENT = 'other-runners';
let ec2: Ec2Harness;
let cloudformation: CloudFormationSimulator;
let other: Ec2Fleet;
let otherClient: EC2Client;
let launches = 0;
const saved = { ...process.env };

beforeAll(async () => {
  // The teardown reads no table: the role's statements come with any.
  role.grantTable('arn:aws:dynamodb:us-east-1:123456789012:table/none');
  ec2 = await startEc2(0.001, {}, role);
  cloudformation = new CloudFormationSimulator({ name: 'Grants', id: STACK_ID, outputs: () => [] }, role.serviceAuthorizer('cloudformation'));
  await cloudformation.start();
  // Another deployment in the same account, launching with its own managed-by tag.
  otherClient = new EC2Client({ endpoint: ec2.sim.url, region: ec2.sim.region, credentials: { accessKeyId: 'AKIDOTHER', secretAccessKey: 'test' }, maxAttempts: 1 });
  const templates = { 'linux-x64': ec2.sim.registerLaunchTemplate({ ...RUNNER_TEMPLATE, launchTemplateName: 'other' }).launchTemplateId };
  other = new Ec2Fleet({ client: otherClient, managedBy: OTHER_DEPLOYMENT, subnetIds: ec2.sim.subnets.map((s) => s.subnetId), launchTemplateFor: (name) => templates[name as 'linux-x64'] });
  Object.assign(process.env, encodeEnvironment(TEARDOWN_ENVIRONMENT, {
    managedBy: MANAGED_BY,
    // A short quiet period and poll: the sweep's waits in real time.
    teardownQuietMs: 2_000,
    teardownPollMs: 20,
    teardownMaxWaitMs: 10_000,
  }), sdkEnvironment({ ec2: ec2.sim.url, cloudformation: cloudformation.url }), role.environment());
});
afterAll(async () => {
  process.env = saved;
  otherClient.destroy();
  await cloudformation.stop();
  await ec2.stop();
});

/** One CloudFormation request to the function, and the answer it PUT to the presigned URL. */
async function request(requestType: 'Create' | 'Update' | 'Delete'): Promise<CustomResourceResponse> {
  const { url, response } = cloudformation.responseUrl();
  await handler({ RequestType: requestType, ResponseURL: url, StackId: STACK_ID, RequestId: `r-${requestType}`, LogicalResourceId: 'Teardown', PhysicalResourceId: 'instance-teardown' });
  return response;
}

/** A warm pool instance: launched from the template that stops on power-off, powered off after its warm-up. */
async function warmInstance(): Promise<string> {
  const id = await ec2.launch('on-demand', 'stops');
  ec2.sim.poweroff(id);
  await waitFor(() => ec2.sim.instance(id)?.state === 'stopped');
  return id;
}

async function otherInstance(): Promise<string> {
  const result = await other.launch({ poolId: POOL.poolId, configName: 'linux-x64', market: 'on-demand', count: 1, clientToken: `other-${++launches}`, instanceTypes: ['m7i.large'] });
  return result.instances[0].instanceId;
}

const stateOf = (id: string) => ec2.sim.instance(id)?.state;
const gone = (id: string) => ['shutting-down', 'terminated'].includes(stateOf(id) ?? 'terminated');

describe('the teardown custom resource', () => {
  beforeEach(() => {
    cloudformation.status = 'CREATE_COMPLETE';
    ec2.sim.resetApiCalls();
  });

  test('Create and Update succeed and touch no instance', async () => {
    // Arrange
    const running = await ec2.launch('on-demand');
    ec2.sim.resetApiCalls();

    // Act
    const answers = [await request('Create'), await request('Update')];

    // Assert
    expect(answers.map((a) => a.Status)).toEqual(['SUCCESS', 'SUCCESS']);
    expect(stateOf(running)).toBe('running');
    expect(ec2.sim.apiCalls().total).toBe(0);
    ec2.sim.poweroff(running);
  });

  test.each(['UPDATE_COMPLETE_CLEANUP_IN_PROGRESS', 'UPDATE_ROLLBACK_IN_PROGRESS', 'ROLLBACK_IN_PROGRESS'])(
    'a Delete while the stack is in %s terminates nothing', async (status) => {
      // Arrange
      const warm = await warmInstance();
      cloudformation.status = status;
      ec2.sim.resetApiCalls();

      // Act
      const answer = await request('Delete');

      // Assert
      expect(answer.Status).toBe('SUCCESS');
      expect(stateOf(warm)).toBe('stopped');
      expect(ec2.sim.apiCalls().total).toBe(0);
    });

  test('at the stack\'s deletion, the stopped warm instances and a running one of this deployment are terminated; another deployment\'s is untouched', async () => {
    // Arrange
    const warm = [await warmInstance(), await warmInstance(), await warmInstance()];
    const running = await ec2.launch('spot');
    const theirs = await otherInstance();
    cloudformation.status = 'DELETE_IN_PROGRESS';
    ec2.sim.resetApiCalls();

    // Act
    const answer = await request('Delete');

    // Assert
    expect(answer).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'instance-teardown', RequestId: 'r-Delete', LogicalResourceId: 'Teardown' });
    for (const id of [...warm, running]) expect(gone(id)).toBe(true);
    expect(['pending', 'running']).toContain(stateOf(theirs));
    const ours = ec2.sim.instances().filter((i) => i.tags['ephemeral-runners:managed-by'] === MANAGED_BY);
    expect(ours.filter((i) => !['shutting-down', 'terminated'].includes(i.state))).toEqual([]);
    // Every instance (the earlier tests' warm ones too) in one TerminateInstances; later sweeps find nothing new.
    expect(ec2.sim.apiCalls().byAction.TerminateInstances).toBe(1);
    expect(ec2.sim.apiCalls().byAction.DescribeInstances).toBeGreaterThan(1);
  });

  test('an instance a launch in flight lands during the sweep is terminated too', async () => {
    // Arrange: a provisioner run still in flight launches once the sweep has terminated what it found.
    const warm = await warmInstance();
    cloudformation.status = 'DELETE_IN_PROGRESS';
    let landing: Promise<string> | undefined;
    const unsubscribe = ec2.sim.onInstanceStateChange(({ instance, state }) => {
      if (instance.instanceId === warm && state === 'shutting-down') landing ??= ec2.launch('on-demand');
    });

    // Act
    const answer = await request('Delete');
    unsubscribe();

    // Assert
    expect(answer.Status).toBe('SUCCESS');
    expect(landing).toBeDefined();
    const late = await landing!;
    expect(gone(late)).toBe(true);
    expect(ec2.sim.apiCalls().byAction.TerminateInstances).toBe(2);
  });

  test('a Delete that cannot tell whether the stack is being deleted terminates nothing and does not hold CloudFormation up', async () => {
    // Arrange
    const warm = await warmInstance();
    cloudformation.status = 'DELETE_IN_PROGRESS';
    ec2.sim.resetApiCalls();

    // Act
    const answer = await role.without(['cloudformation:DescribeStacks'], () => request('Delete'));

    // Assert
    expect(answer.Status).toBe('SUCCESS');
    expect(stateOf(warm)).toBe('stopped');
    expect(ec2.sim.apiCalls().total).toBe(0);
  });

  test('without the grant to terminate, the stack\'s deletion fails with the fix, and the instance stays', async () => {
    // Arrange
    const warm = await warmInstance();
    cloudformation.status = 'DELETE_IN_PROGRESS';

    // Act
    const answer = await role.without(['ec2:TerminateInstances'], () => request('Delete'));

    // Assert
    expect(answer.Status).toBe('FAILED');
    expect(answer.Reason).toMatch(/UnauthorizedOperation/);
    expect(answer.Reason).toContain(`terminate the instances tagged ephemeral-runners:managed-by=${MANAGED_BY}`);
    expect(stateOf(warm)).toBe('stopped');
  });
});
