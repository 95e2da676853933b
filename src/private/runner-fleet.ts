// What every runner instance is launched with: a security group, an instance role, a log group and
// one launch template per runner config (DESIGN.md section 3.3-3.5); and what launching, listing and
// terminating them takes.
import { ArnFormat, Duration, Size, Stack, Tags } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct, IConstruct } from 'constructs';
import { BOOTSTRAP_PATH, bootstrapInstallCommands } from './bootstrap-install';
import { configSubnets, ownRole, rootVolume, RunnerConfigOverrides } from './config-overrides';
import { JobHookSettings, jobHookSettings, userDataSizeProblems } from './job-hook-install';
import { acknowledgeWildcards } from './nag';
import { packStatements } from './policy-size';
import { grantSessionManager, RunnerSessionDocument } from './session-manager';
import { BOOTSTRAP_ENVIRONMENT, encodeEnvironment, WARM_READ_AHEAD_SECONDS } from '../contracts/environment';
import { COST_TAG_KEYS, TAG_CONFIG, TAG_MANAGED_BY } from '../contracts/instance-tags';
import { JobHooks } from '../job-hooks';
import { RunnerConfigDocument, WarmPoolScheduleDocument } from '../runner-config-document';
import { RunnerMachineImage } from '../runner-machine-image';

/** The Spot service-linked role EC2 creates on the first spot launch of an account. */
export const SPOT_SERVICE_LINKED_ROLE = 'aws-service-role/spot.amazonaws.com/AWSServiceRoleForEC2Spot';

/** What a launch is bound to: the facts the provisioner's EC2 permissions name. */
export interface RunnerFleetAttributes {
  readonly launchTemplateArns: string[];
  /** The subnets runners launch into (every config's): the only subnets a launch may use. */
  readonly subnetIds: string[];
  /** The runners' security groups (every config's): the only ones a launch may attach (from the launch template). */
  readonly securityGroupIds: string[];
  /** The role the instances run with: with `configRoles`, the only roles a launch may pass. */
  readonly runnerRole: iam.IRole;
  /** The roles of the configs that have one of their own. @default - none */
  readonly configRoles?: iam.IRole[];
  /** SSM parameters the provisioner reads each config's AMI id from at launch. */
  readonly imageParameterArns: string[];
  /** This deployment's id: the managed-by tag's value. */
  readonly managedBy: string;
  /** Whether a config keeps a warm pool (whose instances the provisioner starts). @default false */
  readonly warmPools?: boolean;
}

/** The runner instances as the grants of the functions that launch, list and end them see them. */
export interface IRunnerFleet {
  /** Whether a config keeps a warm pool: only then do the functions need what warm pools take. */
  readonly hasWarmPools: boolean;
  /**
   * CreateFleet `instant` from the fleet's launch templates only, into its subnets with its security
   * group, tagging at launch with the managed-by tag, passing only the runner role to EC2; and read
   * the image parameters. The EC2 statements go into managed policies of `role`'s own (see policy-size.ts).
   */
  grantLaunch(role: iam.IRole): void;
  /** Terminate only instances that carry this deployment's managed-by tag. */
  grantTerminate(grantee: iam.IGrantable): void;
  /**
   * Start (a claimed warm pool instance) only instances that carry this deployment's managed-by tag.
   * No StopInstances: a warm instance powers itself off, and its shutdown behaviour makes that a stop.
   */
  grantStart(grantee: iam.IGrantable): void;
  /** DescribeInstances, which has no resource-level permissions: EC2 only accepts `*` for it. */
  grantDescribeInstances(grantee: iam.IGrantable): void;
  /**
   * Tag this deployment's instances and volumes with the cost allocation tags (repository, workflow)
   * and no other key: never the managed-by tag the other grants are conditioned on.
   */
  grantCostTags(grantee: iam.IGrantable): void;
}

const DESCRIBE_FINDING: [string, string] = ['Resource::*', 'EC2 Describe* calls have no resource-level permissions; AWS accepts only "*" for them.'];

