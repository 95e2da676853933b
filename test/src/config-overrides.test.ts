// Per-config overrides: a config with its own AMI, root volume, security group, subnets, role policy
// and metadata tags gets them in its launch template, its role, the provisioner's launch grants and
// the register endpoint's; configs without overrides keep the deployment's. Bad values fail synth,
// naming the config and the fix.
import { App, Size, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import {
  EphemeralRunners, RunnerArchitecture, RunnerConfig, RunnerMachineImage, RunnerVolumeType,
} from '../../src';
import { VALIDATION_PLUGINS, validationFindings } from '../examples/validation';

const GPU_AMI = 'ami-0123456789abcdef0';
const TEAM_IMAGE = '/team/runner-images/x64';

type Json = Record<string, any>;

/** A VPC with public runner subnets and isolated database subnets; a database security group; the configs `configsOf` gives. */
function build(configsOf: (stack: Stack, vpc: ec2.Vpc) => RunnerConfig[], app = new App()) {
  const stack = new Stack(app, 'Overrides');
  const vpc = new ec2.Vpc(stack, 'Vpc', {
    maxAzs: 2,
    natGateways: 0,
    subnetConfiguration: [
      { name: 'runners', subnetType: ec2.SubnetType.PUBLIC, mapPublicIpOnLaunch: true },
      { name: 'database', subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
    ],
  });
  vpc.addFlowLog('FlowLog');
  new EphemeralRunners(stack, 'Runners', {
    github: { url: 'https://ghes.example.com', appId: '12' },
    vpc,
    subnets: { subnetGroupName: 'runners' },
    runnerConfigs: configsOf(stack, vpc),
  });
  return { app, stack };
}

function overridden(stack: Stack, vpc: ec2.Vpc): RunnerConfig[] {
  const database = new ec2.SecurityGroup(stack, 'DatabaseClients', { vpc, description: 'Clients of the build database' });
  const readArtifacts = new iam.ManagedPolicy(stack, 'ReadArtifacts', {
    statements: [new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['arn:aws:s3:::team-artifacts/releases/latest.tar.gz'] })],
  });
  return [
    { name: 'linux-x64', labels: ['linux', 'x64'] },
    {
      name: 'gpu',
      labels: ['linux', 'gpu'],
      instanceTypes: ['g5.xlarge'],
      machineImage: RunnerMachineImage.fromAmiIds(GPU_AMI),
      rootVolume: { size: Size.gibibytes(200), volumeType: RunnerVolumeType.IO2, iops: 20_000 },
      securityGroups: [database],
      subnets: { subnetGroupName: 'database' },
      managedPolicies: [readArtifacts],
      rolePolicyStatements: [new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: ['arn:aws:s3:::team-artifacts/gpu-results/report.json'] })],
      instanceMetadataTags: true,
    },
    {
      name: 'fast-disk',
      labels: ['linux', 'fast-disk'],
      machineImage: RunnerMachineImage.fromSsmParameters(TEAM_IMAGE),
      rootVolume: { volumeType: RunnerVolumeType.GP3, iops: 6_000, throughput: 500 },
    },
  ];
}

