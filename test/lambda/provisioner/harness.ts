// A provisioner wired to real engines: dynalite for state, the EC2 simulator behind the real
// EC2Client, an in-memory queue and config source (ports, not SDK mocks), and a manual clock.
import { EC2Client } from '@aws-sdk/client-ec2';
import { ControlPlane } from '../../../lambda/common/control-plane';
import { Ec2Fleet } from '../../../lambda/compute/ec2-fleet';
import { ComputePort } from '../../../lambda/core/compute';
import { GitHubPort } from '../../../lambda/core/github';
import { JobEvent, JobState, planJobTransition } from '../../../lambda/core/job';
import { buildPoolMessageFor, PoolMessage } from '../../../lambda/core/pool-message';
import { ImageSource } from '../../../lambda/core/ports';
import { Pool } from '../../../lambda/core/routing';
import { RunnerConfig } from '../../../lambda/core/runner-config';
import { ProvisionerDeps, ProvisionerMetrics } from '../../../lambda/provisioner/deps';
import { DynamoRunnerStore } from '../../../lambda/state/dynamo-runner-store';
import { DynamoStateStore } from '../../../lambda/state/dynamo-state-store';
import { ScaledClock } from '../../../sandbox/common/time';
import { Ec2Simulator, Ec2SimulatorOptions } from '../../../sandbox/ec2';
import { DynamoTestEngine } from '../support/dynalite';
import { InMemoryConfigSource, InMemoryPoolQueue, ManualClock, silentLogger } from '../support/in-memory-ports';

export const PREFIX = 'er-test-';

/** For configs without an `image`: the launch template's image is used and this is never asked. */
const noImages: ImageSource = {
  imageIdFor: () => Promise.reject(new Error('this test gave no image source, but a config has an image')),
};
export const POOL: Pool = { poolId: 'octo-org#linux-x64', configName: 'linux-x64', scope: { kind: 'org', org: 'octo-org' } };

export function runnerConfig(overrides: Partial<RunnerConfig> = {}): RunnerConfig {
  return {
    parameterName: '/test/runner-configs/linux-x64',
    version: 1,
    name: 'linux-x64',
    labels: ['linux', 'x64'],
    runnerLabels: ['self-hosted', 'linux', 'x64'],
    instanceTypes: ['m7i.large', 'm6i.large'],
    spot: 'SPOT_PREFERRED',
    maxRunners: 10,
    scope: 'org',
    runnerGroupId: 1,
    ...overrides,
  };
}

export class RecordingMetrics implements ProvisionerMetrics {
  readonly launches: Record<string, number> = {};
  readonly errors: string[] = [];
  fallbacks = 0;
  reruns = 0;
  rerunsRefused = 0;
  readonly waitingForImage: number[] = [];
  rerunsDeferred = 0;
  rerunsAbandoned = 0;
  launched(market: string, count: number): void { this.launches[market] = (this.launches[market] ?? 0) + count; }
  launchError(kind: string): void { this.errors.push(kind); }
  fallback(): void { this.fallbacks++; }
  retired(): void {}
  rerun(): void { this.reruns++; }
  rerunRefused(): void { this.rerunsRefused++; }
  jobsWaitingForImage(count: number): void { this.waitingForImage.push(count); }
  rerunDeferred(): void { this.rerunsDeferred++; }
  rerunAbandoned(): void { this.rerunsAbandoned++; }
}

export interface Harness {
  readonly deps: ProvisionerDeps;
  readonly sim: Ec2Simulator;
  readonly state: DynamoStateStore;
  readonly runners: DynamoRunnerStore;
  readonly queue: InMemoryPoolQueue;
  readonly configs: InMemoryConfigSource;
  readonly clock: ManualClock;
  readonly metrics: RecordingMetrics;
  queueJob(jobId: number, pool?: Pool): Promise<void>;
  moveJob(jobId: number, state: JobState, extra?: Partial<JobEvent>): Promise<void>;
  message(pool?: Pool): PoolMessage;
  stop(): Promise<void>;
}