abstract class RunnerFleetBase extends Construct implements IRunnerFleet {
  protected abstract readonly attributes: RunnerFleetAttributes;

  get hasWarmPools(): boolean {
    return this.attributes.warmPools ?? false;
  }

  grantLaunch(role: iam.IRole): void {
    const { imageParameterArns } = this.attributes;
    if (imageParameterArns.length > 0) role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['ssm:GetParameter'], resources: imageParameterArns }));
    packStatements(this, this.launchStatements()).forEach((statements, i) => {
      const policy = new iam.ManagedPolicy(role, `LaunchPolicy${i === 0 ? '' : i + 1}`, {
        description: `Launching runner instances from ${this.node.path}`,
        roles: [role],
        statements,
      });
      acknowledgeWildcards(policy, this.launchFindings());
    });
  }

  grantTerminate(grantee: iam.IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['ec2:TerminateInstances'],
      resources: [this.arn('instance')],
      conditions: { StringEquals: { [`aws:ResourceTag/${TAG_MANAGED_BY}`]: this.attributes.managedBy } },
    }));
    acknowledgeOn(grantee, [[this.findingOf('instance'), 'Terminating is conditioned on the instance\'s managed-by tag carrying this deployment\'s id.']]);
  }

  grantStart(grantee: iam.IGrantable): void {
    // StartInstances authorizes the instance (its tags: aws:ResourceTag) and, for an instance with
    // an encrypted volume, nothing more with the AWS managed EBS key
    // (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html).
    grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['ec2:StartInstances'],
      resources: [this.arn('instance')],
      conditions: { StringEquals: { [`aws:ResourceTag/${TAG_MANAGED_BY}`]: this.attributes.managedBy } },
    }));
    acknowledgeOn(grantee, [[this.findingOf('instance'), 'Starting is conditioned on the instance\'s managed-by tag carrying this deployment\'s id.']]);
  }

  grantDescribeInstances(grantee: iam.IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['ec2:DescribeInstances'], resources: ['*'] }));
    acknowledgeOn(grantee, [DESCRIBE_FINDING]);
  }

  grantCostTags(grantee: iam.IGrantable): void {
    // CreateTags on an existing resource is authorized on the resource (its tags: aws:ResourceTag) and
    // the request (aws:TagKeys), both condition keys of CreateTags on instance and volume in the
    // Service Authorization Reference (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html).
    // ForAllValues: every key the call sets must be a cost tag key; Null: a call must name its keys
    // (ForAllValues alone holds for a request without any).
    grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['ec2:CreateTags'],
      resources: [this.arn('instance'), this.arn('volume')],
      conditions: {
        'StringEquals': { [`aws:ResourceTag/${TAG_MANAGED_BY}`]: this.attributes.managedBy },
        'ForAllValues:StringEquals': { 'aws:TagKeys': [...COST_TAG_KEYS] },
        'Null': { 'aws:TagKeys': 'false' },
      },
    }));
    acknowledgeOn(grantee, ['instance', 'volume'].map((r): [string, string] => [this.findingOf(r),
      `Tagging ${r}s for cost allocation is conditioned on the ${r}'s managed-by tag carrying this deployment's id, and limited to the cost tag keys.`]));
  }

  /**
   * CreateFleet is authorized twice over (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ec2-fleet-prerequisites.html,
   * https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html): `ec2:CreateFleet`
   * on the request's resources, and `ec2:RunInstances` for each launch on the caller's behalf, where
   * `ec2:LaunchTemplate` names the template the launch comes from
   * (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/use-launch-templates-to-control-launching-instances.html).
   */
  private launchStatements(): iam.PolicyStatement[] {
    const facts = this.attributes;
    const arn = (resource: string, name?: string, account?: string) => this.arn(resource, name, account);
    const managedByTag = { [`aws:RequestTag/${TAG_MANAGED_BY}`]: facts.managedBy };
    const fromOurTemplates = { 'ec2:LaunchTemplate': facts.launchTemplateArns };
    const subnets = facts.subnetIds.map((id) => arn('subnet', id));
    // Public AMIs live in other accounts, hence no account in the image ARN. The provisioner names
    // the image in the overrides (read from its SSM parameter), so the image is not bound to the
    // template; every launch still has to come from one of our templates.
    const images = arn('image', '*', '');
    const stack = Stack.of(this);
    return [
      new iam.PolicyStatement({ actions: ['ec2:CreateFleet'], resources: [...facts.launchTemplateArns, ...subnets, images] }),
      // The fleet, the instances and their volumes are created by the call: their ids do not exist
      // before it, so the names are wildcards; the tag condition binds them to us.
      new iam.PolicyStatement({
        actions: ['ec2:CreateFleet'],
        resources: [arn('fleet'), arn('instance'), arn('volume')],
        conditions: { StringEquals: managedByTag },
      }),
      // Every resource a launch uses or creates must come through one of our launch templates.
      new iam.PolicyStatement({
        actions: ['ec2:RunInstances'],
        resources: [...facts.launchTemplateArns, ...subnets, images],
        conditions: { ArnEquals: fromOurTemplates },
      }),
      new iam.PolicyStatement({
        actions: ['ec2:RunInstances'],
        resources: [arn('instance'), arn('volume')],
        conditions: { StringEquals: managedByTag, ArnEquals: fromOurTemplates },
      }),
      // Network interfaces are created in our subnets without tags of their own (CreateFleet tags
      // instances, volumes and the fleet only): a new id, hence the wildcard, bound to our templates.
      new iam.PolicyStatement({ actions: ['ec2:RunInstances'], resources: [arn('network-interface')], conditions: { ArnEquals: fromOurTemplates } }),
      // Our security group, and only as the launch template sets it (not from a request's overrides).
      new iam.PolicyStatement({
        actions: ['ec2:RunInstances'],
        resources: facts.securityGroupIds.map((id) => arn('security-group', id)),
        conditions: { ArnEquals: fromOurTemplates, Bool: { 'ec2:IsLaunchTemplateResource': 'true' } },
      }),
      // A spot launch creates a spot instances request: a new id, and the resource type takes no
      // launch-template condition (Service Authorization Reference); the statements above still bind
      // every other resource of the same launch to our templates, subnets and security group.
      new iam.PolicyStatement({ actions: ['ec2:RunInstances'], resources: [arn('spot-instances-request')] }),
      new iam.PolicyStatement({
        actions: ['ec2:CreateTags'],
        resources: [arn('fleet'), arn('instance'), arn('volume'), arn('network-interface')],
        conditions: { StringEquals: { 'ec2:CreateAction': ['CreateFleet', 'RunInstances'] } },
      }),
      new iam.PolicyStatement({
        actions: ['iam:PassRole'],
        resources: [facts.runnerRole, ...facts.configRoles ?? []].map((role) => role.roleArn),
        conditions: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
      }),
      // An account that never ran spot has no AWSServiceRoleForEC2Spot: the first spot launch creates
      // it on the caller's authority, or fails with AuthFailure.ServiceLinkedRoleCreationNotPermitted
      // ("Service-linked role for Spot Instances",
      // https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/service-linked-roles-spot-instance-requests.html).
      // That one role, for that one service.
      new iam.PolicyStatement({
        actions: ['iam:CreateServiceLinkedRole'],
        resources: [stack.formatArn({ service: 'iam', region: '', resource: 'role', resourceName: SPOT_SERVICE_LINKED_ROLE, arnFormat: ArnFormat.SLASH_RESOURCE_NAME })],
        conditions: { StringEquals: { 'iam:AWSServiceName': 'spot.amazonaws.com' } },
      }),
      // CreateFleet describes the launch template versions and checks the service-linked role.
      new iam.PolicyStatement({
        actions: ['ec2:DescribeLaunchTemplates', 'ec2:DescribeLaunchTemplateVersions', 'ec2:DescribeSubnets', 'ec2:DescribeImages'],
        resources: ['*'],
      }),
    ];
  }

  private launchFindings(): Array<[string, string]> {
    return [
      DESCRIBE_FINDING,
      ...['fleet', 'volume'].map((r): [string, string] => [this.findingOf(r),
        `CreateFleet creates the ${r}: its id does not exist before the call; the aws:RequestTag condition binds it to this deployment.`]),
      [this.findingOf('instance'), 'CreateFleet creates the instances: their ids do not exist before the call; the aws:RequestTag and ec2:LaunchTemplate conditions bind them to this deployment.'],
      [this.findingOf('network-interface'), 'CreateFleet creates the instances\' network interfaces (new ids) in this deployment\'s subnets; '
        + 'the ec2:LaunchTemplate condition binds them to this deployment\'s launch templates.'],
      [this.findingOf('spot-instances-request'), 'A spot launch creates a spot instances request (a new id; the resource type takes no launch-template '
        + 'condition); every other resource of the same launch is bound to this deployment\'s launch templates, subnets and security group.'],
      [this.findingOf('image', ''), 'Public runner images (Canonical\'s) belong to other accounts; every launch must come from this deployment\'s launch templates (ec2:LaunchTemplate).'],
    ];
  }

  private arn(resource: string, name = '*', account?: string): string {
    return Stack.of(this).formatArn({ service: 'ec2', resource, resourceName: name, ...(account !== undefined ? { account } : {}) });
  }

  /** The finding cdk-nag reports for a wildcard EC2 ARN of `resource`. */
  private findingOf(resource: string, account = '<AWS::AccountId>'): string {
    return `Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:${account}:${resource}/*`;
  }
}

