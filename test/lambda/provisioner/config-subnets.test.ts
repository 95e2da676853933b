// A runner config with subnets of its own launches into those only (the others keep the
// deployment's, as every other provisioner test does). The provisioner's EC2 calls sign as its role,
// whose grants name every config's subnets.
import { Harness, provisionerRole, runnerConfig, startHarness } from './harness';
import { reconcilePool } from '../../../lambda/provisioner/reconcile-pool';
import { DynamoTestEngine, startDynalite } from '../support/dynalite';

const OWN_SUBNET = 'subnet-0sandbox000000003';
let engine: DynamoTestEngine;
let h: Harness;

beforeAll(async () => { engine = await startDynalite({ asRole: provisionerRole() }); });
afterAll(async () => { await engine.stop(); });
afterEach(async () => { await h?.stop(); });

const live = () => h.sim.instances().filter((i) => i.state !== 'terminated' && i.state !== 'shutting-down');

describe('a config with subnets of its own', () => {
  test('its CreateFleet names only its subnets, and every instance runs in that subnet\'s zone', async () => {
    h = await startHarness(engine, { configs: [runnerConfig({ spot: 'ON_DEMAND_ONLY' })], configSubnetIds: { 'linux-x64': [OWN_SUBNET] } });
    for (const job of [1, 2, 3, 4]) await h.queueJob(job);

    const result = await reconcilePool(h.deps, h.message());

    expect(result).toMatchObject({ queued: 4, launched: 4 });
    expect(live()).toHaveLength(4);
    expect(new Set(live().map((i) => i.availabilityZone))).toEqual(new Set(['us-east-1c']));
  });
});
