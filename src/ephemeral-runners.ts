// The L3 construct a user adds to a stack: everything cdk-ephemeral-runners deploys.
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Annotations, CfnOutput, Duration, RemovalPolicy, Size, Stack, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import {
  grantLifecycleAccess, grantProvisionerAccess, grantReconcilerAccess, grantRegisterAccess, parameterArn, secretDecryptAccess,
} from './control-plane-access';
import { CONTROL_PLANE_METRICS_NAMESPACE, ControlPlaneFunction, ControlPlaneNetwork } from './control-plane-function';
import { EndpointAccess } from './endpoint-access';
import { Lifecycle } from './lifecycle';
import { MonitoringOptions, RunnerMonitoring } from './monitoring';
import { acknowledgeFindings } from './nag';
import { pemBundleProblem } from './pem';
import { PrivateApi, PrivateApiRoute } from './private-api';
import { Provisioner } from './provisioner';
import { RegisterEndpoint } from './register-endpoint';
import { RunnerArchitecture, RunnerConfig, toRunnerConfigDocument, validateRunnerConfigs } from './runner-config';
import { RunnerConfigDocument } from './runner-config-document';
import { RunnerFleet } from './runner-fleet';
import { RunnerImageOptions, RunnerImagePipeline } from './runner-image-pipeline';
import { RunnerMachineImage } from './runner-machine-image';
import { StateTable } from './state-table';
import { Webhook } from './webhook';

/** The GitHub App the runners work for. */
export interface GitHubAppOptions {
  /**
   * Base URL of the GitHub Enterprise Server, e.g. `https://ghes.example.com`, or
   * `https://github.com`. The REST API is reached at `<url>/api/v3` (`api.github.com` for github.com).
   */
  readonly url: string;

  /** The GitHub App's numeric id, as shown on its settings page. */
  readonly appId: string;

  /**
   * Name of the SSM SecureString parameter that holds the App's private key (PEM). The construct
   * never creates it: write it once after deploy, so the key never appears in a template.
   *
   * @default - `<parameterPrefix>/github-app/private-key`
   */
  readonly privateKeyParameterName?: string;

  /**
   * Name of the SSM SecureString parameter that holds the App's webhook secret. Written once after
   * deploy, like the private key.
   *
   * @default - `<parameterPrefix>/github-app/webhook-secret`
   */
  readonly webhookSecretParameterName?: string;

  /**
   * The KMS key both SecureString parameters are encrypted with (`aws ssm put-parameter --key-id`).
   * The webhook function may decrypt the webhook secret with it, and the four functions that call
   * GitHub the private key; each only through SSM and only for its parameter. The key's policy must
   * let this account's IAM policies grant its use, as the default key policy does.
   *
   * @default - the AWS managed key `aws/ssm` (`put-parameter` without `--key-id`), which every
   * principal of the account may use through SSM
   */
  readonly secretsEncryptionKey?: kms.IKey;

  /**
   * PEM certificates of the private CA that signed the server's TLS certificate. The functions
   * that call GitHub trust them (Node.js `NODE_EXTRA_CA_CERTS`, from a layer), and so does the
   * runner image the construct builds.
   *
   * @default - the public CAs only
   */
  readonly caCertificatesPem?: string;
}

/** Props of {@link EphemeralRunners}. */
export interface EphemeralRunnersProps {
  /** The GitHub server and App. */
  readonly github: GitHubAppOptions;

  /** The kinds of runner jobs can ask for, routed by their `runs-on` labels. */
  readonly runnerConfigs: RunnerConfig[];

  /**
   * The VPC the runner instances run in (and the image builds, the private API's endpoint and,
   * with `controlPlaneSubnets`, the functions).
   *
   * @default - a new VPC that bills nothing by the hour: `10.0.0.0/16` over up to three
   * Availability Zones (two when the stack has no explicit account and region), one public subnet
   * per zone that assigns public IPv4 addresses on launch, an internet gateway, no NAT gateway and
   * no VPC endpoint; runners reach GitHub and AWS over the internet gateway. Its flow log (all
   * traffic) goes to a CloudWatch log group kept for `logRetention`. `controlPlaneSubnets`, a
   * private register endpoint, and a private webhook without an endpoint of its own need a VPC of
   * your own.
   */
  readonly vpc?: ec2.IVpc;

  /**
   * The subnets the runner instances run in; one instance goes to whichever has capacity. Public
   * subnets must assign public IPv4 addresses; private ones need a route to GitHub (a NAT, or the
   * network the GitHub server is in) and, without a route to the internet, `registerAccess: EndpointAccess.privateApi()`.
   *
   * @default - the VPC's private subnets with egress if it has any, else its public subnets, else its isolated ones
   */
  readonly subnets?: ec2.SubnetSelection;

