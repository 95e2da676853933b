// The L3 construct a user adds to a stack: everything cdk-ephemeral-runners deploys, composed from
// the constructs in private/, each of which owns its function, environment and grants.
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { EphemeralRunnersProps } from './ephemeral-runners-props';
import { pemBundleProblem } from './pem';
import {
  allowRunnersToRegister, buildRunnerImage, caBundleLayer, ControlPlane, controlPlaneNetwork, defaultSubnets, deploymentNames, GitHubApp,
  headlineMetric, jobWaitTimeMetric, Lifecycle, poolQueues, privateFrontDoor, Provisioner, publicVpc, Reconciler, RegisterEndpoint,
  RunnerConfigParameters, RunnerFleet, RunnerMonitoring, settingsOf, Setup, setupOutputs, StateTable, Teardown, validateParameterName,
  validateProps, warnRoutingTies, warnUnboundFleetCap, Webhook,
} from './private';
import { RunnerImagePipeline } from './runner-image-pipeline';
import { InstanceMarket, InterruptedRunner, JobWaitTimeMetricOptions, LaunchErrorKind } from './runner-metrics';

/**
 * Self-hosted GitHub Actions runners on ephemeral EC2 instances: a webhook receives `workflow_job` events, a control plane
 * launches one instance per queued job, and each registers just in time, runs one job and terminates. Grant runners access
 * as to any principal (`bucket.grantRead(runners)`), and let them through security groups (`db.connections.allowDefaultPortFrom(runners)`).
 */
export class EphemeralRunners extends Construct implements iam.IGrantable, ec2.IConnectable {
  /** The URL to enter as the GitHub App's webhook URL. */
  readonly webhookUrl: string;
  /** The control plane's state: deliveries, jobs, runners and pools. */
  readonly table: dynamodb.ITable;
  /** Pools to reconcile, named by the webhook. */
  readonly queue: sqs.Queue;
  /** Messages the provisioner failed to handle repeatedly. */
  readonly deadLetterQueue: sqs.Queue;
  /** Name of the SecureString parameter to write the App's private key to. */
  readonly privateKeyParameterName: string;
  /** Name of the SecureString parameter to write the webhook secret to. */
  readonly webhookSecretParameterName: string;
  /** The SSM path holding one parameter per runner config. */
  readonly runnerConfigPath: string;
  /** The role of the runner instances. */
  readonly runnerRole: iam.IRole;
  /** The runner instances' role, to grant them access to your resources: `bucket.grantRead(runners)`. */
  readonly grantPrincipal: iam.IPrincipal;
  /** The security group of the runner instances (no inbound rules). */
  readonly runnerSecurityGroup: ec2.ISecurityGroup;
  /** The runner instances' security group, to let them reach your resources: `db.connections.allowDefaultPortFrom(runners)`. */
  readonly connections: ec2.Connections;
  /** Where runner instances stream their bootstrap's log lines (a stream per instance id) and, with `debug.runnerLogs`, the runner's own. */
  readonly runnerLogGroup: logs.ILogGroup;
  /** One launch template per runner config. */
  readonly launchTemplates: ec2.ILaunchTemplate[];
  /** The URL booting instances get their runner config from. */
  readonly registerUrl: string;
  /** The function that receives GitHub's webhook deliveries. */
  readonly webhookFunction: lambda.IFunction;
  /** The function that hands booting instances their just-in-time runner config. */
  readonly registerFunction: lambda.IFunction;
  /** The function that reconciles pools: launches and retires instances. */
  readonly provisionerFunction: lambda.IFunction;
  /** The function that handles instance state changes and spot interruptions. */
  readonly lifecycleFunction: lambda.IFunction;
  /** The function that sweeps every pool, instance and registration on a schedule. */
  readonly reconcilerFunction: lambda.IFunction;
  /** The setup page's function, unless `github.appId` is given. */
  readonly setupFunction?: lambda.IFunction;
  /** The setup page's URL without its token (the `SetupUrl` output carries the token), unless `github.appId` is given. */
  readonly setupUrl?: string;
  /** The private REST API, when the webhook or the register endpoint is private. */
  readonly privateApi?: apigw.IRestApi;
  /** The `execute-api` VPC endpoint this construct created for the private API, if it created one. */
  readonly apiVpcEndpoint?: ec2.InterfaceVpcEndpoint;
  /** The functions' security group, when they run in the VPC. */
  readonly controlPlaneSecurityGroup?: ec2.ISecurityGroup;
  /** The VPC the runners run in: the one given, or the one this construct created. */
  readonly vpc: ec2.IVpc;
  /** The alarms (see `monitoring`). */
  readonly alarms: cloudwatch.IAlarm[];
  /** The dashboard, unless `monitoring.dashboard` is false. */
  readonly dashboard?: cloudwatch.Dashboard;
  /** The pipeline that builds the runner image, when no `machineImage` was given. */
  readonly imagePipeline?: RunnerImagePipeline;
  /** The value of the managed-by tag on this deployment's instances. */
  readonly managedBy: string;
  /** Every runner this deployment registers at GitHub has a name starting with this. */
  readonly runnerNamePrefix: string;

