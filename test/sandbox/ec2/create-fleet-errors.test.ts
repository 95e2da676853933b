import { CreateFleetCommandOutput, DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { createFleet, ec2Client, fleetInput, RUNNER_TEMPLATE, startSimulator } from './helpers';
import { Ec2Simulator, Ec2SimulatorOptions } from '../../../sandbox/ec2';

const launchedIds = (r: CreateFleetCommandOutput) => r.Instances!.flatMap((i) => i.InstanceIds!);

describe('CreateFleet capacity and throttling errors', () => {
  const started: Ec2Simulator[] = [];

  /** A simulator of its own per test, so capacity does not leak between tests. */
  async function setUp(options: Ec2SimulatorOptions = {}, maxAttempts = 1) {
    const sim = await startSimulator(options);
    started.push(sim);
    const ec2 = ec2Client(sim, maxAttempts);
    const lt = sim.registerLaunchTemplate(RUNNER_TEMPLATE).launchTemplateId;
    return { sim, ec2, lt };
  }

  afterAll(async () => {
    await Promise.all(started.map((s) => s.stop()));
  });

  test('a pool without capacity is a per-override InsufficientInstanceCapacity inside a 200', async () => {
    // Arrange
    const { sim, ec2, lt } = await setUp({ capacity: { rules: [{ market: 'spot', available: 0 }] } });
    const subnet = 'subnet-0sandbox000000001';

    // Act
    const result = await createFleet(ec2, fleetInput(lt, 1, {
      LaunchTemplateConfigs: [{
        LaunchTemplateSpecification: { LaunchTemplateId: lt, Version: '1' },
        Overrides: [{ InstanceType: 'm7i.large', SubnetId: subnet }],
      }],
    }));

    // Assert
    expect(result.$metadata.httpStatusCode).toBe(200);
    expect(result.FleetId).toBeDefined();
    expect(result.Instances).toEqual([]);
    expect(result.Errors).toEqual([{
      LaunchTemplateAndOverrides: {
        LaunchTemplateSpecification: { LaunchTemplateId: lt, Version: '1' },
        Overrides: { InstanceType: 'm7i.large', SubnetId: subnet, AvailabilityZone: 'us-east-1a' },
      },
      Lifecycle: 'spot',
      ErrorCode: 'InsufficientInstanceCapacity',
      ErrorMessage: 'There is no Spot capacity available that matches your request.',
    }]);
    // Per-override errors are counted apart from request-level ones, for the sandbox report.
    expect(sim.launchErrorCodes()).toEqual({ InsufficientInstanceCapacity: 1 });
    expect(sim.apiCalls().errorsByCode).toEqual({});
  });

  test('partial fulfilment: what capacity allows launches and the shortfall is reported beside it', async () => {
    // Arrange: one spot m7i.large in us-east-1a, nothing else.
    const { ec2, lt, sim } = await setUp({
      capacity: { rules: [{ market: 'spot', available: 0 }, { market: 'spot', instanceType: 'm7i.large', availabilityZone: 'us-east-1a', available: 1 }] },
    });

    // Act
    const result = await createFleet(ec2, fleetInput(lt, 3));

    // Assert
    expect(launchedIds(result)).toHaveLength(1);
    expect(result.Instances![0]).toMatchObject({ InstanceType: 'm7i.large', AvailabilityZone: 'us-east-1a', Lifecycle: 'spot' });
    expect(result.Errors!.length).toBeGreaterThan(0);
    expect(new Set(result.Errors!.map((e) => e.ErrorCode))).toEqual(new Set(['InsufficientInstanceCapacity']));
    expect(sim.instances()).toHaveLength(1);
  });

  test('nothing falls back from spot to on-demand within one call', async () => {
    const { ec2, lt } = await setUp({ capacity: { rules: [{ market: 'spot', available: 0 }] } });

    const result = await createFleet(ec2, fleetInput(lt, 2));

    expect(result.Instances).toEqual([]);
    expect(result.Errors!.every((e) => e.Lifecycle === 'spot')).toBe(true);
  });

  test('capacity comes back when an instance terminates', async () => {
    // Arrange
    const { ec2, lt, sim } = await setUp({
      capacity: { rules: [{ available: 0 }, { instanceType: 'm7i.large', availabilityZone: 'us-east-1a', market: 'spot', available: 1 }] },
    });
    const first = await createFleet(ec2, fleetInput(lt, 1));
    const full = await createFleet(ec2, fleetInput(lt, 1));
    expect(full.Instances).toEqual([]);

    // Act
    sim.interrupt(launchedIds(first)[0]);
    await new Promise<void>((resolve) => sim.onInstanceStateChange((c) => {
      if (c.state === 'terminated') resolve();
    }));

    // Assert
    const again = await createFleet(ec2, fleetInput(lt, 1));
    expect(launchedIds(again)).toHaveLength(1);
  });

  test('a parameter the simulator does not model is refused as Unsupported, not ignored, and launches nothing', async () => {
    const { ec2, lt, sim } = await setUp();

    const error = await createFleet(ec2, fleetInput(lt, 2, {
      SpotOptions: { AllocationStrategy: 'price-capacity-optimized', SingleAvailabilityZone: true, MinTargetCapacity: 2 },
    })).then(() => undefined, (e: Error & { $metadata: { httpStatusCode?: number } }) => e);

    expect(error!.name).toBe('Unsupported');
    expect(error!.message).toMatch(/does not model the CreateFleet parameter SpotOptions\.(SingleAvailabilityZone|MinTargetCapacity)/);
    expect(error!.$metadata.httpStatusCode).toBe(400);
    expect(sim.instances()).toEqual([]);
  });

  test('InstanceRequirements that no type meets are UnfulfillableCapacity', async () => {
    const { ec2, lt } = await setUp();

    const result = await createFleet(ec2, fleetInput(lt, 1, {
      LaunchTemplateConfigs: [{
        LaunchTemplateSpecification: { LaunchTemplateId: lt, Version: '1' },
        Overrides: [{ InstanceRequirements: { VCpuCount: { Min: 64, Max: 64 }, MemoryMiB: { Min: 1024, Max: 2048 } } }],
      }],
    }));

    expect(result.Instances).toEqual([]);
    expect(result.Errors).toHaveLength(1);
    expect(result.Errors![0]).toMatchObject({
      Lifecycle: 'spot',
      ErrorCode: 'UnfulfillableCapacity',
      ErrorMessage: 'Unable to fulfill capacity due to your request configuration. Please adjust your request and try again.',
    });
  });

  test('an explicit capacity error rule fails its pool for as many attempts as it says', async () => {
    // Arrange
    const { ec2, lt } = await setUp({ faults: { capacityErrors: [{ instanceType: 'm7i.large', market: 'spot', code: 'UnfulfillableCapacity', times: 3 }] } });
    const onlyM7i = fleetInput(lt, 1, {
      LaunchTemplateConfigs: [{
        LaunchTemplateSpecification: { LaunchTemplateId: lt, Version: '1' },
        Overrides: [{ InstanceType: 'm7i.large' }],
      }],
    });

    // Act: three subnets, so the first call uses the rule up.
    const failed = await createFleet(ec2, onlyM7i);
    const succeeded = await createFleet(ec2, onlyM7i);

    // Assert
    expect(failed.Instances).toEqual([]);
    expect(failed.Errors!.map((e) => e.ErrorCode)).toEqual(['UnfulfillableCapacity', 'UnfulfillableCapacity', 'UnfulfillableCapacity']);
    expect(launchedIds(succeeded)).toHaveLength(1);
  });

  test('random capacity errors are reproducible for a seed', async () => {
    const run = async () => {
      const { ec2, lt } = await setUp({ seed: 99, faults: { capacityErrorRate: 0.4 } });
      const outcomes: string[] = [];
      for (let n = 0; n < 8; n++) {
        const r = await createFleet(ec2, fleetInput(lt, 2));
        outcomes.push(`${r.Instances!.map((i) => `${i.InstanceType}@${i.AvailabilityZone}x${i.InstanceIds!.length}`).join(',')}` +
          `|${r.Errors!.map((e) => `${e.ErrorCode}@${e.LaunchTemplateAndOverrides!.Overrides!.InstanceType}`).join(',')}`);
      }
      return outcomes;
    };

    const first = await run();
    const second = await run();

    expect(second).toEqual(first);
    expect(first.some((o) => o.includes('|') && o.split('|')[1] !== '')).toBe(true);
  });

  describe('throttling', () => {
    test('RequestLimitExceeded is a 503 EC2 error the SDK names, and a throttled call launches nothing', async () => {
      // Arrange
      const { ec2, lt, sim } = await setUp();
      sim.faults.throttleNext(1, 'CreateFleet');
      const input = fleetInput(lt, 1, { ClientToken: 'throttled-once' });

      // Act
      let err: (Error & { $metadata: { httpStatusCode?: number } }) | undefined;
      try {
        await createFleet(ec2, input);
      } catch (e) {
        err = e as typeof err;
      }

      // Assert
      expect(err!.name).toBe('RequestLimitExceeded');
      expect(err!.message).toMatch(/^Request limit exceeded\. Account 123456789012 has been throttled on ec2:CreateFleet/);
      expect(err!.$metadata.httpStatusCode).toBe(503);
      expect(sim.instances()).toEqual([]);
      // The throttled call did not consume the token: the retry launches.
      const retried = await createFleet(ec2, input);
      expect(launchedIds(retried)).toHaveLength(1);
      expect(sim.apiCalls()).toMatchObject({ total: 2, byAction: { CreateFleet: 2 }, throttled: 1, errorsByCode: { RequestLimitExceeded: 1 } });
    });

    test('the SDK\'s own retry recovers from RequestLimitExceeded with one launch', async () => {
      // Arrange: the SDK's standard retry strategy, which backs off on throttling codes.
      const { ec2, lt, sim } = await setUp({}, 3);
      sim.faults.throttleNext(1, 'CreateFleet');

      // Act
      const result = await createFleet(ec2, fleetInput(lt, 1));

      // Assert
      expect(result.$metadata.attempts).toBe(2);
      expect(launchedIds(result)).toHaveLength(1);
      expect(sim.instances()).toHaveLength(1);
      expect(sim.apiCalls()).toMatchObject({ total: 2, byAction: { CreateFleet: 2 }, throttled: 1 });
    });

    test('a throttle rate refuses about that share of calls, counted by action', async () => {
      const { ec2, sim } = await setUp({ seed: 5, faults: { throttleRate: 0.5 } });

      let refused = 0;
      for (let n = 0; n < 40; n++) {
        await ec2.send(new DescribeInstancesCommand({})).catch((e: Error) => {
          expect(e.name).toBe('RequestLimitExceeded');
          refused += 1;
        });
      }

      expect(refused).toBeGreaterThan(8);
      expect(refused).toBeLessThan(32);
      expect(sim.apiCalls()).toMatchObject({ total: 40, byAction: { DescribeInstances: 40 }, throttled: refused });
    });
  });
});