  /**
   * How GitHub reaches the webhook. `EndpointAccess.privateApi()` puts it on a private REST API,
   * reachable only through an `execute-api` interface VPC endpoint: for a GHES that cannot, or must
   * not, call out to the internet.
   *
   * @default EndpointAccess.publicInternet() - an HTTP API; each delivery is checked by its HMAC signature
   */
  readonly webhookAccess?: EndpointAccess;

  /**
   * How runner instances reach the register endpoint. `EndpointAccess.privateApi()` puts it on a
   * private REST API, reachable only through an `execute-api` interface VPC endpoint: for runner
   * subnets without a route to the internet (Function URLs are not reachable through PrivateLink).
   *
   * @default EndpointAccess.publicInternet() - a Function URL with AWS_IAM auth
   */
  readonly registerAccess?: EndpointAccess;

  /**
   * Set API Gateway's account-wide CloudWatch Logs role (`AWS::ApiGateway::Account`), which the
   * private API's access logs need once per account and region. Leave it off where the account has
   * one already (another API, or a landing zone, set it): there is one per account and region, and
   * the last stack to set it wins. The role is kept when the stack is deleted.
   *
   * @default false
   */
  readonly setApiGatewayAccountLogsRole?: boolean;

  /**
   * Run the five control-plane functions in these subnets of `vpc`: for a GHES reachable only from
   * inside the network. The subnets then need a way to DynamoDB, SQS, SSM and EC2 (VPC endpoints or
   * a NAT; docs/configuration.md lists them) and to the GitHub server. The functions get a security
   * group with no inbound rule and HTTPS out.
   *
   * @default - the functions run outside any VPC and reach GitHub over the internet
   */
  readonly controlPlaneSubnets?: ec2.SubnetSelection;

  /**
   * The image runner instances boot, per architecture, instead of the one this construct builds.
   * It must hold the GitHub Actions runner in `/opt/actions-runner` and a user `runner`.
   *
   * @default - an image built by an EC2 Image Builder pipeline of this construct (see `runnerImage`)
   */
  readonly machineImage?: RunnerMachineImage;

  /**
   * How the construct's own runner image is built, when `machineImage` is not given.
   *
   * @default - Ubuntu 24.04 LTS, the runner release of RunnerImagePipeline.DEFAULT_RUNNER_RELEASE, weekly rebuilds, the newest 3 images kept
   */
  readonly runnerImage?: RunnerImageOptions;

  /**
   * The longest a runner instance may live, job included; then it is terminated.
   *
   * @default Duration.hours(6)
   */
  readonly maxRunnerLifetime?: Duration;

  /**
   * How long an instance may take from launch to asking for its runner config before it is
   * terminated and replaced.
   *
   * @default Duration.minutes(10)
   */
  readonly runnerBootTimeout?: Duration;

  /**
   * Size of the runners' encrypted gp3 root volume.
   *
   * @default Size.gibibytes(30)
   */
  readonly runnerVolumeSize?: Size;

  /**
   * How often the reconciler sweeps pools, instances, GitHub registrations and deliveries.
   *
   * @default Duration.minutes(1)
   */
  readonly reconcileInterval?: Duration;

  /**
   * Prefix of every SSM parameter name of this construct, starting with `/`.
   *
   * @default - `/ephemeral-runners/<stack name>/<construct id>`
   */
  readonly parameterPrefix?: string;

  /**
   * How long the functions' and the API's logs are kept.
   *
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * The CloudWatch dashboard and alarms (dead letters, jobs queued too long, too many instances,
   * function errors), optionally sent to an SNS topic.
   *
   * @default - a dashboard and the alarms, sent nowhere
   */
  readonly monitoring?: MonitoringOptions;

  /**
   * What happens to the state table when the stack is deleted.
   *
   * @default RemovalPolicy.DESTROY - it holds transient control-plane state only
   */
  readonly stateRemovalPolicy?: RemovalPolicy;
}

const PARAMETER_PREFIX = /^\/[A-Za-z0-9_.\-/]{1,900}[A-Za-z0-9_.-]$/;

/**
 * Self-hosted GitHub Actions runners on ephemeral EC2 instances: a webhook receives
 * `workflow_job` events, a control plane launches one instance per queued job, and each instance
 * registers just in time, runs one job and terminates.
 */
