// The runner image is resolved at launch: jobs queued before the first image exists wait, logged
// and counted, and run once the pipeline has written the image's parameter. The provisioner's SSM,
// DynamoDB and EC2 calls sign as its role, with the image parameter its grants name.
import { SSMClient } from '@aws-sdk/client-ssm';
import { Harness, provisionerRole, runnerConfig, startHarness } from './harness';
import { SsmImageSource } from '../../../lambda/config/ssm-image-source';
import { reconcilePool } from '../../../lambda/provisioner/reconcile-pool';
import { SsmSimulator } from '../../../sandbox/ssm';
import { DynamoTestEngine, startDynalite } from '../support/dynalite';

const IMAGE_PARAMETER = '/ephemeral-runners/test/image/x64';
const AMI = 'ami-0abcdef1234567890';
const role = provisionerRole({ imageParameterNames: [IMAGE_PARAMETER] });

let engine: DynamoTestEngine;
let ssm: SsmSimulator;
let client: SSMClient;
let h: Harness;
let now: number;

beforeAll(async () => {
  engine = await startDynalite({ asRole: role });
  ssm = new SsmSimulator({ authorize: role.serviceAuthorizer('ssm') });
  await ssm.start();
  client = new SSMClient({ endpoint: ssm.url, region: 'us-east-1', credentials: role.credentials, maxAttempts: 1 });
});
afterAll(async () => {
  client.destroy();
  await ssm.stop();
  await engine.stop();
});
afterEach(async () => { await h?.stop(); });

async function start(): Promise<Harness> {
  now = 0;
  h = await startHarness(engine, {
    configs: [runnerConfig({ image: { parameterName: IMAGE_PARAMETER } })],
    // The real adapter over the real SSM client; its cache runs on the test's own clock.
    images: new SsmImageSource(client, { now: () => now }),
  });
  return h;
}

const liveInstances = () => h.sim.instances().filter((i) => i.state !== 'terminated' && i.state !== 'shutting-down');

describe('runner image resolved at launch', () => {
  test('jobs queued before the image exists launch nothing and are counted as waiting; once the parameter holds an AMI they launch from it', async () => {
    await start();
    await h.queueJob(1);
    await h.queueJob(2);

    const waiting = await reconcilePool(h.deps, h.message());

    expect(waiting).toMatchObject({ queued: 2, launched: 0 });
    expect(h.sim.apiCalls().byAction.CreateFleet ?? 0).toBe(0);
    expect(h.metrics.waitingForImage).toEqual([2]);

    // The pipeline's distribution writes the parameter; the missing answer is remembered briefly.
    ssm.seedParameter({ name: IMAGE_PARAMETER, value: AMI, type: 'String' });
    now += 60_000;
    const ready = await reconcilePool(h.deps, h.message());

    expect(ready).toMatchObject({ queued: 2, launched: 2 });
    expect(liveInstances().map((i) => i.imageId)).toEqual([AMI, AMI]);
  });

  test('a fixed AMI id is launched without reading any parameter', async () => {
    await start();
    h.configs.configs = [runnerConfig({ image: { amiId: AMI } })];
    ssm.resetApiCalls();
    await h.queueJob(1);

    const report = await reconcilePool(h.deps, h.message());

    expect(report.launched).toBe(1);
    expect(liveInstances()[0].imageId).toBe(AMI);
    expect(ssm.apiCalls().total).toBe(0);
  });
});
