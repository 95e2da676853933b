// CreateTags on instances and their root volumes, and the root volume in DescribeInstances, through the real SDK client.
import { CreateTagsCommand, CreateTagsCommandInput, DescribeInstancesCommand, EC2Client, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { createFleet, ec2Client, fleetInput, RUNNER_TEMPLATE, startSimulator, waitFor } from './helpers';
import { Ec2Simulator } from '../../../sandbox/ec2';

describe('CreateTags', () => {
  let sim: Ec2Simulator;
  let ec2: EC2Client;
  let templateId: string;

  beforeAll(async () => {
    sim = await startSimulator({ seed: 5 });
    ec2 = ec2Client(sim);
    templateId = sim.registerLaunchTemplate({ ...RUNNER_TEMPLATE, volumeTags: { Project: 'ephemeral-runners' } }).launchTemplateId;
  });

  afterAll(async () => {
    ec2.destroy();
    await sim.stop();
  });

  async function launchOne(): Promise<{ instanceId: string; volumeId: string }> {
    const result = await createFleet(ec2, fleetInput(templateId, 1, {
      TagSpecifications: [{ ResourceType: 'volume', Tags: [{ Key: 'launch', Value: 'l-1' }] }],
    }));
    const instanceId = result.Instances![0].InstanceIds![0];
    return { instanceId, volumeId: sim.instance(instanceId)!.rootVolume.volumeId };
  }

  const tagsOf = (id: string) => sim.instance(id)!.tags;
  const send = (input: CreateTagsCommandInput) => ec2.send(new CreateTagsCommand(input));
  const refusal = (input: CreateTagsCommandInput) => send(input).then(() => undefined, (e: Error & { $metadata: { httpStatusCode?: number } }) => ({
    name: e.name, status: e.$metadata.httpStatusCode, message: e.message,
  }));

  test('an instance is launched with a root volume carrying the template\'s and the launch\'s volume tags, listed by DescribeInstances', async () => {
    const { instanceId, volumeId } = await launchOne();

    const page = await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'instance-id', Values: [instanceId, 'i-00000000000000000'] }] }));

    const [instance] = page.Reservations!.flatMap((r) => r.Instances ?? []);
    expect(instance.InstanceId).toBe(instanceId);
    expect(instance.RootDeviceName).toBe('/dev/sda1');
    expect(instance.BlockDeviceMappings).toEqual([expect.objectContaining({
      DeviceName: '/dev/sda1', Ebs: expect.objectContaining({ VolumeId: volumeId, Status: 'attached', DeleteOnTermination: true }),
    })]);
    expect(volumeId).toMatch(/^vol-0[0-9a-f]{16}$/);
    expect(sim.instance(instanceId)!.rootVolume.tags).toEqual({ Project: 'ephemeral-runners', launch: 'l-1' });
  });

  test('tags an instance and its volume in one call: added, overwritten, and a value left out is empty', async () => {
    const { instanceId, volumeId } = await launchOne();

    await send({ Resources: [instanceId, volumeId], Tags: [{ Key: 'team', Value: 'platform' }, { Key: 'Project', Value: 'billing' }, { Key: 'empty' }] });

    expect(tagsOf(instanceId)).toMatchObject({ team: 'platform', Project: 'billing', empty: '' });
    expect(sim.instance(instanceId)!.rootVolume.tags).toEqual({ Project: 'billing', launch: 'l-1', team: 'platform', empty: '' });
    const page = await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'tag:team', Values: ['platform'] }] }));
    expect(page.Reservations!.flatMap((r) => r.Instances ?? []).map((i) => i.InstanceId)).toEqual([instanceId]);
  });

  test('unknown and malformed ids are refused by name, and nothing is tagged', async () => {
    const { instanceId } = await launchOne();
    const tags = [{ Key: 'team', Value: 'x' }];

    expect(await refusal({ Resources: [instanceId, 'i-00000000000000000'], Tags: tags })).toMatchObject({ name: 'InvalidInstanceID.NotFound', status: 400 });
    expect(await refusal({ Resources: [instanceId, 'vol-00000000000000000'], Tags: tags })).toMatchObject({ name: 'InvalidVolume.NotFound', status: 400 });
    expect(await refusal({ Resources: [instanceId, 'not an id'], Tags: tags })).toMatchObject({ name: 'InvalidID', status: 400 });
    expect(tagsOf(instanceId)).not.toHaveProperty('team');
  });

  test('keys and values beyond EC2\'s limits, and reserved keys, are InvalidParameterValue; limits count characters, not bytes', async () => {
    const { instanceId } = await launchOne();
    const one = (Key: string, Value: string) => refusal({ Resources: [instanceId], Tags: [{ Key, Value }] });

    expect(await one('k'.repeat(129), 'v')).toMatchObject({ name: 'InvalidParameterValue' });
    expect(await one('k', 'v'.repeat(257))).toMatchObject({ name: 'InvalidParameterValue' });
    expect(await one('aws:cost', 'v')).toMatchObject({ name: 'InvalidParameterValue', message: expect.stringContaining("'aws:'") });
    expect(await one('AWS:cost', 'v')).toMatchObject({ name: 'InvalidParameterValue' });
    expect(await one('k', '\u00e9'.repeat(256))).toBeUndefined();
    expect(await one('k'.repeat(128), '\u{1F680}'.repeat(256))).toBeUndefined();
    expect(await refusal({ Resources: [instanceId], Tags: [] })).toMatchObject({ name: 'MissingParameter' });
  });

  test('a 51st tag on a resource is TagLimitExceeded and changes nothing; EC2\'s own aws: tags do not count', async () => {
    const { instanceId, volumeId } = await launchOne();
    const launchTags = Object.keys(tagsOf(instanceId)).filter((k) => !k.startsWith('aws:')).length;
    const tags = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => ({ Key: `${prefix}${i}`, Value: 'v' }));

    await send({ Resources: [instanceId], Tags: tags(50 - launchTags, 'a') });
    // The volume has room; the instance has none: the whole call is refused.
    const refused = await refusal({ Resources: [volumeId, instanceId], Tags: tags(1, 'b') });

    expect(Object.keys(tagsOf(instanceId)).filter((k) => !k.startsWith('aws:'))).toHaveLength(50);
    expect(Object.keys(tagsOf(instanceId)).some((k) => k.startsWith('aws:'))).toBe(true);
    expect(refused).toMatchObject({ name: 'TagLimitExceeded', status: 400, message: expect.stringContaining(instanceId) });
    expect(sim.instance(instanceId)!.rootVolume.tags).not.toHaveProperty('b0');
  });

  test('the root volume of a terminated instance is gone with it', async () => {
    const { instanceId, volumeId } = await launchOne();
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [instanceId] }));
    await waitFor(() => sim.instance(instanceId)?.state === 'terminated');

    expect(await refusal({ Resources: [volumeId], Tags: [{ Key: 'team', Value: 'x' }] })).toMatchObject({ name: 'InvalidVolume.NotFound' });
    const page = await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'instance-id', Values: [instanceId] }] }));
    expect(page.Reservations!.flatMap((r) => r.Instances ?? [])[0].BlockDeviceMappings ?? []).toEqual([]);
  });
});
