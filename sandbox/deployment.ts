// What `cdk deploy` would create: the real EphemeralRunners construct synthesized with the scenario's runner
// configs, refused where CloudFormation would refuse it, every resource given its physical id, and the table,
// queues, parameters and launch templates created in the simulators. Resources are found by type and by what
// they hold or reference, never by logical id (which follows the construct's tree).
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Size, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { assertDeployable } from './aws/deploy-checks';
import type { DynamoEngine } from './aws/dynamodb-engine';
import type { SqsQueue, SqsSimulator } from './aws/sqs';
import type { Ec2Simulator } from './ec2';
import type { MetadataOptions } from './ec2/types';
import type { Scenario } from './scenario';
import type { SsmSimulator } from './ssm';
import { stateTableDefinition } from '../lambda/state/table-schema';
import {
  EndpointAccess, EphemeralRunners, JobHookScript, RunnerArchitecture, RunnerConfig, RunnerMachineImage, RunnerScope, RunnerVolumeType, SpotStrategy,
} from '../src';
import { RUNTIME_VARIABLES } from '../src/contracts/environment';
import { FunctionName } from '../src/contracts/metrics';
import { PARTITION_KEY, POOL_INDEX, SORT_KEY } from '../src/contracts/state-table';
import { instanceTypeArchitecture } from '../src/instance-type-name';

type Json = Record<string, unknown>;

export type CfnResource = { readonly Type: string; readonly Properties: Json; readonly DependsOn?: string | string[] };

export const GHES_HOST = 'ghes.sandbox.internal';
/** The construct's id: its outputs are `<id>WebhookUrl`, `<id>PrivateKeyParameter`, `<id>WebhookSecretParameter`. */
const CONSTRUCT_ID = 'Runners';

/**
 * Synthesizes the construct as a user's app would; `functions`: each function's logical id by its service name. Without
 * `withApp`, the props name no App: the stack's setup page creates it.
 */
export function synthesizeDeployment(scenario: Scenario, withApp = true) {
  const app = new App();
  const stack = new Stack(app, 'EphemeralRunnersSandbox');
  const isolated = scenario.network === 'private';
  const vpc = new ec2.Vpc(stack, 'Vpc', {
    maxAzs: 3, natGateways: 0, subnetConfiguration: [{ name: 'runners', subnetType: isolated ? ec2.SubnetType.PRIVATE_ISOLATED : ec2.SubnetType.PUBLIC }],
  });
  new EphemeralRunners(stack, CONSTRUCT_ID, {
    github: { url: `https://${GHES_HOST}`, appId: withApp ? '1' : undefined, ...(scenario.enterprise ? { enterprise: scenario.enterprise.slug } : {}) },
    vpc,
    ...(isolated ? {
      webhookAccess: EndpointAccess.privateApi(),
      registerAccess: EndpointAccess.privateApi(),
      controlPlaneSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
    } : {}),
    ...(scenario.maxInstances !== undefined ? { maxInstances: scenario.maxInstances } : {}),
    runnerConfigs: scenario.runnerConfigs.map((c) => ({
      name: c.name,
      labels: c.labels,
      instanceTypes: c.instanceTypes,
      // Scenarios name instance types only; arm64 types (aws-cdk-lib's InstanceType.architecture) make an arm64 config.
      architecture: architectureOf(c),
      spot: SpotStrategy[c.spot],
      maxRunners: c.maxRunners,
      ...(c.priority !== undefined ? { priority: c.priority } : {}),
      scope: { org: RunnerScope.ORGANIZATION, repo: RunnerScope.REPOSITORY, enterprise: RunnerScope.ENTERPRISE }[c.scope],
      ...(c.runnerGroup !== undefined ? { runnerGroup: c.runnerGroup } : {}),
      ...(c.warmPool ? { warmPool: { size: c.warmPool.size } } : {}),
      ...(c.jobHooks ? { jobHooks: { started: hook(c.name, 'started', c.jobHooks), completed: hook(c.name, 'completed', c.jobHooks) } } : {}),
      ...configOverrides(stack, vpc, c),
    })),
  });
  type Template = { Resources: Record<string, CfnResource>; Outputs: Record<string, { Value: unknown }> };
  const assembly = app.synth();
  const template = assembly.getStackByName(stack.stackName).template as Template;
  const functions: Partial<Record<FunctionName, string>> = {};
  for (const [id, resource] of Object.entries(template.Resources)) {
    const service = environmentOf(resource)[RUNTIME_VARIABLES.serviceName];
    if (resource.Type === 'AWS::Lambda::Function' && typeof service === 'string') functions[service as FunctionName] = id;
  }
  // The setup functions are there only when the props give no App id, the teardown only with a warm pool.
  const optional: string[] = [FunctionName.SETUP, FunctionName.SETUP_TOKEN, FunctionName.TEARDOWN];
  const missing = Object.values(FunctionName).filter((name) => functions[name] === undefined && !optional.includes(name));
  if (missing.length > 0) throw new Error(`the template has no function with ${RUNTIME_VARIABLES.serviceName} ${missing.join(', ')}`);
  const fileAssets = fileAssetsOf(assembly);
  return { resources: template.Resources, outputs: template.Outputs, functions: functions as Readonly<Record<FunctionName, string>>, fileAssets };
}

