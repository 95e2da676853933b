// The IAM authorizations AWS makes for each API operation the functions and the runner instances
// call (actions, resource ARNs, condition keys), one entry per operation with its documentation page
// (SAR: the Service Authorization Reference, whose data iam-data holds).
import type { AuthorizationRequest } from './authorizer';

/** What an entry needs to know about the account. SAR pages are https://docs.aws.amazon.com/service-authorization/latest/reference/<page>. */
export interface OperationContext { readonly region: string; readonly accountId: string }

type Tags = Readonly<Record<string, string>>;

/** A launch template as CreateFleet reads it: its instance profile's role, the tags its TagSpecifications put on instances and volumes. */
export interface LaunchTemplateFacts {
  readonly launchTemplateId: string;
  readonly imageId?: string;
  readonly securityGroupIds: readonly string[];
  readonly instanceProfileRoleArn?: string;
  readonly instanceTags: Tags;
  readonly volumeTags: Tags;
}

/** One pool an instant fleet launches into: what its RunInstances is authorized on. */
export interface FleetLaunch {
  readonly template: LaunchTemplateFacts;
  readonly subnetId: string;
  /** The AMI: the override's ImageId, else the template's; none, and the pool fails with MissingParameter before any launch. */
  readonly imageId?: string;
  readonly imageFromOverride: boolean;
  readonly market: 'spot' | 'on-demand';
}

export interface FleetRequestFacts {
  readonly templates: readonly LaunchTemplateFacts[];
  readonly subnetIds: readonly string[];
  /** Images the overrides name. */
  readonly overrideImageIds: readonly string[];
  readonly tags: { readonly fleet: Tags; readonly instance: Tags; readonly volume: Tags };
}

export interface OperationEntry {
  readonly requests: (input: never, ctx: OperationContext) => AuthorizationRequest[];
}

const arn = (ctx: OperationContext, service: string, resource: string) => `arn:aws:${service}:${ctx.region}:${ctx.accountId}:${resource}`;
const ec2Arn = (ctx: OperationContext, type: string, id = '*') => arn(ctx, 'ec2', `${type}/${id}`);
/** Images are named without an account: public AMIs live in other accounts (SAR: `arn:${Partition}:ec2:${Region}::image/${ImageId}`). */
const imageArn = (ctx: OperationContext, id: string) => `arn:aws:ec2:${ctx.region}::image/${id}`;
const tableArn = (ctx: OperationContext, table: string) => arn(ctx, 'dynamodb', `table/${table}`);
/** A queue's ARN from its URL (`…/ACCOUNT/NAME`) or its name. */
const queueArn = (ctx: OperationContext, urlOrName: string) => arn(ctx, 'sqs', urlOrName.split('/').pop()!);
/** An SSM parameter's (or path's) ARN: a name starting with `/` already carries the separator. */
const parameterArn = (ctx: OperationContext, name: string) => arn(ctx, 'ssm', `parameter/${name.replace(/^\//, '')}`);

/** Request tags as IAM sees them: `aws:RequestTag/KEY` for each tag and `aws:TagKeys`. */
function requestTagContext(tags: Tags): Record<string, string | string[]> {
  const keys = Object.keys(tags);
  return { ...Object.fromEntries(Object.entries(tags).map(([k, v]) => [`aws:RequestTag/${k}`, v])), ...(keys.length > 0 ? { 'aws:TagKeys': keys } : {}) };
}

const resourceTagContext = (tags: Tags): Record<string, string> =>
  Object.fromEntries(Object.entries(tags).flatMap(([k, v]) => [[`aws:ResourceTag/${k}`, v], [`ec2:ResourceTag/${k}`, v]]));

/** The instance a Start/StopInstances names: its tags and, when the instance exists, its type, zone and market. */
export interface InstanceCallInput {
  readonly instanceIds: readonly string[];
  readonly tagsOf: (id: string) => Tags;
  readonly factsOf: (id: string) => { readonly instanceType: string; readonly availabilityZone: string; readonly market: 'spot' | 'on-demand' } | undefined;
}

/** The resources a CreateTags names (instances, volumes), their tags now, and the tags it sets. */
export interface TagCallInput {
  readonly resourceIds: readonly string[];
  readonly tagsOf: (id: string) => Tags;
  readonly tags: Tags;
}

