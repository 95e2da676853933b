import {
  DescribeInstancesCommand,
  DescribeInstancesCommandInput,
  EC2Client,
  paginateDescribeInstances,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { collectEvents, createFleet, ec2Client, fleetInput, RUNNER_TEMPLATE, startSimulator, statesOf, waitFor } from './helpers';
import { Ec2Simulator, InstanceRunning } from '../../../sandbox/ec2';

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
    sim = await startSimulator({ seed: 11, faults: { bootDelayMs: [60_000, 90_000] } });
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

  /** The instance as DescribeInstances shows it (the product lists by filters, never by InstanceId.N). */
  async function described(id: string) {
    return (await describe({})).find((i) => i.InstanceId === id);
  }

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
    expect(info.imdsUrl).toBe(`${sim.imds.url}/${info.instanceId}`);

    // Act: the OS powers off (the launch template says terminate).
    info.poweroff();

    // Assert
    await waitFor(() => statesOf(events, info.instanceId).includes('terminated'));
    expect(statesOf(events, info.instanceId)).toEqual(['pending', 'running', 'shutting-down', 'terminated']);
    expect((await described(info.instanceId))!.StateReason).toEqual({
      Code: 'Client.InstanceInitiatedShutdown',
      Message: 'Client.InstanceInitiatedShutdown: Instance initiated shutdown',
    });
  });

  test('shutdown behaviour stop: an on-demand instance\'s poweroff stops it and frees its capacity', async () => {
    // Arrange: room for one on-demand instance in one pool, taken.
    const own = await startSimulator({
      capacity: { rules: [{ available: 0 }, { instanceType: 'm6i.large', availabilityZone: 'us-east-1a', market: 'on-demand', available: 1 }] },
      faults: { bootDelayMs: 1_000, shutdownDelayMs: 1_000 },
    });
    const client = ec2Client(own);
    const stopLt = own.registerLaunchTemplate({ ...RUNNER_TEMPLATE, launchTemplateName: 'stopper', instanceInitiatedShutdownBehavior: 'stop' }).launchTemplateId;
    const onDemand = fleetInput(stopLt, 1, { TargetCapacitySpecification: { TotalTargetCapacity: 1, DefaultTargetCapacityType: 'on-demand' } });
    const id = (await createFleet(client, onDemand)).Instances![0].InstanceIds![0];
    await waitFor(() => own.instance(id)?.state === 'running');
    expect((await createFleet(client, onDemand)).Instances).toEqual([]);

    // Act
    own.poweroff(id);

    // Assert
    expect(own.instance(id)!.state).toBe('stopping');
    await waitFor(() => own.instance(id)?.state === 'stopped');
    expect((await createFleet(client, onDemand)).Instances).toHaveLength(1);
    own.poweroff(id); // already off: nothing happens
    expect(own.instance(id)!.state).toBe('stopped');
    client.destroy();
    await own.stop();
  });

  test('shutdown behaviour stop is refused per override for spot', async () => {
    const stopLt = sim.registerLaunchTemplate({ ...RUNNER_TEMPLATE, launchTemplateName: 'stopper-spot', instanceInitiatedShutdownBehavior: 'stop' });

    const result = await createFleet(ec2, fleetInput(stopLt.launchTemplateId, 1));

    expect(result.Instances).toEqual([]);
    expect(result.Errors![0]).toMatchObject({ Lifecycle: 'spot', ErrorCode: 'InvalidParameterCombination' });
  });

  test('filters: tag:Key and instance-state-name, ANDed across filters and ORed within one, case-sensitive', async () => {
    // Arrange
    const a = await launch(2, { FilterPool: 'alpha' });
    const b = await launch(1, { FilterPool: 'beta', Extra: 'yes' });
    await waitFor(() => [...a, ...b].every((id) => sim.instance(id)?.state === 'running'));
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [a[1]] }));
    const ids = async (input: DescribeInstancesCommandInput) => (await describe(input)).map((i) => i.InstanceId).sort();

    // Act / Assert
    expect(await ids({ Filters: [{ Name: 'tag:FilterPool', Values: ['alpha'] }] })).toEqual([...a].sort());
    expect(await ids({ Filters: [{ Name: 'tag:FilterPool', Values: ['alpha', 'beta'] }] })).toEqual([...a, ...b].sort());
    expect(await ids({ Filters: [{ Name: 'tag:Extra', Values: ['yes'] }] })).toEqual(b);
    expect(await ids({
      Filters: [{ Name: 'tag:FilterPool', Values: ['alpha', 'beta'] }, { Name: 'instance-state-name', Values: ['running'] }],
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
    [{ MaxResults: 3 }, 'InvalidParameterValue'],
    [{ InstanceIds: ['i-0123456789abcdef0'] }, 'Unsupported'],
  ])('DescribeInstances %j fails with %s', async (input, code) => {
    const err = await failure(() => describe(input));

    expect(err.name).toBe(code);
    expect(err.$metadata.httpStatusCode).toBe(400);
  });

  test('TerminateInstances reports transitions, is idempotent, and keeps terminated instances visible for an hour', async () => {
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
    const visible = (await described(id))!;
    expect(visible.State!.Name).toBe('terminated');
    expect(visible.StateReason!.Code).toBe('Client.UserInitiatedShutdown');
    // After the visibility window (an hour, 3.6 s of wall time here) the id is unknown.
    await sim.clock.sleep(3_650_000);
    expect(await described(id)).toBeUndefined();
    const err = await failure(() => ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] })));
    expect(err.name).toBe('InvalidInstanceID.NotFound');
  });

  test('TerminateInstances with unknown ids terminates nothing and names every unknown id', async () => {
    const [id] = await launch(1);

    const err = await failure(() => ec2.send(new TerminateInstancesCommand({ InstanceIds: [id, 'i-0123456789abcdef0', 'i-0fedcba9876543210'] })));

    expect(err.name).toBe('InvalidInstanceID.NotFound');
    expect(err.message).toBe("The instance IDs 'i-0123456789abcdef0, i-0fedcba9876543210' do not exist");
    expect(['pending', 'running']).toContain(sim.instance(id)!.state);
  });

  test('TerminateInstances with a malformed id is InvalidInstanceID.Malformed', async () => {
    const err = await failure(() => ec2.send(new TerminateInstancesCommand({ InstanceIds: ['instance-1'] })));

    expect(err.name).toBe('InvalidInstanceID.Malformed');
    expect(err.$metadata.httpStatusCode).toBe(400);
  });
});