export interface HarnessOptions {
  readonly ec2?: Ec2SimulatorOptions;
  readonly configs?: RunnerConfig[];
  readonly github?: GitHubPort;
  /** Wraps the compute port, e.g. to inject a crash. */
  readonly compute?: (inner: ComputePort) => ComputePort;
  /** Where configs with an `image` get their AMI id. @default none: configs without an image use the launch template's */
  readonly images?: ImageSource;
  /** Another harness's EC2, as a second deployment in the same account would see it (stopped by its owner). */
  readonly sharedEc2?: Harness;
  /** The deployment's id (the managed-by tag). @default 'test' */
  readonly managedBy?: string;
}

let templates = 0;

export async function startHarness(engine: DynamoTestEngine, options: HarnessOptions = {}): Promise<Harness> {
  const tableName = await engine.createStateTable();
  const managedBy = options.managedBy ?? 'test';
  const shared = options.sharedEc2?.sim;
  const sim = shared ?? new Ec2Simulator({ clock: new ScaledClock(0.001), onListenerError: () => undefined, ...options.ec2 });
  if (!shared) await sim.start();
  const template = sim.registerLaunchTemplate({
    launchTemplateName: `runners-linux-x64-${++templates}`,
    imageId: 'ami-0123456789abcdef0',
    instanceInitiatedShutdownBehavior: 'terminate',
    iamInstanceProfile: { arn: 'arn:aws:iam::123456789012:instance-profile/runner', roleName: 'runner-role' },
  });
  const client = new EC2Client({ endpoint: sim.url, region: sim.region, credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' }, maxAttempts: 1 });
  const subnetIds = sim.subnets.map((s) => s.subnetId);
  const fleet = new Ec2Fleet({ client, managedBy, subnetIds, launchTemplateFor: () => template.launchTemplateId });
  const state = new DynamoStateStore(engine.client, tableName);
  const runners = new DynamoRunnerStore(engine.client, tableName);
  const queue = new InMemoryPoolQueue();
  const configs = new InMemoryConfigSource(options.configs ?? [runnerConfig()]);
  const clock = new ManualClock();
  const metrics = new RecordingMetrics();
  const controlPlane: ControlPlane = {
    settings: { runnerNamePrefix: PREFIX, managedBy, bootTimeoutMs: 10 * 60_000, maxLifetimeMs: 6 * 3600_000 },
    jobs: state,
    runners,
    pools: runners,
    queue,
    configs,
    compute: options.compute ? options.compute(fleet) : fleet,
    github: async () => {
      if (!options.github) throw new Error('this test has no GitHub');
      return options.github;
    },
    clock,
  };
  const deps: ProvisionerDeps = { ...controlPlane, logger: silentLogger(), metrics, images: options.images ?? noImages };
  const event = (jobId: number, s: JobState, extra: Partial<JobEvent> = {}): JobEvent => ({
    key: { githubHost: 'ghes.example.com', jobId },
    state: s,
    runId: jobId,
    origin: { owner: 'octo-org', repo: 'app', org: 'octo-org' },
    labels: ['self-hosted', 'linux', 'x64'],
    ...extra,
  });
  return {
    deps,
    sim,
    state,
    runners,
    queue,
    configs,
    clock,
    metrics,
    async queueJob(jobId, pool = POOL) {
      await state.applyJobTransition(planJobTransition(event(jobId, 'queued'), pool, clock.now()));
    },
    async moveJob(jobId, s, extra = {}) {
      await state.applyJobTransition(planJobTransition(event(jobId, s, extra), POOL, clock.now()));
    },
    message: (pool = POOL) => buildPoolMessageFor(pool, 'reconciler', 'test'),
    async stop() {
      client.destroy();
      if (!shared) await sim.stop();
    },
  };
}
