import { _InstanceType, CpuManufacturer, CreateFleetCommandOutput, CreateFleetCommandInput, EC2ServiceException } from '@aws-sdk/client-ec2';
import { createFleet, ec2Client, fleetInput, RUNNER_TEMPLATE, startSimulator } from './helpers';
import { describeInstanceType, Ec2Simulator, Ec2SimulatorOptions } from '../../../sandbox/ec2';
import { matchInstanceRequirements } from '../../../sandbox/ec2/catalog';

const launchedTypes = (r: CreateFleetCommandOutput) => r.Instances!.map((i) => i.InstanceType);

describe('EC2 simulator instance types (aws-cdk-lib classes and sizes, AWS specifications)', () => {
  const started: Ec2Simulator[] = [];

  async function setUp(options: Ec2SimulatorOptions = {}) {
    const sim = await startSimulator(options);
    started.push(sim);
    const ec2 = ec2Client(sim);
    const lt = sim.registerLaunchTemplate(RUNNER_TEMPLATE).launchTemplateId;
    return { sim, ec2, lt };
  }

  // The SDK's InstanceType enum is not closed: any string goes on the wire, as it would to EC2.
  const overrides = (lt: string, ...types: string[]): Partial<CreateFleetCommandInput> => ({
    LaunchTemplateConfigs: [{
      LaunchTemplateSpecification: { LaunchTemplateId: lt, Version: '1' },
      Overrides: types.map((t) => ({ InstanceType: t as _InstanceType })),
    }],
  });

  afterAll(async () => {
    await Promise.all(started.map((s) => s.stop()));
  });

  test.each([
    ['m6a.large', 2, 8, 'x86_64'],
    ['m7i.2xlarge', 8, 32, 'x86_64'],
    ['m6g.large', 2, 8, 'arm64'],
    ['c7g.xlarge', 4, 8, 'arm64'],
    ['t3.micro', 2, 1, 'x86_64'],
    ['r7i.4xlarge', 16, 128, 'x86_64'],
    ['m7g.medium', 1, 4, 'arm64'],
  ])('%s has the vCPUs, memory and architecture AWS publishes', (name, vcpus, gib, architecture) => {
    expect(describeInstanceType(name)).toMatchObject({ name, vcpus, memoryMiB: gib * 1024, architecture });
  });

  test.each(['m7i.nano', 'm7i.medium', 'm7x.large', 't3.4xlarge', 'hpc6a.large', 'mac2.large'])('%s is no instance type', (name) => {
    expect(describeInstanceType(name)).toBeUndefined();
  });

  test('any real type launches: the README\'s, the examples\' and a few others', async () => {
    const { ec2, lt } = await setUp();
    const types = ['m6a.large', 'm7i.2xlarge', 'm6i.2xlarge', 'm6g.large', 'c7g.xlarge', 't3.micro', 'r7i.4xlarge'];

    for (const type of types) {
      const result = await createFleet(ec2, fleetInput(lt, 1, overrides(lt, type)));

      expect(result.Errors).toEqual([]);
      expect(launchedTypes(result)).toEqual([type]);
    }
  });

  test.each(['m7x.large', 'm7i.nano', 'banana'])('a name that is no instance type (%s) is refused as a whole with InvalidParameterValue', async (name) => {
    const { sim, ec2, lt } = await setUp();

    const error = await createFleet(ec2, fleetInput(lt, 1, overrides(lt, 'm7i.large', name))).then(() => undefined, (e: EC2ServiceException) => e);

    expect(error).toBeInstanceOf(EC2ServiceException);
    expect(error!.name).toBe('InvalidParameterValue');
    expect(error!.message).toBe(`Invalid value '${name}' for InstanceType.`);
    expect(error!.$metadata.httpStatusCode).toBe(400);
    expect(sim.instances()).toEqual([]);
  });

  test('a type no zone offers answers InvalidFleetConfiguration per pool inside a 200, naming type and zone', async () => {
    const { sim, ec2, lt } = await setUp({ faults: { unofferedInstanceTypes: [{ instanceType: 'm7i.2xlarge' }] } });

    const result = await createFleet(ec2, fleetInput(lt, 1, {
      LaunchTemplateConfigs: [{
        LaunchTemplateSpecification: { LaunchTemplateId: lt, Version: '1' },
        Overrides: sim.subnets.map((s) => ({ InstanceType: 'm7i.2xlarge' as _InstanceType, SubnetId: s.subnetId })),
      }],
    }));

    expect(result.$metadata.httpStatusCode).toBe(200);
    expect(result.Instances).toEqual([]);
    expect(result.Errors).toEqual(sim.subnets.map((s) => expect.objectContaining({
      Lifecycle: 'spot',
      ErrorCode: 'InvalidFleetConfiguration',
      ErrorMessage: `Your requested instance type (m7i.2xlarge) is not supported in your requested Availability Zone (${s.availabilityZone}).`,
      LaunchTemplateAndOverrides: expect.objectContaining({
        Overrides: expect.objectContaining({ InstanceType: 'm7i.2xlarge', SubnetId: s.subnetId }),
      }),
    })));
  });

  test('a type one zone lacks launches in the others, and that zone reports InvalidFleetConfiguration', async () => {
    // Two spot c7g.xlarge per zone, so three instances need two zones.
    const { sim, ec2, lt } = await setUp({
      capacity: { rules: [{ instanceType: 'c7g.xlarge', market: 'spot', available: 2 }] },
      faults: { unofferedInstanceTypes: [{ instanceType: 'c7g.xlarge', availabilityZone: 'us-east-1a' }] },
    });
    const [lacking, ...others] = sim.subnets;

    const result = await createFleet(ec2, fleetInput(lt, 3, {
      LaunchTemplateConfigs: [{
        LaunchTemplateSpecification: { LaunchTemplateId: lt, Version: '1' },
        Overrides: sim.subnets.map((s) => ({ InstanceType: 'c7g.xlarge' as _InstanceType, SubnetId: s.subnetId })),
      }],
    }));

    expect([...new Set(result.Instances!.map((i) => i.SubnetId))].sort()).toEqual(others.map((s) => s.subnetId).sort());
    expect(result.Instances!.reduce((n, i) => n + i.InstanceIds!.length, 0)).toBe(3);
    // The lacking zone's pool, and the first zone that filled up before the second took the rest.
    expect(result.Errors!.map((e) => [e.ErrorCode, e.LaunchTemplateAndOverrides!.Overrides!.SubnetId])).toEqual([
      ['InvalidFleetConfiguration', lacking.subnetId], ['InsufficientInstanceCapacity', others[0].subnetId],
    ]);
    expect(result.Errors![0].ErrorMessage).toContain(`(${lacking.availabilityZone})`);
  });

  test('InstanceRequirements select from the whole catalog by CPU maker, never bare metal or burstable types', async () => {
    const { ec2, lt } = await setUp();
    const requirements = (vcpus: number, memoryMiB: number, CpuManufacturers: CpuManufacturer[]) => ({
      LaunchTemplateConfigs: [{
        LaunchTemplateSpecification: { LaunchTemplateId: lt, Version: '1' },
        Overrides: [{
          InstanceRequirements: { VCpuCount: { Min: vcpus, Max: vcpus }, MemoryMiB: { Min: memoryMiB, Max: memoryMiB }, CpuManufacturers },
        }],
      }],
      TargetCapacitySpecification: { TotalTargetCapacity: 1, DefaultTargetCapacityType: 'on-demand' as const },
    });

    const amd = await createFleet(ec2, fleetInput(lt, 1, requirements(2, 8192, ['amd'])));
    const intel = await createFleet(ec2, fleetInput(lt, 1, requirements(2, 8192, ['intel'])));
    const graviton = matchInstanceRequirements({ vCpuCount: { min: 64, max: 64 }, memoryMiB: { min: 0 }, cpuManufacturers: ['amazon-web-services'] });

    expect(launchedTypes(amd)).toEqual([expect.stringMatching(/^[a-z]+\d+[a-z]*a[a-z]*\.large$/)]);
    expect(launchedTypes(amd)[0]).not.toMatch(/^(g|p|inf|trn|dl|f|vt|hpc)\d/);
    // t3.large (2 vCPUs, 8 GiB) would be the cheapest Intel type, but burstable types are excluded by default.
    expect(launchedTypes(intel)).toEqual([expect.not.stringMatching(/^t\d/)]);
    expect(graviton.map((t) => t.name)).toContain('m7g.16xlarge');
    expect(graviton.filter((t) => t.name.includes('.metal'))).toEqual([]);
  });
});
