// A consumer CDK app with the most common pair of runner configs: Linux on x64 and on arm64.
// A job `runs-on: [self-hosted, linux]` matches both equally well (one label beyond its own each).
// Such a tie goes to the config of higher `priority`, else to the config listed first; synth warns
// of it, naming the winner. Here Graviton wins: jobs that need x86 ask for `x64`.
import { App, Stack } from 'aws-cdk-lib';
import { EphemeralRunners, RunnerArchitecture, RunnerVersion, SpotStrategy } from 'cdk-ephemeral-runners';

/** Builds the example app; the jest tests call it too. */
export function buildApp(app = new App()): App {
  const stack = new Stack(app, 'EphemeralRunnersTwoArchitectures', {
    description: 'cdk-ephemeral-runners: x64 and arm64 runners, ties to arm64',
  });
  new EphemeralRunners(stack, 'Runners', {
    github: { url: 'https://ghes.example.com', appId: '12' },
    // The construct builds one runner image per architecture (EC2 Image Builder), each with the newest
    // runner release at every weekly build (the default, spelled out), checked against the SHA-256
    // GitHub publishes and never older than the runner your GitHub server ships.
    runnerImage: { runnerVersion: RunnerVersion.latest() },
    runnerConfigs: [
      {
        // runs-on: [self-hosted, linux, x64]
        name: 'linux-x64',
        labels: ['linux', 'x64'],
        spot: SpotStrategy.SPOT_PREFERRED,
        maxRunners: 20,
      },
      {
        // runs-on: [self-hosted, linux, arm64], and [self-hosted, linux]: Graviton costs less for the
        // same work, so jobs that do not name an architecture go here. Without `priority` they would
        // go to linux-x64, listed first.
        name: 'linux-arm64',
        labels: ['linux', 'arm64'],
        architecture: RunnerArchitecture.ARM64,
        spot: SpotStrategy.SPOT_PREFERRED,
        maxRunners: 20,
        priority: 1,
      },
    ],
  });
  // `cdk synth` warns of the tie, naming linux-arm64 as the winner. Once that is what you want,
  // `Annotations.of(stack).acknowledgeWarning('cdk-ephemeral-runners:runnerConfigTie', 'why')` silences it.
  return app;
}

if (require.main === module) {
  buildApp().synth();
}
