// A consumer CDK app, written exactly as a user of cdk-ephemeral-runners writes one.
import { App, Stack } from 'aws-cdk-lib';
import { EphemeralRunners, SpotStrategy } from 'cdk-ephemeral-runners';

/** Builds the example app; the jest tests call it too. */
export function buildApp(app = new App()): App {
  const stack = new Stack(app, 'EphemeralRunnersBasic', {
    description: 'cdk-ephemeral-runners: basic example',
  });
  // No vpc: the construct makes one of public subnets, with no NAT gateway billing by the hour;
  // runners reach GitHub through its internet gateway.
  new EphemeralRunners(stack, 'Runners', {
    // No appId: the stack's setup page (output RunnersSetupUrl) creates the GitHub App and stores its credentials.
    github: { url: 'https://ghes.example.com' },
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
