// The runner image: an EC2 Image Builder pipeline per architecture that bakes Docker, build tools,
// the GitHub Actions runner (newest or pinned, verified by SHA-256, never older than the GitHub
// server ships) and the bootstrap into an Ubuntu LTS AMI, writes the newest AMI id into an SSM
// parameter the launch templates resolve at every launch, builds on deploy and on a schedule, and
// keeps only the newest few images.
import { createHash } from 'crypto';
import { Annotations, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as imagebuilder from 'aws-cdk-lib/aws-imagebuilder';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { TAG_IMAGE } from './contracts/instance-tags';
import { NO_RUNNER_VERSION, RUNNER_VERSION_PARAMETER_SUFFIX, SERVER_RUNNER_VERSION_PARAMETER_SUFFIX } from './contracts/runner-version';
import { pemBundleProblem } from './pem';
import { bootstrapComponent, caComponent, fileComponent, prePullComponent } from './private/image-components';
import { installRunnerComponent, installRunnerParameters } from './private/install-runner-component';
import { acknowledgeFindings, managedPolicyFinding } from './private/nag';
import { RunnerRelease, RunnerVersion } from './runner-version';
import { canonicalUbuntuParameter } from './ubuntu-image';

/** Ubuntu LTS releases the runner image can be built on. */
export enum UbuntuRelease {
  UBUNTU_24_04 = '24.04',
  UBUNTU_22_04 = '22.04',
}

/** How the runner image is built; every field has a default. */
export interface RunnerImageOptions {
  /** @default UbuntuRelease.UBUNTU_24_04 */
  readonly ubuntuRelease?: UbuntuRelease;
  /**
   * The runner release the image bakes: the newest, resolved at every build, or a pinned one.
   * Either way a build fails, publishing no image, when the release is older than the one the
   * GitHub server ships (as the control plane last read it).
   *
   * @default RunnerVersion.latest()
   */
  readonly runnerVersion?: RunnerVersion;
  /**
   * A pinned runner release.
   *
   * @deprecated use `runnerVersion: RunnerVersion.pinned(release)`
   * @default - see `runnerVersion`
   */
  readonly runnerRelease?: RunnerRelease;
  /** Container images pulled into the image so jobs start without pulling them, e.g. `node:22`. @default none */
  readonly prePulledImages?: string[];
  /** Image Builder components of your own (their ARNs), run after the project's. @default none */
  readonly extraComponentArns?: string[];
  /** PEM certificates the image trusts in addition to the system's (a GHES behind a private CA). @default none */
  readonly caCertificatesPem?: string;
  /** When to rebuild (picking up OS updates), as an Image Builder cron expression. @default weekly, Sunday 04:00 UTC */
  readonly scheduleExpression?: string;
  /** How many of the newest images to keep per architecture; older ones and their snapshots are deleted. @default 3 */
  readonly keepImages?: number;
  /** Root volume of the images, GiB. @default 30 */
  readonly volumeSizeGiB?: number;
  /**
   * Where builds run, in the VPC: the first subnet selected. A build downloads Ubuntu packages,
   * Docker's packages and the runner archive from github.com (and, with `RunnerVersion.latest()`,
   * asks api.github.com for the newest release), and is driven by Image Builder through SSM, so the
   * subnet needs a way to them (directly, a NAT, a proxy or endpoints).
   *
   * @default - the first runner subnet (EphemeralRunners), or `subnet` (RunnerImagePipeline)
   */
  readonly buildSubnets?: ec2.SubnetSelection;
}

/** Props of {@link RunnerImagePipeline}. */
export interface RunnerImagePipelineProps extends RunnerImageOptions {
  /** The architectures to build an image for. */
  readonly architectures: ec2.InstanceArchitecture[];
  /**
   * SSM parameter name prefix; the newest AMI ids go to `<prefix>/x64` and `<prefix>/arm64`, their
   * runner versions to `<prefix>/runner-version/<arch>`; the runner version the GitHub server ships
   * is kept in `<prefix>/runner-version/github-server`.
   */
  readonly parameterPrefix: string;
  /** The VPC builds run in. @default - the account's default VPC */
  readonly vpc?: ec2.IVpc;
  /** The subnet builds run in; it needs a way to the internet (the runner archive, packages). @default - a default subnet */
  readonly subnet?: ec2.ISubnet;
}

/** A component of the recipe; `perArchitecture`: its parameters are set per architecture (the runner's). */
interface PipelineComponent {
  readonly component: imagebuilder.CfnComponent;
  readonly parameters?: Array<{ name: string; value: string[] }>;
  readonly perArchitecture?: boolean;
}

/** What every architecture's pipeline shares. */
interface PipelineParts {
  readonly props: RunnerImagePipelineProps;
  readonly ubuntu: UbuntuRelease;
  readonly components: PipelineComponent[];
  readonly profile: iam.CfnInstanceProfile;
  readonly securityGroup?: ec2.SecurityGroup;
  readonly buildSubnet?: ec2.ISubnet;
  readonly lifecycleRole: iam.Role;
}

/** Image Builder builds images; one pipeline per architecture. */
export class RunnerImagePipeline extends Construct {
  /**
   * The runner release baked by default, with the SHA-256 sums published on its release page
   * (https://github.com/actions/runner/releases/tag/v2.329.0). Builds with `RunnerVersion.latest()`
   * refuse a "newest" release older than this one.
   */
  static readonly DEFAULT_RUNNER_RELEASE: RunnerRelease = {
    version: '2.329.0',
    sha256X64: '194f1e1e4bd02f80b7e9633fc546084d8d4e19f3928a324d512ea53430102e1d',
    sha256Arm64: '56768348b3d643a6a29d4ad71e9bdae0dc0ef1eb01afe0f7a8ee097b039bfaaf',
  };

  /** The architectures built, as `x64` / `arm64`. */
  readonly architectureNames: string[];
  /** The SSM parameter holding the runner version the GitHub server ships, as the control plane last read it. */
  readonly serverRunnerVersionParameter: ssm.IStringParameter;

  private readonly parameterNames = new Map<ec2.InstanceArchitecture, string>();
  private readonly runnerVersionParameters = new Map<ec2.InstanceArchitecture, ssm.IStringParameter>();
  /** Names every Image Builder resource of this pipeline, unique per stack and construct path. */
  private readonly namePrefix: string;
  private buildRole!: iam.Role;

  constructor(scope: Construct, id: string, props: RunnerImagePipelineProps) {
    super(scope, id);
    this.namePrefix = `ephemeral-runners-${createHash('sha256').update(`${Stack.of(this).stackName}/${this.node.path}`).digest('hex').slice(0, 10)}`;
    const buildSubnet = props.buildSubnets && props.vpc ? props.vpc.selectSubnets(props.buildSubnets).subnets[0] : props.subnet;
    const caProblem = props.caCertificatesPem === undefined ? undefined : pemBundleProblem('caCertificatesPem', props.caCertificatesPem);
    this.node.addValidation({ validate: () => (caProblem ? [caProblem] : []) });
    if (props.runnerRelease && props.runnerVersion) {
      throw new Error('runnerImage sets both runnerRelease and runnerVersion: keep runnerVersion (runnerRelease is deprecated; RunnerVersion.pinned(release) says the same)');
    }
    const release = props.runnerRelease ?? (props.runnerVersion ?? RunnerVersion.latest()).release;
    if (release) validateRelease(release);
    const ubuntu = props.ubuntuRelease ?? UbuntuRelease.UBUNTU_24_04;
    if (ubuntu === UbuntuRelease.UBUNTU_22_04) {
      // curl signs x-amz-security-token with --aws-sigv4 from 7.86 on (curl#7966); 22.04 ships 7.81.
      Annotations.of(this).addWarningV2('cdk-ephemeral-runners:ubuntu2204Curl',
        'Ubuntu 22.04 ships curl 7.81, which sends the instance\'s session token unsigned when the bootstrap calls the register endpoint '
        + '(curl signs it from 7.86 on); whether AWS accepts that is not verified. Prefer UbuntuRelease.UBUNTU_24_04 (the default), '
        + 'or add a component that installs curl 7.86 or newer.');
    }

    // Written by the reconciler; 0.0.0 until it has read the server's version.
    const serverParameterName = `${props.parameterPrefix}/${SERVER_RUNNER_VERSION_PARAMETER_SUFFIX}`;
    this.serverRunnerVersionParameter = this.versionParameter('ServerRunnerVersion', serverParameterName,
      'The runner version the GitHub server ships (its minimum), as the reconciler last read it; image builds refuse older runners');
    const { profile, securityGroup } = this.buildInstance(props);

    // In order: the CA first (downloads after it may go through a TLS-inspecting proxy), then
    // tools (jq, which the runner's install reads JSON with), the runner, the bootstrap and the
    // pre-pulled images. The runner's parameters differ per architecture (where its version goes).
    const runner = this.component('Runner', 'install-runner', installRunnerComponent());
    const components: PipelineParts['components'] = [
      ...(props.caCertificatesPem ? [{ component: this.component('CaCertificates', 'ca-certificates', caComponent(props.caCertificatesPem)) }] : []),
      { component: this.component('Tools', 'install-tools', fileComponent('install-tools.yml')) },
      { component: runner, perArchitecture: true },
      { component: this.component('Bootstrap', 'bootstrap', bootstrapComponent()) },
      ...((props.prePulledImages ?? []).length > 0 ? [{ component: this.component('PrePull', 'pre-pull', prePullComponent(props.prePulledImages!)) }] : []),
    ];

    const lifecycleRole = new iam.Role(this, 'LifecycleRole', {
      assumedBy: new iam.ServicePrincipal('imagebuilder.amazonaws.com'),
      description: 'Image Builder lifecycle policy: deletes runner images beyond the newest few',
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/EC2ImageBuilderLifecycleExecutionPolicy')],
    });
    acknowledgeFindings(lifecycleRole, {
      [managedPolicyFinding('service-role/EC2ImageBuilderLifecycleExecutionPolicy')]:
        'The policy Image Builder lifecycle policies require; it deletes only images the policy\'s tag selection names.',
    });

    this.architectureNames = props.architectures.map(archName);
    for (const architecture of props.architectures) {
      const arch = archName(architecture);
      const versionParameterName = `${props.parameterPrefix}/${RUNNER_VERSION_PARAMETER_SUFFIX}/${arch}`;
      const versionParameter = this.versionParameter(`RunnerVersion-${arch}`, versionParameterName,
        `The runner version of the newest ${arch} runner image, written by its build; 0.0.0 before the first`);
      this.runnerVersionParameters.set(architecture, versionParameter);
      const runnerParameters = installRunnerParameters(release, {
        // A newest release older than the default pin means GitHub's answer is not what it seems.
        minimum: release?.version ?? RunnerImagePipeline.DEFAULT_RUNNER_RELEASE.version,
        // Names as written, not the parameters' tokens: the recipe's version is a hash of its content.
        floor: serverParameterName,
        version: versionParameterName,
      });
      const archComponents = components.map((c) => (c.perArchitecture ? { component: c.component, parameters: runnerParameters } : c));
      const pipeline = this.addPipeline(architecture, {
        props, ubuntu, components: archComponents, profile, securityGroup, buildSubnet, lifecycleRole,
      });
      // A build creates neither parameter: both exist (CloudFormation's) before the first starts.
      pipeline.node.addDependency(this.node.findChild(`RunnerVersion-${arch}`), this.node.findChild('ServerRunnerVersion'));
    }
    // The build (test phase) writes the image's runner version; it reads the server's as its floor.
    this.buildRole.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['ssm:PutParameter'],
      resources: [...this.runnerVersionParameters.values()].map((p) => p.parameterArn),
    }));
    this.serverRunnerVersionParameter.grantRead(this.buildRole);
  }

  /** The SSM parameter holding the runner version of the newest image of `architecture`; undefined when none is built for it. */
  runnerVersionParameterFor(architecture: ec2.InstanceArchitecture): ssm.IStringParameter | undefined {
    return this.runnerVersionParameters.get(architecture);
  }

  /** The SSM parameter holding the newest AMI id of `architecture`; undefined when none is built for it. */
  parameterNameFor(architecture: ec2.InstanceArchitecture): string | undefined {
    return this.parameterNames.get(architecture);
  }

  /**
   * A String parameter holding a runner version, 0.0.0 at first. The L1: a name under a malformed
   * prefix is reported with the other props' problems, rather than thrown by StringParameter.
   */
  private versionParameter(id: string, name: string, description: string): ssm.IStringParameter {
    const parameter = new ssm.CfnParameter(this, id, { name, type: 'String', value: NO_RUNNER_VERSION, description });
    // Its Ref is its name; every name here starts with '/' (the prefix is checked to).
    return ssm.StringParameter.fromStringParameterAttributes(this, `${id}-ref`, { parameterName: parameter.ref, simpleName: false });
  }

  /** The build instances' profile (Image Builder's documented policies) and, in a VPC of one's own, security group. */
  private buildInstance(props: RunnerImagePipelineProps): { profile: iam.CfnInstanceProfile; securityGroup?: ec2.SecurityGroup } {
    const role = this.buildRole = new iam.Role(this, 'BuildRole', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: 'Image Builder build instances of the runner image',
      managedPolicies: [
        // What Image Builder documents for its build instances: its agent (SSM) and component access.
        iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore'),
        iam.ManagedPolicy.fromAwsManagedPolicyName('EC2InstanceProfileForImageBuilder'),
      ],
    });
    acknowledgeFindings(role, {
      [managedPolicyFinding('AmazonSSMManagedInstanceCore')]: 'Image Builder drives its build instances through the SSM agent; this is the policy it documents for them.',
      [managedPolicyFinding('EC2InstanceProfileForImageBuilder')]: 'Image Builder\'s documented policy for build instances: fetch components, write build logs. The role exists only on build instances.',
    });
    const profile = new iam.CfnInstanceProfile(this, 'BuildInstanceProfile', { roles: [role.roleName] });
    const securityGroup = props.vpc && new ec2.SecurityGroup(this, 'BuildSecurityGroup', {
      vpc: props.vpc,
      description: 'Runner image builds: no inbound traffic',
      allowAllOutbound: true,
    });
    return { profile, securityGroup };
  }

  /** One architecture's recipe, build infrastructure, distribution, pipeline and lifecycle policy. */
  private addPipeline(architecture: ec2.InstanceArchitecture, shared: PipelineParts): imagebuilder.CfnImagePipeline {
    const { props, ubuntu, components, profile, securityGroup, buildSubnet, lifecycleRole } = shared;
    const stack = Stack.of(this);
    const arch = archName(architecture);
    const parameterName = `${props.parameterPrefix}/${arch}`;
    this.parameterNames.set(architecture, parameterName);
    const recipeComponents = [
      ...components.map((c) => ({ componentArn: c.component.attrArn, parameters: c.parameters })),
      ...(props.extraComponentArns ?? []).map((componentArn) => ({ componentArn })),
    ];
    const recipeName = `${this.namePrefix}-${arch}`;
    const recipe = new imagebuilder.CfnImageRecipe(this, `Recipe-${arch}`, {
      name: recipeName,
      version: versionOf({
        ubuntu,
        arch,
        size: props.volumeSizeGiB,
        extra: props.extraComponentArns,
        components: components.map((c) => [c.component.version, c.parameters ?? null]),
      }),
      parentImage: `ssm:${canonicalUbuntuParameter(ubuntu, arch === 'x64' ? 'amd64' : 'arm64')}`,
      components: recipeComponents,
      blockDeviceMappings: [{
        deviceName: '/dev/sda1',
        ebs: { volumeSize: props.volumeSizeGiB ?? 30, volumeType: 'gp3', encrypted: true, deleteOnTermination: true },
      }],
    });
    const infrastructure = new imagebuilder.CfnInfrastructureConfiguration(this, `Infrastructure-${arch}`, {
      name: `${recipeName}-build`,
      instanceProfileName: profile.ref,
      instanceTypes: arch === 'x64' ? ['m7i.large', 'm6i.large'] : ['m7g.large', 'm6g.large'],
      subnetId: buildSubnet?.subnetId,
      securityGroupIds: securityGroup ? [securityGroup.securityGroupId] : undefined,
      terminateInstanceOnFailure: true,
      instanceMetadataOptions: { httpTokens: 'required', httpPutResponseHopLimit: 2 },
    });
    const distribution = new imagebuilder.CfnDistributionConfiguration(this, `Distribution-${arch}`, {
      name: `${recipeName}-distribution`,
      distributions: [{
        region: stack.region,
        // Untyped in CDK's L1 (Json), so CDK passes the keys through as written: CloudFormation's
        // schema spells them Name and AmiTags, and the lifecycle policy selects images by this tag.
        amiDistributionConfiguration: { Name: `${recipeName}-{{ imagebuilder:buildDate }}`, AmiTags: { [TAG_IMAGE]: recipeName } },
        // The launch templates resolve this parameter at every launch: a new image is used without a redeploy.
        ssmParameterConfigurations: [{ parameterName, dataType: 'aws:ec2:image' }],
      }],
    });
    const pipeline = new imagebuilder.CfnImagePipeline(this, `Pipeline-${arch}`, {
      name: recipeName,
      imageRecipeArn: recipe.attrArn,
      infrastructureConfigurationArn: infrastructure.attrArn,
      distributionConfigurationArn: distribution.attrArn,
      schedule: {
        scheduleExpression: props.scheduleExpression ?? 'cron(0 4 ? * sun *)',
        pipelineExecutionStartCondition: 'EXPRESSION_MATCH_ONLY',
      },
      imageTestsConfiguration: { imageTestsEnabled: true, timeoutMinutes: 60 },
    });

    new imagebuilder.CfnLifecyclePolicy(this, `Lifecycle-${arch}`, {
      name: `${recipeName}-keep-newest`,
      executionRole: lifecycleRole.roleArn,
      resourceType: 'AMI_IMAGE',
      policyDetails: [{
        action: { type: 'DELETE', includeResources: { amis: true, snapshots: true } },
        filter: { type: 'COUNT', value: props.keepImages ?? 3 },
      }],
      // By tag: the recipe's version changes with its content, the tag stays.
      resourceSelection: { tagMap: { [TAG_IMAGE]: recipeName } },
    });
    this.buildOnDeploy(arch, recipeName, recipe, pipeline);
    return pipeline;
  }

  /** Starts a build on every deploy that changes the recipe: the first image exists without waiting for the schedule. */
  private buildOnDeploy(arch: string, recipeName: string, recipe: imagebuilder.CfnImageRecipe, pipeline: imagebuilder.CfnImagePipeline): void {
    const start = {
      service: 'Imagebuilder',
      action: 'startImagePipelineExecution',
      parameters: { imagePipelineArn: pipeline.attrArn, clientToken: recipe.version },
      physicalResourceId: cr.PhysicalResourceId.of(`${recipeName}-${recipe.version}`),
    };
    new cr.AwsCustomResource(this, `BuildOnDeploy-${arch}`, {
      onCreate: start,
      onUpdate: start,
      installLatestAwsSdk: false,
      policy: cr.AwsCustomResourcePolicy.fromStatements([new iam.PolicyStatement({
        actions: ['imagebuilder:StartImagePipelineExecution'],
        resources: [pipeline.attrArn],
      })]),
    });
    // CDK's provider behind AwsCustomResource: one function per stack, run at deploy time only.
    const provider = Stack.of(this).node.tryFindChild(cr.AwsCustomResource.PROVIDER_FUNCTION_UUID.replace(/-/g, '').replace(/^/, 'AWS'));
    if (provider) {
      acknowledgeFindings(provider, {
        'AwsSolutions-L1': 'CDK\'s AwsCustomResource provider picks its runtime; it runs only during deploys, to start an image build.',
        'Serverless-LambdaLatestVersion': 'CDK\'s AwsCustomResource provider picks its runtime; it runs only during deploys.',
        'Serverless-LambdaDLQ': 'CDK\'s AwsCustomResource provider is invoked by CloudFormation, which reports its failure on the stack.',
        'Serverless-LambdaDefaultMemorySize': 'CDK\'s AwsCustomResource provider; one small API call per deploy.',
        'Serverless-LambdaTracing': 'CDK\'s AwsCustomResource provider; one API call per deploy, reported on the stack.',
        [managedPolicyFinding('service-role/AWSLambdaBasicExecutionRole')]: 'CDK\'s AwsCustomResource provider: permission to write its own logs during deploys.',
      });
    }
  }

  private component(id: string, name: string, data: string): imagebuilder.CfnComponent {
    return new imagebuilder.CfnComponent(this, id, {
      name: `${this.namePrefix}-${name}`,
      platform: 'Linux',
      version: versionOf(data),
      data,
    });
  }
}