/** The instance condition keys (SAR: ec2:InstanceID, ec2:InstanceType, ec2:AvailabilityZone, ec2:InstanceMarketType `spot`/`on-demand`, ec2:Region). */
function instanceContext(ctx: OperationContext, id: string, facts: ReturnType<InstanceCallInput['factsOf']>): Record<string, string> {
  return {
    'ec2:InstanceID': id,
    'ec2:Region': ctx.region,
    ...(facts && { 'ec2:InstanceType': facts.instanceType, 'ec2:AvailabilityZone': facts.availabilityZone, 'ec2:InstanceMarketType': facts.market }),
  };
}

/** Tagging at creation: `ec2:CreateTags` with `ec2:CreateAction`, when there are tags. */
const createTags = (ctx: OperationContext, type: string, tags: Tags): AuthorizationRequest[] => (Object.keys(tags).length === 0 ? []
  : [{ action: 'ec2:CreateTags', resource: ec2Arn(ctx, type), context: { ...requestTagContext(tags), 'ec2:CreateAction': 'CreateFleet' } }]);

/** CreateFleet (`instant`) as a whole: `ec2:CreateFleet` on each resource, `ec2:CreateTags` for the fleet's; a denial fails the call (karpenter#2813). */
export function createFleetRequests(facts: FleetRequestFacts, ctx: OperationContext): AuthorizationRequest[] {
  const requests: AuthorizationRequest[] = [
    { action: 'ec2:CreateFleet', resource: ec2Arn(ctx, 'fleet'), context: requestTagContext(facts.tags.fleet) },
    ...facts.templates.map((t) => ({ action: 'ec2:CreateFleet', resource: ec2Arn(ctx, 'launch-template', t.launchTemplateId) })),
    ...facts.subnetIds.map((s) => ({ action: 'ec2:CreateFleet', resource: ec2Arn(ctx, 'subnet', s) })),
    ...facts.overrideImageIds.map((i) => ({ action: 'ec2:CreateFleet', resource: imageArn(ctx, i) })),
    { action: 'ec2:CreateFleet', resource: ec2Arn(ctx, 'instance'), context: requestTagContext({ ...facts.templates[0]?.instanceTags, ...facts.tags.instance }) },
    { action: 'ec2:CreateFleet', resource: ec2Arn(ctx, 'volume'), context: requestTagContext({ ...facts.templates[0]?.volumeTags, ...facts.tags.volume }) },
  ];
  return [...requests, ...createTags(ctx, 'fleet', facts.tags.fleet)];
}

/**
 * The RunInstances of one pool of an instant fleet, with `ec2:LaunchTemplate`/`ec2:IsLaunchTemplateResource`,
 * `ec2:CreateTags` at launch and `iam:PassRole`; a denial is a per-override error in the 200 (karpenter#7370, #1488).
 * https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/use-launch-templates-to-control-launching-instances.html,
 * https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ec2-fleet-prerequisites.html
 */
export function fleetLaunchRequests(launch: FleetLaunch, tags: FleetRequestFacts['tags'], ctx: OperationContext): AuthorizationRequest[] {
  const template = launch.template;
  const fromTemplate = (isTemplateResource: boolean) => ({
    'ec2:LaunchTemplate': ec2Arn(ctx, 'launch-template', template.launchTemplateId),
    'ec2:IsLaunchTemplateResource': String(isTemplateResource),
  });
  const instanceTags = { ...template.instanceTags, ...tags.instance };
  const volumeTags = { ...template.volumeTags, ...tags.volume };
  const run = (resource: string, context: Record<string, string | string[]>) => ({ action: 'ec2:RunInstances', resource, context });
  const requests: AuthorizationRequest[] = [
    run(ec2Arn(ctx, 'launch-template', template.launchTemplateId), fromTemplate(true)),
    run(ec2Arn(ctx, 'instance'), { ...fromTemplate(true), ...requestTagContext(instanceTags) }),
    run(ec2Arn(ctx, 'volume'), { ...fromTemplate(true), ...requestTagContext(volumeTags) }),
    run(ec2Arn(ctx, 'network-interface'), { ...fromTemplate(true), 'ec2:Subnet': ec2Arn(ctx, 'subnet', launch.subnetId) }),
    // The overrides set the subnet: not a launch-template resource.
    run(ec2Arn(ctx, 'subnet', launch.subnetId), { ...fromTemplate(false), 'ec2:SubnetID': launch.subnetId }),
    ...template.securityGroupIds.map((sg) => run(ec2Arn(ctx, 'security-group', sg), { ...fromTemplate(true), 'ec2:SecurityGroupID': sg })),
    ...(launch.imageId === undefined ? [] : [run(imageArn(ctx, launch.imageId), fromTemplate(!launch.imageFromOverride))]),
  ];
  if (launch.market === 'spot') requests.push(run(ec2Arn(ctx, 'spot-instances-request'), {}));
  requests.push(...createTags(ctx, 'instance', instanceTags), ...createTags(ctx, 'volume', volumeTags));
  if (template.instanceProfileRoleArn) {
    requests.push({ action: 'iam:PassRole', resource: template.instanceProfileRoleArn, context: { 'iam:PassedToService': 'ec2.amazonaws.com' } });
  }
  return requests;
}

