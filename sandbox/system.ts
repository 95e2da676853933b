// The whole system on one machine: the simulators, the AWS stand-ins, and the project's real
// handlers wired as the synthesized template wires them. Handlers get their configuration as in
// AWS — environment variables (from the template) and SSM — and reach the simulators through the
// SDK's own endpoint variables.
import * as fs from 'fs';
import { createRequire } from 'module';
import * as path from 'path';
import type { Context } from 'aws-lambda';
import { EventBridgeSimulator, HttpApiSimulator, SqsSimulator } from './aws';
import { CloudWatchLogsSimulator } from './aws/cloudwatch-logs';
import { AccountState, assertDeployable } from './aws/deploy-checks';
import { startDynamoEngine } from './aws/dynamodb-engine';
import { DynamoIamProxy } from './aws/dynamodb-iam-proxy';
import { CallerIdentity, FunctionUrlSimulator } from './aws/function-url';
import { PrivateRestApiSimulator, ResourcePolicyStatement } from './aws/private-rest-api';
import { SeededRandom } from './common/random';
import { ScaledClock } from './common/time';
import { CfnResource, GITHUB_HOST, synthesizeDeployment, SynthesizedDeployment, TemplateResolver } from './deployment';
import { Ec2Simulator } from './ec2';
import type { MetadataOptions } from './ec2/types';
import { GhesSimulator } from './ghes';
import { IamAuthorizer } from './iam/authorizer';
import { ec2Authorizer } from './iam/ec2';
import { FunctionSessions } from './iam/identities';
import { OperationContext, OPERATIONS } from './iam/operations';
import { deploymentRoles } from './iam/roles';
import { principalOf, serviceAuthorizer } from './iam/services';
import { BootMode, callerIdentityFrom, InstanceHost } from './instances';
import type { Scenario } from './scenario';
import { SsmSimulator } from './ssm';
import { stateTableDefinition } from '../lambda/state/table-schema';

const REGION = 'us-east-1';
const ACCOUNT = '123456789012';
const ORG = 'octo-org';
/** The account the sandbox deploys into, before the deploy: no SSM parameters of its own. */
const SANDBOX_ACCOUNT: AccountState = { ssmParameters: [] };

/** The sandbox's own access key (its setup and the harness's calls): not a role session, IAM does not check it. */
const OPERATOR_KEY = 'sandbox';

type Handler = (event: never, context?: Context) => Promise<unknown>;

export interface SandboxOptions {
  /** A GitHub API base the handlers use instead of the simulator's (a recording proxy in front of it). */
  readonly githubUrl?: string;
  /** Handler log level (Powertools); ERROR keeps the console for the progress line. */
  readonly logLevel?: string;
  /** How instances boot; see {@link BootMode}. @default {@link defaultBootMode} */
  readonly bootMode?: BootMode;
}

export interface RunningSandbox {
  readonly scenario: Scenario;
  readonly clock: ScaledClock;
  readonly random: SeededRandom;
  readonly deployment: SynthesizedDeployment;
  readonly ghes: GhesSimulator;
  readonly ec2: Ec2Simulator;
  readonly ssm: SsmSimulator;
  readonly sqs: SqsSimulator;
  /** The public webhook's HTTP API; undefined on a private network. */
  readonly httpApi?: HttpApiSimulator;
  /** The private REST API holding both routes, on a private network. */
  readonly privateApi?: PrivateRestApiSimulator;
  readonly eventBridge: EventBridgeSimulator;
  /** The register Function URL; undefined on a private network. */
  readonly registerUrl?: FunctionUrlSimulator;
  readonly host: InstanceHost;
  /** CloudWatch Logs, where the bootstrap ships its lines; the runners' log group is `runnerLogGroup`. */
  readonly logs: CloudWatchLogsSimulator;
  readonly runnerLogGroup: string;
  readonly org: string;
  readonly repos: string[];
  readonly webhookUrl: string;
  readonly webhookSecret: string;
  /** Handler invocations the crash fault discarded, by function. */
  readonly crashes: Record<string, number>;
  /** Every instance launched (EC2 forgets terminated ones after a while). */
  readonly launches: Array<{ instanceId: string; poolId?: string; market: 'spot' | 'on-demand'; launchTime: number }>;
  /** IAM for every AWS call of the functions and the instances: decisions and denials by action. */
  readonly iam: IamAuthorizer;
  /** The functions' execution-role sessions. */
  readonly sessions: FunctionSessions;
  stop(): Promise<void>;
}