/** The architecture of a scenario's config, as its instance types have it. */
export function architectureOf(c: Scenario['runnerConfigs'][number]): RunnerArchitecture {
  return c.instanceTypes.some((t) => instanceTypeArchitecture(t) === 'arm64') ? RunnerArchitecture.ARM64 : RunnerArchitecture.X64;
}

/** A scenario config's own image, root volume, extra security group (in the scenario's VPC) and role statement, as the construct takes them. */
function configOverrides(stack: Stack, vpc: ec2.IVpc, c: Scenario['runnerConfigs'][number]): Partial<RunnerConfig> {
  const arm = architectureOf(c) === RunnerArchitecture.ARM64;
  const volume = c.rootVolume;
  return {
    ...(c.amiId ? { machineImage: arm ? RunnerMachineImage.fromAmiIds(undefined, c.amiId) : RunnerMachineImage.fromAmiIds(c.amiId) } : {}),
    ...(volume ? {
      rootVolume: {
        ...(volume.sizeGiB !== undefined ? { size: Size.gibibytes(volume.sizeGiB) } : {}),
        volumeType: volume.volumeType as RunnerVolumeType,
        iops: volume.iops,
        throughput: volume.throughput,
      },
    } : {}),
    ...(c.extraSecurityGroup ? { securityGroups: [new ec2.SecurityGroup(stack, `Extra-${c.name}`, { vpc, description: `Extra group of ${c.name}` })] } : {}),
    ...(c.rolePolicy ? { rolePolicyStatements: [new iam.PolicyStatement({ ...c.rolePolicy })] } : {}),
  };
}

/** A function's environment variables as the template writes them (intrinsics unresolved). */
function environmentOf(fn: CfnResource): Json {
  return ((fn.Properties.Environment as Json | undefined)?.Variables ?? {}) as Json;
}

/** The logical ids a value names by `Ref` or `Fn::GetAtt`, at any depth (an integration URI embeds its function's ARN). */
export function referenced(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(referenced);
  if (typeof value !== 'object' || value === null) return [];
  const v = value as { 'Ref'?: string; 'Fn::GetAtt'?: [string, string] };
  if (v.Ref !== undefined || v['Fn::GetAtt'] !== undefined) return [v.Ref ?? v['Fn::GetAtt']![0]];
  return Object.values(v).flatMap(referenced);
}

/** Resolves the intrinsic functions the template uses, from the physical ids the sandbox assigned. */
export class TemplateResolver {
  constructor(
    private readonly refs: Record<string, string>,
    private readonly pseudo: { region: string; accountId: string; stackId?: string },
    /** Values of `Fn::GetAtt` that matter as themselves (an ARN, a Function URL), by logical id. */
    private readonly attributes: Record<string, string> = {},
  ) {}