  constructor(scope: Construct, id: string, props: EphemeralRunnersProps) {
    super(scope, id);
    const names = deploymentNames(this, id, props);
    this.privateKeyParameterName = names.privateKeyParameterName;
    this.webhookSecretParameterName = names.webhookSecretParameterName;
    this.runnerConfigPath = names.runnerConfigPath;
    this.managedBy = names.managedBy;
    this.runnerNamePrefix = `${names.managedBy}-`;
    const settings = settingsOf(props);
    const githubApp = new GitHubApp(this, { ...props.github, ...names });
    const pem = props.github.caCertificatesPem;
    const caCertificates = pem === undefined ? undefined : pemBundleProblem('github.caCertificatesPem', pem);
    const problems = validateProps(props, names, { ...settings, github: githubApp.problems(), caCertificates });
    this.node.addValidation({ validate: () => problems });
    warnRoutingTies(this, props.runnerConfigs);
    warnUnboundFleetCap(this, props);

    const table = new StateTable(this, 'State', { removalPolicy: props.stateRemovalPolicy });
    const { queue, deadLetterQueue } = poolQueues(this);
    this.vpc = props.vpc ?? publicVpc(this, settings.logRetention);
    const subnetSelection = props.subnets ?? defaultSubnets(this.vpc);
    const subnets = this.vpc.selectSubnets(subnetSelection);
    const image = props.machineImage ? undefined
      : buildRunnerImage(this, props, { prefix: names.prefix, vpc: this.vpc, subnets, caCertificatesMalformed: caCertificates !== undefined });
    this.imagePipeline = image?.pipeline;
    const machineImage = props.machineImage ?? image?.machineImage;
    // A bad prefix is reported by the validation above, with every other problem: no parameter is written under it.
    const prefixValid = validateParameterName('parameterPrefix', names.prefix).length === 0;
    const configsToWrite = prefixValid ? props.runnerConfigs : [];
    const configs = new RunnerConfigParameters(this, 'RunnerConfigs', {
      path: names.runnerConfigPath, configs: configsToWrite, machineImage, enterprise: props.github.enterprise,
    });
    const fleet = new RunnerFleet(this, 'Fleet', { ...settings, vpc: this.vpc, subnets, configs: configs.documents, machineImage, managedBy: names.managedBy });

    // Without a VPC of the user's, these are reported by the validation above and left out here:
    // functions in the default VPC's public subnets get no address to go out with.
    const network = props.controlPlaneSubnets && props.vpc && controlPlaneNetwork(this, props.vpc, props.controlPlaneSubnets, githubApp.port);
    const frontDoor = privateFrontDoor(this, props, { vpc: this.vpc, runnerSubnets: subnetSelection, logRetention: settings.logRetention });
    allowRunnersToRegister(this, frontDoor, fleet.securityGroup, this.vpc, fleet.allSubnetIds);
    const caBundle = pem === undefined ? undefined : caBundleLayer(this, pem);
    const functions = { logRetention: settings.logRetention, runnerConfigHash: configs.hash, network, caBundle };
    const controlPlane: ControlPlane = { table, queue, configs, githubApp, fleet, functions, maxInstances: props.maxInstances };

    const webhook = new Webhook(this, 'Webhook', { controlPlane, privateRoute: frontDoor.webhookRoute });
    const register = new RegisterEndpoint(this, 'Register', { controlPlane, privateRoute: frontDoor.registerRoute });
    const provisioner = new Provisioner(this, 'Provisioner', { controlPlane });
    const lifecycle = new Lifecycle(this, 'Lifecycle', { controlPlane });
    const reconciler = new Reconciler(this, 'Reconciler', { controlPlane, interval: settings.reconcileInterval, imagePipeline: image?.pipeline });
    // With a warm pool, instances outlive their jobs: the stack's deletion terminates them.
    if (fleet.hasWarmPools) new Teardown(this, 'Teardown', { controlPlane, launchers: [provisioner, reconciler.schedule] });
    const setup = props.github.appId === undefined
      ? new Setup(this, 'Setup', { controlPlane, webhookUrl: webhook.url, api: webhook.api, privateRoute: frontDoor.webhookRoute }) : undefined;
    const deadLetterQueues = [deadLetterQueue, lifecycle.deadLetterQueue];
    const monitoring = new RunnerMonitoring(this, 'Monitoring', {
      ...props.monitoring,
      functions: [webhook.handler, register.handler, provisioner.handler, lifecycle.handler, reconciler.handler, ...(setup ? [setup.handler] : [])],
      deadLetterQueues,
      defaultMaxInstances: props.maxInstances ?? configs.documents.reduce((sum, c) => sum + c.maxRunners, 0),
      imageArchitectures: image?.pipeline.architectureNames,
      fleetCap: props.maxInstances,
    });

    this.webhookFunction = webhook.handler.function;
    this.registerFunction = register.handler.function;
    this.provisionerFunction = provisioner.handler.function;
    this.lifecycleFunction = lifecycle.handler.function;
    this.reconcilerFunction = reconciler.handler.function;
    this.setupFunction = setup?.handler.function;
    this.setupUrl = setup?.url;
    this.webhookUrl = webhook.url;
    this.registerUrl = register.url;
    this.table = table.table;
    this.queue = queue;
    this.deadLetterQueue = deadLetterQueue;
    this.runnerRole = this.grantPrincipal = fleet.role;
    this.runnerSecurityGroup = fleet.securityGroup;
    this.connections = fleet.securityGroup.connections;
    this.runnerLogGroup = fleet.logGroup;
    this.launchTemplates = Object.values(fleet.launchTemplates);
    this.privateApi = frontDoor.api?.api;
    this.apiVpcEndpoint = frontDoor.createdEndpoint;
    this.controlPlaneSecurityGroup = network?.securityGroup;
    this.alarms = monitoring.alarms;
    this.dashboard = monitoring.dashboard;
    setupOutputs(this, names, { prefixValid, githubApp, setup, webhook, table, queue, monitoring, deadLetterQueues });
  }

