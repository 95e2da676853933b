import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { collectEvents, createFleet, ec2Client, fleetInput, RUNNER_TEMPLATE, startSimulator, statesOf, TIME_SCALE, waitFor } from './helpers';
import { Ec2Simulator, Ec2SimulatorError } from '../../../sandbox/ec2';

describe('spot interruption', () => {
  let sim: Ec2Simulator;
  let ec2: EC2Client;
  let templateId: string;

  beforeAll(async () => {
    sim = await startSimulator({ seed: 7 });
    ec2 = ec2Client(sim);
    templateId = sim.registerLaunchTemplate(RUNNER_TEMPLATE).launchTemplateId;
  });

  afterAll(async () => {
    ec2.destroy();
    await sim.stop();
  });

  test('two spot instances from one CreateFleet: one is interrupted and terminated, the other keeps running', async () => {
    // Arrange
    const events = collectEvents(sim);
    const result = await createFleet(ec2, fleetInput(templateId, 2));
    const ids = result.Instances!.flatMap((i) => i.InstanceIds!);
    expect(ids).toHaveLength(2);
    expect(result.Instances!.every((i) => i.Lifecycle === 'spot')).toBe(true);
    await waitFor(() => ids.every((id) => sim.instance(id)?.state === 'running'));
    const [victim, survivor] = ids;

    // Act
    const warnedAt = sim.clock.now();
    sim.interrupt(victim);
    const warnedBy = sim.clock.now();

    // Assert: the warning arrives first, the reclaim two simulated minutes later.
    const warning = await waitFor(() => events.find((e) => e['detail-type'] === 'EC2 Spot Instance Interruption Warning'));
    expect(warning).toMatchObject({
      version: '0',
      source: 'aws.ec2',
      account: sim.accountId,
      region: sim.region,
      detail: { 'instance-id': victim, 'instance-action': 'terminate' },
    });
    expect(warning.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(warning.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(warning.resources).toEqual([`arn:aws:ec2:${sim.instance(victim)!.availabilityZone}:instance/${victim}`]);
    // Two simulated minutes from the warning, which went out while interrupt() ran (one wall-clock
    // millisecond is a simulated second here, so the bounds are the clock before and after the call).
    const reclaimAt = sim.instance(victim)!.interruptAt!;
    expect(reclaimAt).toBeGreaterThanOrEqual(warnedAt + 120_000);
    expect(reclaimAt).toBeLessThanOrEqual(warnedBy + 120_000);

    await waitFor(() => statesOf(events, victim).includes('terminated'));
    expect(sim.clock.now() - warnedAt).toBeGreaterThanOrEqual(120_000 - 1 / TIME_SCALE);
    expect(statesOf(events, victim)).toEqual(['pending', 'running', 'shutting-down', 'terminated']);
    const stateChange = events.find((e) => e.detail['instance-id'] === victim && e['detail-type'] === 'EC2 Instance State-change Notification');
    expect(stateChange!.resources).toEqual([`arn:aws:ec2:${sim.region}:${sim.accountId}:instance/${victim}`]);
    const warningIndex = events.indexOf(warning);
    const shuttingDownIndex = events.findIndex((e) =>
      e.detail['instance-id'] === victim && (e.detail as { state?: string }).state === 'shutting-down');
    expect(warningIndex).toBeLessThan(shuttingDownIndex);

    const out = await ec2.send(new DescribeInstancesCommand({}));
    const byId = new Map(out.Reservations!.flatMap((r) => r.Instances!).map((i) => [i.InstanceId, i]));
    expect(byId.get(victim)!.State).toEqual({ Code: 48, Name: 'terminated' });
    expect(byId.get(victim)!.StateReason!.Code).toBe('Server.SpotInstanceTermination');
    expect(byId.get(survivor)!.State).toEqual({ Code: 16, Name: 'running' });
    expect(statesOf(events, survivor)).toEqual(['pending', 'running']);
  });

  test('only spot instances can be interrupted', async () => {
    const result = await createFleet(ec2, fleetInput(templateId, 1, {
      TargetCapacitySpecification: { TotalTargetCapacity: 1, DefaultTargetCapacityType: 'on-demand' },
    }));
    const id = result.Instances![0].InstanceIds![0];

    expect(() => sim.interrupt(id)).toThrow(Ec2SimulatorError);
  });

  test('a seeded interruption rate reclaims spot instances reproducibly', async () => {
    // Arrange: a mean of two simulated minutes to an interruption. With seed 42 all four warnings fall
    // within the first four minutes, at least 15 s apart, so the cut-off and timer jitter cannot reorder them.
    const run = async () => {
      const local = await startSimulator({ seed: 42, faults: { spotInterruptionsPerHour: 30 } });
      const client = ec2Client(local);
      const lt = local.registerLaunchTemplate(RUNNER_TEMPLATE).launchTemplateId;
      const events = collectEvents(local);
      const launched = (await createFleet(client, fleetInput(lt, 4))).Instances!.flatMap((i) => i.InstanceIds!);
      // Act: let eight simulated minutes pass.
      await local.clock.sleep(8 * 60_000);
      const warned = events.filter((e) => e['detail-type'] === 'EC2 Spot Instance Interruption Warning').map((e) => e.detail['instance-id']);
      client.destroy();
      await local.stop();
      return { launched, warned };
    };

    // Assert
    const first = await run();
    const second = await run();
    expect([...first.warned].sort()).toEqual([...first.launched].sort());
    expect(second).toEqual(first);
  });
});