function archName(architecture: ec2.InstanceArchitecture): 'x64' | 'arm64' {
  return architecture === ec2.InstanceArchitecture.ARM_64 ? 'arm64' : 'x64';
}

function validateRelease(release: RunnerRelease): void {
  const problems: string[] = [];
  if (!/^\d+\.\d+\.\d+$/.test(release.version)) problems.push(`runnerRelease.version ${JSON.stringify(release.version)} is not a version like 2.329.0`);
  for (const [field, value] of [['sha256X64', release.sha256X64], ['sha256Arm64', release.sha256Arm64]] as const) {
    if (!/^[0-9a-f]{64}$/.test(value)) problems.push(`runnerRelease.${field} is not a SHA-256 (64 lower-case hex digits)`);
  }
  if (problems.length > 0) throw new Error(problems.join('; '));
}

/**
 * Image Builder components and recipes are immutable per version: the version follows the
 * content, so a change makes a new version and an unchanged deploy keeps the old one.
 */
function versionOf(content: unknown): string {
  const hash = createHash('sha256').update(JSON.stringify(content)).digest('hex');
  // Each part of a semantic version may go up to 2^30 - 1.
  return `1.${parseInt(hash.slice(0, 7), 16) % 2 ** 30}.${parseInt(hash.slice(7, 14), 16) % 2 ** 30}`;
}
