// Launch, stop and start on a clock that moves only when the test says: states that last a moment in simulated time (pending, stopping)
// hold while a call is made, and billing comes out to the second.
import { DescribeInstancesCommand, EC2Client, StartInstancesCommand, StopInstancesCommand, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { collectEvents, createFleet, ec2Client, fleetInput, ManualClock, RUNNER_TEMPLATE, startSimulator, statesOf } from './helpers';
import { Ec2Simulator, Ec2SimulatorError } from '../../../sandbox/ec2';

const SECOND = 1_000;

describe('stop and start on a manual clock', () => {
  let clock: ManualClock;
  let sim: Ec2Simulator;
  let ec2: EC2Client;
  let templateId: string;
  let hibernatingTemplateId: string;

  beforeEach(async () => {
    clock = new ManualClock();
    sim = await startSimulator({
      clock, faults: { bootDelayMs: 10 * SECOND, shutdownDelayMs: 5 * SECOND, startDelayMs: 7 * SECOND, resumeDelayMs: 3 * SECOND },
    });
    ec2 = ec2Client(sim);
    const blockDeviceMappings = [{ deviceName: '/dev/sda1', volumeSizeGiB: 30 }, { deviceName: '/dev/sdf', volumeSizeGiB: 500 }];
    templateId = sim.registerLaunchTemplate({ ...RUNNER_TEMPLATE, blockDeviceMappings }).launchTemplateId;
    hibernatingTemplateId = sim.registerLaunchTemplate({ ...RUNNER_TEMPLATE, launchTemplateName: 'hibernating', hibernationConfigured: true }).launchTemplateId;
  });

  afterEach(async () => {
    ec2.destroy();
    await sim.stop();
  });

  async function launch(market: 'on-demand' | 'spot' = 'on-demand', lt = templateId): Promise<string> {
    const target = { TotalTargetCapacity: 1, DefaultTargetCapacityType: market };
    return (await createFleet(ec2, fleetInput(lt, 1, { TargetCapacitySpecification: target }))).Instances![0].InstanceIds![0];
  }

  /** The instance as DescribeInstances shows it (the product lists by filters, never by InstanceId.N). */
  const described = async (id: string) => {
    const out = await ec2.send(new DescribeInstancesCommand({}));
    return out.Reservations!.flatMap((r) => r.Instances!).find((i) => i.InstanceId === id);
  };
  const stop = (id: string, Hibernate = false) => ec2.send(new StopInstancesCommand({ InstanceIds: [id], Hibernate }));
  const start = (...ids: string[]) => ec2.send(new StartInstancesCommand({ InstanceIds: ids }));

  test('an instance goes pending → running with a state-change event for each state', async () => {
    // Arrange
    const events = collectEvents(sim);

    // Act
    const id = await launch('spot');
    const pending = await described(id);
    clock.advance(10 * SECOND);

    // Assert
    expect(pending!.State).toEqual({ Code: 0, Name: 'pending' });
    const running = (await described(id))!;
    expect(running).toMatchObject({
      State: { Code: 16, Name: 'running' },
      InstanceType: 'm6i.large', // the cheaper of the two overrides' spot pools
      InstanceLifecycle: 'spot',
      Tags: expect.arrayContaining([{ Key: 'Project', Value: 'ephemeral-runners' }]),
    });
    expect(running.LaunchTime).toBeInstanceOf(Date);
    expect(statesOf(events, id)).toEqual(['pending', 'running']);
  });

  test('a pending instance has no OS to power off', async () => {
    const id = await launch();

    expect(() => sim.poweroff(id)).toThrow(Ec2SimulatorError);
  });

  test('a first-launch pending instance cannot be stopped', async () => {
    const id = await launch();

    await expect(stop(id)).rejects.toMatchObject({
      name: 'IncorrectInstanceState', message: `Instance '${id}' cannot be stopped as it has never reached the 'running' state.`,
    });
    expect(sim.instance(id)!.state).toBe('pending');
  });

  test('StartInstances naming a stopping instance fails the whole call: the stopped one named with it stays stopped', async () => {
    // Arrange
    const [a, b] = [await launch(), await launch()];
    clock.advance(10 * SECOND);
    await stop(a);
    clock.advance(5 * SECOND);
    await stop(b);
    const published = sim.events().length;

    // Act
    const call = start(a, b);

    // Assert
    await expect(call).rejects.toMatchObject({ name: 'IncorrectInstanceState', message: `The instance '${b}' is not in a state from which it can be started.` });
    expect([sim.instance(a)!.state, sim.instance(b)!.state]).toEqual(['stopped', 'stopping']);
    expect(statesOf(sim.events().slice(published), a)).toEqual([]);
  });

  test('a pending instance after a start is no error to start again, and cannot be stopped until it runs', async () => {
    const id = await launch();
    clock.advance(10 * SECOND);
    await stop(id);
    clock.advance(5 * SECOND);
    await start(id);

    const again = await start(id);

    expect(again.StartingInstances![0]).toMatchObject({ CurrentState: { Name: 'pending' }, PreviousState: { Name: 'pending' } });
    await expect(stop(id)).rejects.toMatchObject({ name: 'IncorrectInstanceState', message: `This instance '${id}' is not in a state from which it can be stopped.` });
  });

  test('billing: compute per second from running to stopping with a minute minimum per start, the root volume from launch to termination', async () => {
    // Arrange: one on-demand instance runs 100 s, stays stopped an hour, runs 30 s again; a spot one runs 200 s.
    const od = await launch('on-demand');
    await launch('spot');
    clock.advance(10 * SECOND); // both running
    clock.advance(100 * SECOND);
    await stop(od);
    clock.advance(5 * SECOND); // stopped
    clock.advance(3_600 * SECOND);
    await start(od);
    clock.advance(7 * SECOND); // running again
    clock.advance(30 * SECOND);
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [od] }));
    clock.advance(5 * SECOND); // terminated
    const spotRanSoFar = (10 + 100 + 5 + 3_600 + 7 + 30 + 5) - 10;

    // Act
    const bill = sim.instanceBill(od);
    const summary = sim.billingSummary();

    // Assert
    const lifetime = 10 + 100 + 5 + 3_600 + 7 + 30 + 5;
    expect(bill).toEqual({
      instanceId: od,
      market: 'on-demand',
      computeSeconds: 100 + 60, // the 30 s run is billed its minute
      rootVolumeGiB: 30, // the template's /dev/sda1 mapping, not the data volume
      ebsGiBSeconds: 30 * lifetime,
      ebsGiBSecondsWhileStopped: 30 * 3_600,
    });
    expect(summary).toEqual({
      instances: 2,
      computeSeconds: { 'on-demand': 160, 'spot': spotRanSoFar },
      ebsGiBSeconds: 30 * lifetime + 30 * lifetime, // the spot instance still exists
      ebsGiBSecondsWhileStopped: 30 * 3_600,
    });
    expect(sim.instanceBill('i-0123456789abcdef0')).toBeUndefined();
  });

  test('billing: a hibernating instance is billed through stopping; a template without mappings bills the AMI\'s 8 GiB', async () => {
    // Arrange
    const id = await launch('on-demand', hibernatingTemplateId);
    clock.advance(10 * SECOND);
    clock.advance(100 * SECOND);

    // Act
    await stop(id, true);
    clock.advance(5 * SECOND);
    clock.advance(60 * SECOND);

    // Assert
    expect(sim.instance(id)!.state).toBe('stopped');
    expect(sim.instanceBill(id)).toMatchObject({ computeSeconds: 105, rootVolumeGiB: 8, ebsGiBSeconds: 8 * 175, ebsGiBSecondsWhileStopped: 8 * 60 });
  });
});