export class EphemeralRunners extends Construct {
  /** The URL to enter as the GitHub App's webhook URL. */
  readonly webhookUrl: string;
  /** The control plane's state. */
  readonly table: StateTable;
  /** Pools to reconcile, named by the webhook. */
  readonly queue: sqs.Queue;
  /** Messages the provisioner failed to handle repeatedly. */
  readonly deadLetterQueue: sqs.Queue;
  readonly webhook: Webhook;
  /** Name of the SecureString parameter to write the App's private key to. */
  readonly privateKeyParameterName: string;
  /** Name of the SecureString parameter to write the webhook secret to. */
  readonly webhookSecretParameterName: string;
  /** The SSM path holding one parameter per runner config. */
  readonly runnerConfigPath: string;
  /** The role of the runner instances. */
  readonly runnerRole: iam.IRole;
  /** The security group of the runner instances (no inbound rules). */
  readonly runnerSecurityGroup: ec2.ISecurityGroup;
  /** Where runner instances ship their bootstrap's log lines (a stream per instance id) as they power off. */
  readonly runnerLogGroup: logs.ILogGroup;
  /** One launch template per runner config. */
  readonly launchTemplates: ec2.ILaunchTemplate[];
  /** The URL booting instances get their runner config from. */
  readonly registerUrl: string;
  readonly provisionerFunction: lambda.IFunction;
  readonly lifecycleFunction: lambda.IFunction;
  readonly reconcilerFunction: lambda.IFunction;
  /** The private REST API, when the webhook or the register endpoint is private. */
  readonly privateApi?: PrivateApi;
  /** The `execute-api` VPC endpoint this construct created for the private API, if it created one. */
  readonly apiVpcEndpoint?: ec2.InterfaceVpcEndpoint;
  /** The functions' security group, when they run in the VPC. */
  readonly controlPlaneSecurityGroup?: ec2.ISecurityGroup;
  /** The VPC the runners run in: the one given, or the one this construct created. */
  readonly vpc: ec2.IVpc;
  /** The dashboard and alarms. */
  readonly monitoring: RunnerMonitoring;
  /** The pipeline that builds the runner image, when no `machineImage` was given. */
  readonly imagePipeline?: RunnerImagePipeline;
  private readonly fleet: RunnerFleet;
  private readonly registerEndpoint: RegisterEndpoint;
  private readonly provisioner: Provisioner;
  private readonly lifecycle: Lifecycle;
  /** The value of the `ephemeral-runners:managed-by` tag on this deployment's instances. */
  readonly managedBy: string;
  /** Every runner this deployment registers at GitHub has a name starting with this. */
  readonly runnerNamePrefix: string;

