// A consumer CDK app with several kinds of runners: x64 and arm64, each spot strategy,
// attribute-based instance selection, a warm pool in working hours, job hooks, a custom AMI the team builds itself,
// and a ceiling on the whole fleet.
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as sns from 'aws-cdk-lib/aws-sns';
import {
  EphemeralRunners, JobHookScript, RunnerArchitecture, RunnerMachineImage, RunnerScope, SpotStrategy, WarmPoolSchedule,
} from 'cdk-ephemeral-runners';

/**
 * Big builds need room: refuse the job (the runner fails it with this output) when the disk is
 * short, rather than fail an hour in. The runner runs it with `bash -e` before the job's first step.
 */
const DISK_CHECK = `free_gib="$(df --output=avail -BG / | tail -n 1 | tr -dc 0-9)"
echo "runner $RUNNER_NAME has \${free_gib} GiB free for $GITHUB_REPOSITORY"
if [ "$free_gib" -lt 40 ]; then
  echo "::error::less than 40 GiB free on the runner; raise runnerVolumeSize"
  exit 1
fi
`;

/** Builds the example app; the jest tests call it too. */
export function buildApp(app = new App()): App {
  const stack = new Stack(app, 'EphemeralRunnersMultiConfig', {
    description: 'cdk-ephemeral-runners: several runner configs, custom AMI',
  });
  // The VPC the platform team already runs, passed in (here created, as a lookup needs an account).
  const vpc = new ec2.Vpc(stack, 'Vpc', {
    maxAzs: 3,
    natGateways: 0,
    subnetConfiguration: [{ name: 'runners', subnetType: ec2.SubnetType.PUBLIC, mapPublicIpOnLaunch: true }],
  });
  vpc.addFlowLog('FlowLog');
  const alarms = new sns.Topic(stack, 'RunnerAlarms', { enforceSSL: true });

  new EphemeralRunners(stack, 'Runners', {
    github: { url: 'https://ghes.example.com', appId: '12' },
    vpc,
    // Images the team bakes itself (e.g. with its own Image Builder pipeline), one per architecture,
    // named by SSM parameters so a new image is used without a redeploy.
    machineImage: RunnerMachineImage.fromSsmParameters('/platform/runner-images/x64', '/platform/runner-images/arm64'),
    runnerConfigs: [
      {
        // The everyday runner: spot first, on-demand when spot capacity is short.
        name: 'linux-x64',
        labels: ['linux', 'x64'],
        instanceTypes: ['m7i.large', 'm6i.large', 'm6a.large'],
        spot: SpotStrategy.SPOT_PREFERRED,
        maxRunners: 50,
        // Ten stopped on-demand instances in the team's working hours start jobs in seconds; nights
        // and weekends the pool is empty and costs nothing.
        warmPool: { size: 10, schedule: WarmPoolSchedule.during({ timeZone: 'Europe/Berlin' }) },
      },
      {
        // Big builds: any x64 type with 8-16 vCPUs and 32-64 GiB, spot only (they can wait).
        name: 'linux-x64-large',
        labels: ['linux', 'x64', 'large'],
        instanceRequirements: { vCpuMin: 8, vCpuMax: 16, memoryMiBMin: 32_768, memoryMiBMax: 65_536 },
        spot: SpotStrategy.SPOT_ONLY,
        maxRunners: 10,
        // Scripts the runner runs around each job (not secrets: they travel in the user data).
        jobHooks: {
          started: JobHookScript.inline(DISK_CHECK),
          // A file of this app, published as an S3 asset at deploy; each instance downloads it at boot.
          completed: JobHookScript.fromAsset(path.join(__dirname, 'hooks', 'report-docker-usage.sh')),
        },
      },
      {
        // Graviton, on-demand: release jobs that must not be interrupted. Three labels, so a job
        // asking only for `linux` goes to linux-x64 (fewest labels beyond its own), not a guess.
        name: 'linux-arm64',
        labels: ['linux', 'arm64', 'graviton'],
        architecture: RunnerArchitecture.ARM64,
        instanceTypes: ['m7g.large', 'm6g.large'],
        spot: SpotStrategy.ON_DEMAND_ONLY,
        maxRunners: 20,
      },
      {
        // A repository-scoped runner for one team's repositories, in its own labels.
        name: 'gpu-less-integration',
        labels: ['linux', 'x64', 'integration'],
        scope: RunnerScope.REPOSITORY,
        maxRunners: 5,
      },
    ],
    // One ceiling for the whole fleet and its spend: the repository-scoped config alone may run
    // maxRunners in every repository. Jobs beyond it wait, and start in the order they were queued.
    maxInstances: 60,
    monitoring: { alarmTopic: alarms },
  });
  return app;
}

if (require.main === module) {
  buildApp().synth();
}