  /** Jobs queued for a runner config: `queued` deliveries the webhook routed to it (Sum). */
  metricJobsQueued(runnerConfig: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric { return headlineMetric('jobsQueued', runnerConfig, props); }
  /** Jobs of a runner config a runner took (Sum). */
  metricJobsStarted(runnerConfig: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric { return headlineMetric('jobsStarted', runnerConfig, props); }
  /** Seconds jobs of a runner config waited from queued to started (p90); `props.start` picks warm or cold starts. */
  metricJobWaitTime(runnerConfig: string, props?: JobWaitTimeMetricOptions): cloudwatch.Metric { return jobWaitTimeMetric(runnerConfig, props); }
  /** Instances launched in one market (Sum). */
  metricInstancesLaunched(market: InstanceMarket, props?: cloudwatch.MetricOptions): cloudwatch.Metric { return headlineMetric('instancesLaunched', market, props); }
  /** Launches EC2 refused, of one kind (Sum). */
  metricLaunchErrors(kind: LaunchErrorKind, props?: cloudwatch.MetricOptions): cloudwatch.Metric { return headlineMetric('launchErrors', kind, props); }
  /** Spot interruption warnings of idle or busy runners (Sum). */
  metricSpotInterruptions(runner: InterruptedRunner, props?: cloudwatch.MetricOptions): cloudwatch.Metric { return headlineMetric('spotInterruptions', runner, props); }
  /** Jobs of a runner config that got a stopped warm pool instance instead of a cold launch (Sum); see `metricInstancesLaunched`. */
  metricWarmStarts(runnerConfig: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric { return headlineMetric('warmStarts', runnerConfig, props); }
  /** Claimed warm pool instances EC2 would not start (their jobs launched cold instead) (Sum). */
  metricWarmStartFailures(props?: cloudwatch.MetricOptions): cloudwatch.Metric { return headlineMetric('warmStartFailures', undefined, props); }
  /** Runner instances alive, as the reconciler counts them each sweep (Maximum). */
  metricLiveInstances(props?: cloudwatch.MetricOptions): cloudwatch.Metric { return headlineMetric('liveInstances', undefined, props); }
  /** Seconds the oldest queued job has waited, as the reconciler finds it each sweep (Maximum). */
  metricOldestQueuedJobAge(props?: cloudwatch.MetricOptions): cloudwatch.Metric { return headlineMetric('oldestQueuedJobAge', undefined, props); }
}
