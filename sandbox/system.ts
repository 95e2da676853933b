// The whole system on one machine: the simulators, the stack deployed into them (deployment.ts), and
// the real function bundles wired as the template wires them, each in execution environments of its
// own (aws/lambda-runtime.ts). Functions get their configuration as in AWS (environment variables from
// the template, SSM) and reach the simulators through the SDK's endpoint variables.
import * as fs from 'fs';
import * as path from 'path';
import type { Context } from 'aws-lambda';
import { EventBridgeSimulator, HttpApiSimulator, SqsSimulator } from './aws';
import { CloudFormationSimulator } from './aws/cloudformation';
import { CloudWatchSimulator } from './aws/cloudwatch';
import { CloudWatchLogsSimulator } from './aws/cloudwatch-logs';
import { startDynamoEngine } from './aws/dynamodb-engine';
import { DynamoIamProxy } from './aws/dynamodb-iam-proxy';
import { EmfRecorder } from './aws/emf';
import { CallerIdentity, FunctionUrlSimulator } from './aws/function-url';
import { LambdaRuntime } from './aws/lambda-runtime';
import { PrivateRestApiSimulator, ResourcePolicyStatement } from './aws/private-rest-api';
import { S3Simulator } from './aws/s3';
import { SeededRandom } from './common/random';
import { ScaledClock } from './common/time';
import { architectureOf, CfnResource, DeployedStack, deployStack, GHES_HOST, referenced, synthesizeDeployment } from './deployment';
import { Ec2Simulator } from './ec2';
import type { InstanceRecord } from './ec2/instances';
import { ROOT_DEVICE_NAME } from './ec2/launch-templates';
import { GhesSimulator } from './ghes';
import { deploymentRoles, IamAuthorizer } from './iam/authorizer';
import { FunctionSessions } from './iam/identities';
import { OPERATIONS } from './iam/operations';
import { ec2Authorizer, principalOf, serviceAuthorizer } from './iam/services';
import { callerIdentityFrom, InstanceHost } from './instances';
import type { LaunchedInstance, LaunchSettings } from './report';
import type { Scenario } from './scenario';
import { SsmSimulator } from './ssm';
import { CONTROL_PLANE_ENVIRONMENT, encodeEnvironment, PACING_ENVIRONMENT, TEARDOWN_PACING_ENVIRONMENT } from '../src/contracts/environment';
import { TAG_CONFIG, TAG_POOL } from '../src/contracts/instance-tags';
import { FunctionName } from '../src/contracts/metrics';
import { RunnerArchitecture } from '../src/runner-config';

const REGION = 'us-east-1';
const ACCOUNT = '123456789012';
const ORG = 'octo-org';
/** The site administrator who owns the GHES's enterprise account and creates its credential. */
const ENTERPRISE_OWNER = 'ghes-admin';
const STACK_NAME = 'EphemeralRunnersSandbox';
const STACK_ID = `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/${STACK_NAME}/00000000-0000-4000-8000-000000000001`;
/** The sandbox's own access key (its setup and the harness's calls): not a role session, IAM does not check it. */
const OPERATOR_KEY = 'sandbox';
/** Instances of a run that boot with the real bootstrap script when the run is large. */
const BOOTSTRAP_SAMPLE = 40;

export type RunningSandbox = Awaited<ReturnType<typeof startSandbox>>;
type SandboxOptions = { readonly githubUrl?: string; readonly logLevel?: string; readonly withApp?: boolean };

/** The scenario's share of spot instances interrupted as a Poisson rate per hour: a share 1 - e^(-rT) over the mean life T. */
function spotInterruptionsPerHour(scenario: Scenario, jobs: number): number {
  const share = Math.min(scenario.faults.ec2.spotInterruptionRate, 0.99);
  if (share <= 0 || jobs === 0) return 0;
  const meanJobMs = scenario.jobs.reduce((sum, j) => sum + j.count * j.durationMs, 0) / jobs;
  const [bootMin, bootMax] = scenario.faults.ec2.bootMs;
  const lifeHours = (meanJobMs + (bootMin + bootMax) / 2) / 3_600_000;
  return lifeHours > 0 ? -Math.log(1 - share) / lifeHours : 0;
}