/**
 * The EC2 simulator interrupts running spot instances at a rate per hour; the scenario gives the
 * share of spot instances interrupted while they boot and run their job. With the mean boot and
 * job time T, a Poisson rate r interrupts a share 1 - e^(-rT): r = -ln(1 - share) / T.
 */
export function spotInterruptionsPerHour(scenario: Scenario): number {
  const share = Math.min(scenario.faults.ec2.spotInterruptionRate, 0.99);
  const jobs = scenario.jobs.reduce((n, j) => n + j.count, 0);
  if (share <= 0 || jobs === 0) return 0;
  const meanJobMs = scenario.jobs.reduce((sum, j) => sum + j.count * j.durationMs, 0) / jobs;
  const [bootMin, bootMax] = scenario.faults.ec2.bootMs;
  const lifeHours = (meanJobMs + (bootMin + bootMax) / 2) / 3_600_000;
  return lifeHours > 0 ? -Math.log(1 - share) / lifeHours : 0;
}

/** Instances of a run that boot with the real bootstrap script when the run is large. */
const BOOTSTRAP_SAMPLE = 40;

/**
 * Every instance runs the real bootstrap (a bash process, curl calls) in runs of up to about
 * {@link BOOTSTRAP_SAMPLE} jobs; larger runs boot a seeded sample of that size with it and the
 * rest in-process, and the report says how many booted which way.
 */
export function defaultBootMode(scenario: Scenario, random: SeededRandom): BootMode {
  const jobs = scenario.jobs.reduce((n, j) => n + j.count, 0);
  return jobs <= BOOTSTRAP_SAMPLE ? 'bootstrap' : { bootstrapShare: BOOTSTRAP_SAMPLE / jobs, random: random.fork('boot') };
}

