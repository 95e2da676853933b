// Runner configs as typed props, their synth-time validation, and the document written to SSM.
import { Size } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { instanceTypeArchitecture, unknownInstanceTypeReason } from './instance-type-name';
import { JobHooks, validateJobHooks } from './job-hooks';
import { validateRootVolume } from './private/root-volume-limits';
import { ROUTING_PRIORITY_RANGE, RUNNER_CONFIG_DOCUMENT_VERSION, RunnerConfigDocument } from './runner-config-document';
import { RunnerDebugOptions } from './runner-debug';
import { foldLabel, routingLabels, SELF_HOSTED_LABEL } from './runner-labels';
import { RunnerMachineImage } from './runner-machine-image';
import { RunnerRootVolume } from './runner-root-volume';
import { toWarmPoolDocument, validateWarmPool, WarmPoolOptions } from './warm-pool';

/** How a runner config buys EC2 capacity. */
export enum SpotStrategy {
  /** Spot only; a job waits while no spot capacity is found. */
  SPOT_ONLY = 'SPOT_ONLY',
  /** Spot first; on-demand after repeated spot capacity failures, and for a while after spot trouble. */
  SPOT_PREFERRED = 'SPOT_PREFERRED',
  /** On-demand only. */
  ON_DEMAND_ONLY = 'ON_DEMAND_ONLY',
}

/** CPU architecture of a config's instances and image. */
export enum RunnerArchitecture {
  /** 64-bit x86 (Intel, AMD). */
  X64 = 'x64',
  /** 64-bit Arm (AWS Graviton). */
  ARM64 = 'arm64',
}

/** Where the runners of a config register. */
export enum RunnerScope {
  /**
   * At the job's organization, in a runner group: runners serve every repository the group allows.
   * Jobs of repositories owned by a user (no organization) register at the repository instead.
   * Needs the App's organization permission "Self-hosted runners: read and write".
   */
  ORGANIZATION = 'org',
  /** At the job's repository. Needs the App's repository permission "Administration: read and write". */
  REPOSITORY = 'repo',
  /**
   * At the enterprise (`github.enterprise`), in an enterprise runner group: one pool serves the jobs
   * of every organization of the enterprise the group allows. Runners register with the enterprise
   * credential, a personal access token (classic) of an enterprise owner with the
   * `manage_runners:enterprise` scope only (GitHub Apps cannot register enterprise runners); the App,
   * installed on each organization, still delivers their `workflow_job` events. Jobs of repositories
   * owned by a user register at the repository, as for `ORGANIZATION`.
   */
  ENTERPRISE = 'enterprise',
}

/** One kind of runner: the labels a job asks for in `runs-on`, and the instances that serve it. */
export interface RunnerConfig {
  /**
   * Unique name of the config: lower-case letters, digits and hyphens, at most 32 characters.
   * It names the config's SSM parameter, its pools, tags and runner names.
   */
  readonly name: string;

  /**
   * The labels of the config's runners. A job goes to this config when the labels of its `runs-on`
   * (compared case-insensitively, `self-hosted` ignored) are all among these; the config with the
   * fewest labels beyond the job's wins (ties: see `priority`). Letters, digits, `.`, `_` and `-`,
   * at most 64 characters each. Runners always register with `self-hosted` in addition.
   */
  readonly labels: string[];

  /**
   * Breaks ties between configs that match a job equally well: the highest priority wins.
   *
   * Configs tie for a job when each holds all of its labels and as many labels beyond them (a job
   * `[self-hosted, linux]` with configs `[linux, x64]` and `[linux, arm64]`). Among equal priorities
   * the config listed first in `runnerConfigs` wins. A whole number from 0 to 1000. Synth warns of
   * every tie, naming the winner (acknowledge the warning by its id
   * `cdk-ephemeral-runners:runnerConfigTie`).
   *
   * @default 0 - ties go to the config listed first
   */
  readonly priority?: number;

  /**
   * EC2 instance types to launch, most preferred first, e.g. `['m7i.large', 'm6i.large']`.
   * More types give spot more pools to choose from.
   *
   * @default - `m7i.large`, `m6i.large`, `m6a.large`, `m5.large`
   */
  readonly instanceTypes?: string[];

  /**
   * vCPU and memory ranges EC2 chooses instance types by (attribute-based selection), instead of
   * `instanceTypes`: the widest choice of spot capacity. Types keep to the config's architecture.
   *
   * @default - the `instanceTypes` list
   */
  readonly instanceRequirements?: InstanceRequirements;