  constructor(scope: Construct, id: string, props: EphemeralRunnersProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const prefix = props.parameterPrefix
      ?? `/ephemeral-runners/${stack.stackName}/${id}`.replace(/[^A-Za-z0-9_.\-/]/g, '-');
    const github = parseGitHubUrl(props.github.url);
    this.privateKeyParameterName = props.github.privateKeyParameterName ?? `${prefix}/github-app/private-key`;
    this.webhookSecretParameterName = props.github.webhookSecretParameterName ?? `${prefix}/github-app/webhook-secret`;
    this.runnerConfigPath = `${prefix}/runner-configs`;
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    const maxLifetime = props.maxRunnerLifetime ?? Duration.hours(6);
    const bootTimeout = props.runnerBootTimeout ?? Duration.minutes(10);
    // One id per deployment: its instances are tagged with it (IAM conditions rely on it) and its
    // runner names start with it (the reconciler deletes only registrations it made).
    this.managedBy = `er-${createHash('sha256').update(`${stack.stackName}/${this.node.path}`).digest('hex').slice(0, 10)}`;
    this.runnerNamePrefix = `${this.managedBy}-`;

    const caProblem = props.github.caCertificatesPem === undefined ? undefined : pemBundleProblem('github.caCertificatesPem', props.github.caCertificatesPem);
    this.node.addValidation({
      validate: () => [
        ...validateRunnerConfigs(props.runnerConfigs),
        ...(github.error ? [github.error] : []),
        ...validateGitHubApp(props.github),
        ...validateParameterName('parameterPrefix', prefix),
        ...validateParameterName('github.privateKeyParameterName', this.privateKeyParameterName),
        ...validateParameterName('github.webhookSecretParameterName', this.webhookSecretParameterName),
        ...validateDurations(maxLifetime, bootTimeout),
        ...(caProblem ? [caProblem] : []),
        ...validateNetworkNeedsVpc(props),
      ],
    });

    this.table = new StateTable(this, 'State', { removalPolicy: props.stateRemovalPolicy });
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      fifo: true,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: DLQ_RETENTION,
    });
    acknowledgeFindings(this.deadLetterQueue, {
      'Serverless-SQSRedrivePolicy': 'This queue is itself the dead-letter queue of the pool queue; an operator reads and redrives it.',
    });
    // FIFO, grouped by pool: one pool is reconciled by one invocation at a time.
    this.queue = new sqs.Queue(this, 'PoolQueue', {
      fifo: true,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(Provisioner.TIMEOUT.toSeconds() * 6),
      // The provisioner shortens the wait between retries itself (5 s doubling to 60 s), so ten
      // receives give a pool several minutes of capacity retries before the message is parked;
      // the reconciler hands an active pool over again every minute regardless.
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: 10 },
    });

    this.vpc = props.vpc ?? publicVpc(this, logRetention);
    const subnetSelection = props.subnets ?? defaultSubnets(this.vpc);
    const subnets = this.vpc.selectSubnets(subnetSelection);
    this.imagePipeline = props.machineImage ? undefined : this.buildImage(props, prefix, subnets, caProblem);
    const machineImage = props.machineImage ?? RunnerMachineImage.fromSsmParameters(
      this.imagePipeline!.parameterNameFor(ec2.InstanceArchitecture.X86_64),
      this.imagePipeline!.parameterNameFor(ec2.InstanceArchitecture.ARM_64),
    );

    const documents: RunnerConfigDocument[] = [];
    const seen = new Set<string>();
    for (const config of props.runnerConfigs) {
      // Duplicates and a bad prefix are reported by the validation above, with every other problem.
      if (seen.has(config.name) || validateParameterName('', prefix).length > 0) continue;
      seen.add(config.name);
      const written = toRunnerConfigDocument(config);
      // The image goes to the provisioner, which reads it at launch: the launch templates name none.
      const document = { ...written, image: machineImage._sourceFor(written.architecture === 'arm64' ? ec2.InstanceArchitecture.ARM_64 : ec2.InstanceArchitecture.X86_64) };
      documents.push(document);
      new ssm.StringParameter(this, `RunnerConfig-${config.name}`, {
        parameterName: `${this.runnerConfigPath}/${config.name}`,
        description: `Runner config '${config.name}' of cdk-ephemeral-runners`,
        stringValue: JSON.stringify(document),
        tier: ssm.ParameterTier.STANDARD,
      });
    }
    const runnerConfigHash = createHash('sha256').update(JSON.stringify(documents)).digest('hex').slice(0, 16);

    this.fleet = new RunnerFleet(this, 'Fleet', {
      vpc: this.vpc,
      configs: documents,
      rootVolumeSize: props.runnerVolumeSize ?? Size.gibibytes(30),
      maxLifetime,
      bootTimeout,
      logRetention,
      managedBy: this.managedBy,
    });

    // Without a VPC of the user's, these are reported by the validation above and left out here:
    // functions in the default VPC's public subnets get no address to go out with.
    const network = props.controlPlaneSubnets && props.vpc && this.controlPlaneNetwork(props.vpc, props.controlPlaneSubnets, github.port);
    this.controlPlaneSecurityGroup = network?.securityGroup;
    const webhookAccess = props.webhookAccess ?? EndpointAccess.publicInternet();
    const registerAccess = props.registerAccess ?? EndpointAccess.publicInternet();
    const frontDoor = this.privateFrontDoor(props, subnetSelection, [webhookAccess, registerAccess], logRetention);
    this.apiVpcEndpoint = frontDoor.createdEndpoint;
    this.privateApi = frontDoor.api;
    const registerRoute = frontDoor.routeFor(registerAccess);
    const isolated = new Set(this.vpc.isolatedSubnets.map((subnet) => subnet.subnetId));
    if (!registerAccess.isPrivate && subnets.subnetIds.some((subnetId) => isolated.has(subnetId))) {
      Annotations.of(this).addWarningV2('cdk-ephemeral-runners:registerUnreachable',
        'Runners go to isolated subnets, but the register endpoint is a Function URL, reachable only over the internet: '
        + 'unless those subnets route to the internet some other way, no runner gets its config. Set registerAccess: EndpointAccess.privateApi().');
    }
    if (registerRoute) {
      // Written here, not with the endpoint's connections: an endpoint of another stack would then
      // hold a rule naming this stack's security group, a cycle between the stacks.
      registerRoute.vpcEndpoint.connections.securityGroups.forEach((group, i) => new ec2.CfnSecurityGroupIngress(this, `RunnersToApiEndpoint${i}`, {
        groupId: group.securityGroupId,
        sourceSecurityGroupId: this.fleet.securityGroup.securityGroupId,
        ipProtocol: 'tcp',
        fromPort: 443,
        toPort: 443,
        description: 'Runners call the register endpoint',
      }));
    }

    this.webhook = new Webhook(this, 'Webhook', {
      network,
      privateRoute: frontDoor.routeFor(webhookAccess),
      table: this.table.table,
      queue: this.queue,
      githubHost: github.host,
      webhookSecretParameterName: this.webhookSecretParameterName,
      webhookSecretParameterArn: parameterArn(this, this.webhookSecretParameterName),
      runnerConfigPath: this.runnerConfigPath,
      runnerConfigPathArn: parameterArn(this, this.runnerConfigPath),
      runnerConfigHash,
      runnerNamePrefix: this.runnerNamePrefix,
      logRetention,
    });
    this.webhookUrl = this.webhook.url;

    const baseEnvironment: Record<string, string> = {
      TABLE_NAME: this.table.table.tableName,
      QUEUE_URL: this.queue.queueUrl,
      RUNNER_CONFIG_PATH: this.runnerConfigPath,
      RUNNER_CONFIG_HASH: runnerConfigHash,
      GITHUB_API_URL: github.apiUrl,
      GITHUB_APP_ID: props.github.appId,
      PRIVATE_KEY_PARAMETER_NAME: this.privateKeyParameterName,
      RUNNER_NAME_PREFIX: this.runnerNamePrefix,
      MANAGED_BY: this.managedBy,
      BOOT_TIMEOUT_SECONDS: String(bootTimeout.toSeconds()),
      MAX_LIFETIME_SECONDS: String(maxLifetime.toSeconds()),
    };
    // A private CA: a layer puts the bundle at /opt, where Node.js reads it at start.
    const caLayer = props.github.caCertificatesPem === undefined ? undefined : caBundleLayer(this, props.github.caCertificatesPem);
    const environment = caLayer ? { ...baseEnvironment, NODE_EXTRA_CA_CERTS: CA_BUNDLE_PATH } : baseEnvironment;
    const functionProps = { environment, logRetention, layers: caLayer ? [caLayer] : undefined, network };

    this.registerEndpoint = new RegisterEndpoint(this, 'Register', {
      functionProps: { ...functionProps, environment: { ...environment, RUNNER_ROLE_NAME: this.fleet.role.roleName } },
      runnerRole: this.fleet.role,
      privateRoute: registerRoute,
    });
    this.fleet.useRegisterEndpoint(this.registerEndpoint.url, this.registerEndpoint.signingService);
    this.provisioner = new Provisioner(this, 'Provisioner', {
      functionProps: {
        ...functionProps,
        environment: {
          ...environment,
          SUBNET_IDS: subnets.subnetIds.join(','),
          LAUNCH_TEMPLATES: stack.toJsonString(Object.fromEntries(
            Object.entries(this.fleet.launchTemplates).map(([name, t]) => [name, t.launchTemplateId]),
          )),
        },
      },
      queue: this.queue,
    });
    this.lifecycle = new Lifecycle(this, 'Lifecycle', { functionProps, reconcileInterval: props.reconcileInterval ?? Duration.minutes(1) });

    const tableArn = this.table.table.tableArn;
    const access = {
      tableArn,
      queue: this.queue,
      runnerConfigPath: this.runnerConfigPath,
      privateKeyParameterName: this.privateKeyParameterName,
      managedBy: this.managedBy,
    };
    grantRegisterAccess(this.registerEndpoint.handler.role, access);

    const provisioner = this.provisioner.handler;
    grantProvisionerAccess(provisioner.role, {
      ...access,
      launchTemplateArns: this.fleet.launchTemplateArns,
      runnerRole: this.fleet.role,
      imageParameterArns: machineImage._parameterArns(this),
      subnetIds: subnets.subnetIds,
      securityGroupIds: [this.fleet.securityGroup.securityGroupId],
    });

    // The same work on one instance (lifecycle) or all of them (reconciler): only the reconciler
    // scans the pool index for active pools and lists the deployment's instances.
    const reconciler = this.lifecycle.reconcileHandler;
    const lifecycle = this.lifecycle.lifecycleHandler;
    grantLifecycleAccess(lifecycle.role, access);
    grantReconcilerAccess(reconciler.role, access);
    const key = props.github.secretsEncryptionKey;
    if (key) {
      for (const fn of [this.registerEndpoint.handler, provisioner, lifecycle, reconciler]) {
        allow(fn, [secretDecryptAccess(this, key, this.privateKeyParameterName)]);
      }
      allow(this.webhook.handler, [secretDecryptAccess(this, key, this.webhookSecretParameterName)]);
    }
    const ec2Arn = (resource: string, account = '<AWS::AccountId>') => `Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:${account}:${resource}/*`;
    const describe: [string, string] = ['Resource::*', 'EC2 Describe* calls have no resource-level permissions; AWS accepts only "*" for them.'];
    const terminate: [string, string] = [ec2Arn('instance'), 'Terminating is conditioned on the instance\'s managed-by tag carrying this deployment\'s id.'];
    acknowledgeWildcards(provisioner.role, [
      describe,
      terminate,
      ...['fleet', 'volume'].map((r): [string, string] => [ec2Arn(r),
        `CreateFleet creates the ${r}: its id does not exist before the call; the aws:RequestTag condition binds it to this deployment.`]),
      [ec2Arn('network-interface'), 'CreateFleet creates the instances\' network interfaces (new ids) in this deployment\'s subnets; '
        + 'the ec2:LaunchTemplate condition binds them to this deployment\'s launch templates.'],
      [ec2Arn('spot-instances-request'), 'A spot launch creates a spot instances request (a new id; the resource type takes no launch-template '
        + 'condition); every other resource of the same launch is bound to this deployment\'s launch templates, subnets and security group.'],
      [ec2Arn('image', ''), 'Public runner images (Canonical\'s) belong to other accounts; every launch must come from this deployment\'s launch templates (ec2:LaunchTemplate).'],
    ]);
    acknowledgeWildcards(reconciler.role, [describe, terminate]);
    acknowledgeWildcards(lifecycle.role, [terminate]);

    this.runnerRole = this.fleet.role;
    this.runnerSecurityGroup = this.fleet.securityGroup;
    this.runnerLogGroup = this.fleet.logGroup;
    this.launchTemplates = Object.values(this.fleet.launchTemplates);
    this.registerUrl = this.registerEndpoint.url;
    this.provisionerFunction = provisioner.function;
    this.lifecycleFunction = this.lifecycle.lifecycleHandler.function;
    this.reconcilerFunction = this.lifecycle.reconcileHandler.function;

    this.monitoring = new RunnerMonitoring(this, 'Monitoring', {
      ...props.monitoring,
      namespace: CONTROL_PLANE_METRICS_NAMESPACE,
      functions: {
        webhook: this.webhook.handler.function,
        register: this.registerEndpoint.handler.function,
        provisioner: this.provisionerFunction,
        lifecycle: this.lifecycleFunction,
        reconciler: this.reconcilerFunction,
      },
      deadLetterQueues: [this.deadLetterQueue, this.lifecycle.deadLetterQueue],
      defaultMaxInstances: documents.reduce((sum, c) => sum + c.maxRunners, 0),
    });

    // Output keys without CDK's hash suffix, so setup steps can name them: the construct id (letters
    // and digits only) and what the output holds, e.g. RunnersWebhookUrl. Two constructs of one id in
    // a stack would share keys: CDK refuses that at synth.
    const outputPrefix = id.replace(/[^A-Za-z0-9]/g, '');
    const output = (name: string, value: string, description: string) =>
      new CfnOutput(this, name, { value, description }).overrideLogicalId(`${outputPrefix}${name}`);
    output('WebhookUrl', this.webhookUrl, 'The GitHub App\'s webhook URL');
    output('PrivateKeyParameter', this.privateKeyParameterName,
      'Write the GitHub App private key here: aws ssm put-parameter --type SecureString --name <this> --value file://app.pem');
    output('WebhookSecretParameter', this.webhookSecretParameterName,
      'Write the GitHub App webhook secret here: aws ssm put-parameter --type SecureString --name <this> --value <secret>');
  }

  /**
   * The private REST API and the execute-api endpoint, when either endpoint is private; `routeFor`
   * says where a private access's route goes (undefined for a public one).
   */
  private privateFrontDoor(
    props: EphemeralRunnersProps, runnerSubnets: ec2.SubnetSelection, accesses: EndpointAccess[], logRetention: logs.RetentionDays,
  ): { api?: PrivateApi; createdEndpoint?: ec2.InterfaceVpcEndpoint; routeFor: (access: EndpointAccess) => PrivateApiRoute | undefined } {
    const privateAccesses = accesses.filter((a) => a.isPrivate);
    if (privateAccesses.length === 0) return { routeFor: () => undefined };
    let createdEndpoint: ec2.InterfaceVpcEndpoint | undefined;
    if (privateAccesses.some((a) => a.vpcEndpoint === undefined)) {
      createdEndpoint = new ec2.InterfaceVpcEndpoint(this, 'ApiEndpoint', {
        vpc: this.vpc,
        service: ec2.InterfaceVpcEndpointAwsService.APIGATEWAY,
        subnets: { ...runnerSubnets, onePerAz: true },
        // Private DNS would send every execute-api name of the VPC here, public APIs included; the
        // URLs use the {api-id}-{vpce-id} alias instead, which needs no private DNS.
        privateDnsEnabled: false,
        // Only the runners get in (below); let GHES in with apiVpcEndpoint.connections.allowFrom().
        open: false,
      });
      // Untrusted jobs reach this endpoint: it calls APIs of this account and region only, so it is
      // no way out to another account's private APIs. (Naming the one API would be a cycle: the API
      // names the endpoint.)
      const stack = Stack.of(this);
      createdEndpoint.addToPolicy(new iam.PolicyStatement({
        principals: [new iam.AnyPrincipal()],
        actions: ['execute-api:Invoke'],
        resources: [stack.formatArn({ service: 'execute-api', resource: '*' })],
      }));
    }
    const endpointOf = (access: EndpointAccess) => access.vpcEndpoint ?? createdEndpoint!;
    const api = new PrivateApi(this, 'PrivateApi', {
      vpcEndpoints: [...new Set(privateAccesses.map(endpointOf))],
      logRetention,
      setAccountLogsRole: props.setApiGatewayAccountLogsRole,
    });
    if (!props.setApiGatewayAccountLogsRole) {
      Annotations.of(this).addInfo('The private API logs access through API Gateway\'s account-wide CloudWatch Logs role: if this account and region '
        + 'have none yet, the deploy fails with "CloudWatch Logs role ARN must be set in account settings"; set setApiGatewayAccountLogsRole: true.');
    }
    return { api, createdEndpoint, routeFor: (access) => (access.isPrivate ? { api, vpcEndpoint: endpointOf(access) } : undefined) };
  }

  /**
   * Where the functions run inside the VPC: a security group with no inbound rule and HTTPS out (to
   * the AWS endpoints and GitHub), plus the GitHub server's own port if its URL names another.
   */
  private controlPlaneNetwork(vpc: ec2.IVpc, subnets: ec2.SubnetSelection, githubPort: number): ControlPlaneNetwork {
    const securityGroup = new ec2.SecurityGroup(this, 'ControlPlaneSecurityGroup', {
      vpc,
      description: 'cdk-ephemeral-runners control-plane functions: no inbound traffic, HTTPS out',
      allowAllOutbound: false,
    });
    securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'AWS service endpoints and the GitHub server');
    if (githubPort !== 443) securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(githubPort), 'The GitHub server');
    return { vpc, subnets, securityGroup };
  }

  /** The construct's own runner image: one Image Builder pipeline per architecture the configs use. */
  private buildImage(props: EphemeralRunnersProps, prefix: string, subnets: ec2.SelectedSubnets, caProblem: string | undefined): RunnerImagePipeline {
    const architectures = [...new Set(props.runnerConfigs.map((c) => (c.architecture === RunnerArchitecture.ARM64
      ? ec2.InstanceArchitecture.ARM_64 : ec2.InstanceArchitecture.X86_64)))];
    const pipeline = new RunnerImagePipeline(this, 'Image', {
      ...props.runnerImage,
      // A bad github.caCertificatesPem is reported once, by this construct's validation.
      caCertificatesPem: props.runnerImage?.caCertificatesPem
        ?? (caProblem === undefined ? props.github.caCertificatesPem : undefined),
      architectures,
      parameterPrefix: `${prefix}/image`,
      // Builds run where the runners run, unless told otherwise: those subnets reach GitHub and
      // the package mirrors.
      vpc: this.vpc,
      subnet: subnets.subnets[0],
    });
    return pipeline;
  }
}

