import {
  DescribeInstancesCommand,
  EC2Client,
  StartInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { collectEvents, createFleet, ec2Client, fleetInput, RUNNER_TEMPLATE, startSimulator, statesOf, waitFor } from './helpers';
import { Ec2Simulator, InstanceRunning } from '../../../sandbox/ec2';

type SdkError = Error & { $metadata: { httpStatusCode?: number } };

async function failure(call: Promise<unknown>): Promise<SdkError> {
  try {
    await call;
  } catch (err) {
    return err as SdkError;
  }
  throw new Error('expected the call to fail');
}

const ON_DEMAND = { TargetCapacitySpecification: { TotalTargetCapacity: 1, DefaultTargetCapacityType: 'on-demand' as const } };

describe('StopInstances and StartInstances', () => {
  let sim: Ec2Simulator;
  let ec2: EC2Client;
  let templateId: string;
  let hibernatingTemplateId: string;
  let stopOnPoweroffTemplateId: string;
  const running: InstanceRunning[] = [];

  beforeAll(async () => {
    sim = await startSimulator({
      seed: 5, faults: { bootDelayMs: [5_000, 10_000], shutdownDelayMs: [2_000, 4_000], startDelayMs: [2_000, 4_000], resumeDelayMs: 1_000 },
    });
    ec2 = ec2Client(sim);
    templateId = sim.registerLaunchTemplate(RUNNER_TEMPLATE).launchTemplateId;
    hibernatingTemplateId = sim.registerLaunchTemplate({ ...RUNNER_TEMPLATE, launchTemplateName: 'hibernating', hibernationConfigured: true }).launchTemplateId;
    stopOnPoweroffTemplateId = sim.registerLaunchTemplate({ ...RUNNER_TEMPLATE, launchTemplateName: 'stop-on-poweroff', instanceInitiatedShutdownBehavior: 'stop' }).launchTemplateId;
    sim.onInstanceRunning((info) => { running.push(info); });
  });

  afterAll(async () => {
    ec2.destroy();
    await sim.stop();
  });

  async function launch(lt = templateId, market: 'on-demand' | 'spot' = 'on-demand'): Promise<string> {
    const target = { TotalTargetCapacity: 1, DefaultTargetCapacityType: market };
    return (await createFleet(ec2, fleetInput(lt, 1, { TargetCapacitySpecification: target }))).Instances![0].InstanceIds![0];
  }

  async function launchRunning(lt = templateId): Promise<string> {
    const id = await launch(lt);
    await waitFor(() => sim.instance(id)?.state === 'running', 60_000);
    return id;
  }

  async function stopped(id: string, hibernate = false): Promise<void> {
    await ec2.send(new StopInstancesCommand({ InstanceIds: [id], Hibernate: hibernate }));
    await waitFor(() => sim.instance(id)?.state === 'stopped');
  }

  async function described(id: string) {
    const out = await ec2.send(new DescribeInstancesCommand({}));
    return out.Reservations!.flatMap((r) => r.Instances!).find((i) => i.InstanceId === id)!;
  }

  const runsOf = (id: string) => running.filter((r) => r.instanceId === id).map(({ starts, resumed }) => ({ starts, resumed }));

  test('stop and start: the SDK reads each transition, DescribeInstances shows why it stopped, events come in order and the OS boots again', async () => {
    // Arrange
    const events = collectEvents(sim);
    const id = await launchRunning();

    // Act: stop
    const stop = await ec2.send(new StopInstancesCommand({ InstanceIds: [id] }));

    // Assert
    expect(stop.StoppingInstances).toEqual([{ InstanceId: id, CurrentState: { Code: 64, Name: 'stopping' }, PreviousState: { Code: 16, Name: 'running' } }]);
    await waitFor(() => sim.instance(id)?.state === 'stopped');
    const whileStopped = await described(id);
    expect(whileStopped.State).toEqual({ Code: 80, Name: 'stopped' });
    expect(whileStopped.StateReason).toEqual({ Code: 'Client.UserInitiatedShutdown', Message: 'Client.UserInitiatedShutdown: User initiated shutdown' });
    expect(whileStopped.StateTransitionReason).toMatch(/^User initiated \(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d GMT\)$/);
    expect(whileStopped.HibernationOptions).toEqual({ Configured: false });
    // A second stop is no error: the instance is reported as it is.
    const again = await ec2.send(new StopInstancesCommand({ InstanceIds: [id] }));
    expect(again.StoppingInstances![0]).toMatchObject({ CurrentState: { Name: 'stopped' }, PreviousState: { Name: 'stopped' } });

    // Act: start
    const start = await ec2.send(new StartInstancesCommand({ InstanceIds: [id] }));

    // Assert
    expect(start.StartingInstances).toEqual([{ InstanceId: id, CurrentState: { Code: 0, Name: 'pending' }, PreviousState: { Code: 80, Name: 'stopped' } }]);
    await waitFor(() => sim.instance(id)?.state === 'running');
    const restarted = await described(id);
    expect(restarted.StateReason).toBeUndefined();
    expect(restarted.StateTransitionReason).toBe('');
    const startedAgain = await ec2.send(new StartInstancesCommand({ InstanceIds: [id] }));
    expect(startedAgain.StartingInstances![0]).toMatchObject({ CurrentState: { Name: 'running' }, PreviousState: { Name: 'running' } });
    await waitFor(() => runsOf(id).length === 2 && statesOf(events, id).length === 6);
    expect(statesOf(events, id)).toEqual(['pending', 'running', 'stopping', 'stopped', 'pending', 'running']);
    expect(runsOf(id)).toEqual([{ starts: 0, resumed: false }, { starts: 1, resumed: false }]);
  });

  test('hibernation: StateReason says so, and the instance resumes rather than boots', async () => {
    // Arrange
    const id = await launchRunning(hibernatingTemplateId);

    // Act
    const stop = await ec2.send(new StopInstancesCommand({ InstanceIds: [id], Hibernate: true }));

    // Assert
    expect(stop.StoppingInstances![0]).toMatchObject({ CurrentState: { Name: 'stopping' }, PreviousState: { Name: 'running' } });
    await waitFor(() => sim.instance(id)?.state === 'stopped');
    expect(sim.instance(id)!.hibernated).toBe(true);
    const hibernated = await described(id);
    expect(hibernated.StateReason).toEqual({ Code: 'Client.UserInitiatedHibernate', Message: 'Client.UserInitiatedHibernate: User initiated hibernate' });
    expect(hibernated.HibernationOptions).toEqual({ Configured: true });
    await ec2.send(new StartInstancesCommand({ InstanceIds: [id] }));
    await waitFor(() => runsOf(id).length === 2);
    expect(runsOf(id)).toEqual([{ starts: 0, resumed: false }, { starts: 1, resumed: true }]);
    expect(sim.instance(id)!.hibernated).toBeUndefined();
    // A plain stop of the same instance boots it again on the next start.
    await stopped(id);
    await ec2.send(new StartInstancesCommand({ InstanceIds: [id] }));
    await waitFor(() => runsOf(id).length === 3);
    expect(runsOf(id)[2]).toEqual({ starts: 2, resumed: false });
  });

  test('Hibernate on an instance launched without hibernation is UnsupportedHibernationConfiguration and it keeps running', async () => {
    const id = await launchRunning();

    const err = await failure(ec2.send(new StopInstancesCommand({ InstanceIds: [id], Hibernate: true })));

    expect(err).toMatchObject({ name: 'UnsupportedHibernationConfiguration', message: `The instance can't be hibernated because it was not configured at launch for hibernation: ${id}` });
    expect(err.$metadata.httpStatusCode).toBe(400);
    expect(sim.instance(id)!.state).toBe('running');
  });

  test('shutdown behaviour stop: the OS powers off, the instance stops for that reason, and StartInstances boots it again', async () => {
    // Arrange
    const id = await launchRunning(stopOnPoweroffTemplateId);

    // Act
    sim.poweroff(id);
    await waitFor(() => sim.instance(id)?.state === 'stopped');
    const reason = (await described(id)).StateReason;
    await ec2.send(new StartInstancesCommand({ InstanceIds: [id] }));

    // Assert
    expect(reason).toEqual({ Code: 'Client.InstanceInitiatedShutdown', Message: 'Client.InstanceInitiatedShutdown: Instance initiated shutdown' });
    await waitFor(() => runsOf(id).length === 2);
    expect(runsOf(id)).toEqual([{ starts: 0, resumed: false }, { starts: 1, resumed: false }]);
  });

  test('a spot instance of an instant fleet (a one-time request) cannot be stopped: UnsupportedOperation', async () => {
    const id = await launch(templateId, 'spot');

    const err = await failure(ec2.send(new StopInstancesCommand({ InstanceIds: [id] })));

    expect(err.name).toBe('UnsupportedOperation');
    expect(err.message).toBe(`You can't stop the Spot Instance '${id}' because it is associated with a one-time Spot Instance request. ` +
      'You can only stop Spot Instances associated with persistent Spot Instance requests.');
  });

  test('terminated instances can be neither stopped nor started', async () => {
    const id = await launchRunning();
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
    await waitFor(() => sim.instance(id)?.state === 'terminated');

    const stop = await failure(ec2.send(new StopInstancesCommand({ InstanceIds: [id] })));
    const start = await failure(ec2.send(new StartInstancesCommand({ InstanceIds: [id] })));

    expect(stop).toMatchObject({ name: 'IncorrectInstanceState', message: `This instance '${id}' is not in a state from which it can be stopped.` });
    expect(start).toMatchObject({ name: 'IncorrectInstanceState', message: `The instance '${id}' is not in a state from which it can be started.` });
  });

  test('unknown and malformed ids fail the whole call, Malformed first', async () => {
    const id = await launchRunning();
    await stopped(id);

    const missing = await failure(ec2.send(new StartInstancesCommand({ InstanceIds: [id, 'i-0123456789abcdef0'] })));
    const malformed = await failure(ec2.send(new StopInstancesCommand({ InstanceIds: ['i-0123456789abcdef0', 'instance-1'] })));

    expect(missing).toMatchObject({ name: 'InvalidInstanceID.NotFound', message: "The instance ID 'i-0123456789abcdef0' does not exist" });
    expect(malformed).toMatchObject({ name: 'InvalidInstanceID.Malformed', message: 'Invalid id: "instance-1" (expecting "i-...")' });
    expect(sim.instance(id)!.state).toBe('stopped');
  });

  test('DryRun answers DryRunOperation (412) and changes nothing', async () => {
    const id = await launchRunning();

    const stop = await failure(ec2.send(new StopInstancesCommand({ InstanceIds: [id], DryRun: true })));

    expect(stop).toMatchObject({ name: 'DryRunOperation', message: 'Request would have succeeded, but DryRun flag is set.' });
    expect(stop.$metadata.httpStatusCode).toBe(412);
    expect(sim.instance(id)!.state).toBe('running');
  });

  test('a throttled StartInstances is RequestLimitExceeded (503) and starts nothing', async () => {
    const id = await launchRunning();
    await stopped(id);
    sim.faults.throttleNext(1, 'StartInstances');

    const err = await failure(ec2.send(new StartInstancesCommand({ InstanceIds: [id] })));

    expect(err.name).toBe('RequestLimitExceeded');
    expect(err.$metadata.httpStatusCode).toBe(503);
    expect(sim.instance(id)!.state).toBe('stopped');
  });

  test('a parameter the simulator does not model is refused, not ignored', async () => {
    const id = await launchRunning();
    await stopped(id);

    const err = await failure(ec2.send(new StartInstancesCommand({ InstanceIds: [id], AdditionalInfo: 'x' })));

    expect(err).toMatchObject({ name: 'Unsupported', message: 'The EC2 simulator does not model the StartInstances parameter AdditionalInfo.' });
  });

  test('IMDS serves a restarted instance under the same id, with fresh credentials', async () => {
    // Arrange
    const id = await launchRunning();
    const imds = `${sim.imds.url}/${id}/latest`;
    const credentials = async () => {
      const token = await (await fetch(`${imds}/api/token`, { method: 'PUT', headers: { 'x-aws-ec2-metadata-token-ttl-seconds': '60' } })).text();
      const res = await fetch(`${imds}/meta-data/iam/security-credentials/runner-role`, { headers: { 'x-aws-ec2-metadata-token': token } });
      return (JSON.parse(await res.text()) as { AccessKeyId: string }).AccessKeyId;
    };
    const before = await credentials();

    // Act
    await stopped(id);
    await ec2.send(new StartInstancesCommand({ InstanceIds: [id] }));
    await waitFor(() => sim.instance(id)?.state === 'running');

    // Assert
    const after = await credentials();
    expect(after).not.toBe(before);
    expect(sim.credentialsFor(after)).toMatchObject({ instanceId: id, roleName: 'runner-role' });
  });
});

describe('StartInstances and capacity', () => {
  test('a stopped instance gives its capacity back and needs it again to start: InsufficientInstanceCapacity (500) while another holds it', async () => {
    // Arrange: one on-demand unit in one pool.
    const sim = await startSimulator({
      capacity: { rules: [{ available: 0 }, { instanceType: 'm7i.large', availabilityZone: 'us-east-1a', market: 'on-demand', available: 1 }] },
      faults: { bootDelayMs: 1_000, shutdownDelayMs: 1_000, startDelayMs: 1_000 },
    });
    const ec2 = ec2Client(sim);
    const lt = sim.registerLaunchTemplate(RUNNER_TEMPLATE).launchTemplateId;
    const launchOne = async () => (await createFleet(ec2, fleetInput(lt, 1, ON_DEMAND))).Instances?.[0]?.InstanceIds?.[0];
    const a = (await launchOne())!;
    await waitFor(() => sim.instance(a)?.state === 'running');
    await ec2.send(new StopInstancesCommand({ InstanceIds: [a] }));
    await waitFor(() => sim.instance(a)?.state === 'stopped');
    const b = (await launchOne())!;

    // Act
    const err = await failure(ec2.send(new StartInstancesCommand({ InstanceIds: [a] })));
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [b] }));
    await waitFor(() => sim.instance(b)?.state === 'terminated');
    const start = await ec2.send(new StartInstancesCommand({ InstanceIds: [a] }));

    // Assert
    expect(err).toMatchObject({ name: 'InsufficientInstanceCapacity', message: 'Insufficient capacity.' });
    expect(err.$metadata.httpStatusCode).toBe(500);
    expect(start.StartingInstances![0].CurrentState!.Name).toBe('pending');
    expect(await launchOne()).toBeUndefined();
    ec2.destroy();
    await sim.stop();
  });

  test('the seeded startCapacityErrorRate refuses starts with InsufficientInstanceCapacity; the instance stays stopped and emits nothing', async () => {
    // Arrange
    const sim = await startSimulator({ faults: { bootDelayMs: 1_000, shutdownDelayMs: 1_000, startCapacityErrorRate: 1 } });
    const ec2 = ec2Client(sim);
    const lt = sim.registerLaunchTemplate(RUNNER_TEMPLATE).launchTemplateId;
    const id = (await createFleet(ec2, fleetInput(lt, 1, ON_DEMAND))).Instances![0].InstanceIds![0];
    await waitFor(() => sim.instance(id)?.state === 'running');
    await ec2.send(new StopInstancesCommand({ InstanceIds: [id] }));
    await waitFor(() => sim.instance(id)?.state === 'stopped');
    const published = sim.events().length;

    // Act
    const errors = await Promise.all([1, 2, 3].map(() => failure(ec2.send(new StartInstancesCommand({ InstanceIds: [id] })))));

    // Assert
    expect(errors.map((e) => e.name)).toEqual(['InsufficientInstanceCapacity', 'InsufficientInstanceCapacity', 'InsufficientInstanceCapacity']);
    expect(sim.instance(id)!.state).toBe('stopped');
    expect(statesOf(sim.events().slice(published), id)).toEqual([]);
    expect(sim.apiCalls().errorsByCode.InsufficientInstanceCapacity).toBe(3);
    ec2.destroy();
    await sim.stop();
  });
});
