import {
  DescribeInstancesCommand,
  DescribeInstancesCommandInput,
  EC2Client,
  paginateDescribeInstances,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { collectEvents, createFleet, ec2Client, fleetInput, RUNNER_TEMPLATE, startSimulator, statesOf, waitFor } from './helpers';
import { Ec2Simulator, InstanceRunning, InvalidInstanceStateError } from '../../../sandbox/ec2';

async function failure(fn: () => Promise<unknown>): Promise<Error & { $metadata: { httpStatusCode?: number } }> {
  try {
    await fn();
  } catch (err) {
    return err as Error & { $metadata: { httpStatusCode?: number } };
  }
  throw new Error('expected the call to fail');
}

describe('instances: lifecycle, DescribeInstances, TerminateInstances', () => {
  let sim: Ec2Simulator;
  let ec2: EC2Client;
  let templateId: string;

  beforeAll(async () => {
    // Boots take 60-90 simulated seconds, so a DescribeInstances right after a launch surely sees pending.
    // A window of 2,000 simulated seconds (2 s of wall time): a busy machine cannot outrun it.
    sim = await startSimulator({ seed: 11, terminatedVisibleForMs: 2_000_000, faults: { bootDelayMs: [60_000, 90_000] } });
    ec2 = ec2Client(sim);
    templateId = sim.registerLaunchTemplate(RUNNER_TEMPLATE).launchTemplateId;
  });

  afterAll(async () => {
    ec2.destroy();
    await sim.stop();
  });

  async function launch(count: number, tags: Record<string, string> = {}, market: 'spot' | 'on-demand' = 'spot', lt = templateId) {
    const result = await createFleet(ec2, fleetInput(lt, count, {
      TargetCapacitySpecification: { TotalTargetCapacity: count, DefaultTargetCapacityType: market },
      TagSpecifications: Object.keys(tags).length > 0
        ? [{ ResourceType: 'instance', Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }]
        : undefined,
    }));
    return result.Instances!.flatMap((i) => i.InstanceIds!);
  }

  async function describe(input: DescribeInstancesCommandInput) {
    const out = await ec2.send(new DescribeInstancesCommand(input));
    return out.Reservations!.flatMap((r) => r.Instances!);
  }

  test('an instance goes pending → running with a state-change event for each state', async () => {
    // Arrange
    const events = collectEvents(sim);

    // Act
    const [id] = await launch(1);

    // Assert
    const [pending] = await describe({ InstanceIds: [id] });
    expect(pending.State).toEqual({ Code: 0, Name: 'pending' });
    await waitFor(() => statesOf(events, id).includes('running'));
    const [running] = await describe({ InstanceIds: [id] });
    expect(running).toMatchObject({
      State: { Code: 16, Name: 'running' },
      InstanceType: 'm6i.large', // the cheaper of the two overrides' spot pools
      IamInstanceProfile: { Arn: RUNNER_TEMPLATE.iamInstanceProfile!.arn },
      MetadataOptions: { HttpTokens: 'required', HttpEndpoint: 'enabled' },
    });
    expect(running.LaunchTime).toBeInstanceOf(Date);
    expect(running.PrivateIpAddress).toMatch(/^10\.0\.\d+\.\d+$/);
    expect(statesOf(events, id)).toEqual(['pending', 'running']);
  });

  test('the running hook hands over user data, tags, the IMDS URL and a poweroff that terminates the instance', async () => {
    // Arrange
    const booted = new Promise<InstanceRunning>((resolve) => {
      const off = sim.onInstanceRunning((info) => {
        if (info.tags.Purpose === 'hook') {
          off();
          resolve(info);
        }
      });
    });
    const events = collectEvents(sim);
    await launch(1, { Purpose: 'hook' });
    const info = await booted;
    expect(info.userData).toBe(RUNNER_TEMPLATE.userData);
    expect(info.tags).toMatchObject({ Purpose: 'hook', Project: 'ephemeral-runners' });
    expect(info.imdsUrl).toBe(`${sim.imdsUrl}/${info.instanceId}`);

    // Act: the OS powers off (the launch template says terminate).
    info.poweroff();

    // Assert
    await waitFor(() => statesOf(events, info.instanceId).includes('terminated'));
    expect(statesOf(events, info.instanceId)).toEqual(['pending', 'running', 'shutting-down', 'terminated']);
    const [gone] = await describe({ InstanceIds: [info.instanceId] });
    expect(gone.StateReason).toEqual({
      Code: 'Client.InstanceInitiatedShutdown',
      Message: 'Client.InstanceInitiatedShutdown: Instance initiated shutdown',
    });
  });

  test('shutdown behaviour stop: an on-demand instance\'s poweroff stops it and frees its capacity', async () => {
    // Arrange
    const stopLt = sim.registerLaunchTemplate({ ...RUNNER_TEMPLATE, launchTemplateName: 'stopper', instanceInitiatedShutdownBehavior: 'stop' });
    const [id] = await launch(1, {}, 'on-demand', stopLt.launchTemplateId);
    await waitFor(() => sim.instance(id)?.state === 'running');
    const before = sim.capacityUsage('on-demand').instances;

    // Act
    sim.poweroff(id);

    // Assert
    expect(sim.instance(id)!.state).toBe('stopping');
    await waitFor(() => sim.instance(id)?.state === 'stopped');
    expect(sim.capacityUsage('on-demand').instances).toBe(before - 1);
    sim.poweroff(id); // already off: nothing happens
    expect(sim.instance(id)!.state).toBe('stopped');
  });

  test('a pending instance has no OS to power off', async () => {
    const [id] = await launch(1);

    expect(() => sim.poweroff(id)).toThrow(InvalidInstanceStateError);
  });

  test('shutdown behaviour stop is refused per override for spot', async () => {
    const stopLt = sim.registerLaunchTemplate({ ...RUNNER_TEMPLATE, launchTemplateName: 'stopper-spot', instanceInitiatedShutdownBehavior: 'stop' });

    const result = await createFleet(ec2, fleetInput(stopLt.launchTemplateId, 1));

    expect(result.Instances).toEqual([]);
    expect(result.Errors![0]).toMatchObject({ Lifecycle: 'spot', ErrorCode: 'InvalidParameterCombination' });
  });

  test('filters: tag:Key, tag-key, instance-state-name and wildcards, ANDed across filters and ORed within one', async () => {
    // Arrange
    const a = await launch(2, { FilterPool: 'alpha' });
    const b = await launch(1, { FilterPool: 'beta', Extra: 'yes' });
    await waitFor(() => [...a, ...b].every((id) => sim.instance(id)?.state === 'running'));
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [a[1]] }));
    const ids = async (input: DescribeInstancesCommandInput) => (await describe(input)).map((i) => i.InstanceId).sort();

    // Act / Assert
    expect(await ids({ Filters: [{ Name: 'tag:FilterPool', Values: ['alpha'] }] })).toEqual([...a].sort());
    expect(await ids({ Filters: [{ Name: 'tag:FilterPool', Values: ['alpha', 'beta'] }] })).toEqual([...a, ...b].sort());
    expect(await ids({ Filters: [{ Name: 'tag:FilterPool', Values: ['al*'] }] })).toEqual([...a].sort());
    expect(await ids({ Filters: [{ Name: 'tag-key', Values: ['Extra'] }] })).toEqual(b);
    expect(await ids({
      Filters: [{ Name: 'tag:FilterPool', Values: ['*'] }, { Name: 'instance-state-name', Values: ['running'] }],
    })).toEqual([a[0], b[0]].sort());
    expect(await ids({ Filters: [{ Name: 'tag:FilterPool', Values: ['ALPHA'] }] })).toEqual([]);
    const err = await failure(() => describe({ Filters: [{ Name: 'no-such-filter', Values: ['x'] }] }));
    expect(err.name).toBe('InvalidParameterValue');
  });

  test('pages with MaxResults and NextToken, through the SDK paginator', async () => {
    // Arrange
    const launched = await launch(7, { PagePool: 'p' });

    // Act
    const pages: number[] = [];
    const seen: string[] = [];
    for await (const page of paginateDescribeInstances({ client: ec2, pageSize: 5 }, { Filters: [{ Name: 'tag:PagePool', Values: ['p'] }] })) {
      const instances = page.Reservations!.flatMap((r) => r.Instances!);
      pages.push(instances.length);
      seen.push(...instances.map((i) => i.InstanceId!));
    }

    // Assert
    expect(pages).toEqual([5, 2]);
    expect(seen.sort()).toEqual([...launched].sort());
    const bad = await failure(() => describe({ MaxResults: 5, NextToken: 'bm90LWEtdG9rZW4=' }));
    expect(bad.name).toBe('InvalidParameterValue');
  });

  test.each([
    [{ InstanceIds: ['i-0123456789abcdef0'], MaxResults: 5 }, 'InvalidParameterCombination'],
    [{ MaxResults: 3 }, 'InvalidParameterValue'],
    [{ InstanceIds: ['instance-1'] }, 'InvalidInstanceID.Malformed'],
    [{ InstanceIds: ['i-0123456789abcdef0'] }, 'InvalidInstanceID.NotFound'],
  ])('DescribeInstances %j fails with %s', async (input, code) => {
    const err = await failure(() => describe(input));

    expect(err.name).toBe(code);
    expect(err.$metadata.httpStatusCode).toBe(400);
  });

  test('one unknown id fails the whole DescribeInstances call and names every unknown id', async () => {
    const [known] = await launch(1);

    const err = await failure(() => describe({ InstanceIds: [known, 'i-0123456789abcdef0', 'i-0fedcba9876543210'] }));

    expect(err.name).toBe('InvalidInstanceID.NotFound');
    expect(err.message).toBe("The instance IDs 'i-0123456789abcdef0, i-0fedcba9876543210' do not exist");
  });

  test('TerminateInstances reports transitions, is idempotent, and keeps terminated instances visible for a while', async () => {
    // Arrange
    const [id] = await launch(1);
    await waitFor(() => sim.instance(id)?.state === 'running');

    // Act
    const first = await ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));

    // Assert
    expect(first.TerminatingInstances).toEqual([{
      InstanceId: id, CurrentState: { Code: 32, Name: 'shutting-down' }, PreviousState: { Code: 16, Name: 'running' },
    }]);
    await waitFor(() => sim.instance(id)?.state === 'terminated');
    const again = await ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
    expect(again.TerminatingInstances![0]).toMatchObject({ CurrentState: { Name: 'terminated' }, PreviousState: { Name: 'terminated' } });
    const [visible] = await describe({ InstanceIds: [id] });
    expect(visible.State!.Name).toBe('terminated');
    expect(visible.StateReason!.Code).toBe('Client.UserInitiatedShutdown');
    // After the visibility window (2,000 simulated seconds here) the id is unknown.
    await sim.clock.sleep(2_050_000);
    const err = await failure(() => describe({ InstanceIds: [id] }));
    expect(err.name).toBe('InvalidInstanceID.NotFound');
  });

  test('TerminateInstances with one bad id terminates nothing', async () => {
    const [id] = await launch(1);

    const err = await failure(() => ec2.send(new TerminateInstancesCommand({ InstanceIds: [id, 'i-0123456789abcdef0'] })));

    expect(err.name).toBe('InvalidInstanceID.NotFound');
    expect(['pending', 'running']).toContain(sim.instance(id)!.state);
  });
});