  /**
   * CPU architecture of the instance types (and so of the image they boot).
   *
   * @default RunnerArchitecture.X64
   */
  readonly architecture?: RunnerArchitecture;

  /**
   * How to buy capacity.
   *
   * @default SpotStrategy.SPOT_PREFERRED
   */
  readonly spot?: SpotStrategy;

  /**
   * The most instances of this config alive at once per pool (a pool is one organization or
   * repository; for enterprise scope, the whole enterprise). Jobs beyond it wait in GitHub's queue
   * until a runner frees up.
   *
   * @default 10
   */
  readonly maxRunners?: number;

  /**
   * Where runners register.
   *
   * @default RunnerScope.ORGANIZATION
   */
  readonly scope?: RunnerScope;

  /**
   * Id of the organization (or enterprise) runner group the runners join. Ignored for repository
   * runners. Give this or `runnerGroup`, not both.
   *
   * @default 1 - the Default group, unless `runnerGroup` names one
   */
  readonly runnerGroupId?: number;

  /**
   * Name of the organization (or enterprise) runner group the runners join, looked up at GitHub
   * when a runner registers (and kept ten minutes). A name the organization or enterprise does not
   * have fails the registration, naming the group; nothing is registered. Ignored for repository
   * runners. Give this or `runnerGroupId`, not both.
   *
   * @default - the group `runnerGroupId` gives
   */
  readonly runnerGroup?: string;

  /**
   * Stopped instances kept ahead of demand, so a queued job starts one (StartInstances, seconds)
   * instead of waiting for a cold launch and boot. Stopped instances bill their EBS volumes only.
   * Pool instances are on-demand whatever `spot` says (a one-time spot instance cannot be stopped);
   * jobs beyond the pool launch as `spot` says. Warm instances count toward `maxRunners`.
   *
   * @default - no warm pool: every job waits for a cold launch
   */
  readonly warmPool?: WarmPoolOptions;

  /**
   * Scripts the runner runs before and after each job of this config (the runner's job-started and
   * job-completed hooks). A hook that fails fails the job. Their text is not secret: it is stored in
   * the launch template's user data.
   *
   * @default - no hooks
   */
  readonly jobHooks?: JobHooks;

  /**
   * Debugging aids for this config's instances, such as the runner's own logs streamed to CloudWatch.
   *
   * @default - none: only the bootstrap's lines reach the runners' log group
   */
  readonly debug?: RunnerDebugOptions;

  /**
   * The image this config's instances boot, instead of the deployment's: an AMI
   * (`RunnerMachineImage.fromAmiIds`), an SSM parameter (`fromSsmParameters`), or a pipeline of its
   * own (`fromPipeline`, e.g. a `RunnerImagePipeline` with extra components). It must hold the
   * GitHub Actions runner in `/opt/actions-runner` and a user `runner`, for the config's architecture.
   *
   * @default - the deployment's `machineImage`, or the image its own pipeline builds
   */
  readonly machineImage?: RunnerMachineImage;

  /**
   * The root volume of this config's instances: size, EBS type, IOPS and throughput, checked at
   * synth against the limits EC2 enforces.
   *
   * @default - an encrypted gp3 volume of the deployment's `runnerVolumeSize`, 3,000 IOPS, 125 MiB/s
   */
  readonly rootVolume?: RunnerRootVolume;

  /**
   * Security groups this config's instances get in addition to the runners' shared one (which has
   * no inbound rule): e.g. one a database lets in. They must belong to the deployment's VPC.
   *
   * @default - the shared runner security group only
   */
  readonly securityGroups?: ec2.ISecurityGroup[];

  /**
   * The subnets of the deployment's VPC this config's instances run in, instead of the
   * deployment's `subnets`: e.g. the subnets that reach a database. The same needs apply (a route
   * to GitHub, and to the register endpoint).
   *
   * @default - the deployment's `subnets`
   */
  readonly subnets?: ec2.SubnetSelection;

  /**
   * Managed policies for this config's instances. A config with any managed policy or policy
   * statement gets an instance role of its own (with the shared role's own permissions: the register
   * endpoint and the log group), so that only its jobs get these permissions; other configs keep
   * the shared role.
   *
   * @default - none: the config's instances use the shared runner role
   */
  readonly managedPolicies?: iam.IManagedPolicy[];