/**
 * `githubUrl`: a GitHub API base the handlers use instead of the simulator's; `logLevel`: theirs (ERROR keeps the console for the
 * progress line); `withApp: false`: the GHES has no App and the stack's setup page creates it (nothing seeded).
 */
export async function startSandbox(scenario: Scenario, options: SandboxOptions = {}) {
  const withApp = options.withApp ?? true;
  const clock = new ScaledClock(scenario.timeScale);
  const random = new SeededRandom(scenario.seed);
  const f = scenario.faults;
  const jobs = scenario.jobs.reduce((n, j) => n + j.count, 0);
  const common = { clock, seed: scenario.seed, region: REGION, accountId: ACCOUNT };
  const stops: Array<() => Promise<unknown>> = [];
  const started: Started = async (service) => {
    await service.start?.();
    stops.push(() => service.stop());
    return service;
  };

  // IAM: every AWS call of a function or an instance is decided by the engine against the
  // template's policies, for the caller's role session. The authorizer is built at the first
  // call, once the deploy has assigned every physical id the policies name.
  const sessions = new FunctionSessions(ACCOUNT, scenario.seed);
  let stack: DeployedStack | undefined;
  let built: IamAuthorizer | undefined;
  const authorizer = () => (built ??= authorizerFor(stack!, scenario));
  // The sandbox's own calls sign with the operator's key, which IAM does not check.
  let instanceIdentity: (accessKeyId: string) => CallerIdentity | undefined = () => undefined;
  const identityFor = (accessKeyId: string) => sessions.lookup(accessKeyId) ?? instanceIdentity(accessKeyId);
  const iamHooks = { authorizer, context: { region: REGION, accountId: ACCOUNT }, identityFor };

  // GitHub and the services the stack deploys into. DynamoDB is dynalite behind a proxy that
  // verifies signatures and authorizes each call (dynalite checks no IAM).
  const repos = [...new Set(scenario.jobs.map((j) => j.repo))];
  let localUrl = (url: string) => url;
  const dynamo = await started(await startDynamoEngine());
  const dynamoProxy = await started(new DynamoIamProxy({
    target: dynamo.endpoint, region: REGION, credentialsFor: identityFor, unchecked: (key) => key === OPERATOR_KEY, authorize: serviceAuthorizer('dynamodb', iamHooks),
  }));
  const ghes = await started(new GhesSimulator({
    clock,
    seed: scenario.seed,
    org: ORG,
    repos,
    ...(scenario.enterprise
      ? { organizations: scenario.enterprise.organizations, enterprise: { slug: scenario.enterprise.slug, owners: [ENTERPRISE_OWNER] } } : {}),
    hostname: GHES_HOST,
    withApp,
    webhookSecret: withApp ? `sandbox-webhook-secret-${scenario.seed}` : undefined,
    // The webhook URL a manifest names is the stack's, reached through the sandbox's DNS.
    resolveUrl: (url) => localUrl(url),
    // Tokens last a wall-clock hour (the handlers keep them by the wall clock, as in AWS); GitHub's 30 s
    // webhook timeout is wall time to the webhook function.
    installationTokenTtlMs: 3600_000 / scenario.timeScale,
    webhookTimeoutMs: 30_000 / scenario.timeScale,
    faults: {
      serverErrorRate: f.github.errorRate,
      latencyMs: f.github.latencyMs,
      rateLimitWindows: f.github.rateLimitWindows,
      webhookDropRate: f.webhooks.dropRate,
      webhookDuplicateRate: f.webhooks.duplicateRate,
      webhookReorderRate: f.webhooks.reorderRate,
    },
  }));
  const ec2 = await started(new Ec2Simulator({
    ...common,
    onListenerError: () => undefined,
    authorize: ec2Authorizer({ ...iamHooks, account: { hasSpotServiceLinkedRole: scenario.accountHasSpotServiceLinkedRole } }),
    faults: {
      capacityErrorRate: f.ec2.capacityErrorRate,
      throttleRate: f.ec2.throttleRate,
      spotInterruptionsPerHour: spotInterruptionsPerHour(scenario, jobs),
      bootDelayMs: f.ec2.bootMs,
      startCapacityErrorRate: f.ec2.startCapacityErrorRate,
      unofferedInstanceTypes: f.ec2.unofferedInstanceTypes.map((entry) => entry.split('@')).map(([instanceType, availabilityZone]) => ({ instanceType, availabilityZone })),
    },
  }));
  const ssm = await started(new SsmSimulator({ ...common, authorize: serviceAuthorizer('ssm', iamHooks) }));
  const sqs = await started(new SqsSimulator({ ...common, authorize: serviceAuthorizer('sqs', iamHooks) }));
  instanceIdentity = callerIdentityFrom(ec2);
  /** Every instance launched (EC2 forgets terminated ones after a while). */
  const launches: LaunchedInstance[] = [];
  /** Every start of a stopped instance (a warm pool instance claimed for a job), at simulated ms. */
  const starts: LaunchedInstance[] = [];
  ec2.onInstanceStateChange(({ previousState, state, instance: i }) => {
    if (previousState === undefined) {
      launches.push({ poolId: i.tags[TAG_POOL], market: i.market, launchTime: i.launchTime, launchedWith: launchedWith(i) });
    }
    if (previousState === 'stopped' && state === 'pending') starts.push({ poolId: i.tags[TAG_POOL], market: i.market, launchTime: clock.now() });
  });

  const into = { region: REGION, accountId: ACCOUNT, stackId: STACK_ID, services: { dynamo, sqs, ssm, ec2 } };
  const synthesized = synthesizeDeployment(scenario, withApp);
  stack = await deployStack(synthesized, into);
  const { functions, ofType } = stack;
  for (const [name, fn] of Object.entries(functions)) sessions.add(name, stack.roleNames[fn.roleId]);
  // What the operator writes for an App of their own (its secrets), and the image pipeline's first build some time after the deploy.
  for (const [output, value] of withApp ? [['PrivateKeyParameter', ghes.privateKey], ['WebhookSecretParameter', ghes.webhookSecret!]] as const : []) {
    ssm.seedParameter({ name: stack.output(output), value, type: 'SecureString' });
  }
  // An enterprise: the operator creates the runner groups the configs name in its settings, a personal access token (classic) as
  // an enterprise owner, and writes the token to the parameter the stack names.
  const enterprise = scenario.enterprise;
  if (enterprise) {
    for (const c of scenario.runnerConfigs) {
      if (c.runnerGroup === undefined) continue;
      const create = () => ghes.createRunnerGroup(c.scope === 'enterprise' ? 'enterprise' : `org:${ORG}`, c.runnerGroup!);
      if (!enterprise.missingGroups.includes(c.runnerGroup)) create();
      else if (enterprise.missingGroupsCreatedAfterMs > 0) clock.after(enterprise.missingGroupsCreatedAfterMs, create);
    }
    const token = ghes.createPersonalToken(enterprise.tokenScopes, ENTERPRISE_OWNER);
    ssm.seedParameter({ name: stack.output('EnterpriseTokenParameter'), value: token, type: 'SecureString' });
  }
  /** AMIs that hold no runner (scenario `imageWithoutRunner`): their instances boot with an empty runner directory. */
  const withoutRunner = new Set<string>();
  const writeImages = (build: number) => stack!.imageParameters.forEach((name, i) => {
    const imageId = `ami-0${(build * 0x100 + i + 1).toString(16).padStart(16, '0')}`;
    ec2.registerImage(imageId, name.endsWith('arm64') ? 'arm64' : 'x86_64', `ephemeral-runners-${name.split('/').pop()}-${build}`);
    if (build === 0 && scenario.imageWithoutRunner) withoutRunner.add(imageId);
    ssm.seedParameter({ name, value: imageId, type: 'String' });
  });
  // Images of the configs' own: AMIs the account holds before the deploy.
  for (const c of scenario.runnerConfigs.filter((config) => config.amiId)) {
    ec2.registerImage(c.amiId!, architectureOf(c) === RunnerArchitecture.ARM64 ? 'arm64' : 'x86_64', `team-image-${c.name}`);
  }
  if (scenario.imageReadyAfterMs === 0) writeImages(0);
  else clock.after(scenario.imageReadyAfterMs, () => writeImages(0));
  const fixedAfterMs = scenario.imageWithoutRunner?.fixedAfterMs ?? 0;
  if (fixedAfterMs > 0) clock.after(Math.max(fixedAfterMs, scenario.imageReadyAfterMs), () => writeImages(1));
  // Where instances ship their boot log.
  const logs = await started(new CloudWatchLogsSimulator({
    region: REGION, accountId: ACCOUNT, logGroups: stack.logGroups, identityFor: instanceIdentity, authorize: serviceAuthorizer('logs', iamHooks),
  }));

  // The file assets `cdk deploy` published to the bootstrap bucket: job hooks instances download.
  const objects = new Map(synthesized.fileAssets.map(({ object, file }) => [object.replace('${AWS::AccountId}', ACCOUNT).replace('${AWS::Region}', REGION), file]));
  const s3 = await started(new S3Simulator({ region: REGION, objects, identityFor: instanceIdentity, authorize: serviceAuthorizer('s3', iamHooks) }));

  // The functions' execution environments (deployed below, once the front doors' URLs are known).
  // The functions' output as CloudWatch Logs takes it: EMF documents become metric values, the rest is their log.
  const emf = new EmfRecorder(process.stderr);
  const runtime = new LambdaRuntime({ timeScale: scenario.timeScale, region: REGION, accountId: ACCOUNT, log: emf });
  stops.push(() => runtime.stop());
  /** Handler invocations the crash fault discarded, by function. */
  const crashes: Record<string, number> = {};
  const crashRandom = random.fork('crash');
  const invoke = (name: FunctionName) => async (event: never, context?: Context) => {
    const result = await runtime.invoke(name, event, context);
    // A crash after the work was done: the caller sees a failure and retries, as after a timeout.
    if (crashRandom.chance(f.crash.rate)) {
      crashes[name] = (crashes[name] ?? 0) + 1;
      throw new Error(`simulated crash of the ${name} function after it finished its work`);
    }
    return result;
  };
  /** The function a reference of the template names, as an integration invokes it. */
  const target: Target = (reference) => {
    const name = stack!.functionOf(reference);
    return { handler: invoke(name) as never, functionName: name, functionTimeoutSeconds: functions[name].timeoutSeconds };
  };
  const doors = await startFrontDoors(stack, started, { target, authorizer, identityFor: instanceIdentity, common });
  // The sandbox's DNS: the front doors' URLs, and the GitHub server's.
  localUrl = (url) => doors.localUrl(url).split(`https://${GHES_HOST}`).join(ghes.url);
  // The App's webhook URL is the stack output, as an operator would enter it (or the setup page puts in the manifest).
  const webhookUrl = localUrl(stack.output('WebhookUrl'));
  if (!webhookUrl.startsWith('http://127.0.0.1')) throw new Error(`the WebhookUrl output ${webhookUrl} is served by none of the front doors`);
  if (withApp) ghes.setWebhookUrl(webhookUrl);
  // CloudFormation (the stack's outputs, custom resources' answers) and CloudWatch, as the operator's commands read them.
  const cloudformation = await started(new CloudFormationSimulator(
    { name: STACK_NAME, id: STACK_ID, outputs: () => stack!.outputs() }, serviceAuthorizer('cloudformation', iamHooks)));
  const cloudwatch = await started(new CloudWatchSimulator(() => stack!.alarmNames));

  // Each function's environment: its variables from the template, its role's session (as Lambda sets it), and what points the SDK at the simulators.
  const scaled = (ms: number) => Math.max(1, Math.round(ms * scenario.timeScale));
  const sandboxEnvironment = {
    AWS_REGION: REGION,
    AWS_DEFAULT_REGION: REGION,
    AWS_ENDPOINT_URL_DYNAMODB: dynamoProxy.url,
    AWS_ENDPOINT_URL_EC2: ec2.url,
    AWS_ENDPOINT_URL_SSM: ssm.url,
    AWS_ENDPOINT_URL_SQS: sqs.url,
    AWS_ENDPOINT_URL_CLOUDFORMATION: cloudformation.url,
    [CONTROL_PLANE_ENVIRONMENT.githubApiUrl.name]: options.githubUrl ?? ghes.apiUrl,
    POWERTOOLS_LOG_LEVEL: options.logLevel ?? 'ERROR',
    AWS_NODEJS_CONNECTION_REUSE_ENABLED: '1',
    ...process.env.NODE_NO_WARNINGS ? { NODE_NO_WARNINGS: process.env.NODE_NO_WARNINGS } : {},
    ...encodeEnvironment(PACING_ENVIRONMENT, {
      // Each environment is a container of its own: GitHub writes, rate-limit waits, the reconciler's 2-minute GitHub sweep
      // and 3-minute redelivery spacing are paced as in AWS, scaled like everything else.
      githubWriteSpacingMs: scaled(1000),
      githubRetryAfterBaseMs: scaled(1000),
      githubRetryBaseMs: scaled(1000),
      reconcilerGitHubSweepMs: scaled(2 * 60_000),
      reconcilerRedeliverySpacingMs: scaled(3 * 60_000),
    }),
    ...encodeEnvironment(TEARDOWN_PACING_ENVIRONMENT, {
      // The teardown's sweep at the stack's deletion, on the scaled clock.
      teardownQuietMs: scaled(60_000),
      teardownPollMs: scaled(5_000),
      teardownMaxWaitMs: scaled(180_000),
    }),
  };
  // A function an event source mapping invokes runs at most its ScalingConfig.MaximumConcurrency at once.
  const maximumConcurrency = (mapping: CfnResource) =>
    (mapping.Properties.ScalingConfig as { MaximumConcurrency?: number } | undefined)?.MaximumConcurrency;
  const mappings = ofType('AWS::Lambda::EventSourceMapping');
  const mappingConcurrency = new Map(mappings.map(([, r]) => [stack!.functionOf(r.Properties.FunctionName), maximumConcurrency(r)]));
  for (const [name, fn] of Object.entries(functions) as Array<[FunctionName, typeof functions[FunctionName]]>) {
    const session = sessions.session(name)!;
    runtime.deploy({
      name,
      bundle: bundleOf(name),
      environment: {
        ...Object.fromEntries(Object.entries(fn.environment()).map(([variable, value]) => [variable, localUrl(value)])),
        ...sandboxEnvironment,
        AWS_LAMBDA_FUNCTION_NAME: name,
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memoryMb),
        AWS_ACCESS_KEY_ID: session.accessKeyId,
        AWS_SECRET_ACCESS_KEY: session.secretAccessKey,
        AWS_SESSION_TOKEN: session.sessionToken!,
      },
      timeoutSeconds: fn.timeoutSeconds,
      memoryMb: fn.memoryMb,
      concurrency: fn.reservedConcurrency ?? mappingConcurrency.get(name),
    });
  }
  // Custom resources, as CloudFormation runs them (at create, and at the stack's deletion): the function answers at a presigned URL.
  const runCustomResources = async (requestType: 'Create' | 'Delete') => {
    for (const [id, r] of stack!.customResources) {
      const { url, response } = cloudformation.responseUrl();
      const name = stack!.functionOf(r.Properties.ServiceToken);
      const event = { RequestType: requestType, ResponseURL: url, StackId: STACK_ID, RequestId: `${id}-${requestType}`, LogicalResourceId: id, ResourceType: r.Type };
      await runtime.invoke(name, event);
      const answer = await response;
      if (answer.Status !== 'SUCCESS') throw new Error(`the custom resource ${id} failed (${requestType}): ${answer.Reason}`);
      if (requestType === 'Create') stack!.completeCustomResource(id, Object.values(answer.Data ?? {})[0] ?? '');
    }
  };
  await runCustomResources('Create');

  // The event source mappings, the event rules and the schedule, as the template has them.
  // What CloudFormation deletes before a custom resource at the stack's deletion: the resources that depend on it.
  const deletedFirst: Array<{ readonly dependsOn: unknown; readonly delete: () => Promise<void> | void }> = [];
  for (const [, r] of mappings) {
    const mapping = sqs.createEventSourceMapping({
      queue: stack.queues.get(referenced(r.Properties.EventSourceArn)[0])!,
      ...target(r.Properties.FunctionName),
      batchSize: r.Properties.BatchSize as number,
      maximumConcurrency: maximumConcurrency(r),
      reportBatchItemFailures: (r.Properties.FunctionResponseTypes as string[] | undefined)?.includes('ReportBatchItemFailures') ?? false,
    });
    deletedFirst.push({ dependsOn: r.DependsOn, delete: () => mapping.stop() });
  }
  const eventBridge = new EventBridgeSimulator(common);
  stops.push(() => eventBridge.stop());
  for (const [id, r] of ofType('AWS::Events::Rule')) {
    const { ScheduleExpression: schedule, EventPattern: pattern } = r.Properties;
    const trigger = schedule ? { scheduleExpression: String(schedule) } : { eventPattern: pattern as never };
    eventBridge.putRule({ name: id, ...trigger, targets: (r.Properties.Targets as Array<{ Arn: unknown }>).map((t) => target(t.Arn)) });
    deletedFirst.push({ dependsOn: r.DependsOn, delete: () => eventBridge.deleteRule(id) });
  }
  ec2.onEvent((event) => { eventBridge.publish(event as never); });

  // Read the policies now, so a policy the sandbox cannot resolve (or a removal that names nothing) fails the start.
  authorizer();
  // Runs of up to BOOTSTRAP_SAMPLE jobs boot every instance with the real bootstrap (bash, curl); larger
  // runs a seeded sample of that size, the rest in-process; the report says how many booted which way.
  const bootRandom = random.fork('boot');
  const withBootstrap = () => jobs <= BOOTSTRAP_SAMPLE || bootRandom.chance(BOOTSTRAP_SAMPLE / jobs);
  const resolveUrl = (url: string): string => s3.localUrl(doors.localUrl(url));
  const host = await started(new InstanceHost(ec2, ghes, withBootstrap, logs.url, resolveUrl, (imageId) => !withoutRunner.has(imageId)));

  return {
    // The front doors: an HTTP API and a Function URL (public network) or a private REST API; `logs`
    // holds the bootstrap's lines (in `stack.runnerLogGroup`).
    ...doors,
    scenario,
    clock,
    random,
    stack,
    ghes,
    ec2,
    host,
    logs,
    s3,
    crashes,
    /** Per function: invocations, cold starts, peak concurrency, throttles. */
    functions: () => runtime.report(),
    /** The metrics the functions published (their EMF lines), and the lines that broke the format. */
    metrics: () => emf.summary(),
    launches,
    starts,
    sessions,
    // What the functions asked of DynamoDB and SQS (the benchmark's cost per job).
    dynamoProxy,
    sqs,
    org: ORG,
    repos,
    /** The prefix of the runner names the functions register (their environment's). */
    runnerNamePrefix: stack.environment[CONTROL_PLANE_ENVIRONMENT.runnerNamePrefix.name],
    webhookUrl,
    /** The webhook secret of the App (undefined until the setup page created one, without `withApp`). */
    get webhookSecret() {
      return ghes.webhookSecret;
    },
    /** The setup page with its token (the SetupUrl output), when the stack has one. */
    setupUrl: withApp ? undefined : localUrl(stack.output('SetupUrl')),
    stackName: STACK_NAME,
    /** The environment an operator's AWS CLI or SDK needs to reach this sandbox's services (for `cdk-ephemeral-runners status`). */
    operatorEnvironment: {
      AWS_REGION: REGION,
      AWS_ACCESS_KEY_ID: OPERATOR_KEY,
      AWS_SECRET_ACCESS_KEY: OPERATOR_KEY,
      AWS_ENDPOINT_URL_CLOUDFORMATION: cloudformation.url,
      AWS_ENDPOINT_URL_CLOUDWATCH: cloudwatch.url,
      AWS_ENDPOINT_URL_DYNAMODB: dynamoProxy.url,
      AWS_ENDPOINT_URL_EC2: ec2.url,
      AWS_ENDPOINT_URL_SSM: ssm.url,
      AWS_ENDPOINT_URL_SQS: sqs.url,
    },
    /**
     * CloudFormation's Delete of the custom resources: at the stack's deletion (the setup token's then deletes the token and the
     * App's credentials, the teardown terminates the deployment's instances), after the event source mappings and rules that depend
     * on them (the launchers), as CloudFormation orders a deletion; or, with `stackDeletion` false, as when a resource leaves the template.
     */
    deleteCustomResources: async (stackDeletion = true) => {
      if (stackDeletion) cloudformation.status = 'DELETE_IN_PROGRESS';
      const customResourceIds = stack!.customResources.map(([id]) => id);
      for (const r of stackDeletion ? deletedFirst : []) {
        if ([r.dependsOn ?? []].flat().some((id) => customResourceIds.includes(String(id)))) await r.delete();
      }
      await runCustomResources('Delete');
    },
    /** IAM for every AWS call of the functions (in their role `sessions`) and the instances: decisions and denials by action. */
    get iam(): IamAuthorizer {
      return authorizer();
    },
    async stop() {
      // Last started, first stopped: the instances and the event sources go before the services they call.
      for (const stop of [...stops].reverse()) await stop().catch(() => undefined);
    },
  };
}

