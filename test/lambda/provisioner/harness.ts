// A provisioner wired to real engines: dynalite for state, the EC2 simulator behind the real
// EC2Client, an in-memory queue and config source (ports, not SDK mocks), and a manual clock.
// Given the provisioner's role (provisionerRole(), on the dynalite engine or as an option), its
// DynamoDB and EC2 calls sign as the role and are decided by IAM against what the construct grants
// it; the launch template, subnets and security group are the ones those grants name.
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
import { DynamoFleetStore } from '../../../lambda/state/dynamo-fleet-store';
import { DynamoRunnerStore } from '../../../lambda/state/dynamo-runner-store';
import { DynamoStateStore } from '../../../lambda/state/dynamo-state-store';
import { ScaledClock } from '../../../sandbox/common/time';
import { Ec2Authorizer, Ec2Simulator, Ec2SimulatorOptions } from '../../../sandbox/ec2';
import { GrantedNames, grantedRole } from '../support/construct-grants';
import { DynamoTestEngine } from '../support/dynalite';
import { ACCOUNT, FunctionRole, REGION } from '../support/function-role';
import { InMemoryConfigSource, InMemoryPoolQueue, ManualClock, silentLogger } from '../support/in-memory-ports';

export const PREFIX = 'er-test-';

/** The runner subnets, in three zones: the EC2 simulator's and the ones the provisioner's grants name. */
const SUBNETS = ['a', 'b', 'c'].map((zone, n) => ({ subnetId: `subnet-0sandbox00000000${n + 1}`, availabilityZone: `us-east-1${zone}` }));
/** One launch template per deployment on a simulator: the first deployment's, and a second's that shares it. */
const LAUNCH_TEMPLATE_IDS = ['lt-0a1b2c3d4e5f60001', 'lt-0a1b2c3d4e5f60002'] as const;
/** The first deployment's warm pool template: the same as its own, but an instance that powers off stops. */
export const WARM_LAUNCH_TEMPLATE_ID = 'lt-0a1b2c3d4e5f60003';
const SECURITY_GROUP_ID = 'sg-0a1b2c3d4e5f60001';
const RUNNER_ROLE_NAME = 'runner-role';

/**
 * The provisioner's role with what the construct grants it, for the launch template, subnets and
 * security group of the harness's EC2 simulator; `second`: the role of a deployment that shares
 * another's simulator (`sharedEc2`), which launches from the second template.
 */
export function provisionerRole(
  names: GrantedNames & { readonly imageParameterNames?: readonly string[]; readonly warmPools?: boolean } = {}, second = false,
): FunctionRole {
  const { imageParameterNames, warmPools, ...rest } = names;
  return grantedRole('provisioner', {
    ...rest,
    launch: {
      warmPools,
      launchTemplateIds: [LAUNCH_TEMPLATE_IDS[second ? 1 : 0], ...(warmPools ? [WARM_LAUNCH_TEMPLATE_ID] : [])],
      subnetIds: SUBNETS.map((s) => s.subnetId),
      securityGroupIds: [SECURITY_GROUP_ID],
      runnerRoleName: RUNNER_ROLE_NAME,
      imageParameterNames,
    },
  });
}

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
  warmLaunches = 0;
  warmStarts = 0;
  warmStartFailures = 0;
  costTags = 0;
  costTagFailures = 0;
  readonly held: Record<string, number> = {};
  launched(market: string, count: number): void { this.launches[market] = (this.launches[market] ?? 0) + count; }
  launchError(kind: string): void { this.errors.push(kind); }
  fallback(): void { this.fallbacks++; }
  retired(): void {}
  rerun(): void { this.reruns++; }
  rerunRefused(): void { this.rerunsRefused++; }
  jobsWaitingForImage(count: number): void { this.waitingForImage.push(count); }
  rerunDeferred(): void { this.rerunsDeferred++; }
  rerunAbandoned(): void { this.rerunsAbandoned++; }
  warmLaunched(count: number): void { this.warmLaunches += count; }
  warmStarted(_config: string, count: number): void { this.warmStarts += count; }
  warmStartFailed(count: number): void { this.warmStartFailures += count; }
  costTagged(count: number): void { this.costTags += count; }
  costTagFailed(count: number): void { this.costTagFailures += count; }
  launchesHeld(reason: string, count: number): void { this.held[reason] = (this.held[reason] ?? 0) + count; }
}