  /**
   * Policy statements for this config's instances: e.g. reading one S3 bucket. As with
   * `managedPolicies`, the config then gets an instance role of its own.
   *
   * @default - none: the config's instances use the shared runner role
   */
  readonly rolePolicyStatements?: iam.PolicyStatement[];

  /**
   * Whether the instance metadata service serves the instance's tags (`InstanceMetadataTags`),
   * e.g. for a job that reads its runner config's name. Jobs can read them, so tag nothing secret.
   *
   * @default false
   */
  readonly instanceMetadataTags?: boolean;
}

/** Whether a config has an instance role of its own: it has managed policies or policy statements. */
export function hasOwnRole(config: RunnerConfig): boolean {
  return (config.managedPolicies?.length ?? 0) + (config.rolePolicyStatements?.length ?? 0) > 0 || config.debug?.sessionManager === true;
}

/** Ranges of vCPUs and memory for attribute-based instance type selection. */
export interface InstanceRequirements {
  /** Fewest vCPUs. */
  readonly vCpuMin: number;
  /** Most vCPUs. @default - no upper limit */
  readonly vCpuMax?: number;
  /** Least memory, MiB. */
  readonly memoryMiBMin: number;
  /** Most memory, MiB. @default - no upper limit */
  readonly memoryMiBMax?: number;
}

const DEFAULT_INSTANCE_TYPES = ['m7i.large', 'm6i.large', 'm6a.large', 'm5.large'];
const DEFAULT_ARM64_INSTANCE_TYPES = ['m7g.large', 'm6g.large', 'm8g.large'];

function defaultInstanceTypes(architecture?: RunnerArchitecture): string[] {
  return architecture === RunnerArchitecture.ARM64 ? DEFAULT_ARM64_INSTANCE_TYPES : DEFAULT_INSTANCE_TYPES;
}
const CONFIG_NAME = /^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/;
const LABEL = /^[A-Za-z0-9._-]{1,64}$/;
// A runner group's name as GitHub shows it: printable, no leading or trailing space.
const RUNNER_GROUP_NAME = /^[^\s\p{Cc}](?:[^\p{Cc}]{0,98}[^\s\p{Cc}])?$/u;
// family[.generation-and-options].size, e.g. m7i.large, c7gn.16xlarge, u-6tb1.metal, mac2-m2.metal, m7i.metal-24xl
const INSTANCE_TYPE = /^[a-z][a-z0-9-]*\.[a-z0-9][a-z0-9-]*$/;
/** SSM standard parameters hold at most 4 KB. */
const MAX_DOCUMENT_BYTES = 4096;

/**
 * The document of a config, with defaults applied; `order` is its index in `runnerConfigs`,
 * `enterprise` the slug enterprise-scoped configs register at.
 */
export function toRunnerConfigDocument(config: RunnerConfig, order: number, enterprise?: string): RunnerConfigDocument {
  const written = config.labels.filter((label) => foldLabel(label) !== SELF_HOSTED_LABEL);
  return {
    version: RUNNER_CONFIG_DOCUMENT_VERSION,
    name: config.name,
    labels: routingLabels(config.labels),
    runnerLabels: [SELF_HOSTED_LABEL, ...written],
    priority: config.priority ?? 0,
    order,
    instanceTypes: config.instanceRequirements ? [] : config.instanceTypes ?? defaultInstanceTypes(config.architecture),
    ...(config.instanceRequirements ? { instanceRequirements: { ...config.instanceRequirements } } : {}),
    architecture: config.architecture ?? RunnerArchitecture.X64,
    spot: config.spot ?? SpotStrategy.SPOT_PREFERRED,
    maxRunners: config.maxRunners ?? 10,
    scope: config.scope ?? RunnerScope.ORGANIZATION,
    ...(config.scope === RunnerScope.ENTERPRISE && enterprise !== undefined ? { enterprise: enterprise.toLowerCase() } : {}),
    runnerGroupId: config.runnerGroupId ?? 1,
    ...(config.runnerGroup !== undefined ? { runnerGroupName: config.runnerGroup } : {}),
    ...(config.warmPool ? { warmPool: toWarmPoolDocument(config.warmPool) } : {}),
  };
}

/**
 * Every problem of a set of runner configs, each naming the config, what was found and the fix.
 * An empty list means the set is valid.
 */
