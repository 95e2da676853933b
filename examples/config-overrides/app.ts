// A consumer CDK app whose runner configs differ in more than labels: a GPU config with the team's
// own AMI and a fast disk, and an integration-test config that runs in subnets of its own (the ones
// the test database lets in), with a security group, an image and an instance role of its own.
import { App, Size, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { EphemeralRunners, RunnerImagePipeline, RunnerMachineImage, RunnerVolumeType, SpotStrategy } from 'cdk-ephemeral-runners';

/** Builds the example app; the jest tests call it too. */
export function buildApp(app = new App()): App {
  const stack = new Stack(app, 'EphemeralRunnersConfigOverrides', {
    description: 'cdk-ephemeral-runners: per-config image, volume, security group, subnets and role',
  });
  // Runners in public subnets (no NAT gateway billing by the hour): the everyday ones, and the
  // integration ones, whose address range the test database (in isolated subnets) lets in. Runners
  // need a way to GitHub and the register endpoint, which isolated subnets would not give them.
  const vpc = new ec2.Vpc(stack, 'Vpc', {
    maxAzs: 2,
    natGateways: 0,
    subnetConfiguration: [
      { name: 'runners', subnetType: ec2.SubnetType.PUBLIC, mapPublicIpOnLaunch: true },
      { name: 'integration', subnetType: ec2.SubnetType.PUBLIC, mapPublicIpOnLaunch: true },
      { name: 'database', subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
    ],
  });
  vpc.addFlowLog('FlowLog');
  const databaseClients = new ec2.SecurityGroup(stack, 'DatabaseClients', {
    vpc,
    description: 'Integration-test runners: may reach the test database',
    allowAllOutbound: false,
  });
  databaseClients.addEgressRule(ec2.Peer.ipv4(vpc.vpcCidrBlock), ec2.Port.tcp(5432), 'The test database');

  // An image of the team's own for the integration runners: the construct's recipe plus a component
  // of the team's (here a placeholder ARN), built by a pipeline of its own.
  const integrationImage = new RunnerImagePipeline(stack, 'IntegrationImage', {
    architectures: [ec2.InstanceArchitecture.X86_64],
    parameterPrefix: '/platform/runner-images/integration',
    extraComponentArns: ['arn:aws:imagebuilder:eu-central-1:123456789012:component/postgres-client/1.0.0/1'],
    vpc,
    subnet: vpc.publicSubnets[0],
  });

  new EphemeralRunners(stack, 'Runners', {
    github: { url: 'https://ghes.example.com', appId: '12' },
    vpc,
    subnets: { subnetGroupName: 'runners' },
    runnerConfigs: [
      // The everyday runner: everything shared (the construct's image, 30 GiB gp3, the shared role and group).
      { name: 'linux-x64', labels: ['linux', 'x64'] },
      {
        // GPU builds: the team's AMI with the NVIDIA driver, and a 500 GiB io2 disk for datasets.
        name: 'gpu',
        labels: ['linux', 'gpu'],
        instanceTypes: ['g5.xlarge', 'g5.2xlarge'],
        spot: SpotStrategy.ON_DEMAND_ONLY,
        maxRunners: 4,
        machineImage: RunnerMachineImage.fromAmiIds('ami-0123456789abcdef0'),
        rootVolume: { size: Size.gibibytes(500), volumeType: RunnerVolumeType.IO2, iops: 16_000 },
        // Driver trouble is easier to see from inside: the runner's own logs go to CloudWatch while
        // a job runs, and operators may open a Session Manager shell (no inbound port).
        debug: { runnerLogs: true, sessionManager: true },
      },
      {
        // Integration tests: in the integration subnets, in the database clients' group, with an image
        // of their own; only these jobs may read the fixtures, and read their instance tags.
        name: 'integration',
        labels: ['linux', 'integration'],
        machineImage: RunnerMachineImage.fromPipeline(integrationImage),
        rootVolume: { volumeType: RunnerVolumeType.GP3, iops: 6_000, throughput: 400 },
        securityGroups: [databaseClients],
        subnets: { subnetGroupName: 'integration' },
        rolePolicyStatements: [new iam.PolicyStatement({
          actions: ['s3:GetObject'],
          resources: ['arn:aws:s3:::platform-test-fixtures/integration/fixtures.tar.gz'],
        })],
        instanceMetadataTags: true,
      },
    ],
  });
  return app;
}

if (require.main === module) {
  buildApp().synth();
}