/** Where the CA layer puts the bundle: layers are extracted under /opt. */
const CA_BUNDLE_PATH = '/opt/ephemeral-runners/ca-bundle.pem';

/** A layer holding only the PEM bundle, written at synth time. */
function caBundleLayer(scope: Construct, pem: string): lambda.LayerVersion {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ephemeral-runners-ca-'));
  fs.mkdirSync(path.join(dir, 'ephemeral-runners'));
  fs.writeFileSync(path.join(dir, 'ephemeral-runners', 'ca-bundle.pem'), `${pem.trim()}\n`);
  return new lambda.LayerVersion(scope, 'CaBundle', {
    code: lambda.Code.fromAsset(dir),
    description: 'CA certificates of the GitHub server, for NODE_EXTRA_CA_CERTS',
    compatibleArchitectures: [lambda.Architecture.ARM_64],
  });
}

// 14 days, the most SQS keeps a message: time to find out why the provisioner failed.
const DLQ_RETENTION = Duration.days(14);

interface ParsedGitHubUrl {
  readonly host: string;
  /** The REST API base: `https://HOST/api/v3`, or `https://api.github.com` for github.com. */
  readonly apiUrl: string;
  /** The TCP port the server answers on. */
  readonly port: number;
  readonly error?: string;
}

function parseGitHubUrl(url: string): ParsedGitHubUrl {
  const fix = 'give the server\'s base URL, e.g. \'https://ghes.example.com\'.';
  if (Token.isUnresolved(url)) return { host: url, apiUrl: url, port: 443, error: `github.url must be known at synth time; ${fix}` };
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { host: 'invalid', apiUrl: 'invalid', port: 443, error: `github.url '${url}' is not a URL; ${fix}` };
  }
  if (parsed.protocol !== 'https:') {
    return { host: parsed.hostname, apiUrl: url, port: 443, error: `github.url '${url}' must use https; ${fix}` };
  }
  if (parsed.pathname !== '/' && parsed.pathname !== '' || parsed.search || parsed.username) {
    return { host: parsed.hostname, apiUrl: url, port: 443, error: `github.url '${url}' has a path, query or credentials; ${fix} The API path /api/v3 is added for you.` };
  }
  const apiUrl = parsed.hostname === 'github.com' ? 'https://api.github.com' : `${parsed.origin}/api/v3`;
  // Job ids are unique per server: its hostname (without a port) is part of every job's key.
  return { host: parsed.hostname, apiUrl, port: parsed.port === '' ? 443 : Number(parsed.port) };
}