export function validateRunnerConfigs(configs: readonly RunnerConfig[], sharedVolumeSize: Size = Size.gibibytes(30)): string[] {
  const errors: string[] = [];
  if (configs.length === 0) {
    errors.push('runnerConfigs is empty: add at least one runner config, e.g. { name: \'linux-x64\', labels: [\'linux\', \'x64\'] }.');
  }
  configs.forEach((config, index) => errors.push(...validateOne(config, index, sharedVolumeSize)));
  errors.push(...validateSet(configs));
  return errors;
}

function validateOne(config: RunnerConfig, index: number, sharedVolumeSize: Size): string[] {
  const errors: string[] = [];
  const who = `runner config '${config.name}' (runnerConfigs[${index}])`;
  if (!CONFIG_NAME.test(config.name)) {
    errors.push(`${who}: name must be 1-32 lower-case letters, digits or inner hyphens; rename it, e.g. '${suggestName(config.name)}'.`);
  }
  const hostile = config.labels.filter((label) => !LABEL.test(label));
  if (hostile.length > 0) {
    errors.push(`${who}: labels ${JSON.stringify(hostile)} are not valid; use 1-64 letters, digits, '.', '_' or '-' per label.`);
  }
  if (routingLabels(config.labels).length === 0) {
    errors.push(`${who}: labels ${JSON.stringify(config.labels)} name nothing but 'self-hosted'; add the labels jobs use in runs-on, e.g. ['linux', 'x64'].`);
  }
  const folded = config.labels.map(foldLabel);
  const repeated = folded.filter((label, i) => folded.indexOf(label) !== i);
  if (repeated.length > 0) {
    errors.push(`${who}: labels repeat ${JSON.stringify([...new Set(repeated)])} (labels compare case-insensitively); list each label once.`);
  }
  if (config.instanceRequirements && config.instanceTypes) {
    errors.push(`${who}: give instanceTypes or instanceRequirements, not both; requirements let EC2 choose among every type within the ranges.`);
  }
  if (config.instanceRequirements) errors.push(...validateRequirements(who, config.instanceRequirements));
  const instanceTypes: string[] = config.instanceRequirements ? [] : config.instanceTypes ?? defaultInstanceTypes(config.architecture);
  if (instanceTypes.length === 0 && !config.instanceRequirements) {
    errors.push(`${who}: instanceTypes is empty; list at least one instance type, e.g. ['m7i.large'], or leave it out for the default.`);
  }
  const malformed = instanceTypes.filter((type) => !INSTANCE_TYPE.test(type));
  if (malformed.length > 0) {
    errors.push(`${who}: instance types ${JSON.stringify(malformed)} are malformed; write them as EC2 names them, family and size, e.g. 'm7i.large'.`);
  }
  const unknown = instanceTypes.filter((type) => INSTANCE_TYPE.test(type) && unknownInstanceTypeReason(type) !== undefined);
  if (unknown.length > 0) {
    const reasons = unknown.map((type) => `'${type}' (${unknownInstanceTypeReason(type)})`).join(', ');
    errors.push(`${who}: instance types ${reasons} do not exist, so EC2 would refuse every launch; `
      + 'use a type from the EC2 instance types list, e.g. \'m7i.large\' or \'m7g.large\' '
      + '(families and sizes as aws-cdk-lib\'s InstanceClass and InstanceSize know them; a type newer than your aws-cdk-lib needs a newer aws-cdk-lib).');
  }
  const arm = config.architecture === RunnerArchitecture.ARM64;
  // The architecture as aws-cdk-lib's InstanceType.architecture gives it; types it cannot tell are not checked.
  const architectureOf = (type: string) => (unknown.includes(type) ? undefined : instanceTypeArchitecture(type));
  const mismatched = instanceTypes.filter((type) => INSTANCE_TYPE.test(type) && architectureOf(type) !== undefined
    && (architectureOf(type) === 'arm64') !== arm);
  if (mismatched.length > 0) {
    errors.push(`${who}: instance types ${JSON.stringify(mismatched)} do not match the architecture ${arm ? 'arm64' : 'x64'}; `
      + `set architecture: RunnerArchitecture.${arm ? 'X64' : 'ARM64'} or list ${arm ? 'Graviton (e.g. m7g.large)' : 'x86 (e.g. m7i.large)'} types only.`);
  }
  const maxRunners = config.maxRunners ?? 10;
  if (!Number.isInteger(maxRunners) || maxRunners < 1) {
    errors.push(`${who}: maxRunners is ${maxRunners}; it must be a whole number of at least 1.`);
  }
  if (config.warmPool) errors.push(...validateWarmPool(who, config.warmPool, maxRunners));
  const priority = config.priority ?? 0;
  const { min, max } = ROUTING_PRIORITY_RANGE;
  if (!Number.isInteger(priority) || priority < min || priority > max) {
    errors.push(`${who}: priority is ${priority}; give a whole number from ${min} to ${max} (the highest wins a tie), or leave it out for ${min}.`);
  }
  if (config.jobHooks) errors.push(...validateJobHooks(who, config.jobHooks));
  if (config.rootVolume) errors.push(...validateRootVolume(who, config.rootVolume, sharedVolumeSize));
  const group = config.runnerGroupId ?? 1;
  if (!Number.isInteger(group) || group < 1) {
    errors.push(`${who}: runnerGroupId is ${group}; use the numeric id of a runner group (1 is Default).`);
  }
  if (config.runnerGroup !== undefined && config.runnerGroupId !== undefined) {
    errors.push(`${who}: runnerGroup '${config.runnerGroup}' and runnerGroupId ${config.runnerGroupId} are both set; give the group by name or by id, not both.`);
  }
  if (config.runnerGroup !== undefined && !RUNNER_GROUP_NAME.test(config.runnerGroup)) {
    errors.push(`${who}: runnerGroup ${JSON.stringify(config.runnerGroup)} is not a runner group name; give the name as GitHub shows it `
      + '(1-100 characters, no leading or trailing space), e.g. \'linux-builders\'.');
  }
  if (errors.length === 0) {
    const size = Buffer.byteLength(JSON.stringify(toRunnerConfigDocument(config, index)));
    if (size > MAX_DOCUMENT_BYTES) {
      errors.push(`${who}: its document is ${size} bytes, above the ${MAX_DOCUMENT_BYTES} bytes of a standard SSM parameter; list fewer labels or instance types.`);
    }
  }
  return errors;
}