describe('eventual consistency and best-effort events', () => {
  test('a just-launched instance id is briefly unknown to DescribeInstances', async () => {
    // Arrange
    // 1,500 simulated seconds (1.5 s of wall time): a busy machine cannot outrun the window.
    const sim = await startSimulator({ faults: { launchVisibilityDelayMs: 1_500_000 } });
    const ec2 = ec2Client(sim);
    const lt = sim.registerLaunchTemplate(RUNNER_TEMPLATE).launchTemplateId;
    const id = (await createFleet(ec2, fleetInput(lt, 1))).Instances![0].InstanceIds![0];

    // Act / Assert
    const err = await failure(() => ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] })));
    expect(err.name).toBe('InvalidInstanceID.NotFound');
    await sim.clock.sleep(1_550_000);
    const out = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }));
    expect(out.Reservations![0].Instances![0].InstanceId).toBe(id);
    ec2.destroy();
    await sim.stop();
  });

  test('dropped events are recorded but never delivered', async () => {
    // Arrange
    const sim = await startSimulator({ faults: { eventDropRate: 1 } });
    const ec2 = ec2Client(sim);
    const lt = sim.registerLaunchTemplate(RUNNER_TEMPLATE).launchTemplateId;
    const delivered = collectEvents(sim);

    // Act
    const id = (await createFleet(ec2, fleetInput(lt, 1))).Instances![0].InstanceIds![0];
    await waitFor(() => sim.instance(id)?.state === 'running');
    await new Promise((resolve) => setTimeout(resolve, 20));

    // Assert
    expect(sim.events().map((e) => (e.detail as { state: string }).state)).toEqual(['pending', 'running']);
    expect(delivered).toEqual([]);
    ec2.destroy();
    await sim.stop();
  });
});
