// A consumer CDK app for a locked-down network: a GHES reachable only inside the corporate network,
// behind a private CA; runners and the control plane in subnets with no route to the internet. The
// runner image is built in a stack of its own, in a subnet that does reach the internet.
import * as fs from 'fs';
import * as path from 'path';
import { App, ArnFormat, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { EndpointAccess, EphemeralRunners, RunnerImagePipeline, RunnerMachineImage, SpotStrategy } from 'cdk-ephemeral-runners';

/** Builds the example app; the jest tests call it too. */
export function buildApp(app = new App()): App {
  // The corporate root CA: the functions and the runner image both trust it.
  const corporateCa = fs.readFileSync(path.join(__dirname, 'corporate-root-ca.pem'), 'utf8');

  // The image build needs Ubuntu's and Docker's package repositories and github.com: a public
  // subnet of a VPC of its own, nothing running between weekly builds.
  const build = new Stack(app, 'EphemeralRunnersImageBuild', {
    description: 'cdk-ephemeral-runners: runner image builds, outside the locked-down network',
  });
  const buildVpc = new ec2.Vpc(build, 'Vpc', {
    maxAzs: 1,
    natGateways: 0,
    subnetConfiguration: [{ name: 'build', subnetType: ec2.SubnetType.PUBLIC, mapPublicIpOnLaunch: true }],
  });
  buildVpc.addFlowLog('FlowLog');
  new RunnerImagePipeline(build, 'RunnerImage', {
    architectures: [ec2.InstanceArchitecture.X86_64],
    // The newest AMI id goes to /platform/runner-images/x64, which the launch templates resolve.
    parameterPrefix: '/platform/runner-images',
    caCertificatesPem: corporateCa,
    vpc: buildVpc,
    subnet: buildVpc.publicSubnets[0],
  });

  const stack = new Stack(app, 'EphemeralRunnersPrivate', {
    description: 'cdk-ephemeral-runners: private webhook, private register endpoint, functions in the VPC',
  });
  // No NAT gateway and no internet gateway. The subnets reach the GHES server (and the registries
  // and mirrors the jobs use) through the corporate network (a transit gateway attachment the
  // network team manages, not part of this app); AWS services through the endpoints below.
  const vpc = new ec2.Vpc(stack, 'Vpc', {
    maxAzs: 3,
    natGateways: 0,
    subnetConfiguration: [
      { name: 'runners', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 20 },
      { name: 'control-plane', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 26 },
    ],
    gatewayEndpoints: {
      DynamoDb: { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB },
    },
  });
  vpc.addFlowLog('FlowLog');
  // What the functions call besides DynamoDB: each endpoint bills by the hour per Availability Zone.
  const endpointSubnets = { subnetGroupName: 'control-plane' };
  const serviceEndpoints = Object.entries({
    Sqs: ec2.InterfaceVpcEndpointAwsService.SQS,
    Ssm: ec2.InterfaceVpcEndpointAwsService.SSM,
    Ec2: ec2.InterfaceVpcEndpointAwsService.EC2,
  }).map(([id, service]) => vpc.addInterfaceEndpoint(id, { service, subnets: endpointSubnets, open: false }));
  // GHES delivers webhooks and runners fetch their configs through this one: private DNS stays off
  // so the VPC can still reach public APIs; the construct's URLs use the endpoint's own alias.
  const apiEndpoint = vpc.addInterfaceEndpoint('ExecuteApi', {
    service: ec2.InterfaceVpcEndpointAwsService.APIGATEWAY,
    subnets: endpointSubnets,
    privateDnsEnabled: false,
    open: false,
  });
  // The GHES appliance sits in the data-centre range, reached over the transit gateway.
  apiEndpoint.connections.allowFrom(ec2.Peer.ipv4('10.20.0.0/16'), ec2.Port.tcp(443), 'GHES delivers webhooks');
  // Jobs reach this endpoint too: it calls this account's APIs only, no other account's.
  apiEndpoint.addToPolicy(new iam.PolicyStatement({
    principals: [new iam.AnyPrincipal()],
    actions: ['execute-api:Invoke'],
    resources: [stack.formatArn({ service: 'execute-api', resource: '*' })],
  }));

  const runners = new EphemeralRunners(stack, 'Runners', {
    github: { url: 'https://github.corp.example', caCertificatesPem: corporateCa },
    vpc,
    machineImage: RunnerMachineImage.fromSsmParameters('/platform/runner-images/x64'),
    subnets: { subnetGroupName: 'runners' },
    webhookAccess: EndpointAccess.privateApi(apiEndpoint),
    registerAccess: EndpointAccess.privateApi(apiEndpoint),
    controlPlaneSubnets: { subnetGroupName: 'control-plane' },
    runnerConfigs: [
      {
        name: 'linux-x64',
        labels: ['linux', 'x64'],
        instanceTypes: ['m7i.large', 'm6i.large', 'm6a.large'],
        spot: SpotStrategy.SPOT_PREFERRED,
        maxRunners: 20,
      },
    ],
  });
  // Only the functions call those services (the construct lets the runners into the API endpoint).
  for (const endpoint of serviceEndpoints) {
    endpoint.connections.allowDefaultPortFrom(runners.controlPlaneSecurityGroup!, 'Control-plane functions');
  }
  // Runners ship their boot log through this one as they power off. Jobs reach it too: it writes to
  // this account's log groups only, so a job's own credentials cannot carry data out through it.
  const logsEndpoint = vpc.addInterfaceEndpoint('Logs', { service: ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS, subnets: endpointSubnets, open: false });
  logsEndpoint.connections.allowDefaultPortFrom(runners.runnerSecurityGroup, 'Runner boot logs');
  logsEndpoint.addToPolicy(new iam.PolicyStatement({
    principals: [new iam.AnyPrincipal()],
    actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
    resources: [stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME })],
  }));
  // The first image is built on deploy of the build stack; launches wait for it.
  stack.addDependency(build);
  return app;
}

if (require.main === module) {
  buildApp().synth();
}