/** A spot launch in an account without the Spot service-linked role creates it on the caller's authority.
 * https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/service-linked-roles-spot-instance-requests.html */
export function spotServiceLinkedRoleRequest(ctx: OperationContext): AuthorizationRequest {
  return {
    action: 'iam:CreateServiceLinkedRole',
    resource: `arn:aws:iam::${ctx.accountId}:role/aws-service-role/spot.amazonaws.com/AWSServiceRoleForEC2Spot`,
    context: { 'iam:AWSServiceName': 'spot.amazonaws.com' },
  };
}

type Json = Record<string, unknown>;
const str = (v: unknown) => String(v ?? '');

/** Every other operation, keyed `<service>:<Operation>` as the wire names it (EC2's Action, the JSON services' X-Amz-Target). */
export const OPERATIONS: Readonly<Record<string, OperationEntry>> = {
  // EC2 (SAR list_amazonec2.html): TerminateInstances on each instance, with its tags as aws:ResourceTag;
  // DescribeInstances supports no resource-level permissions: authorized on `*`.
  'ec2:TerminateInstances': {
    requests: (input: { instanceIds: string[]; tagsOf: (id: string) => Tags }, ctx) =>
      input.instanceIds.map((id) => ({ action: 'ec2:TerminateInstances', resource: ec2Arn(ctx, 'instance', id), context: resourceTagContext(input.tagsOf(id)) })),
  },
  'ec2:DescribeInstances': { requests: () => [{ action: 'ec2:DescribeInstances', resource: '*' }] },
  // CreateTags after creation (no ec2:CreateAction): on each resource it names, with the resource's tags (aws:ResourceTag,
  // ec2:ResourceTag) and the request's (aws:RequestTag, aws:TagKeys). SAR list_amazonec2.html: CreateTags, resource types
  // instance and volume, each with aws:RequestTag/${TagKey}, aws:ResourceTag/${TagKey}, aws:TagKeys, ec2:ResourceTag/${TagKey}.
  'ec2:CreateTags': {
    requests: (input: TagCallInput, ctx) => input.resourceIds.map((id) => ({
      action: 'ec2:CreateTags',
      resource: ec2Arn(ctx, id.startsWith('vol-') ? 'volume' : 'instance', id),
      context: { ...resourceTagContext(input.tagsOf(id)), ...requestTagContext(input.tags), 'ec2:Region': ctx.region },
    })),
  },
  // StartInstances and StopInstances on each instance (SAR list_amazonec2.html: resource type instance, required), with its tags and
  // the instance facts the sandbox knows as condition keys; a denial of any instance fails the whole call.
  ...Object.fromEntries(['StartInstances', 'StopInstances'].map((op) => [`ec2:${op}`, {
    requests: (input: InstanceCallInput, ctx: OperationContext) => input.instanceIds.map((id) => ({
      action: `ec2:${op}`, resource: ec2Arn(ctx, 'instance', id), context: { ...resourceTagContext(input.tagsOf(id)), ...instanceContext(ctx, id, input.factsOf(id)) },
    })),
  } satisfies OperationEntry])),
  // DynamoDB: the table's ARN; Query and Scan with IndexName on the index's ARN; a batch on every
  // table it names. https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/api-permissions-reference.html, SAR list_amazondynamodb.html
  ...Object.fromEntries(['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'Query', 'Scan', 'BatchGetItem', 'BatchWriteItem'].map((op) => [`dynamodb:${op}`, {
    requests: (input: Json, ctx: OperationContext) => {
      const tables = op.startsWith('Batch') ? Object.keys((input.RequestItems ?? {}) as Json) : [str(input.TableName)];
      const index = input.IndexName === undefined ? '' : `/index/${str(input.IndexName)}`;
      return tables.map((table) => ({ action: `dynamodb:${op}`, resource: `${tableArn(ctx, table)}${index}` }));
    },
  } satisfies OperationEntry])),
  // SQS: the queue's ARN, from QueueUrl (GetQueueUrl: from QueueName); SAR list_amazonsqs.html.
  // https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-api-permissions-reference.html
  ...Object.fromEntries(['SendMessage', 'SendMessageBatch', 'ReceiveMessage', 'DeleteMessage', 'DeleteMessageBatch', 'ChangeMessageVisibility',
    'ChangeMessageVisibilityBatch', 'GetQueueAttributes', 'GetQueueUrl'].map((op) => [`sqs:${op}`, {
      requests: (input: Json, ctx: OperationContext) => [{
      // The batch operations are authorized as their single-message actions.
        action: `sqs:${op.replace(/Batch$/, '')}`,
        resource: queueArn(ctx, str(input.QueueUrl ?? input.QueueName)),
      }],
    } satisfies OperationEntry])),
  // SSM: the parameter's ARN (GetParametersByPath: the path's); SAR list_awssystemsmanager.html.
  'ssm:GetParameter': { requests: (input: Json, ctx) => [{ action: 'ssm:GetParameter', resource: parameterArn(ctx, str(input.Name)) }] },
  'ssm:PutParameter': { requests: (input: Json, ctx) => [{ action: 'ssm:PutParameter', resource: parameterArn(ctx, str(input.Name)) }] },
  'ssm:DeleteParameter': { requests: (input: Json, ctx) => [{ action: 'ssm:DeleteParameter', resource: parameterArn(ctx, str(input.Name)) }] },
  // The two batch calls name up to 10 parameters: each must be allowed.
  ...Object.fromEntries(['GetParameters', 'DeleteParameters'].map((op) => [`ssm:${op}`, {
    requests: (input: Json, ctx: OperationContext) => (input.Names as string[]).map((name) => ({ action: `ssm:${op}`, resource: parameterArn(ctx, name) })),
  } satisfies OperationEntry])),
  'ssm:GetParametersByPath': {
    requests: (input: Json, ctx) => [{ action: 'ssm:GetParametersByPath', resource: parameterArn(ctx, str(input.Path)), context: { 'ssm:Recursive': String(input.Recursive === true) } }],
  },
  // CloudFormation: DescribeStacks on the stack's ARN (a name stands for every stack of that name); SAR list_awscloudformation.html.
  'cloudformation:DescribeStacks': {
    requests: (input: Json, ctx) => {
      const name = str(input.StackName);
      return [{ action: 'cloudformation:DescribeStacks', resource: name.startsWith('arn:') ? name : arn(ctx, 'cloudformation', `stack/${name}/*`) }];
    },
  },
  // CloudWatch Logs: both calls on the log stream's ARN (SAR list_amazoncloudwatchlogs.html: resource type log-stream).
  ...Object.fromEntries(['CreateLogStream', 'PutLogEvents'].map((op) => [`logs:${op}`, {
    requests: (input: Json, ctx: OperationContext) => [{
      action: `logs:${op}`, resource: arn(ctx, 'logs', `log-group:${str(input.logGroupName)}:log-stream:${str(input.logStreamName)}`),
    }],
  } satisfies OperationEntry])),
  // S3 GetObject: s3:GetObject on the object's ARN, which names neither region nor account (SAR list_amazons3.html: resource type object).
  's3:GetObject': {
    requests: (input: Json) => [{ action: 's3:GetObject', resource: `arn:aws:s3:::${str(input.Bucket)}/${str(input.Key)}` }],
  },
  // A Function URL with AWS_IAM auth: lambda:InvokeFunctionUrl (lambda:FunctionUrlAuthType) and,
  // since October 2025, lambda:InvokeFunction with lambda:InvokedViaFunctionUrl.
  // https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html, SAR list_awslambda.html
  'lambda:InvokeFunctionUrl': {
    requests: (input: { functionName: string }, ctx): AuthorizationRequest[] => [
      { action: 'lambda:InvokeFunctionUrl', resource: arn(ctx, 'lambda', `function:${input.functionName}`), context: { 'lambda:FunctionUrlAuthType': 'AWS_IAM' } },
      { action: 'lambda:InvokeFunction', resource: arn(ctx, 'lambda', `function:${input.functionName}`), context: { 'lambda:InvokedViaFunctionUrl': 'true' } },
    ],
  },
  // A private REST API method with AWS_IAM authorization: execute-api:Invoke on the method's ARN.
  // https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-control-access-using-iam-policies-to-invoke-api.html
  'execute-api:Invoke': { requests: (input: { methodArn: string }) => [{ action: 'execute-api:Invoke', resource: input.methodArn }] },
};