function validateGitHubApp(app: GitHubAppOptions): string[] {
  if (!Token.isUnresolved(app.appId) && !/^[1-9][0-9]{0,11}$/.test(app.appId)) {
    return [`github.appId '${app.appId}' is not a GitHub App id; use the numeric App ID from the App's settings page, e.g. '12'.`];
  }
  return [];
}

function validateParameterName(prop: string, name: string): string[] {
  if (Token.isUnresolved(name) || PARAMETER_PREFIX.test(name)) return [];
  return [`${prop} '${name}' is not a valid SSM parameter name; start it with '/' and use letters, digits, '_', '.', '-' and '/'.`];
}

function validateDurations(maxLifetime: Duration, bootTimeout: Duration): string[] {
  const errors: string[] = [];
  if (bootTimeout.toSeconds() < 60) errors.push(`runnerBootTimeout is ${bootTimeout.toHumanString()}; give instances at least 1 minute to boot.`);
  if (maxLifetime.toSeconds() <= bootTimeout.toSeconds()) {
    errors.push(`maxRunnerLifetime (${maxLifetime.toHumanString()}) must be longer than runnerBootTimeout (${bootTimeout.toHumanString()}).`);
  }
  return errors;
}

/**
 * The VPC made when none is given: public subnets only, so nothing bills by the hour (no NAT
 * gateway, no interface endpoint); instances get public addresses and go out through the internet
 * gateway. Its flow log makes it as auditable as a VPC a user would bring.
 */