/** A function's bundle (assets/) as `cdk deploy` ships it. */
function bundleOf(name: FunctionName): string {
  const bundle = path.join(__dirname, '..', 'assets', 'lambda', 'handlers', name, 'index.js');
  if (!fs.existsSync(bundle)) throw new Error(`${bundle} is missing: run \`npx projen bundle\` (npm run sandbox does) first`);
  return bundle;
}

type Started = <T extends { start?(): Promise<unknown>; stop(): Promise<unknown> }>(service: T) => Promise<T>;
type Target = (reference: unknown) => { handler: never; functionName: FunctionName; functionTimeoutSeconds: number };
/** `identityFor`: the role session behind an instance's access key. */
interface FrontDoorWiring {
  readonly target: Target;
  readonly authorizer: () => IamAuthorizer;
  readonly identityFor: (accessKeyId: string) => CallerIdentity | undefined;
  readonly common: { readonly clock: ScaledClock; readonly seed: number; readonly region: string; readonly accountId: string };
}

/** The template's front doors (a Function URL and an HTTP API, or a private REST API) and the sandbox's DNS: AWS's URLs to the simulators'. */
async function startFrontDoors(stack: DeployedStack, started: Started, wiring: FrontDoorWiring) {
  const { target, authorizer, identityFor, common } = wiring;
  const { ofType, resolver } = stack;
  const dns: Array<[string, string]> = [];
  let registerUrl: FunctionUrlSimulator | undefined;
  for (const [id, url] of ofType('AWS::Lambda::Url')) {
    const door = target(url.Properties.TargetFunctionArn);
    registerUrl = await started(new FunctionUrlSimulator({
      region: REGION,
      accountId: ACCOUNT,
      identityFor,
      handler: door.handler,
      authorize: async (identity) => (await authorizer().authorize(
        principalOf(identity), OPERATIONS['lambda:InvokeFunctionUrl'].requests({ functionName: door.functionName } as never, common)))?.message,
    }));
    dns.push([resolver.string({ 'Fn::GetAtt': [id, 'FunctionUrl'] }), registerUrl.url]);
  }
  let httpApi: HttpApiSimulator | undefined;
  for (const [id] of ofType('AWS::ApiGatewayV2::Api')) {
    const routes = ofType('AWS::ApiGatewayV2::Route').filter(([, r]) => referenced(r.Properties.ApiId)[0] === id).map(([, r]) => {
      const [, integration] = ofType('AWS::ApiGatewayV2::Integration').find(([i]) => referenced(r.Properties.Target).includes(i))!;
      return { routeKey: String(r.Properties.RouteKey), ...target(integration.Properties.IntegrationUri) };
    });
    httpApi = await started(new HttpApiSimulator({ ...common, routes }));
    dns.push([resolver.string({ 'Fn::GetAtt': [id, 'ApiEndpoint'] }), httpApi.url]);
  }
  const privateApi = ofType('AWS::ApiGateway::RestApi').length > 0 ? await started(privateRestApi(stack, wiring)) : undefined;
  if (privateApi) dns.push([privateApi.alias, privateApi.url]);
  const localUrl = (url: string) => dns.reduce((u, [from, to]) => u.split(from.replace(/\/$/, '')).join(to.replace(/\/$/, '')), url);
  return { registerUrl, httpApi, privateApi, localUrl };
}