function acknowledgeOn(grantee: iam.IGrantable, findings: Array<[string, string]>): void {
  const principal = grantee.grantPrincipal as Partial<IConstruct>;
  if (principal.node) acknowledgeWildcards(principal as IConstruct, findings);
}

/** Where a warm pool instance's bootstrap is installed: cloud-init runs it on every boot. */
const PER_BOOT_SCRIPT = '/var/lib/cloud/scripts/per-boot/ephemeral-runners.sh';

/** Props of {@link RunnerFleet}. */
export interface RunnerFleetProps {
  readonly vpc: ec2.IVpc;
  /** The subnets instances launch into. */
  readonly subnets: ec2.SelectedSubnets;
  /** The runner configs, as written to SSM. */
  readonly configs: RunnerConfigDocument[];
  /** Where the images come from: the provisioner reads their SSM parameters at launch. @default - every config names its own */
  readonly machineImage?: RunnerMachineImage;
  readonly rootVolumeSize: Size;
  readonly maxLifetime: Duration;
  /** How long an instance may take to get its runner config. */
  readonly bootTimeout: Duration;
  readonly logRetention: logs.RetentionDays;
  /** The value of the managed-by tag of this deployment. */
  readonly managedBy: string;
  /** Job hooks by runner config name, for the configs that have any. @default - none */
  readonly jobHooks?: Readonly<Record<string, JobHooks>>;
  /** What configs set for their own instances, by runner config name. @default - none: every config as the deployment */
  readonly overrides?: Readonly<Record<string, RunnerConfigOverrides>>;
  /** The runner configs whose instances stream the runner's own logs. @default none */
  readonly runnerLogConfigs?: readonly string[];
}