  resolve(value: unknown): unknown {
    if (Array.isArray(value)) return value.map((v) => this.resolve(v));
    if (typeof value !== 'object' || value === null) return value;
    const v = value as Json;
    if ('Ref' in v) return this.ref(String(v.Ref));
    if ('Fn::Join' in v) {
      const [separator, parts] = v['Fn::Join'] as [string, unknown[]];
      return (parts as unknown[]).map((p) => String(this.resolve(p))).join(separator);
    }
    if ('Fn::GetAtt' in v) {
      const [id, attribute] = v['Fn::GetAtt'] as [string, string];
      if (this.attributes[id] !== undefined) return this.attributes[id];
      return `arn:aws:sandbox:${this.pseudo.region}:${this.pseudo.accountId}:${id}/${attribute}:${this.ref(id)}`;
    }
    if ('Fn::Sub' in v) return this.sub(v['Fn::Sub']);
    if ('Fn::Base64' in v) return Buffer.from(String(this.resolve(v['Fn::Base64']))).toString('base64');
    if ('Fn::Select' in v) {
      const [index, list] = v['Fn::Select'] as [number, unknown];
      return (this.resolve(list) as unknown[])[index];
    }
    return Object.fromEntries(Object.entries(v).map(([k, inner]) => [k, this.resolve(inner)]));
  }

  /**
   * `Fn::Sub`, string or `[string, variables]`: `${Name}` a variable, a Ref or a pseudo parameter,
   * `${Resource.Attribute}` a GetAtt, `${!Literal}` the literal `${Literal}`
   * (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference-sub.html).
   */
  private sub(body: unknown): string {
    const [template, variables] = typeof body === 'string' ? [body, {}] : body as [string, Json];
    return template.replace(/\$\{([^}]+)\}/g, (_, name: string) => {
      if (name.startsWith('!')) return `\${${name.slice(1)}}`;
      if (name in variables) return String(this.resolve(variables[name]));
      return name.includes('.') ? String(this.resolve({ 'Fn::GetAtt': name.split('.', 2) })) : this.ref(name);
    });
  }

  /** A string value; throws naming what could not be resolved. */
  string(value: unknown): string {
    const resolved = this.resolve(value);
    if (typeof resolved !== 'string') throw new Error(`expected a string from ${JSON.stringify(value)}, got ${JSON.stringify(resolved)}`);
    return resolved;
  }

  private ref(id: string): string {
    const pseudo: Record<string, string | undefined> = {
      'AWS::Region': this.pseudo.region,
      'AWS::AccountId': this.pseudo.accountId,
      'AWS::Partition': 'aws',
      'AWS::URLSuffix': 'amazonaws.com',
      'AWS::StackId': this.pseudo.stackId,
    };
    const physical = pseudo[id] ?? this.refs[id];
    if (physical === undefined) throw new Error(`the sandbox has no physical id for ${id}: assign it in sandbox/deployment.ts`);
    return physical;
  }
}

/** The account and the services the stack deploys into. */
type DeployTarget = {
  region: string;
  accountId: string;
  /** The stack's ARN (`AWS::StackId`). */
  stackId: string;
  services: { dynamo: DynamoEngine; sqs: SqsSimulator; ssm: SsmSimulator; ec2: Ec2Simulator };
};

/** A function as the template deploys it: `environment()` resolves its variables (once every physical id is assigned). */
export interface DeployedFunction {
  readonly logicalId: string;
  readonly roleId: string;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  readonly reservedConcurrency?: number;
  readonly environment: () => Record<string, string>;
}

export type DeployedStack = Awaited<ReturnType<typeof deployStack>>;