function publicVpc(scope: Construct, logRetention: logs.RetentionDays): ec2.Vpc {
  const vpc = new ec2.Vpc(scope, 'Vpc', {
    maxAzs: 3,
    natGateways: 0,
    subnetConfiguration: [{ name: 'runners', subnetType: ec2.SubnetType.PUBLIC, mapPublicIpOnLaunch: true }],
  });
  vpc.addFlowLog('FlowLog', {
    destination: ec2.FlowLogDestination.toCloudWatchLogs(new logs.LogGroup(scope, 'VpcFlowLogs', { retention: logRetention })),
    trafficType: ec2.FlowLogTrafficType.ALL,
  });
  return vpc;
}

/** What cannot go into the VPC this construct makes, and why. */
function validateNetworkNeedsVpc(props: EphemeralRunnersProps): string[] {
  if (props.vpc) return [];
  const errors: string[] = [];
  if (props.controlPlaneSubnets) {
    errors.push('controlPlaneSubnets is set but vpc is not: the VPC made by default has public subnets only, where a function gets no public '
      + 'address and so no way out; give vpc, with subnets that reach DynamoDB, SQS, SSM, EC2 and the GitHub server.');
  }
  if (props.registerAccess?.isPrivate) {
    errors.push('registerAccess is EndpointAccess.privateApi() but vpc is not set: the runners of the VPC made by default have public addresses '
      + 'and reach the Function URL directly; give vpc (runner subnets without a route to the internet), or leave registerAccess out.');
  }
  if (props.webhookAccess?.isPrivate && !props.webhookAccess.vpcEndpoint) {
    errors.push('webhookAccess is EndpointAccess.privateApi() but vpc is not set: the endpoint would go into a new VPC the GitHub server has no '
      + 'route to; give vpc (the network the GitHub server reaches), or pass the execute-api endpoint it uses to privateApi(endpoint).');
  }
  return errors;
}

function defaultSubnets(vpc: ec2.IVpc): ec2.SubnetSelection {
  if (vpc.privateSubnets.length > 0) return { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
  if (vpc.publicSubnets.length > 0) return { subnetType: ec2.SubnetType.PUBLIC };
  return { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };
}

function allow(fn: ControlPlaneFunction, statements: iam.PolicyStatement[]): void {
  for (const statement of statements) fn.role.addToPolicy(statement);
}

/**
 * Acknowledges cdk-nag's wildcard findings one by one, each with the reason it is needed. A finding
 * names a tokenized ARN (`<AWS::Partition>`), whose `::` `Validations.acknowledge` refuses as an
 * id, so the acknowledgment is recorded under the same metadata key that method writes.
 */
function acknowledgeWildcards(role: iam.IRole, findings: Array<[string, string]>): void {
  acknowledgeFindings(role, Object.fromEntries(findings.map(([finding, reason]) => [`AwsSolutions-IAM5[${finding}]`, reason])));
}
