// A consumer CDK app, written exactly as a user of cdk-ephemeral-runners writes one.
import { App, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { EphemeralRunners, SpotStrategy } from 'cdk-ephemeral-runners';

/** Builds the example app; the jest tests call it too. */
export function buildApp(app = new App()): App {
  const stack = new Stack(app, 'EphemeralRunnersBasic', {
    description: 'cdk-ephemeral-runners: basic example',
  });
  // Public subnets only: runners reach GitHub through the internet gateway, with no NAT gateway
  // billing by the hour.
  const vpc = new ec2.Vpc(stack, 'Vpc', {
    maxAzs: 3,
    natGateways: 0,
    subnetConfiguration: [{ name: 'runners', subnetType: ec2.SubnetType.PUBLIC, mapPublicIpOnLaunch: true }],
  });
  vpc.addFlowLog('FlowLog');
  new EphemeralRunners(stack, 'Runners', {
    github: { url: 'https://ghes.example.com', appId: '12' },
    vpc,
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
  return app;
}

if (require.main === module) {
  buildApp().synth();
}