/** The runners' and the five functions' roles with their policies, decided by the engine. */
function authorizerFor(stack: DeployedStack, scenario: Scenario): IamAuthorizer {
  const aliases: Record<string, string> = { runner: stack.roleNames[stack.runnerRoleId] };
  for (const [name, fn] of Object.entries(stack.functions)) aliases[name] = stack.roleNames[fn.roleId];
  const callers = new Set([...stack.runnerRoleIds, ...Object.values(stack.functions).map((fn) => fn.roleId)]);
  const roles = deploymentRoles(stack.template.resources, stack.resolver, stack.roleNames, callers);
  return new IamAuthorizer({ accountId: ACCOUNT, roles, aliases, removals: scenario.iam.removeStatements });
}

/** The template's private REST API (methods, stage, resource policy) behind its execute-api endpoint; `alias`: its `{api-id}-{vpce-id}` URL. */
function privateRestApi(stack: DeployedStack, wiring: FrontDoorWiring): PrivateRestApiSimulator & { alias: string } {
  const { target, authorizer, identityFor, common } = wiring;
  const { resolver, template, only } = stack;
  const [apiId, api] = only('AWS::ApiGateway::RestApi');
  const [endpointId, endpoint] = only('AWS::EC2::VPCEndpoint');
  const stageName = String(only('AWS::ApiGateway::Stage')[1].Properties.StageName);
  const ids = { api: resolver.string({ Ref: apiId }), vpce: resolver.string({ Ref: endpointId }) };
  const allowAll = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: '*', Resource: '*' }] };
  const through = () => ({ vpceId: ids.vpce, policy: resolver.resolve(endpoint.Properties.PolicyDocument ?? allowAll) });
  const simulator = new PrivateRestApiSimulator({
    apiId: ids.api,
    stageName,
    vpceId: ids.vpce,
    methods: stack.ofType('AWS::ApiGateway::Method').map(([, r]) => ({
      path: `/${String(template.resources[referenced(r.Properties.ResourceId)[0]].Properties.PathPart)}`,
      httpMethod: String(r.Properties.HttpMethod),
      authorizationType: r.Properties.AuthorizationType as 'NONE' | 'AWS_IAM',
      ...target((r.Properties.Integration as { Uri: unknown }).Uri),
    })),
    policy: resolver.resolve((api.Properties.Policy as { Statement: unknown }).Statement) as ResourcePolicyStatement[],
    identityFor,
    identityAllows: async (_roleArn, methodArn, identity) => (await authorizer().authorize(
      principalOf(identity), OPERATIONS['execute-api:Invoke'].requests({ methodArn } as never, common), through())) === undefined,
    ...common,
  });
  return Object.assign(simulator, { alias: `https://${ids.api}-${ids.vpce}.execute-api.${REGION}.amazonaws.com/${stageName}` });
}

/** What EC2 launched an instance with: its config, image, security groups, instance profile's role and root volume. */
function launchedWith(i: InstanceRecord): LaunchSettings {
  const data = i.launchTemplate.data;
  const root = data.blockDeviceMappings?.find((m) => m.deviceName === ROOT_DEVICE_NAME);
  return {
    config: i.tags[TAG_CONFIG],
    imageId: i.imageId,
    securityGroupIds: [...data.securityGroupIds ?? []],
    role: data.iamInstanceProfile?.roleName,
    rootVolume: root && { sizeGiB: root.volumeSizeGiB, volumeType: root.volumeType, iops: root.iops, throughput: root.throughput },
  };
}