export async function startSandbox(scenario: Scenario, options: SandboxOptions = {}): Promise<RunningSandbox> {
  const clock = new ScaledClock(scenario.timeScale);
  const random = new SeededRandom(scenario.seed);
  const deployment = synthesizeDeployment(scenario);
  // What CloudFormation and the services refuse at deploy time, refused here before anything runs.
  assertDeployable({ Resources: deployment.resources }, SANDBOX_ACCOUNT);
  const resources = deployment.resources;
  const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
  const stops: Array<() => Promise<void>> = [];

  // IAM: every AWS call of a function or an instance is decided by the engine against the
  // template's policies, for the caller's role session. The authorizer is built at the first call,
  // once every physical id the policies name is assigned (below).
  const sessions = new FunctionSessions(ACCOUNT, scenario.seed);
  const account = { hasSpotServiceLinkedRole: scenario.accountHasSpotServiceLinkedRole };
  const operationContext: OperationContext = { region: REGION, accountId: ACCOUNT };
  let built: IamAuthorizer | undefined;
  let buildAuthorizer: () => IamAuthorizer = () => { throw new Error('IAM is not wired yet'); };
  const authorizer = () => (built ??= buildAuthorizer());
  // The sandbox's own calls sign with the operator's key (process.env outside any function), which IAM does not check.
  let instanceIdentity: (accessKeyId: string) => CallerIdentity | undefined = () => undefined;
  const identityFor = (accessKeyId: string) => sessions.lookup(accessKeyId) ?? instanceIdentity(accessKeyId);
  const iamHooks = { authorizer, context: operationContext, identityFor };

  // DynamoDB: dynalite, with the table the template defines (its schema is the production one),
  // behind a proxy that verifies signatures and authorizes each call (dynalite checks no IAM).
  const dynamo = await startDynamoEngine();
  stops.push(() => dynamo.stop());
  const tableName = 'ephemeral-runners-state';
  await dynamo.createTable(stateTableDefinition(tableName));
  const dynamoProxy = new DynamoIamProxy({
    target: dynamo.endpoint,
    region: REGION,
    credentialsFor: identityFor,
    unchecked: (key) => key === OPERATOR_KEY,
    authorize: serviceAuthorizer('dynamodb', iamHooks),
  });
  await dynamoProxy.start();
  stops.push(() => dynamoProxy.stop());
  const dynamoUrl = dynamoProxy.url;

  const repos = [...new Set(scenario.jobs.map((j) => (j.repo.includes('/') ? j.repo : j.repo)))];
  const f = scenario.faults;
  const ghes = new GhesSimulator({
    clock,
    seed: scenario.seed,
    org: ORG,
    repos,
    hostname: GITHUB_HOST,
    webhookSecret: `sandbox-webhook-secret-${scenario.seed}`,
    // The handlers keep tokens by the wall clock (as in AWS); a simulated hour would end a token
    // after a few wall seconds, so tokens last a wall-clock hour here.
    installationTokenTtlMs: 3600_000 / scenario.timeScale,
    // GitHub waits 30 s for a webhook answer; that is wall time to the webhook function.
    webhookTimeoutMs: 30_000 / scenario.timeScale,
    faults: {
      serverErrorRate: f.github.errorRate,
      latencyMs: f.github.latencyMs,
      rateLimitWindows: f.github.rateLimitWindows,
      webhookDropRate: f.webhooks.dropRate,
      webhookDuplicateRate: f.webhooks.duplicateRate,
      webhookReorderRate: f.webhooks.reorderRate,
    },
  });
  await ghes.start();
  stops.push(() => ghes.stop());

  const ec2 = new Ec2Simulator({
    clock,
    seed: scenario.seed,
    region: REGION,
    accountId: ACCOUNT,
    onListenerError: () => undefined,
    authorize: ec2Authorizer({ ...iamHooks, account }),
    faults: {
      capacityErrorRate: f.ec2.capacityErrorRate,
      throttleRate: f.ec2.throttleRate,
      spotInterruptionsPerHour: spotInterruptionsPerHour(scenario),
      bootDelayMs: f.ec2.bootMs,
      unofferedInstanceTypes: f.ec2.unofferedInstanceTypes.map((entry) => {
        const [instanceType, availabilityZone] = entry.split('@');
        return { instanceType, availabilityZone };
      }),
    },
  });
  await ec2.start();
  stops.push(() => ec2.stop());
  instanceIdentity = callerIdentityFrom(ec2);
  const launches: RunningSandbox['launches'] = [];
  ec2.onInstanceStateChange((change) => {
    if (change.previousState !== undefined) return;
    const i = change.instance;
    launches.push({ instanceId: i.instanceId, poolId: i.tags['ephemeral-runners:pool'], market: i.market, launchTime: i.launchTime });
  });

  const ssm = new SsmSimulator({ clock, seed: scenario.seed, region: REGION, accountId: ACCOUNT, authorize: serviceAuthorizer('ssm', iamHooks) });
  await ssm.start();
  stops.push(() => ssm.stop());

  const sqs = new SqsSimulator({ clock, seed: scenario.seed, region: REGION, accountId: ACCOUNT, authorize: serviceAuthorizer('sqs', iamHooks) });
  await sqs.start();
  stops.push(() => sqs.stop());

  // Physical ids of the template's resources.
  const refs: Record<string, string> = {};
  const [[tableId]] = ofType('AWS::DynamoDB::Table');
  refs[tableId] = tableName;
  const queues = ofType('AWS::SQS::Queue');
  const poolQueueId = queues.find(([, r]) => r.Properties.RedrivePolicy && r.Properties.FifoQueue)![0];
  const poolQueue = resources[poolQueueId].Properties;
  const dlqId = queues.find(([id, r]) => id !== poolQueueId && r.Properties.FifoQueue)![0];
  const dlq = sqs.createQueue('pool-dead-letters.fifo');
  const queue = sqs.createQueue('pools.fifo', {
    visibilityTimeoutSeconds: poolQueue.VisibilityTimeout as number,
    deadLetterQueue: { queue: dlq, maxReceiveCount: (poolQueue.RedrivePolicy as { maxReceiveCount: number }).maxReceiveCount },
  });
  refs[poolQueueId] = sqs.queueUrl(queue);
  refs[dlqId] = sqs.queueUrl(dlq);
  for (const [id] of ofType('AWS::IAM::Role')) refs[id] = id.includes('FleetRole') ? 'sandbox-runner-role' : `sandbox-${id}`;
  ofType('AWS::EC2::Subnet').forEach(([id], i) => { refs[id] = ec2.subnets[i % ec2.subnets.length].subnetId; });
  // Values of Fn::GetAtt that matter as themselves, by logical id.
  const attributes: Record<string, string> = {};
  for (const [id, r] of ofType('AWS::Logs::LogGroup')) {
    refs[id] = typeof r.Properties.LogGroupName === 'string' ? r.Properties.LogGroupName : `/sandbox/${id}`;
    attributes[id] = `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${refs[id]}:*`;
  }
  for (const [id] of ofType('AWS::IAM::Role')) attributes[id] = `arn:aws:iam::${ACCOUNT}:role/${refs[id]}`;
  // The ARNs and ids the policies name, as AWS would assign them.
  attributes[tableId] = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${tableName}`;
  for (const [id] of queues) {
    const url = refs[id] ?? `${sqs.url}/${ACCOUNT}/${id}`;
    attributes[id] = `arn:aws:sqs:${REGION}:${ACCOUNT}:${url.split('/').pop()}`;
  }
  for (const [name, id] of Object.entries(deployment.functions)) {
    refs[id] = name;
    attributes[id] = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`;
  }
  for (const [id] of ofType('AWS::IAM::InstanceProfile')) attributes[id] = `arn:aws:iam::${ACCOUNT}:instance-profile/${id}`;
  ofType('AWS::EC2::SecurityGroup').forEach(([id], i) => { attributes[id] = `sg-0sandbox${String(i + 1).padStart(8, '0')}`; });
  // One resolver: it reads refs and attributes as they are when asked, so ids assigned later count.
  const resolver = new TemplateResolver(refs, { region: REGION, accountId: ACCOUNT }, attributes);
  // The runner roles and the functions' roles, with their policies, decided by the engine.
  buildAuthorizer = () => {
    const roleNames = Object.fromEntries(ofType('AWS::IAM::Role').map(([id]) => [id, refs[id]]));
    const runnerRoleId = ofType('AWS::IAM::Role').find(([id]) => id.includes('FleetRole'))![0];
    const aliases: Record<string, string> = { runner: refs[runnerRoleId] };
    for (const [name, id] of Object.entries(deployment.functions)) aliases[name] = roleOf(resources[id]);
    // The roles that call AWS in the sandbox: the five functions' and the runners'.
    const callers = new Set([runnerRoleId, ...Object.values(deployment.functions).map((id) => roleIdOf(resources[id]))]);
    const roles = deploymentRoles(resources, resolver, roleNames, callers);
    return new IamAuthorizer({ accountId: ACCOUNT, roles, aliases, removals: scenario.iam.removeStatements });
  };
  const roleIdOf = (fn: CfnResource) => (fn.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  const roleOf = (fn: CfnResource) => refs[roleIdOf(fn)];
  for (const [name, id] of Object.entries(deployment.functions)) sessions.add(name, roleOf(resources[id]));
  // Where instances ship their boot log.
  const logs = new CloudWatchLogsSimulator({
    region: REGION,
    accountId: ACCOUNT,
    logGroups: ofType('AWS::Logs::LogGroup').map(([id]) => refs[id]),
    identityFor: callerIdentityFrom(ec2),
    authorize: serviceAuthorizer('logs', iamHooks),
  });
  await logs.start();
  stops.push(() => logs.stop());

  // The register endpoint and the webhook API, in front of the real handlers (loaded below).
  const handlers: Record<string, Handler> = {};
  const crashes: Record<string, number> = {};
  const crashRandom = random.fork('crash');
  const invoke = (name: string) => async (event: never, context?: Context) => {
    // The function's AWS calls sign with its own role's session.
    const result = await sessions.run(name, () => handlers[name](event, context));
    // A crash after the work was done: the caller sees a failure and retries, as after a timeout.
    if (crashRandom.chance(f.crash.rate)) {
      crashes[name] = (crashes[name] ?? 0) + 1;
      throw new Error(`simulated crash of the ${name} function after it finished its work`);
    }
    return result;
  };
  // The register endpoint and the webhook: a Function URL and an HTTP API, or routes of the
  // private REST API, as the template has them.
  let registerUrl: FunctionUrlSimulator | undefined;
  let httpApi: HttpApiSimulator | undefined;
  let privateApi: PrivateRestApiSimulator | undefined;
  /** Rewrites a URL of the template to the simulator serving it: the DNS of the sandbox. */
  let localUrl = (url: string) => url;
  let webhookUrl: string;
  if (scenario.network === 'private') {
    // The runners reach the API through the execute-api endpoint: its policy applies too.
    const [endpointId, endpoint] = ofType('AWS::EC2::VPCEndpoint')[0];
    const through = () => ({ vpceId: refs[endpointId], policy: resolver.resolve(endpoint.Properties.PolicyDocument ?? { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: '*', Resource: '*' }] }) });
    const identityAllows = async (_roleArn: string, methodArn: string, identity: CallerIdentity) => (await authorizer().authorize(
      principalOf(identity), OPERATIONS['execute-api:Invoke'].requests({ methodArn } as never, operationContext), through())) === undefined;
    const privateBuilt = privateRestApi(deployment, refs, resolver, invoke, callerIdentityFrom(ec2), identityAllows, { clock, seed: scenario.seed });
    privateApi = privateBuilt.api;
    await privateApi.start();
    stops.push(() => privateApi!.stop());
    // The {api-id}-{vpce-id} alias resolves to the endpoint, which the simulator stands for.
    const alias = privateBuilt.aliasUrl;
    const served = privateApi.url;
    localUrl = (url) => url.split(alias).join(served);
    // The App's webhook URL is the stack output, as an operator would enter it.
    const output = Object.entries(deployment.outputs).find(([k]) => k.includes('WebhookUrl'))![1].Value;
    webhookUrl = localUrl(resolver.string(output));
    if (!webhookUrl.startsWith(served)) throw new Error(`the WebhookUrl output ${webhookUrl} is not an address of the private API (${alias})`);
  } else {
    const invokeUrl = OPERATIONS['lambda:InvokeFunctionUrl'];
    registerUrl = new FunctionUrlSimulator({
      region: REGION,
      accountId: ACCOUNT,
      identityFor: callerIdentityFrom(ec2),
      handler: invoke('register') as never,
      authorize: async (identity) => (await authorizer().authorize(principalOf(identity), invokeUrl.requests({ functionName: 'register' } as never, operationContext)))?.message,
    });
    await registerUrl.start();
    stops.push(() => registerUrl!.stop());
    httpApi = new HttpApiSimulator({
      clock,
      seed: scenario.seed,
      region: REGION,
      accountId: ACCOUNT,
      routes: [{
        routeKey: 'POST /webhook',
        handler: invoke('webhook') as never,
        functionName: 'webhook',
        functionTimeoutSeconds: resources[deployment.functions.webhook].Properties.Timeout as number,
      }],
    });
    await httpApi.start();
    stops.push(() => httpApi!.stop());
    webhookUrl = `${httpApi.url}/webhook`;
    for (const [id, r] of ofType('AWS::Lambda::Url')) {
      const target = JSON.stringify(r.Properties.TargetFunctionArn);
      if (target.includes(deployment.functions.register)) attributes[id] = registerUrl.url;
    }
  }
  ghes.setWebhookUrl(webhookUrl);

  // Launch templates, with the user data the template renders (the register URL resolved) and the
  // image it names, if any (the construct's name none: the provisioner passes the AMI id).
  for (const [id, r] of ofType('AWS::EC2::LaunchTemplate')) {
    const data = r.Properties.LaunchTemplateData as Record<string, unknown>;
    const userData = localUrl(Buffer.from(resolver.string(data.UserData), 'base64').toString('utf8'));
    type TagSpecification = { ResourceType: string; Tags: Array<{ Key: string; Value: unknown }> };
    const tagsFor = (type: string) => Object.fromEntries(((data.TagSpecifications ?? []) as TagSpecification[])
      .filter((t) => t.ResourceType === type).flatMap((t) => t.Tags.map((tag) => [tag.Key, resolver.string(tag.Value)])));
    const registered = ec2.registerLaunchTemplate({
      launchTemplateName: id,
      ...(data.ImageId === undefined ? {} : { imageId: resolver.string(data.ImageId) }),
      userData,
      instanceInitiatedShutdownBehavior: data.InstanceInitiatedShutdownBehavior as 'terminate',
      iamInstanceProfile: {
        arn: resolver.string((data.IamInstanceProfile as { Arn: unknown }).Arn),
        roleName: 'sandbox-runner-role',
      },
      securityGroupIds: ((data.SecurityGroupIds ?? []) as unknown[]).map((sg) => resolver.string(sg)),
      tags: tagsFor('instance'),
      volumeTags: tagsFor('volume'),
      metadataOptions: metadataOptionsOf(data.MetadataOptions as Record<string, unknown> | undefined),
    });
    refs[id] = registered.launchTemplateId;
  }

  // SSM: the runner config parameters as the template writes them, and the two secrets the setup
  // step would write.
  for (const [, r] of ofType('AWS::SSM::Parameter')) {
    ssm.seedParameter({ name: resolver.string(r.Properties.Name), value: resolver.string(r.Properties.Value), type: 'String' });
  }
  const output = (suffix: string) => resolver.string(Object.entries(deployment.outputs).find(([k]) => k.includes(suffix))![1].Value);
  ssm.seedParameter({ name: output('PrivateKeyParameter'), value: ghes.privateKey, type: 'SecureString' });
  // The image pipeline's first build writes each architecture's image parameter (its distribution's
  // SSM parameter configuration) some time after the deploy.
  const imageParameters = ofType('AWS::ImageBuilder::DistributionConfiguration').flatMap(([, r]) =>
    (r.Properties.Distributions as Array<{ SsmParameterConfigurations?: Array<{ ParameterName: unknown }> }>)
      .flatMap((d) => d.SsmParameterConfigurations ?? []).map((c) => resolver.string(c.ParameterName)));
  const writeImages = () => imageParameters.forEach((name, i) => ssm.seedParameter({ name, value: `ami-0${(i + 1).toString(16).padStart(16, '0')}`, type: 'String' }));
  if (scenario.imageReadyAfterMs === 0) writeImages();
  else clock.after(scenario.imageReadyAfterMs, writeImages);
  ssm.seedParameter({ name: output('WebhookSecretParameter'), value: ghes.webhookSecret!, type: 'SecureString' });

  // The functions' environment, from the template, plus what points the SDK at the simulators.
  const environment: Record<string, string> = {};
  for (const logicalId of Object.values(deployment.functions)) {
    const variables = ((resources[logicalId].Properties.Environment as { Variables?: Record<string, unknown> })?.Variables) ?? {};
    for (const [name, value] of Object.entries(variables)) environment[name] = resolver.string(value);
  }
  Object.assign(process.env, environment, {
    AWS_REGION: REGION,
    // Outside a function's invocation (the sandbox's own calls); inside one, process.env answers
    // the function's role session instead (iam/identities.ts).
    AWS_ACCESS_KEY_ID: OPERATOR_KEY,
    AWS_SECRET_ACCESS_KEY: OPERATOR_KEY,
    AWS_ENDPOINT_URL_DYNAMODB: dynamoUrl,
    AWS_ENDPOINT_URL_EC2: ec2.url,
    AWS_ENDPOINT_URL_SSM: ssm.url,
    AWS_ENDPOINT_URL_SQS: sqs.url,
    GITHUB_API_URL: options.githubUrl ?? ghes.apiUrl,
    // The functions' optional timing variables (TIMING_ENVIRONMENT, lambda/handlers/wiring/
    // control-plane.ts). One process runs every function: GitHub writes are not spaced a second
    // apart, and rate-limit waits are scaled like everything else.
    GITHUB_WRITE_SPACING_MS: '0',
    GITHUB_RETRY_AFTER_BASE_MS: String(Math.max(1, Math.round(1000 * scenario.timeScale))),
    GITHUB_RETRY_BASE_MS: String(Math.max(1, Math.round(1000 * scenario.timeScale))),
    // The reconciler's GitHub sweeps (failed deliveries, ghosts) every 2 simulated minutes, its
    // redeliveries of one delivery 3 simulated minutes apart, as in a deployment.
    RECONCILER_GITHUB_SWEEP_MS: String(Math.max(1, Math.round(2 * 60_000 * scenario.timeScale))),
    RECONCILER_REDELIVERY_SPACING_MS: String(Math.max(1, Math.round(3 * 60_000 * scenario.timeScale))),
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_LOG_LEVEL: options.logLevel ?? 'ERROR',
    AWS_NODEJS_CONNECTION_REUSE_ENABLED: '1',
  });
  // The bundles the construct deploys (assets/), loaded only now: each handler reads its
  // environment once, at its first invocation.
  for (const name of ['webhook', 'register', 'provisioner', 'lifecycle', 'reconciler']) {
    const bundle = path.join(__dirname, '..', 'assets', 'lambda', 'handlers', name, 'index.js');
    if (!fs.existsSync(bundle)) throw new Error(`${bundle} is missing: run \`npx projen bundle\` (npm run sandbox does) first`);
    // A fresh module per sandbox, like a fresh container: a handler keeps what it built at its
    // first invocation (clients, endpoints), which belongs to the sandbox that invoked it. Node's
    // own require (not a test runner's registry) loads the bundle, as Lambda's runtime does.
    const load = createRequire(bundle);
    delete load.cache[bundle];
    handlers[name] = (load(bundle) as { handler: Handler }).handler;
  }

  // The queue's event source mapping, the event rules and the schedule, as the template has them.
  for (const [, r] of ofType('AWS::Lambda::EventSourceMapping')) {
    sqs.createEventSourceMapping({
      queue,
      handler: invoke('provisioner') as never,
      functionName: 'provisioner',
      functionTimeoutSeconds: resources[deployment.functions.provisioner].Properties.Timeout as number,
      batchSize: r.Properties.BatchSize as number,
      reportBatchItemFailures: (r.Properties.FunctionResponseTypes as string[] | undefined)?.includes('ReportBatchItemFailures') ?? false,
    });
  }
  const eventBridge = new EventBridgeSimulator({ clock, seed: scenario.seed, region: REGION, accountId: ACCOUNT });
  stops.push(() => eventBridge.stop());
  for (const [id, r] of ofType('AWS::Events::Rule')) {
    const targets = r.Properties.Targets as Array<{ Arn: unknown }>;
    const name = Object.entries(deployment.functions).find(([, logicalId]) => JSON.stringify(targets[0].Arn).includes(logicalId))![0];
    const target = {
      handler: invoke(name) as never, functionName: name, functionTimeoutSeconds: resources[deployment.functions[name]].Properties.Timeout as number,
    };
    const trigger = r.Properties.ScheduleExpression
      ? { scheduleExpression: String(r.Properties.ScheduleExpression) }
      : { eventPattern: r.Properties.EventPattern as never };
    eventBridge.putRule({ name: id, ...trigger, targets: [target] });
  }
  ec2.onEvent((event) => { eventBridge.publish(event as never); });

  // Every physical id is assigned: read the policies now, so a policy the sandbox cannot resolve
  // (or a removal that names nothing) fails the start rather than every call.
  authorizer();

  const host = new InstanceHost(ec2, ghes, options.bootMode ?? defaultBootMode(scenario, random), logs.url);
  await host.start();
  stops.push(() => host.stop());

  return {
    scenario,
    clock,
    random,
    deployment,
    ghes,
    ec2,
    ssm,
    sqs,
    httpApi,
    privateApi,
    eventBridge,
    registerUrl,
    host,
    logs,
    runnerLogGroup: refs[ofType('AWS::Logs::LogGroup').find(([id]) => id.includes('FleetLogs'))![0]],
    org: ORG,
    repos,
    webhookUrl,
    webhookSecret: ghes.webhookSecret!,
    crashes,
    launches,
    get iam() {
      return authorizer();
    },
    sessions,
    async stop() {
      // Last started, first stopped: the instances and the event sources go before the services they call.
      for (const stop of [...stops].reverse()) await stop().catch(() => undefined);
    },
  };
}