/** Deploys the template into the simulators after the deploy-time checks, with the physical ids AWS would assign. */
export async function deployStack(template: ReturnType<typeof synthesizeDeployment>, target: DeployTarget) {
  const { region, accountId: account, services: { ec2: ec2Sim, sqs, ssm, dynamo } } = target;
  // What CloudFormation and the services refuse at deploy time, refused here before anything runs.
  assertDeployable({ Resources: template.resources }, { ssmParameters: [] });
  const ofType = (type: string) => Object.entries(template.resources).filter(([, r]) => r.Type === type);
  const only = (type: string): [string, CfnResource] => {
    const found = ofType(type);
    if (found.length !== 1) throw new Error(`the sandbox expects one ${type} in the template, found ${found.length}`);
    return found[0];
  };
  const refs: Record<string, string> = {};
  const attributes: Record<string, string> = {};
  const resolver = new TemplateResolver(refs, { region, accountId: account, stackId: target.stackId }, attributes);
  const arn = (service: string, resource: string) => `arn:aws:${service}:${service === 'iam' ? '' : region}:${account}:${resource}`;

  for (const [id] of ofType('AWS::IAM::Role')) {
    refs[id] = `sandbox-${id}`.slice(0, 64);
    attributes[id] = arn('iam', `role/${refs[id]}`);
  }
  for (const [id] of ofType('AWS::IAM::InstanceProfile')) attributes[id] = arn('iam', `instance-profile/${id}`);
  ofType('AWS::EC2::Subnet').forEach(([id], i) => { refs[id] = ec2Sim.subnets[i % ec2Sim.subnets.length].subnetId; });
  ofType('AWS::EC2::SecurityGroup').forEach(([id], i) => { attributes[id] = `sg-0sandbox${String(i + 1).padStart(8, '0')}`; });
  for (const [id, r] of ofType('AWS::Logs::LogGroup')) {
    refs[id] = typeof r.Properties.LogGroupName === 'string' ? r.Properties.LogGroupName : `/sandbox/${id}`;
    attributes[id] = `${arn('logs', `log-group:${refs[id]}`)}:*`;
  }
  const functions = Object.fromEntries(Object.entries(template.functions).map(([name, id]) => {
    refs[id] = name;
    attributes[id] = arn('lambda', `function:${name}`);
    const fn = template.resources[id].Properties;
    return [name, {
      logicalId: id,
      roleId: referenced(fn.Role)[0],
      timeoutSeconds: fn.Timeout as number,
      // Lambda's defaults: 128 MB (https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html); no reserved concurrency.
      memoryMb: (fn.MemorySize as number | undefined) ?? 128,
      reservedConcurrency: fn.ReservedConcurrentExecutions as number | undefined,
      environment: () => Object.fromEntries(Object.entries(environmentOf(template.resources[id])).map(([k, v]) => [k, resolver.string(v)])),
    }];
  })) as Readonly<Record<FunctionName, DeployedFunction>>;
  const functionOf = (reference: unknown): FunctionName => {
    const found = Object.entries(template.functions).find(([, id]) => referenced(reference).includes(id));
    if (!found) throw new Error(`${JSON.stringify(reference)} names none of the functions ${Object.values(template.functions).join(', ')}`);
    return found[0] as FunctionName;
  };

  // The state table, as the contract has it (src/contracts/state-table.ts): the template's must agree.
  const [tableId, table] = only('AWS::DynamoDB::Table');
  const keyOf = (schema: unknown) => JSON.stringify(schema);
  const expectedKeys = keyOf([{ AttributeName: PARTITION_KEY, KeyType: 'HASH' }, { AttributeName: SORT_KEY, KeyType: 'RANGE' }]);
  const indexes = ((table.Properties.GlobalSecondaryIndexes ?? []) as Array<{ IndexName: string }>).map((i) => i.IndexName);
  if (keyOf(table.Properties.KeySchema) !== expectedKeys || !indexes.includes(POOL_INDEX.name)) {
    throw new Error(`the template's table (${keyOf(table.Properties.KeySchema)}, indexes ${indexes.join(', ')}) is not the state table's contract`);
  }
  refs[tableId] = 'ephemeral-runners-state';
  attributes[tableId] = arn('dynamodb', `table/${refs[tableId]}`);
  await dynamo.createTable(stateTableDefinition(refs[tableId]));

  // Queues: each one an event source mapping reads, with its dead-letter queue; then the others (the event rules' dead letters).
  const queues = new Map<string, SqsQueue>();
  const fifo = (id: string) => (template.resources[id].Properties.FifoQueue ? `${id}.fifo` : id);
  for (const [, mapping] of ofType('AWS::Lambda::EventSourceMapping')) {
    const queueId = referenced(mapping.Properties.EventSourceArn)[0];
    const q = template.resources[queueId].Properties;
    const redrive = q.RedrivePolicy as { deadLetterTargetArn: unknown; maxReceiveCount: number } | undefined;
    const deadLetterId = redrive && referenced(redrive.deadLetterTargetArn)[0];
    const deadLetters = deadLetterId ? sqs.createQueue(fifo(deadLetterId)) : undefined;
    if (deadLetterId && deadLetters) refs[deadLetterId] = sqs.queueUrl(deadLetters);
    const queue = sqs.createQueue(fifo(queueId), {
      visibilityTimeoutSeconds: q.VisibilityTimeout as number,
      ...(deadLetters ? { deadLetterQueue: { queue: deadLetters, maxReceiveCount: redrive!.maxReceiveCount } } : {}),
    });
    refs[queueId] = sqs.queueUrl(queue);
    queues.set(queueId, queue);
  }
  for (const [id] of ofType('AWS::SQS::Queue')) {
    refs[id] ??= sqs.queueUrl(sqs.createQueue(fifo(id), { standard: !template.resources[id].Properties.FifoQueue }));
    attributes[id] = arn('sqs', refs[id].split('/').pop()!);
  }
  // Alarms: a Ref is the alarm's name, which CloudFormation generates from the stack and the logical id.
  for (const [id] of ofType('AWS::CloudWatch::Alarm')) refs[id] = `EphemeralRunnersSandbox-${id}`;

  // The front doors' ids and URLs, as API Gateway and Lambda would assign them.
  for (const [id] of ofType('AWS::ApiGatewayV2::Api')) {
    refs[id] = 'sandboxhttp';
    attributes[id] = `https://${refs[id]}.execute-api.${region}.amazonaws.com`;
  }
  for (const [id] of ofType('AWS::Lambda::Url')) attributes[id] = `https://sandbox${functionOf(template.resources[id].Properties.TargetFunctionArn)}.lambda-url.${region}.on.aws/`;
  for (const [id] of ofType('AWS::ApiGateway::RestApi')) refs[id] = 'sandboxapi';
  for (const [id] of ofType('AWS::EC2::VPCEndpoint')) refs[id] = 'vpce-0sandbox0000000';
  for (const [id, r] of ofType('AWS::ApiGateway::Stage')) refs[id] = String(r.Properties.StageName);

  // SSM: the runner config parameters and the deployment document, as the template writes them.
  for (const [id, r] of ofType('AWS::SSM::Parameter')) {
    refs[id] = resolver.string(r.Properties.Name);
    ssm.seedParameter({ name: refs[id], value: resolver.string(r.Properties.Value), type: 'String' });
  }

  // Launch templates as the template renders them (the construct's templates name no image: the provisioner
  // passes the AMI id). The runners' roles are the ones their profiles hold: the shared one, which the register
  // function names, and those of configs with a role of their own.
  const roleOfProfile = (profile: unknown) => referenced(template.resources[referenced(profile)[0]].Properties.Roles)[0];
  const runnerRoleId = referenced(environmentOf(template.resources[template.functions[FunctionName.REGISTER]]).RUNNER_ROLE_NAME)[0];
  const runnerRoleIds = new Set<string>();
  let runnerLogGroup: string | undefined;
  for (const [id, r] of ofType('AWS::EC2::LaunchTemplate')) {
    const data = r.Properties.LaunchTemplateData as Record<string, unknown>;
    const profile = (data.IamInstanceProfile as { Arn: unknown }).Arn;
    const roleId = roleOfProfile(profile);
    runnerRoleIds.add(roleId);
    const logGroup = referenced(data.UserData).find((ref) => template.resources[ref]?.Type === 'AWS::Logs::LogGroup');
    runnerLogGroup = logGroup && refs[logGroup];
    type TagSpecification = { ResourceType: string; Tags: Array<{ Key: string; Value: unknown }> };
    const tagsFor = (type: string) => Object.fromEntries(((data.TagSpecifications ?? []) as TagSpecification[])
      .filter((t) => t.ResourceType === type).flatMap((t) => t.Tags.map((tag) => [tag.Key, resolver.string(tag.Value)])));
    refs[id] = ec2Sim.registerLaunchTemplate({
      launchTemplateName: id,
      ...(data.ImageId === undefined ? {} : { imageId: resolver.string(data.ImageId) }),
      userData: Buffer.from(resolver.string(data.UserData), 'base64').toString('utf8'),
      instanceInitiatedShutdownBehavior: data.InstanceInitiatedShutdownBehavior as 'terminate',
      iamInstanceProfile: { arn: resolver.string(profile), roleName: refs[roleId] },
      securityGroupIds: ((data.SecurityGroupIds ?? []) as unknown[]).map((sg) => resolver.string(sg)),
      tags: tagsFor('instance'),
      volumeTags: tagsFor('volume'),
      metadataOptions: metadataOptionsOf(data.MetadataOptions as Record<string, unknown> | undefined),
      blockDeviceMappings: ((data.BlockDeviceMappings ?? []) as Array<{ DeviceName: string; Ebs?: Record<string, unknown> }>).map((m) => ({
        deviceName: m.DeviceName,
        volumeSizeGiB: m.Ebs?.VolumeSize as number | undefined,
        volumeType: m.Ebs?.VolumeType as string | undefined,
        iops: m.Ebs?.Iops as number | undefined,
        throughput: m.Ebs?.Throughput as number | undefined,
      })),
      hibernationConfigured: (data.HibernationOptions as { Configured?: boolean } | undefined)?.Configured === true,
    }).launchTemplateId;
  }
  if (!runnerRoleIds.has(runnerRoleId) || !runnerLogGroup) {
    throw new Error('the template has no launch template with the register function\'s runner role in its instance profile and a log group in its user data');
  }

  return {
    template,
    resolver,
    /** Physical role name by logical id. */
    roleNames: Object.fromEntries(ofType('AWS::IAM::Role').map(([id]) => [id, refs[id]])),
    /** Each function's logical id, role, timeout, memory, reserved concurrency and environment, by service name. */
    functions,
    /** The functions' environment variables, resolved. */
    environment: Object.assign({}, ...Object.values(functions).map((fn) => fn.environment())) as Record<string, string>,
    /** The runners' role (the launch templates' instance profiles hold it) and the log group their user data names. */
    runnerRoleId,
    /** Every runner role: the shared one and those of configs with a role of their own. */
    runnerRoleIds: [...runnerRoleIds],
    runnerLogGroup,
    logGroups: ofType('AWS::Logs::LogGroup').map(([id]) => refs[id]),
    /** The queue each event source mapping reads, by its logical id. */
    queues: queues as ReadonlyMap<string, SqsQueue>,
    /** The image parameters the image pipelines' first builds write (their distributions' SSM parameter configurations). */
    imageParameters: ofType('AWS::ImageBuilder::DistributionConfiguration').flatMap(([, r]) =>
      (r.Properties.Distributions as Array<{ SsmParameterConfigurations?: Array<{ ParameterName: unknown }> }>)
        .flatMap((d) => d.SsmParameterConfigurations ?? []).map((c) => resolver.string(c.ParameterName))),
    /** The alarms' names (their `Ref`). */
    alarmNames: ofType('AWS::CloudWatch::Alarm').map(([id]) => refs[id]),
    /**
     * The construct's custom resources (those one of its functions serves), which the sandbox runs once the functions are loaded
     * (`completeCustomResource`); CDK's own (the VPC's default security group) are left out, as the sandbox has no such group.
     */
    customResources: Object.entries(template.resources).filter(([, r]) => /^Custom::|^AWS::CloudFormation::CustomResource$/.test(r.Type)
      && referenced(r.Properties.ServiceToken).some((ref) => Object.values(template.functions).includes(ref))),
    /** The attribute (`Fn::GetAtt`) a custom resource answered with. */
    completeCustomResource: (id: string, value: string) => { attributes[id] = value; },
    /** The stack's outputs, resolved (as DescribeStacks lists them), once every custom resource is complete. */
    outputs: () => Object.entries(template.outputs).map(([key, o]) => ({ OutputKey: key, OutputValue: resolver.string(o.Value) })),
    /** An output of the construct, resolved. */
    output: (name: 'WebhookUrl' | 'PrivateKeyParameter' | 'WebhookSecretParameter' | 'EnterpriseTokenParameter' | 'SetupUrl' | 'Deployment') => {
      const output = template.outputs[`${CONSTRUCT_ID}${name}`];
      if (!output) throw new Error(`the template has no output ${CONSTRUCT_ID}${name}`);
      return resolver.string(output.Value);
    },
    /** The function a `Ref`/`Fn::GetAtt` (or an integration URI that embeds one) names. */
    functionOf,
    ofType,
    /** The one resource of a type; throws if there are none or several. */
    only,
  };
}