describe('a config with its own AMI, volume, security group, subnets, role policy and metadata tags', () => {
  const { stack } = build(overridden);
  const template = Template.fromStack(stack);
  const resources = template.toJSON().Resources as Record<string, Json>;
  const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
  const templateOf = (config: string) => ofType('AWS::EC2::LaunchTemplate').find(([id]) => id.startsWith(`RunnersFleetLaunchTemplate${config.replace(/-/g, '')}`))![1];
  const roleOfTemplate = (config: string) => {
    const profileId = templateOf(config).Properties.LaunchTemplateData.IamInstanceProfile.Arn['Fn::GetAtt'][0];
    return resources[profileId].Properties.Roles[0].Ref as string;
  };
  const sharedRole = ofType('AWS::IAM::Role').find(([id]) => /^RunnersFleetRole[0-9A-F]{8}$/.test(id))![0];
  const gpuRole = roleOfTemplate('gpu');
  const statementsOf = (role: string) => ofType('AWS::IAM::Policy').filter(([, p]) => p.Properties.Roles.some((r: Json) => r.Ref === role))
    .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Json[]);
  const environmentOf = (service: string) => ofType('AWS::Lambda::Function').map(([, f]) => f.Properties.Environment?.Variables ?? {})
    .find((v: Json) => v.POWERTOOLS_SERVICE_NAME === service) as Json;

  test('its launch template: its own volume (encrypted, deleted with the instance), the shared and its own security group, metadata tags on', () => {
    const data = templateOf('gpu').Properties.LaunchTemplateData;
    expect(data.BlockDeviceMappings).toEqual([{
      DeviceName: '/dev/sda1',
      Ebs: { DeleteOnTermination: true, Encrypted: true, Iops: 20000, VolumeSize: 200, VolumeType: 'io2' },
    }]);
    const groups = data.SecurityGroupIds.map((g: Json) => g['Fn::GetAtt'][0]);
    expect(groups).toEqual([expect.stringMatching(/^RunnersFleetSecurityGroup/), expect.stringMatching(/^DatabaseClients/)]);
    expect(data.MetadataOptions).toEqual({ HttpPutResponseHopLimit: 1, HttpTokens: 'required', InstanceMetadataTags: 'enabled' });
    expect(data.ImageId).toBeUndefined();
  });

  test('a gp3 volume of its own takes the deployment\'s size with its IOPS and throughput', () => {
    expect(templateOf('fast-disk').Properties.LaunchTemplateData.BlockDeviceMappings[0].Ebs)
      .toEqual({ DeleteOnTermination: true, Encrypted: true, Iops: 6000, Throughput: 500, VolumeSize: 30, VolumeType: 'gp3' });
  });

  test('a config without overrides keeps the shared role, group, gp3 volume and metadata tags off', () => {
    const data = templateOf('linux-x64').Properties.LaunchTemplateData;
    expect(roleOfTemplate('linux-x64')).toBe(sharedRole);
    expect(roleOfTemplate('fast-disk')).toBe(sharedRole);
    expect(data.SecurityGroupIds).toHaveLength(1);
    expect(data.MetadataOptions.InstanceMetadataTags).toBe('disabled');
    expect(data.BlockDeviceMappings[0].Ebs).toEqual({ DeleteOnTermination: true, Encrypted: true, VolumeSize: 30, VolumeType: 'gp3' });
  });

  test('its instances run with a role of their own: the shared role\'s log permissions, its managed policy and statements; the shared role gets neither', () => {
    expect(gpuRole).not.toBe(sharedRole);
    expect(resources[gpuRole].Properties.ManagedPolicyArns).toEqual([{ Ref: expect.stringMatching(/^ReadArtifacts/) }]);
    const actions = (role: string) => statementsOf(role).flatMap((s) => [s.Action].flat());
    expect(actions(gpuRole)).toEqual(expect.arrayContaining(['logs:CreateLogStream', 'logs:PutLogEvents', 's3:PutObject']));
    expect(actions(sharedRole)).toEqual(expect.arrayContaining(['logs:CreateLogStream', 'logs:PutLogEvents']));
    expect(actions(sharedRole)).not.toContain('s3:PutObject');
    expect(resources[sharedRole].Properties.ManagedPolicyArns).toBeUndefined();
  });

  test('the register endpoint lets both roles invoke it, and tells the function which config runs with which role', () => {
    for (const role of [sharedRole, gpuRole]) {
      expect(statementsOf(role)).toEqual(expect.arrayContaining([expect.objectContaining({ Action: 'lambda:InvokeFunctionUrl' })]));
    }
    const env = environmentOf('register');
    expect(env.RUNNER_ROLE_NAME).toEqual({ Ref: sharedRole });
    expect(JSON.stringify(env.CONFIG_ROLE_NAMES)).toContain(`{"Ref":"${gpuRole}"}`);
    expect(JSON.stringify(env.CONFIG_ROLE_NAMES)).toContain('{\\"gpu\\":\\"');
  });

  test('the config documents name each config\'s own image; the provisioner may read the team\'s image parameter', () => {
    const documents = ofType('AWS::SSM::Parameter').map(([, p]) => p.Properties.Value).filter((v) => typeof v === 'string' && v.startsWith('{"version"'))
      .map((v) => JSON.parse(v));
    const byName = Object.fromEntries(documents.map((d) => [d.name, d]));
    expect(byName.gpu.image).toEqual({ amiId: GPU_AMI });
    expect(byName['fast-disk'].image).toEqual({ parameterName: TEAM_IMAGE });
    expect(byName['linux-x64'].image.parameterName).toMatch(/\/image\/x64$/);
    const readable = ofType('AWS::IAM::Policy').filter(([id]) => id.startsWith('RunnersProvisionerHandlerRole'))
      .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Json[])
      .filter((s) => s.Action === 'ssm:GetParameter').flatMap((s) => [s.Resource].flat());
    expect(JSON.stringify(readable)).toContain(`:parameter${TEAM_IMAGE}`);
  });

  test('the provisioner launches the config into its subnets, may attach its security group and pass its role', () => {
    const env = environmentOf('provisioner');
    const isolated = ofType('AWS::EC2::Subnet').filter(([id]) => id.startsWith('Vpcdatabase')).map(([id]) => id);
    expect(isolated).toHaveLength(2);
    const subnets = JSON.stringify(env.CONFIG_SUBNET_IDS);
    for (const id of isolated) expect(subnets).toContain(`{"Ref":"${id}"}`);
    expect(subnets).not.toContain('Vpcrunners');
    const launch = ofType('AWS::IAM::ManagedPolicy').filter(([id]) => id.startsWith('RunnersProvisionerHandlerRoleLaunchPolicy'))
      .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Json[]);
    const passRole = launch.find((s) => s.Action === 'iam:PassRole')!;
    expect(passRole.Resource.map((r: Json) => r['Fn::GetAtt'][0]).sort()).toEqual([gpuRole, sharedRole].sort());
    const groups = JSON.stringify(launch.find((s) => JSON.stringify(s.Condition ?? {}).includes('ec2:IsLaunchTemplateResource'))!.Resource);
    expect(groups).toMatch(/RunnersFleetSecurityGroup/);
    expect(groups).toMatch(/DatabaseClients/);
    const runInstances = JSON.stringify(launch.filter((s) => s.Action === 'ec2:RunInstances'));
    for (const id of isolated) expect(runInstances).toContain(`{"Ref":"${id}"}`);
  });

  test('the register endpoint is a Function URL, and a config runs in isolated subnets: synth warns that its runners cannot reach it', () => {
    const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('Runners go to isolated subnets'));
    expect(warnings).toHaveLength(1);
    const { stack: withoutOwnSubnets } = build((s, vpc) => overridden(s, vpc).map(({ subnets: _subnets, ...config }) => config));
    expect(Annotations.fromStack(withoutOwnSubnets).findWarning('*', Match.stringLikeRegexp('Runners go to isolated subnets'))).toEqual([]);
  });

  test('the construct\'s own pipeline builds for the configs without an image of their own only', () => {
    template.resourceCountIs('AWS::ImageBuilder::ImagePipeline', 1);
  });

  const findings = validationFindings(build(overridden).app);
  test.each(VALIDATION_PLUGINS)('%s finds nothing that is not acknowledged in code with a reason', (plugin) => {
    expect(findings[plugin]).toEqual([]);
  });
});

