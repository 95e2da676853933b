import { DescribeInstancesCommand, EC2Client, FleetLaunchTemplateOverridesRequest, FleetLaunchTemplateSpecificationRequest, Instance } from '@aws-sdk/client-ec2';
import { createFleet, ec2Client, fleetInput, RUNNER_TEMPLATE, startSimulator } from './helpers';
import { describeInstanceType, Ec2Simulator } from '../../../sandbox/ec2';

/** Runs `fn` and returns what it threw, so a test can assert on the SDK exception. */
async function failure(fn: () => Promise<unknown>): Promise<Error & { $metadata: { httpStatusCode?: number } }> {
  try {
    await fn();
  } catch (err) {
    return err as Error & { $metadata: { httpStatusCode?: number } };
  }
  throw new Error('expected the call to fail');
}

describe('CreateFleet (instant)', () => {
  let sim: Ec2Simulator;
  let ec2: EC2Client;
  let templateId: string;

  beforeAll(async () => {
    sim = await startSimulator({ seed: 3 });
    ec2 = ec2Client(sim);
    templateId = sim.registerLaunchTemplate(RUNNER_TEMPLATE).launchTemplateId;
  });

  afterAll(async () => {
    ec2.destroy();
    await sim.stop();
  });

  async function describe1(id: string): Promise<Instance> {
    const out = await ec2.send(new DescribeInstancesCommand({}));
    return out.Reservations!.flatMap((r) => r.Instances!).find((i) => i.InstanceId === id)!;
  }

  test('tags instances from the template, the request and with EC2\'s own aws: tags', async () => {
    // Act
    const result = await createFleet(ec2, fleetInput(templateId, 1, {
      TagSpecifications: [
        { ResourceType: 'instance', Tags: [{ Key: 'Pool', Value: 'octo/linux-x64' }] },
        { ResourceType: 'fleet', Tags: [{ Key: 'Generation', Value: '7' }] },
      ],
    }));

    // Assert
    expect(result.FleetId).toMatch(/^fleet-[0-9a-f-]{36}$/);
    expect(result.Errors).toEqual([]);
    const id = result.Instances![0].InstanceIds![0];
    expect(id).toMatch(/^i-[0-9a-f]{17}$/);
    const instance = await describe1(id);
    const tags = Object.fromEntries(instance.Tags!.map((t) => [t.Key, t.Value]));
    expect(tags).toEqual({
      'Project': 'ephemeral-runners',
      'Pool': 'octo/linux-x64',
      'aws:ec2:fleet-id': result.FleetId,
      'aws:ec2launchtemplate:id': templateId,
      'aws:ec2launchtemplate:version': '1',
    });
    expect(instance.InstanceLifecycle).toBe('spot');
    expect(instance.ImageId).toBe(RUNNER_TEMPLATE.imageId);
  });

  test('splits the target between on-demand and spot: total 5, on-demand 2, default spot', async () => {
    const result = await createFleet(ec2, fleetInput(templateId, 5, {
      TargetCapacitySpecification: { TotalTargetCapacity: 5, OnDemandTargetCapacity: 2, DefaultTargetCapacityType: 'spot' },
    }));

    const count = (lifecycle: string) => result.Instances!
      .filter((i) => i.Lifecycle === lifecycle).reduce((n, i) => n + i.InstanceIds!.length, 0);
    expect(count('on-demand')).toBe(2);
    expect(count('spot')).toBe(3);
    const onDemandId = result.Instances!.find((i) => i.Lifecycle === 'on-demand')!.InstanceIds![0];
    // instanceLifecycle has no on-demand value: on-demand instances omit it.
    expect((await describe1(onDemandId)).InstanceLifecycle).toBeUndefined();
  });

  test('InstanceRequirements launch a catalog type within the vCPU and memory ranges of the CPU maker asked for', async () => {
    const result = await createFleet(ec2, fleetInput(templateId, 2, {
      LaunchTemplateConfigs: [{
        LaunchTemplateSpecification: { LaunchTemplateId: templateId, Version: '$Default' },
        Overrides: [{ InstanceRequirements: { VCpuCount: { Min: 4, Max: 4 }, MemoryMiB: { Min: 16384 }, CpuManufacturers: ['amazon-web-services'] } }],
      }],
    }));

    expect(result.Errors).toEqual([]);
    for (const item of result.Instances!) {
      expect(describeInstanceType(item.InstanceType!)).toMatchObject({ vcpus: 4, architecture: 'arm64' });
      expect(describeInstanceType(item.InstanceType!)!.memoryMiB).toBeGreaterThanOrEqual(16384);
    }
  });

  test('on-demand prioritized takes the override with the lowest Priority number first', async () => {
    const result = await createFleet(ec2, fleetInput(templateId, 1, {
      LaunchTemplateConfigs: [{
        LaunchTemplateSpecification: { LaunchTemplateId: templateId, Version: '1' },
        Overrides: [{ InstanceType: 'm6i.large', Priority: 2 }, { InstanceType: 'm7i.large', Priority: 0 }],
      }],
      TargetCapacitySpecification: { TotalTargetCapacity: 1, DefaultTargetCapacityType: 'on-demand' },
      OnDemandOptions: { AllocationStrategy: 'prioritized' },
    }));

    expect(result.Instances![0]).toMatchObject({ Lifecycle: 'on-demand', InstanceType: 'm7i.large' });
  });

  test('on-demand lowest-price takes the cheapest type regardless of priority', async () => {
    const result = await createFleet(ec2, fleetInput(templateId, 1, {
      LaunchTemplateConfigs: [{
        LaunchTemplateSpecification: { LaunchTemplateId: templateId, Version: '1' },
        Overrides: [{ InstanceType: 'm7i.large', Priority: 0 }, { InstanceType: 'c6i.large', Priority: 5 }],
      }],
      TargetCapacitySpecification: { TotalTargetCapacity: 1, DefaultTargetCapacityType: 'on-demand' },
    }));

    expect(result.Instances![0].InstanceType).toBe('c6i.large');
  });

  test('an override\'s subnet decides the availability zone', async () => {
    const subnet = sim.subnets[1];

    const result = await createFleet(ec2, fleetInput(templateId, 1, {
      LaunchTemplateConfigs: [{
        LaunchTemplateSpecification: { LaunchTemplateId: templateId, Version: '$Latest' },
        Overrides: [{ InstanceType: 'm7i.large', SubnetId: subnet.subnetId }],
      }],
    }));

    const item = result.Instances![0];
    expect(item).toMatchObject({ SubnetId: subnet.subnetId, AvailabilityZone: subnet.availabilityZone });
    expect(item.LaunchTemplateAndOverrides!.LaunchTemplateSpecification).toEqual({ LaunchTemplateId: templateId, Version: '1' });
    expect((await describe1(item.InstanceIds![0])).Placement!.AvailabilityZone).toBe(subnet.availabilityZone);
  });

  describe('ClientToken idempotency', () => {
    test('a retry with the same token and parameters returns the same fleet and instances and launches nothing', async () => {
      // Arrange
      const input = fleetInput(templateId, 2, { ClientToken: 'pool-octo-linux-gen-1' });
      const first = await createFleet(ec2, input);
      const instancesBefore = sim.instances().length;
      const callsBefore = sim.apiCalls().byAction.CreateFleet;

      // Act
      const second = await createFleet(ec2, input);

      // Assert
      expect(second.FleetId).toBe(first.FleetId);
      expect(second.Instances).toEqual(first.Instances);
      expect(second.Errors).toEqual(first.Errors);
      expect(sim.instances()).toHaveLength(instancesBefore);
      expect(sim.apiCalls().byAction.CreateFleet).toBe(callsBefore + 1);
    });

    test('the same token with different parameters is IdempotentParameterMismatch (HTTP 400)', async () => {
      await createFleet(ec2, fleetInput(templateId, 1, { ClientToken: 'pool-octo-linux-gen-2' }));
      const launched = sim.instances().length;

      const err = await failure(() => createFleet(ec2, fleetInput(templateId, 2, { ClientToken: 'pool-octo-linux-gen-2' })));

      expect(err.name).toBe('IdempotentParameterMismatch');
      expect(err.message).toBe('Arguments on this idempotent request are inconsistent with arguments used in previous request(s).');
      expect(err.$metadata.httpStatusCode).toBe(400);
      expect(sim.instances()).toHaveLength(launched);
    });

    test('a token is consumed even when nothing launched: switching to on-demand with it is a mismatch', async () => {
      // Arrange: no spot capacity anywhere (runs-on #251).
      const local = await startSimulator({ capacity: { rules: [{ market: 'spot', available: 0 }] } });
      const client = ec2Client(local);
      const lt = local.registerLaunchTemplate(RUNNER_TEMPLATE).launchTemplateId;
      const first = await createFleet(client, fleetInput(lt, 1, { ClientToken: 'gen-9' }));
      expect(first.Instances).toEqual([]);
      expect(first.FleetId).toBeDefined();

      // Act
      const err = await failure(() => createFleet(client, fleetInput(lt, 1, {
        ClientToken: 'gen-9',
        TargetCapacitySpecification: { TotalTargetCapacity: 1, DefaultTargetCapacityType: 'on-demand' },
      })));

      // Assert
      expect(err.name).toBe('IdempotentParameterMismatch');
      expect(local.instances()).toEqual([]);
      client.destroy();
      await local.stop();
    });
  });

  describe('request-level errors', () => {
    test.each([
      ['maintain', /Type=instant only; got Type=maintain/],
      [undefined, /Type=maintain \(the default\)/],
    ])('Type %s is refused as Unsupported', async (type, message) => {
      const err = await failure(() => createFleet(ec2, { ...fleetInput(templateId, 1), Type: type as 'maintain' | undefined }));

      expect(err.name).toBe('Unsupported');
      expect(err.message).toMatch(message);
      expect(err.$metadata.httpStatusCode).toBe(400);
    });

    test.each([
      [{ LaunchTemplateId: 'lt-0aaaaaaaaaaaaaaaa', Version: '1' }, 'InvalidLaunchTemplateId.NotFound',
        'The specified launch template, with template ID lt-0aaaaaaaaaaaaaaaa, does not exist.'],
      [{ LaunchTemplateId: 'template-1', Version: '1' }, 'InvalidLaunchTemplateId.Malformed', /malformed/],
      [{ LaunchTemplateId: 'RUNNERS', Version: '9' }, 'InvalidLaunchTemplateId.VersionNotFound', /version 9/],
      [{ LaunchTemplateId: 'RUNNERS' }, 'MissingParameter', /Version/],
      [{ LaunchTemplateName: 'runners', Version: '1' }, 'Unsupported', /LaunchTemplateName/],
    ] as [FleetLaunchTemplateSpecificationRequest, string, string | RegExp][])('launch template %j → %s', async (spec, code, message) => {
      const launched = sim.instances().length;
      const id = spec.LaunchTemplateId === 'RUNNERS' ? templateId : spec.LaunchTemplateId;

      const err = await failure(() => createFleet(ec2, fleetInput(templateId, 1, {
        LaunchTemplateConfigs: [{ LaunchTemplateSpecification: { ...spec, LaunchTemplateId: id }, Overrides: [{ InstanceType: 'm7i.large' }] }],
      })));

      expect(err.name).toBe(code);
      expect(err.message).toMatch(message);
      expect(sim.instances()).toHaveLength(launched);
    });

    test.each([
      ['an unknown subnet', { InstanceType: 'm7i.large', SubnetId: 'subnet-0123456789abcdef0' }, 'InvalidSubnetID.NotFound'],
      ['a malformed image id', { InstanceType: 'm7i.large', ImageId: 'my-image' }, 'InvalidAMIID.Malformed'],
    ] as [string, FleetLaunchTemplateOverridesRequest, string][])('an override with %s is refused', async (_, override, code) => {
      const err = await failure(() => createFleet(ec2, fleetInput(templateId, 1, {
        LaunchTemplateConfigs: [{ LaunchTemplateSpecification: { LaunchTemplateId: templateId, Version: '1' }, Overrides: [override] }],
      })));

      expect(err.name).toBe(code);
    });

    test('more than four InstanceRequirements overrides is InvalidParameterValue', async () => {
      const req = { VCpuCount: { Min: 2 }, MemoryMiB: { Min: 1024 } };

      const err = await failure(() => createFleet(ec2, fleetInput(templateId, 1, {
        LaunchTemplateConfigs: [{
          LaunchTemplateSpecification: { LaunchTemplateId: templateId, Version: '1' },
          Overrides: [1, 2, 3, 4, 5].map(() => ({ InstanceRequirements: req })),
        }],
      })));

      expect(err.name).toBe('InvalidParameterValue');
      expect(err.message).toBe('Your request contains more than the maximum allowed number of InstanceRequirements (4)');
    });

    test('on-demand plus spot capacity above the total is InvalidParameterValue', async () => {
      const err = await failure(() => createFleet(ec2, fleetInput(templateId, 1, {
        TargetCapacitySpecification: { TotalTargetCapacity: 2, OnDemandTargetCapacity: 2, SpotTargetCapacity: 1 },
      })));

      expect(err.name).toBe('InvalidParameterValue');
    });
  });
});