/**
 * The template's metadata options as EC2 applies them; what it omits takes the defaults for an AMI without ImdsSupport v2.0
 * (tokens optional, hop limit 1): https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-IMDS-new-instances.html
 */
function metadataOptionsOf(options: Record<string, unknown> = {}): MetadataOptions {
  return {
    httpTokens: options.HttpTokens === 'required' ? 'required' : 'optional',
    httpEndpoint: options.HttpEndpoint === 'disabled' ? 'disabled' : 'enabled',
    httpPutResponseHopLimit: typeof options.HttpPutResponseHopLimit === 'number' ? options.HttpPutResponseHopLimit : 1,
    instanceMetadataTags: options.InstanceMetadataTags === 'enabled' ? 'enabled' : 'disabled',
  };
}

/** A scenario's hook as the construct takes it: inline, or a file of the app (written to a directory of its own) published as an asset. */
function hook(config: string, kind: 'started' | 'completed', hooks: NonNullable<Scenario['runnerConfigs'][number]['jobHooks']>): JobHookScript | undefined {
  const text = hooks[kind];
  if (text === undefined) return undefined;
  if (!hooks.fromAsset) return JobHookScript.inline(text);
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sandbox-job-hook-')), `${config}-${kind}.sh`);
  fs.writeFileSync(file, text);
  return JobHookScript.fromAsset(file);
}

/**
 * The file assets `cdk deploy` would publish (job hooks given as files), as S3 objects: `<bucket>/<key>`
 * (with `${AWS::AccountId}` and `${AWS::Region}` left for the deploy to fill in) → the file in the
 * cloud assembly. Directory assets (the functions' code, zipped) are left out: the sandbox runs the bundles.
 */
function fileAssetsOf(assembly: cxapi.CloudAssembly): Array<{ readonly object: string; readonly file: string }> {
  return assembly.artifacts.filter((a): a is cxapi.AssetManifestArtifact => a instanceof cxapi.AssetManifestArtifact).flatMap((artifact) =>
    Object.values(artifact.contents.files ?? {}).filter((f) => (f.source.packaging ?? 'file') === 'file' && f.source.path !== undefined)
      .flatMap((f) => Object.values(f.destinations).map((d) => ({ object: `${d.bucketName}/${d.objectKey}`, file: path.resolve(assembly.directory, f.source.path!) }))));
}