/**
 * Runner instances: no inbound traffic, IMDSv2 only with a hop limit of 1 (so a job's containers
 * cannot reach the instance's credentials), an encrypted gp3 root volume, terminated when they
 * power off, no SSH key, and user data that holds no secret.
 */
export class RunnerFleet extends RunnerFleetBase {
  /** A fleet known by its attributes (a test's): grants only. */
  static fromAttributes(scope: Construct, id: string, attributes: RunnerFleetAttributes): IRunnerFleet {
    return new (class extends RunnerFleetBase {
      readonly attributes = attributes;
    })(scope, id);
  }

  readonly securityGroup: ec2.SecurityGroup;
  /** The instance role of every config that has none of its own. */
  readonly role: iam.Role;
  /** The instance roles of the configs that have their own (managed policies or policy statements), by config name. */
  readonly configRoles: Record<string, iam.Role> = {};
  /** The subnets of the configs that set their own, by config name. */
  readonly configSubnetIds: Record<string, string[]> = {};
  readonly logGroup: logs.LogGroup;
  /** Launch template per config name. */
  readonly launchTemplates: Record<string, ec2.LaunchTemplate> = {};
  /**
   * Warm pool launch template per config name, for configs with a warm pool: the same as the
   * config's, but an instance that powers off stops (and can be started again), and the bootstrap
   * runs on every boot.
   */
  readonly warmLaunchTemplates: Record<string, ec2.LaunchTemplate> = {};
  /** The configs that keep a warm pool. */
  readonly warmPoolConfigs: string[];
  /** The warm pools kept on a schedule, by config name (the rest are kept always). */
  readonly warmPoolSchedules: Record<string, WarmPoolScheduleDocument> = {};
  /** This deployment's id: the managed-by tag's value. */
  readonly managedBy: string;
  /** Every runner this deployment registers at GitHub has a name starting with this. */
  readonly runnerNamePrefix: string;
  readonly maxLifetime: Duration;
  readonly bootTimeout: Duration;
  readonly subnetIds: string[];
  protected readonly attributes: RunnerFleetAttributes;
  private readonly userData: Array<{ config: string; userData: ec2.UserData }> = [];
  private readonly warmUserData: Array<{ config: string; userData: ec2.UserData }> = [];
  private readonly jobHooks: Readonly<Record<string, JobHooks>>;
  private readonly runnerLogConfigs: readonly string[];
  /** What the bootstrap is told of each config's job hooks, by config name. */
  private readonly hookSettings: Record<string, JobHookSettings> = {};
  private readonly overrides: Readonly<Record<string, RunnerConfigOverrides>>;
  /** Overrides the fleet cannot apply (subnets outside the VPC), reported at synth. */
  private readonly problems: string[] = [];