describe('a config with a warm pool and a role of its own', () => {
  test('its warm pool launch template boots with its own role, volume and groups too', () => {
    const { stack } = build((st, vpc) => [{
      name: 'warm',
      labels: ['linux', 'warm'],
      warmPool: { size: 1 },
      rootVolume: { volumeType: RunnerVolumeType.GP3, iops: 4_000 },
      securityGroups: [new ec2.SecurityGroup(st, 'Extra', { vpc })],
      rolePolicyStatements: [new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['arn:aws:s3:::warm-cache/cache.tar'] })],
    }]);
    const resources = Template.fromStack(stack).toJSON().Resources as Record<string, Json>;
    const templates = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::EC2::LaunchTemplate');
    expect(templates.map(([id]) => id.replace(/[0-9A-F]{8}$/, '')).sort()).toEqual(['RunnersFleetLaunchTemplatewarm', 'RunnersFleetWarmLaunchTemplatewarm']);
    const roles = templates.map(([, t]) => resources[t.Properties.LaunchTemplateData.IamInstanceProfile.Arn['Fn::GetAtt'][0]].Properties.Roles[0].Ref);
    expect(roles[0]).toMatch(/^RunnersFleetRolewarm/);
    expect(roles[1]).toBe(roles[0]);
    for (const [, t] of templates) {
      expect(t.Properties.LaunchTemplateData.BlockDeviceMappings[0].Ebs).toMatchObject({ Iops: 4000, VolumeType: 'gp3' });
      expect(t.Properties.LaunchTemplateData.SecurityGroupIds).toHaveLength(2);
    }
  });
});

describe('when every config names an image of its own', () => {
  test('the construct builds no image pipeline', () => {
    const { stack } = build(() => [
      { name: 'linux-x64', labels: ['linux', 'x64'], machineImage: RunnerMachineImage.fromAmiIds(GPU_AMI) },
      { name: 'linux-arm64', labels: ['linux', 'arm64'], architecture: RunnerArchitecture.ARM64, machineImage: RunnerMachineImage.fromAmiIds(undefined, 'ami-0fedcba9876543210') },
    ]);
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::ImageBuilder::ImagePipeline', 0);
    template.resourceCountIs('AWS::EC2::LaunchTemplate', 2);
  });
});