/**
 * The private REST API of the template, served by the simulator: its methods (path, authorization,
 * function), its stage and its resource policy with intrinsics resolved. Assigns the physical ids
 * of the API and its endpoint, and the runner role's ARN the policy names.
 */
function privateRestApi(
  deployment: SynthesizedDeployment,
  refs: Record<string, string>,
  resolver: TemplateResolver,
  invoke: (name: string) => unknown,
  identityFor: (accessKeyId: string) => CallerIdentity | undefined,
  identityAllows: (roleArn: string, methodArn: string, identity: CallerIdentity) => Promise<boolean>,
  options: { clock: ScaledClock; seed: number },
): { api: PrivateRestApiSimulator; aliasUrl: string } {
  const entries = Object.entries(deployment.resources);
  const only = (type: string): [string, CfnResource] => {
    const found = entries.filter(([, r]) => r.Type === type);
    if (found.length !== 1) throw new Error(`the sandbox expects one ${type} in a private deployment, found ${found.length}`);
    return found[0];
  };
  const [apiId, api] = only('AWS::ApiGateway::RestApi');
  const [endpointId] = only('AWS::EC2::VPCEndpoint');
  const [stageId, stage] = only('AWS::ApiGateway::Stage');
  const stageName = String(stage.Properties.StageName);
  refs[apiId] = 'sandboxapi';
  refs[endpointId] = 'vpce-0sandbox0000000';
  refs[stageId] = stageName;
  const methods = entries.filter(([, r]) => r.Type === 'AWS::ApiGateway::Method').map(([, r]) => {
    const resourceId = (r.Properties.ResourceId as { Ref: string }).Ref;
    const integration = JSON.stringify((r.Properties.Integration as { Uri: unknown }).Uri);
    const [name, functionId] = Object.entries(deployment.functions).find(([, id]) => integration.includes(`"${id}"`))!;
    return {
      path: `/${String(deployment.resources[resourceId].Properties.PathPart)}`,
      httpMethod: String(r.Properties.HttpMethod),
      authorizationType: r.Properties.AuthorizationType as 'NONE' | 'AWS_IAM',
      handler: invoke(name) as never,
      functionName: name,
      functionTimeoutSeconds: deployment.resources[functionId].Properties.Timeout as number,
    };
  });
  return {
    api: new PrivateRestApiSimulator({
      apiId: refs[apiId],
      stageName,
      vpceId: refs[endpointId],
      methods,
      policy: resolver.resolve((api.Properties.Policy as { Statement: unknown }).Statement) as ResourcePolicyStatement[],
      identityFor,
      identityAllows,
      clock: options.clock,
      seed: options.seed,
      region: REGION,
      accountId: ACCOUNT,
    }),
    aliasUrl: `https://${refs[apiId]}-${refs[endpointId]}.execute-api.${REGION}.amazonaws.com/${stageName}`,
  };
}

/**
 * The template's instance metadata options, as EC2 applies them: what the template omits takes
 * EC2's defaults for an AMI that does not declare ImdsSupport v2.0 (as the image pipeline's do not):
 * tokens optional, endpoint enabled, hop limit 1, tags off
 * (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-IMDS-new-instances.html). So a
 * template that stopped requiring IMDSv2 would show in the sandbox too.
 */
function metadataOptionsOf(options: Record<string, unknown> = {}): MetadataOptions {
  return {
    httpTokens: options.HttpTokens === 'required' ? 'required' : 'optional',
    httpEndpoint: options.HttpEndpoint === 'disabled' ? 'disabled' : 'enabled',
    httpPutResponseHopLimit: typeof options.HttpPutResponseHopLimit === 'number' ? options.HttpPutResponseHopLimit : 1,
    instanceMetadataTags: options.InstanceMetadataTags === 'enabled' ? 'enabled' : 'disabled',
  };
}