export interface Harness {
  readonly deps: ProvisionerDeps;
  readonly tableName: string;
  /** The launch template the pool's config launches from. */
  readonly launchTemplateId: string;
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
  /** The subnets of configs that have their own, by config name (as the construct's CONFIG_SUBNET_IDS). @default none */
  readonly configSubnetIds?: Readonly<Record<string, readonly string[]>>;
  /** The deployment's id (the managed-by tag). @default 'test' */
  readonly managedBy?: string;
  /**
   * The provisioner's role its EC2 calls sign as (a second deployment's, with `sharedEc2`).
   * @default the dynalite engine's role; without one, EC2 calls are not checked
   */
  readonly role?: FunctionRole;
  /** The deployment's maxInstances: the fleet record lives in the harness's table. @default no cap */
  readonly maxInstances?: number;
}

/** The roles whose EC2 calls a simulator decides: one per deployment sharing it. */
const rolesOf = new WeakMap<Ec2Simulator, FunctionRole[]>();

/** Decides each call as the role whose access key signed it; the test's own key is not checked. */
function authorizeAsCaller(sim: () => Ec2Simulator): Ec2Authorizer {
  return async (call) => {
    const role = rolesOf.get(sim())?.find((r) => call.accessKeyId !== undefined && r.identityFor(call.accessKeyId));
    return role?.ec2Authorizer()(call);
  };
}

export async function startHarness(engine: DynamoTestEngine, options: HarnessOptions = {}): Promise<Harness> {
  const tableName = await engine.createStateTable();
  const managedBy = options.managedBy ?? 'test';
  const shared = options.sharedEc2?.sim;
  let sim: Ec2Simulator;
  if (shared) {
    sim = shared;
  } else {
    sim = new Ec2Simulator({
      clock: new ScaledClock(0.001), onListenerError: () => undefined, subnets: SUBNETS, authorize: authorizeAsCaller(() => sim), ...options.ec2,
    });
    rolesOf.set(sim, []);
    await sim.start();
  }
  const role = options.role ?? engine.role;
  // A role of its own gets its statements with its table, as the engine's role does.
  if (role && role !== engine.role) role.grantTable(`arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${tableName}`);
  if (role) rolesOf.get(sim)!.push(role);
  // The first deployment on a simulator launches from the first template, a second from the second.
  const template = sim.registerLaunchTemplate({
    launchTemplateName: `runners-linux-x64-${shared ? 2 : 1}`,
    launchTemplateId: LAUNCH_TEMPLATE_IDS[shared ? 1 : 0],
    imageId: 'ami-0123456789abcdef0',
    instanceInitiatedShutdownBehavior: 'terminate',
    iamInstanceProfile: { arn: `arn:aws:iam::123456789012:instance-profile/${RUNNER_ROLE_NAME}`, roleName: RUNNER_ROLE_NAME },
    securityGroupIds: [SECURITY_GROUP_ID],
  });
  sim.registerLaunchTemplate({
    launchTemplateName: `runners-linux-x64-warm-${shared ? 2 : 1}`,
    launchTemplateId: shared ? 'lt-0a1b2c3d4e5f60004' : WARM_LAUNCH_TEMPLATE_ID,
    imageId: 'ami-0123456789abcdef0',
    instanceInitiatedShutdownBehavior: 'stop',
    iamInstanceProfile: { arn: `arn:aws:iam::123456789012:instance-profile/${RUNNER_ROLE_NAME}`, roleName: RUNNER_ROLE_NAME },
    securityGroupIds: [SECURITY_GROUP_ID],
  });
  const credentials = role?.credentials ?? { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' };
  const client = new EC2Client({ endpoint: sim.url, region: sim.region, credentials, maxAttempts: 1 });
  const subnetIds = sim.subnets.map((s) => s.subnetId);
  const fleet = new Ec2Fleet({
    client, managedBy, subnetIds, subnetIdsFor: (name) => options.configSubnetIds?.[name], launchTemplateFor: () => template.launchTemplateId, warmLaunchTemplateFor: () => (shared ? 'lt-0a1b2c3d4e5f60004' : WARM_LAUNCH_TEMPLATE_ID),
  });
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
    fleet: options.maxInstances === undefined
      ? undefined : { maxInstances: options.maxInstances, store: new DynamoFleetStore(engine.client, tableName) },
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
    tableName,
    launchTemplateId: template.launchTemplateId,
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