function validateRequirements(who: string, r: InstanceRequirements): string[] {
  const errors: string[] = [];
  const whole = (value: number | undefined, min: number) => value === undefined || (Number.isInteger(value) && value >= min);
  if (!whole(r.vCpuMin, 1)) errors.push(`${who}: instanceRequirements.vCpuMin is ${r.vCpuMin}; give a whole number of at least 1.`);
  if (!whole(r.vCpuMax, Math.max(1, r.vCpuMin))) errors.push(`${who}: instanceRequirements.vCpuMax is ${r.vCpuMax}; give a whole number no smaller than vCpuMin (${r.vCpuMin}).`);
  if (!whole(r.memoryMiBMin, 0)) errors.push(`${who}: instanceRequirements.memoryMiBMin is ${r.memoryMiBMin}; give a whole number of MiB, e.g. 8192.`);
  if (!whole(r.memoryMiBMax, Math.max(1, r.memoryMiBMin))) {
    errors.push(`${who}: instanceRequirements.memoryMiBMax is ${r.memoryMiBMax}; give a whole number of MiB no smaller than memoryMiBMin (${r.memoryMiBMin}).`);
  }
  return errors;
}

function validateSet(configs: readonly RunnerConfig[]): string[] {
  const errors: string[] = [];
  const byName = new Map<string, number>();
  const byLabels = new Map<string, string>();
  for (const config of configs) {
    byName.set(config.name, (byName.get(config.name) ?? 0) + 1);
    const key = routingLabels(config.labels).join(',');
    const twin = byLabels.get(key);
    // Whatever their priorities, one of the two wins every job either matches: the other would never run one.
    if (twin !== undefined && twin !== config.name && key !== '') {
      errors.push(`runner configs '${twin}' and '${config.name}' have the same labels [${key}], so one of them could never receive a job (whatever their priority); `
        + 'merge them into one config or give one a distinguishing label.');
    }
    byLabels.set(key, twin ?? config.name);
  }
  for (const [name, count] of byName) {
    if (count > 1) errors.push(`runner config name '${name}' is used ${count} times; give each config a unique name.`);
  }
  return errors;
}

function suggestName(name: string): string {
  const cleaned = name.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 32).replace(/-+$/, '');
  return cleaned === '' ? 'linux-x64' : cleaned;
}