  constructor(scope: Construct, id: string, props: RunnerFleetProps) {
    super(scope, id);
    this.managedBy = props.managedBy;
    this.runnerNamePrefix = `${props.managedBy}-`;
    this.maxLifetime = props.maxLifetime;
    this.bootTimeout = props.bootTimeout;
    this.subnetIds = props.subnets.subnetIds;
    this.jobHooks = props.jobHooks ?? {};
    this.overrides = props.overrides ?? {};
    this.runnerLogConfigs = props.runnerLogConfigs ?? [];
    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'Ephemeral GitHub Actions runners: no inbound traffic',
      allowAllOutbound: true,
    });
    this.logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetention });
    this.role = this.runnerRole('Role', 'Ephemeral GitHub Actions runner instances: may call the register endpoint and write their logs, nothing else');
    for (const [name, overrides] of Object.entries(this.overrides).filter(([, o]) => ownRole(o))) {
      const role = this.runnerRole(`Role-${name}`, `Ephemeral GitHub Actions runner instances of runner config '${name}': `
        + 'may call the register endpoint and write their logs, and what the config grants');
      overrides.managedPolicies?.forEach((policy) => role.addManagedPolicy(policy));
      overrides.rolePolicyStatements?.forEach((statement) => role.addToPolicy(statement));
      if (overrides.debug?.sessionManager) grantSessionManager(role, this.logGroup);
      this.configRoles[name] = role;
    }
    if (Object.values(this.overrides).some((o) => o.debug?.sessionManager)) new RunnerSessionDocument(this, 'SessionDocument', this.logGroup);
    for (const [config, hooks] of Object.entries(this.jobHooks)) {
      this.hookSettings[config] = jobHookSettings(this, this.roleOf(config), config, hooks);
    }
    for (const [name, overrides] of Object.entries(this.overrides)) {
      if (!overrides.subnets) continue;
      const found = configSubnets(props.vpc, overrides.subnets, `runner config '${name}'`);
      if (typeof found === 'string') this.problems.push(found);
      else this.configSubnetIds[name] = found;
    }
    this.node.addValidation({ validate: () => this.problems });
    for (const config of props.configs) this.launchTemplates[config.name] = this.launchTemplate(config, props, false);
    for (const config of props.configs.filter((c) => c.warmPool)) this.warmLaunchTemplates[config.name] = this.launchTemplate(config, props, true);
    this.warmPoolConfigs = Object.keys(this.warmLaunchTemplates);
    for (const config of props.configs) if (config.warmPool?.schedule) this.warmPoolSchedules[config.name] = config.warmPool.schedule;
    const overrides = Object.values(this.overrides);
    const images = [props.machineImage, ...overrides.map((o) => o.machineImage)].filter((i): i is RunnerMachineImage => i !== undefined);
    const extraGroups = overrides.flatMap((o) => o.securityGroups ?? []).map((g) => g.securityGroupId);
    this.attributes = {
      launchTemplateArns: [...Object.values(this.launchTemplates), ...Object.values(this.warmLaunchTemplates)].map((t) => this.arnOf(t)),
      subnetIds: unique([...this.subnetIds, ...Object.values(this.configSubnetIds).flat()]),
      securityGroupIds: unique([this.securityGroup.securityGroupId, ...extraGroups]),
      runnerRole: this.role,
      ...(Object.keys(this.configRoles).length > 0 ? { configRoles: Object.values(this.configRoles) } : {}),
      imageParameterArns: unique(images.flatMap((image) => image._parameterArns(this))),
      managedBy: props.managedBy,
      warmPools: this.warmPoolConfigs.length > 0,
    };
  }

  /** The instance role of a config's instances: its own, or the shared one. */
  roleOf(config: string): iam.Role {
    return this.configRoles[config] ?? this.role;
  }

  /** Every runner instance role: the shared one, then the configs' own. */
  get roles(): iam.Role[] {
    return [this.role, ...Object.values(this.configRoles)];
  }

  /** Launch template id by runner config name, as the provisioner's environment names them. */
  get launchTemplateIds(): Record<string, string> {
    return Object.fromEntries(Object.entries(this.launchTemplates).map(([name, t]) => [name, t.launchTemplateId!]));
  }

  /** Every subnet a runner may launch into: the deployment's and every config's own. */
  get allSubnetIds(): string[] {
    return this.attributes.subnetIds;
  }

  /** The subnets of each config that has its own, `,`-joined, by config name; undefined when none has. */
  get configSubnetIdsByName(): Record<string, string> | undefined {
    const entries = Object.entries(this.configSubnetIds);
    return entries.length === 0 ? undefined : Object.fromEntries(entries.map(([name, ids]) => [name, ids.join(',')]));
  }

  /** Warm pool launch template id by runner config name; undefined when no config keeps a warm pool. */
  get warmLaunchTemplateIds(): Record<string, string> | undefined {
    const entries = Object.entries(this.warmLaunchTemplates);
    return entries.length === 0 ? undefined : Object.fromEntries(entries.map(([name, t]) => [name, t.launchTemplateId!]));
  }

  /**
   * Writes the bootstrap into every launch template's user data, pointing at the register endpoint.
   * Called once the endpoint exists.
   */
  useRegisterEndpoint(url: string, service: string): void {
    // Settings only: the endpoint is public knowledge, and the instance proves who it is with SigV4.
    // Job hooks are per config, and not secret either (see JobHookScript).
    const exportsOf = (config: string) => Object.entries(encodeEnvironment(BOOTSTRAP_ENVIRONMENT, {
      registerUrl: url,
      registerService: service,
      configTimeoutSeconds: this.bootTimeout.toSeconds(),
      logGroupName: this.logGroup.logGroupName,
      maxLifetimeSeconds: this.maxLifetime.toSeconds(),
      readAheadSeconds: WARM_READ_AHEAD_SECONDS,
      ...this.hookSettings[config],
      ...(this.runnerLogConfigs.includes(config) && { runnerDiagnosticLogs: '1' }),
    })).map(([name, value]) => `export ${name}='${value}'`);
    const install = bootstrapInstallCommands();
    for (const { config, userData } of this.userData) userData.addCommands(...exportsOf(config), ...install, `exec ${BOOTSTRAP_PATH}`);
    // User data runs on an instance's first boot only. A warm pool instance boots twice (once to
    // warm up, once when a job claims it), so the bootstrap goes into cloud-init's per-boot scripts,
    // which run on every boot (https://cloudinit.readthedocs.io/en/latest/reference/modules.html#scripts-per-boot).
    // They run before the user data script on the first boot (cloud-init's script modules run in the
    // order vendor, per-once, per-boot, per-instance, user: canonical/cloud-init#1365), so the user
    // data runs it itself then.
    for (const { config, userData } of this.warmUserData) {
      userData.addCommands(
        ...install,
        `cat > ${PER_BOOT_SCRIPT} <<'EPHEMERAL_RUNNERS_PER_BOOT'`,
        '#!/bin/bash',
        ...exportsOf(config),
        `exec ${BOOTSTRAP_PATH}`,
        'EPHEMERAL_RUNNERS_PER_BOOT',
        `chmod 755 ${PER_BOOT_SCRIPT}`,
        `exec ${PER_BOOT_SCRIPT}`,
      );
    }
    const templates = [...this.userData, ...this.warmUserData];
    this.node.addValidation({ validate: () => templates.flatMap((t) => userDataSizeProblems(t.config, t.userData, this.jobHooks[t.config])) });
  }

  private launchTemplate(config: RunnerConfigDocument, props: RunnerFleetProps, warm: boolean): ec2.LaunchTemplate {
    const userData = ec2.UserData.forLinux();
    (warm ? this.warmUserData : this.userData).push({ config: config.name, userData });
    // No image: the provisioner passes the AMI id at launch (see RunnerMachineImage). EC2 checks a
    // template's `resolve:ssm:` parameter when the template is created, and the construct's own
    // image parameter only exists once the pipeline has built the first image.
    const overrides = this.overrides[config.name];
    const template = new ec2.LaunchTemplate(this, `${warm ? 'WarmLaunchTemplate' : 'LaunchTemplate'}-${config.name}`, {
      role: this.roleOf(config.name),
      securityGroup: this.securityGroup,
      userData,
      requireImdsv2: true,
      httpTokens: ec2.LaunchTemplateHttpTokens.REQUIRED,
      httpPutResponseHopLimit: 1,
      instanceMetadataTags: overrides?.instanceMetadataTags ?? false,
      // A warm pool instance powers off after its warm-up and must stay, stopped; every other powers
      // off after its one job and is gone. A claimed warm instance stops after its job too: the
      // lifecycle function terminates it on `stopped`.
      instanceInitiatedShutdownBehavior: warm ? ec2.InstanceInitiatedShutdownBehavior.STOP : ec2.InstanceInitiatedShutdownBehavior.TERMINATE,
      blockDevices: [{ deviceName: '/dev/sda1', volume: rootVolume(overrides, props.rootVolumeSize) }],
    });
    // In addition to the shared group, whose rules the deployment's `connections` manage.
    overrides?.securityGroups?.forEach((group) => template.addSecurityGroup(group));
    Tags.of(template).add(TAG_CONFIG, config.name);
    Tags.of(template).add(TAG_MANAGED_BY, props.managedBy);
    return template;
  }

  /** An instance role with what every runner needs: writing its log lines (the register endpoint grants its own invoke). */
  private runnerRole(id: string, description: string): iam.Role {
    const role = new iam.Role(this, id, { assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'), description });
    role.addToPolicy(new iam.PolicyStatement({
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      resources: [this.logGroup.logGroupArn],
    }));
    return role;
  }

  private arnOf(template: ec2.LaunchTemplate): string {
    return Stack.of(this).formatArn({ service: 'ec2', resource: 'launch-template', resourceName: template.launchTemplateId! });
  }
}

function unique<T>(values: T[]): T[] {
  return [...new Set(values)];
}
