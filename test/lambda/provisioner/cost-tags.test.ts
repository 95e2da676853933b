// The provisioner tags the instance of a started job, and its root volume, with the job's
// repository and workflow: through the real EC2 client against the EC2 simulator, signed as the
// provisioner's role with what the construct grants it.
import { CreateTagsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { Harness, HarnessOptions, POOL, PREFIX, provisionerRole, startHarness } from './harness';
import { ComputePort } from '../../../lambda/core/compute';
import { reconcilePool } from '../../../lambda/provisioner/reconcile-pool';
import { TAG_CONFIG, TAG_MANAGED_BY, TAG_REPOSITORY, TAG_WORKFLOW } from '../../../src/contracts/instance-tags';
import { DynamoTestEngine, startDynalite } from '../support/dynalite';

let engine: DynamoTestEngine;
let h: Harness;

beforeAll(async () => { engine = await startDynalite({ asRole: provisionerRole() }); });
afterAll(async () => { await engine.stop(); });
afterEach(async () => { await h?.stop(); });

async function start(options: HarnessOptions = {}): Promise<Harness> {
  h = await startHarness(engine, options);
  return h;
}

const createTagsCalls = () => h.sim.apiCalls().byAction.CreateTags ?? 0;

/** Queues job `jobId`, launches its runner, and starts the job on it as GitHub would (in_progress naming the runner). */
async function startJobOnNewRunner(jobId: number, workflowName?: string): Promise<string> {
  await h.queueJob(jobId);
  await reconcilePool(h.deps, h.message());
  const runner = (await h.runners.listPoolRunners(POOL.poolId)).find((r) => r.state === 'booting')!;
  await h.moveJob(jobId, 'in_progress', { runnerName: `${PREFIX}${runner.instanceId}`, workflowName });
  return runner.instanceId;
}

/** The job's first delivery carries the workflow's name (the job is created then); in_progress finds it recorded. */
async function startJob(jobId: number, workflowName: string): Promise<string> {
  await h.moveJob(jobId, 'queued', { workflowName });
  await reconcilePool(h.deps, h.message());
  const runner = (await h.runners.listPoolRunners(POOL.poolId)).find((r) => r.state === 'booting')!;
  await h.moveJob(jobId, 'in_progress', { runnerName: `${PREFIX}${runner.instanceId}` });
  return runner.instanceId;
}

describe('cost tags', () => {
  test('the instance that runs a job, and its root volume, get the job\'s repository and workflow in one CreateTags call', async () => {
    // Arrange
    await start();
    const instanceId = await startJob(1, 'Build and test');
    h.sim.resetApiCalls();

    // Act
    await reconcilePool(h.deps, h.message());

    // Assert
    const instance = h.sim.instance(instanceId)!;
    expect(instance.tags).toMatchObject({ [TAG_REPOSITORY]: 'octo-org/app', [TAG_WORKFLOW]: 'Build and test', [TAG_CONFIG]: 'linux-x64', [TAG_MANAGED_BY]: 'test' });
    expect(instance.rootVolume.tags).toMatchObject({ [TAG_REPOSITORY]: 'octo-org/app', [TAG_WORKFLOW]: 'Build and test', [TAG_CONFIG]: 'linux-x64' });
    expect(createTagsCalls()).toBe(1);
    expect(h.metrics.costTags).toBe(1);
    expect((await h.runners.getRunner(instanceId))?.costTaggedJob).toBe(1);
  });

  test('later reconciles of the pool tag nothing again', async () => {
    await start();
    await startJob(1, 'CI');
    await reconcilePool(h.deps, h.message());
    h.sim.resetApiCalls();

    await reconcilePool(h.deps, h.message());
    await reconcilePool(h.deps, h.message());

    expect(createTagsCalls()).toBe(0);
    expect(h.sim.apiCalls().byAction.DescribeInstances ?? 0).toBe(0);
    expect(h.metrics.costTags).toBe(1);
  });

  test('a hostile workflow name becomes a valid tag value; the job\'s instance is tagged all the same', async () => {
    await start();
    const instanceId = await startJob(1, `aws:${'<build>'.repeat(100)}`);

    await reconcilePool(h.deps, h.message());

    const value = h.sim.instance(instanceId)!.tags[TAG_WORKFLOW];
    expect(value).toBe(`aws_${'_build_'.repeat(100)}`.slice(0, 256));
    expect(h.metrics.costTagFailures).toBe(0);
  });

  test('a job recorded without a workflow name gets the repository tag alone', async () => {
    await start();
    const instanceId = await startJobOnNewRunner(1);

    await reconcilePool(h.deps, h.message());

    expect(h.sim.instance(instanceId)!.tags[TAG_REPOSITORY]).toBe('octo-org/app');
    expect(h.sim.instance(instanceId)!.tags).not.toHaveProperty(TAG_WORKFLOW);
  });

  test('a runner that took a job of another pool is tagged with that job\'s repository when its own pool is reconciled', async () => {
    // Arrange: GitHub hands the runner launched for this pool's job 1 a job of another pool; the webhook marked it busy.
    await start();
    await h.queueJob(1);
    await reconcilePool(h.deps, h.message());
    const [runner] = await h.runners.listPoolRunners(POOL.poolId);
    const other = { ...POOL, poolId: 'octo-org#linux-x64-large', configName: 'linux-x64-large' };
    await h.queueJob(2, other);
    await h.moveJob(2, 'in_progress', { runnerName: `${PREFIX}${runner.instanceId}` });
    await h.runners.transitionRunner(runner.instanceId, ['booting'], 'busy', { job: { githubHost: 'ghes.example.com', jobId: 2 } }, h.clock.now());

    // Act
    await reconcilePool(h.deps, h.message());

    // Assert
    expect(h.sim.instance(runner.instanceId)!.tags[TAG_REPOSITORY]).toBe('octo-org/app');
    expect((await h.runners.getRunner(runner.instanceId))?.costTaggedJob).toBe(2);
  });

  test('EC2 refusing the call is logged and counted, the reconcile goes on, and the job is not tagged on every reconcile', async () => {
    // Arrange: the CreateTags call is throttled (the client makes one attempt).
    await start();
    const instanceId = await startJob(1, 'CI');
    await h.queueJob(2);
    h.sim.faults.throttleNext(1, 'CreateTags');

    // Act
    const report = await reconcilePool(h.deps, h.message());
    await reconcilePool(h.deps, h.message());

    // Assert
    expect(report.launched).toBe(1);
    expect(h.metrics.costTagFailures).toBe(1);
    expect(h.sim.instance(instanceId)!.tags).not.toHaveProperty(TAG_REPOSITORY);
    expect(h.sim.apiCalls().byAction.CreateTags).toBe(1);
  });

  test('a failure before any answer of EC2 never fails the reconcile', async () => {
    const broken = (inner: ComputePort): ComputePort => ({
      launch: (r) => inner.launch(r),
      start: (i) => inner.start(i),
      terminate: (i) => inner.terminate(i),
      listInstances: () => inner.listInstances(),
      findLaunch: (t) => inner.findLaunch(t),
      tagInstances: () => Promise.reject(new Error('connection reset')),
    });
    await start({ compute: broken });
    await startJob(1, 'CI');
    await h.queueJob(2);

    const report = await reconcilePool(h.deps, h.message());

    expect(report.launched).toBe(1);
    expect(h.metrics.costTagFailures).toBe(1);
  });
});

describe('the provisioner\'s tagging permission', () => {
  const client = () => new EC2Client({ endpoint: h.sim.url, region: h.sim.region, credentials: engine.role!.credentials, maxAttempts: 1 });

  test('it may set the cost tags on its instances and their volumes', async () => {
    await start();
    const instanceId = await startJob(1, 'CI');
    const volumeId = h.sim.instance(instanceId)!.rootVolume.volumeId;

    await client().send(new CreateTagsCommand({ Resources: [instanceId, volumeId], Tags: [{ Key: TAG_WORKFLOW, Value: 'other' }] }));

    expect(h.sim.instance(instanceId)!.tags[TAG_WORKFLOW]).toBe('other');
    expect(h.sim.instance(instanceId)!.rootVolume.tags[TAG_WORKFLOW]).toBe('other');
  });

  test('any other key is denied: it cannot retag an instance\'s owner or pool', async () => {
    await start();
    const instanceId = await startJob(1, 'CI');

    for (const key of [TAG_MANAGED_BY, TAG_CONFIG, 'Name']) {
      await expect(client().send(new CreateTagsCommand({ Resources: [instanceId], Tags: [{ Key: TAG_REPOSITORY, Value: 'a/b' }, { Key: key, Value: 'x' }] })))
        .rejects.toMatchObject({ name: 'UnauthorizedOperation' });
    }
    expect(h.sim.instance(instanceId)!.tags[TAG_MANAGED_BY]).toBe('test');
    expect(h.sim.instance(instanceId)!.tags).not.toHaveProperty(TAG_REPOSITORY);
  });

  test('an instance of another deployment cannot be tagged', async () => {
    // A second deployment on the same account launches from its own template with its own managed-by tag.
    await start();
    const first = h;
    const other = await startHarness(engine, { sharedEc2: first, managedBy: 'other', role: provisionerRole({ managedBy: 'other', roleName: 'OtherProvisioner' }, true) });
    try {
      await other.queueJob(1);
      await reconcilePool(other.deps, other.message());
      const [foreign] = await other.runners.listPoolRunners(POOL.poolId);

      await expect(client().send(new CreateTagsCommand({ Resources: [foreign.instanceId], Tags: [{ Key: TAG_REPOSITORY, Value: 'a/b' }] })))
        .rejects.toMatchObject({ name: 'UnauthorizedOperation' });
    } finally {
      await other.stop();
    }
  });
});
