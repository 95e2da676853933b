// A consumer CDK app with enterprise runners: one pool of Linux runners registered at the GHES's
// enterprise, serving the jobs of every organization its runner group admits, beside an
// organization-scoped GPU config. Enterprise runners register with a personal access token
// (classic) of an enterprise owner with the `manage_runners:enterprise` scope only, which you write
// to the parameter of the `RunnersEnterpriseTokenParameter` output after deploy; GitHub Apps cannot
// register enterprise runners. The App, installed on each organization, delivers the jobs.
import { App, Stack } from 'aws-cdk-lib';
import { EphemeralRunners, RunnerScope, SpotStrategy } from 'cdk-ephemeral-runners';

/** Builds the example app; the jest tests call it too. */
export function buildApp(app = new App()): App {
  const stack = new Stack(app, 'EphemeralRunnersEnterprise', {
    description: 'cdk-ephemeral-runners: enterprise runners shared by every organization',
  });
  new EphemeralRunners(stack, 'Runners', {
    github: {
      url: 'https://ghes.example.com',
      appId: '12',
      // https://ghes.example.com/enterprises/octo-enterprise
      enterprise: 'octo-enterprise',
    },
    runnerConfigs: [
      {
        // runs-on: [self-hosted, linux, x64] in any organization: one pool, 30 instances at most.
        name: 'shared-linux',
        labels: ['linux', 'x64'],
        scope: RunnerScope.ENTERPRISE,
        // The enterprise runner group, by name (Settings > Actions > Runner groups).
        runnerGroup: 'Linux Builders',
        spot: SpotStrategy.SPOT_PREFERRED,
        maxRunners: 30,
      },
      {
        // runs-on: [self-hosted, linux, gpu]: per organization, in each one's 'GPU' group.
        name: 'team-gpu',
        labels: ['linux', 'gpu'],
        instanceTypes: ['g5.xlarge', 'g6.xlarge'],
        spot: SpotStrategy.ON_DEMAND_ONLY,
        maxRunners: 4,
        runnerGroup: 'GPU',
      },
    ],
  });
  return app;
}

if (require.main === module) {
  buildApp().synth();
}