describe('bad overrides fail synth, naming the config and the fix', () => {
  function synthErrors(configsOf: (stack: Stack, vpc: ec2.Vpc) => RunnerConfig[]): string {
    try {
      build(configsOf).app.synth();
    } catch (e) {
      return (e as Error).message;
    }
    throw new Error('expected synth to fail');
  }
  const config = (name: string, rest: Partial<RunnerConfig>): RunnerConfig => ({ name, labels: ['linux', name], ...rest });

  test.each([
    ['gp3 IOPS above the range', { volumeType: RunnerVolumeType.GP3, iops: 90_000, size: Size.gibibytes(500) }, /rootVolume\.iops is 90000; a gp3 volume takes 3000-80000 IOPS/],
    ['gp3 IOPS above 500 per GiB', { iops: 20_000 }, /rootVolume\.iops is 20000 for 30 GiB; a gp3 volume takes at most 500 IOPS per GiB: give at least 40 GiB, or at most 15000 IOPS/],
    ['gp3 throughput above the range', { iops: 16_000, throughput: 2_500, size: Size.gibibytes(100) }, /rootVolume\.throughput is 2500 MiB\/s; a gp3 volume takes 125-2000 MiB\/s/],
    ['gp3 throughput above 0.25 MiB/s per IOPS', { throughput: 1_000 }, /throughput is 1000 MiB\/s with 3000 IOPS; a gp3 volume takes at most 0\.25 MiB\/s per IOPS: give iops of at least 4000, or at most 750 MiB\/s/],
    ['io2 without IOPS', { volumeType: RunnerVolumeType.IO2 }, /rootVolume is io2 without iops; EC2 requires provisioned IOPS for io2: give iops \(100-256000\)/],
    ['io1 IOPS above 50 per GiB', { volumeType: RunnerVolumeType.IO1, iops: 5_000, size: Size.gibibytes(50) }, /a io1 volume takes at most 50 IOPS per GiB: give at least 100 GiB, or at most 2500 IOPS/],
    ['io2 IOPS above 1,000 per GiB', { volumeType: RunnerVolumeType.IO2, iops: 64_000, size: Size.gibibytes(32) }, /a io2 volume takes at most 1000 IOPS per GiB/],
    ['gp2 with IOPS', { volumeType: RunnerVolumeType.GP2, iops: 3_000 }, /rootVolume\.iops is 3000, but a gp2 volume's IOPS follow its size; leave iops out, or use RunnerVolumeType\.GP3/],
    ['throughput on io2', { volumeType: RunnerVolumeType.IO2, iops: 3_000, throughput: 250 }, /only gp3 volumes take a provisioned throughput/],
    ['io1 smaller than 4 GiB', { volumeType: RunnerVolumeType.IO1, iops: 100, size: Size.gibibytes(2) }, /rootVolume\.size is 2 GiB; a io1 volume holds 4-16384 GiB/],
    ['a size that is not whole GiB', { size: Size.mebibytes(1500) }, /rootVolume\.size is not a whole number of GiB/],
  ])('%s', (_what, rootVolume, why) => {
    const message = synthErrors(() => [config('disk', { rootVolume })]);
    expect(message).toMatch(/runner config 'disk' \(runnerConfigs\[0\]\): rootVolume/);
    expect(message).toMatch(why);
  });

  test('every bad override of several configs is reported in one synth', () => {
    const message = synthErrors((stack) => [
      config('no-image', { machineImage: RunnerMachineImage.fromAmiIds(undefined, 'ami-0fedcba9876543210') }),
      config('no-subnet', { subnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS } }),
      config('foreign', { subnets: { subnets: [ec2.Subnet.fromSubnetId(stack, 'Elsewhere', 'subnet-0aaaabbbbccccdddd')] } }),
      config('io2', { rootVolume: { volumeType: RunnerVolumeType.IO2 } }),
    ]);
    expect(message).toMatch(/runner config 'no-image' \(runnerConfigs\[0\]\): machineImage has no AMI id for x86_64 runner configs; give one for x86_64/);
    expect(message).toMatch(/runner config 'no-subnet': subnets selects nothing in the deployment's VPC \(.*\); select subnets of that VPC/);
    expect(message).toMatch(/runner config 'foreign': subnets \["subnet-0aaaabbbbccccdddd"\] are not subnets of the deployment's VPC/);
    expect(message).toMatch(/runner config 'io2' \(runnerConfigs\[3\]\): rootVolume is io2 without iops/);
  });
});
