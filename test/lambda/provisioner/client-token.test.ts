// CreateFleet's ClientToken is idempotent per account and region: a token built from the pool alone
// would let a second deployment serving the same pool, or the same deployment after its state table
// was replaced, get another launch's instances back instead of launching its own. Each deployment's
// EC2 calls sign as its own provisioner role (their DynamoDB calls share one: the statements are the same).
import { Harness, HarnessOptions, provisionerRole, startHarness } from './harness';
import { TAG_MANAGED_BY } from '../../../lambda/core/compute';
import { reconcilePool } from '../../../lambda/provisioner/reconcile-pool';
import { DynamoTestEngine, startDynalite } from '../support/dynalite';

let engine: DynamoTestEngine;
const started: Harness[] = [];

beforeAll(async () => { engine = await startDynalite({ asRole: provisionerRole() }); });
afterAll(async () => { await engine.stop(); });
afterEach(async () => {
  // The harness that owns the EC2 simulator stops last.
  for (const h of started.reverse()) await h.stop();
  started.length = 0;
});

/** A deployment `managedBy`, with its own provisioner role; `sharedEc2`: in the account of another. */
async function start(options: HarnessOptions & { managedBy: string }): Promise<Harness> {
  const second = options.sharedEc2 !== undefined;
  const role = provisionerRole({ managedBy: options.managedBy, roleName: `Provisioner${second ? 'Second' : 'First'}` }, second);
  const h = await startHarness(engine, { ...options, role });
  started.push(h);
  return h;
}

const live = (h: Harness) => h.sim.instances().filter((i) => i.state !== 'terminated' && i.state !== 'shutting-down');

describe('ClientToken', () => {
  test('two deployments in one account serving the same pool each launch their own instances', async () => {
    const blue = await start({ managedBy: 'er-blue' });
    const green = await start({ managedBy: 'er-green', sharedEc2: blue });
    await blue.queueJob(1);
    await green.queueJob(1);

    await reconcilePool(blue.deps, blue.message());
    await reconcilePool(green.deps, green.message());

    const instances = live(blue);
    expect(instances).toHaveLength(2);
    expect(instances.map((i) => i.tags[TAG_MANAGED_BY]).sort()).toEqual(['er-blue', 'er-green']);
    const [blueRunner] = await blue.runners.listPoolRunners(blue.message().poolId);
    const [greenRunner] = await green.runners.listPoolRunners(green.message().poolId);
    expect(blueRunner.instanceId).not.toBe(greenRunner.instanceId);
  });

  test('a deployment whose state table was replaced launches anew rather than adopting the old table\'s instances', async () => {
    const before = await start({ managedBy: 'er-same' });
    await before.queueJob(1);
    await reconcilePool(before.deps, before.message());
    // The same deployment with a new, empty table: its pool starts again at generation 0.
    const after = await start({ managedBy: 'er-same', sharedEc2: before });
    await after.queueJob(2);

    await reconcilePool(after.deps, after.message());

    expect(live(before)).toHaveLength(2);
    const [runner] = await after.runners.listPoolRunners(after.message().poolId);
    const [old] = await before.runners.listPoolRunners(before.message().poolId);
    expect(runner.instanceId).not.toBe(old.instanceId);
  });
});
