// What each control-plane function may do, written out statement by statement: least privilege is
// a feature of this product, and every wildcard below says why it is there.
import { Arn, ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** The tag every runner instance carries with this deployment's id; EC2 writes are conditioned on it. */
export const MANAGED_BY_TAG = 'ephemeral-runners:managed-by';

/** An SSM parameter's (or path's) ARN from its name. */
export function parameterArn(scope: Construct, name: string): string {
  return Arn.format({
    service: 'ssm',
    resource: 'parameter',
    // A name starting with '/' already carries the separator.
    resourceName: name.replace(/^\//, ''),
    arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
  }, Stack.of(scope));
}

/**
 * Read the table's items and the pool index; write items with conditions. `batchGet`: read several
 * runners in one BatchGetItem (the provisioner's reconcile, for launches not yet in the index).
 */
export function stateAccess(tableArn: string, options: { scanIndex?: boolean; batchGet?: boolean } = {}): iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement({
      actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', ...(options.batchGet ? ['dynamodb:BatchGetItem'] : [])],
      resources: [tableArn],
    }),
    new iam.PolicyStatement({
      actions: ['dynamodb:Query', ...(options.scanIndex ? ['dynamodb:Scan'] : [])],
      resources: [`${tableArn}/index/byPool`],
    }),
  ];
}

/** Read the runner configs (when a path is given) and the GitHub App's private key. */
export function configAccess(scope: Construct, runnerConfigPath: string | undefined, privateKeyParameterName?: string): iam.PolicyStatement[] {
  const statements = runnerConfigPath === undefined ? [] : [new iam.PolicyStatement({
    actions: ['ssm:GetParametersByPath'],
    resources: [parameterArn(scope, runnerConfigPath)],
  })];
  if (privateKeyParameterName) {
    // A SecureString under the AWS managed key aws/ssm: its key policy lets account principals
    // decrypt through SSM, so no KMS statement is needed (secretDecryptAccess for a key of one's own).
    statements.push(new iam.PolicyStatement({ actions: ['ssm:GetParameter'], resources: [parameterArn(scope, privateKeyParameterName)] }));
  }
  return statements;
}

/**
 * Decrypt one SecureString parameter written under a customer managed key: only through SSM, and
 * only for that parameter (SSM passes its ARN as the encryption context `PARAMETER_ARN`,
 * https://docs.aws.amazon.com/kms/latest/developerguide/services-parameter-store.html).
 */
export function secretDecryptAccess(scope: Construct, key: kms.IKey, parameterName: string): iam.PolicyStatement {
  const stack = Stack.of(scope);
  return new iam.PolicyStatement({
    actions: ['kms:Decrypt'],
    resources: [key.keyArn],
    conditions: {
      StringEquals: {
        'kms:EncryptionContext:PARAMETER_ARN': parameterArn(scope, parameterName),
        'kms:ViaService': `ssm.${stack.region}.${stack.urlSuffix}`,
      },
    },
  });
}

/** Terminate only instances that carry this deployment's managed-by tag. */
export function terminateAccess(scope: Construct, managedBy: string): iam.PolicyStatement {
  return new iam.PolicyStatement({
    actions: ['ec2:TerminateInstances'],
    resources: [Stack.of(scope).formatArn({ service: 'ec2', resource: 'instance', resourceName: '*' })],
    conditions: { StringEquals: { [`aws:ResourceTag/${MANAGED_BY_TAG}`]: managedBy } },
  });
}

/** DescribeInstances has no resource-level permissions: EC2 only accepts `*` for it. */
export function describeInstancesAccess(): iam.PolicyStatement {
  return new iam.PolicyStatement({ actions: ['ec2:DescribeInstances'], resources: ['*'] });
}

export interface LaunchAccessOptions {
  readonly launchTemplateArns: string[];
  readonly runnerRole: iam.IRole;
  readonly managedBy: string;
  /** SSM parameters the provisioner reads each config's AMI id from at launch. */
  readonly imageParameterArns: string[];
  /** The subnets runners launch into: the only subnets a launch may use. */
  readonly subnetIds: string[];
  /** The runners' security groups: the only ones a launch may attach (from the launch template). */
  readonly securityGroupIds: string[];
}

/** The Spot service-linked role EC2 creates on the first spot launch of an account. */
export const SPOT_SERVICE_LINKED_ROLE = 'aws-service-role/spot.amazonaws.com/AWSServiceRoleForEC2Spot';

/**
 * CreateFleet `instant` from our launch templates only, into our subnets with our security group,
 * tagging at launch with our managed-by tag, passing only the runner role to EC2.
 *
 * CreateFleet is authorized twice over (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ec2-fleet-prerequisites.html,
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html): `ec2:CreateFleet`
 * on the request's resources, and `ec2:RunInstances` for each launch on the caller's behalf, where
 * `ec2:LaunchTemplate` names the template the launch comes from
 * (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/use-launch-templates-to-control-launching-instances.html).
 */
export function launchAccess(scope: Construct, options: LaunchAccessOptions): iam.PolicyStatement[] {
  const stack = Stack.of(scope);
  const arn = (resource: string, name = '*', account?: string) => stack.formatArn({ service: 'ec2', resource, resourceName: name, ...(account !== undefined ? { account } : {}) });
  const managedByTag = { [`aws:RequestTag/${MANAGED_BY_TAG}`]: options.managedBy };
  const fromOurTemplates = { 'ec2:LaunchTemplate': options.launchTemplateArns };
  const subnets = options.subnetIds.map((id) => arn('subnet', id));
  // Public AMIs live in other accounts, hence no account in the image ARN. The provisioner names
  // the image in the overrides (read from its SSM parameter), so the image is not bound to the
  // template; every launch still has to come from one of our templates.
  const images = arn('image', '*', '');
  return [
    new iam.PolicyStatement({
      actions: ['ec2:CreateFleet'],
      resources: [...options.launchTemplateArns, ...subnets, images],
    }),
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
      resources: [...options.launchTemplateArns, ...subnets, images],
      conditions: { ArnEquals: fromOurTemplates },
    }),
    new iam.PolicyStatement({
      actions: ['ec2:RunInstances'],
      resources: [arn('instance'), arn('volume')],
      conditions: { StringEquals: managedByTag, ArnEquals: fromOurTemplates },
    }),
    // Network interfaces are created in our subnets without tags of their own (CreateFleet tags
    // instances, volumes and the fleet only): a new id, hence the wildcard, bound to our templates.
    new iam.PolicyStatement({
      actions: ['ec2:RunInstances'],
      resources: [arn('network-interface')],
      conditions: { ArnEquals: fromOurTemplates },
    }),
    // Our security group, and only as the launch template sets it (not from a request's overrides).
    new iam.PolicyStatement({
      actions: ['ec2:RunInstances'],
      resources: options.securityGroupIds.map((id) => arn('security-group', id)),
      conditions: { ArnEquals: fromOurTemplates, Bool: { 'ec2:IsLaunchTemplateResource': 'true' } },
    }),
    // A spot launch creates a spot instances request: a new id, and the resource type takes no
    // launch-template condition (Service Authorization Reference); the statements above still bind
    // every other resource of the same launch to our templates, subnets and security group.
    new iam.PolicyStatement({
      actions: ['ec2:RunInstances'],
      resources: [arn('spot-instances-request')],
    }),
    new iam.PolicyStatement({
      actions: ['ec2:CreateTags'],
      resources: [arn('fleet'), arn('instance'), arn('volume'), arn('network-interface')],
      conditions: { StringEquals: { 'ec2:CreateAction': ['CreateFleet', 'RunInstances'] } },
    }),
    new iam.PolicyStatement({
      actions: ['iam:PassRole'],
      resources: [options.runnerRole.roleArn],
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
    ...(options.imageParameterArns.length > 0
      ? [new iam.PolicyStatement({ actions: ['ssm:GetParameter'], resources: options.imageParameterArns })]
      : []),
    // CreateFleet describes the launch template versions and checks the service-linked role.
    new iam.PolicyStatement({
      actions: ['ec2:DescribeLaunchTemplates', 'ec2:DescribeLaunchTemplateVersions', 'ec2:DescribeSubnets', 'ec2:DescribeImages'],
      resources: ['*'],
    }),
  ];
}

/** What the webhook's grants name. */
export interface WebhookAccessOptions {
  readonly tableArn: string;
  readonly queue: sqs.IQueue;
  readonly webhookSecretParameterArn: string;
  readonly runnerConfigPathArn: string;
}

/**
 * The webhook records deliveries and jobs (items only: it never queries the pool index), names
 * pools on the queue, and reads its secret and the runner configs.
 */
export function grantWebhookAccess(role: iam.IRole, options: WebhookAccessOptions): void {
  role.addToPrincipalPolicy(new iam.PolicyStatement({
    actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
    resources: [options.tableArn],
  }));
  options.queue.grantSendMessages(role);
  // SecureString with the AWS managed key aws/ssm: its key policy lets account principals decrypt
  // through SSM, so no KMS statement is needed.
  role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['ssm:GetParameter'], resources: [options.webhookSecretParameterArn] }));
  role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['ssm:GetParametersByPath'], resources: [options.runnerConfigPathArn] }));
}

/** What the grants of the register, lifecycle and reconciler functions name. */
export interface ControlPlaneAccessOptions {
  readonly tableArn: string;
  readonly queue: sqs.IQueue;
  readonly runnerConfigPath: string;
  readonly privateKeyParameterName: string;
  /** This deployment's id: the managed-by tag's value. */
  readonly managedBy: string;
}

/** The register function reads and moves runners and jobs, reads the runner configs and the App's key. */
export function grantRegisterAccess(role: iam.IRole, options: ControlPlaneAccessOptions): void {
  allow(role, [...stateAccess(options.tableArn), ...configAccess(role, options.runnerConfigPath, options.privateKeyParameterName)]);
}

/**
 * The lifecycle function settles one instance: its runner and job, its GitHub registration (the
 * App's key), its termination, and the pool's message.
 */
export function grantLifecycleAccess(role: iam.IRole, options: ControlPlaneAccessOptions): void {
  allow(role, [
    ...stateAccess(options.tableArn),
    ...configAccess(role, undefined, options.privateKeyParameterName),
    terminateAccess(role, options.managedBy),
  ]);
  options.queue.grantSendMessages(role);
}

/**
 * The reconciler does the lifecycle's work for every instance: it also scans the pool index for
 * active pools and lists the deployment's instances.
 */
export function grantReconcilerAccess(role: iam.IRole, options: ControlPlaneAccessOptions): void {
  allow(role, [
    ...stateAccess(options.tableArn, { scanIndex: true }),
    ...configAccess(role, undefined, options.privateKeyParameterName),
    terminateAccess(role, options.managedBy),
    describeInstancesAccess(),
  ]);
  options.queue.grantSendMessages(role);
}

/** What the provisioner's grants name besides the control plane's: the facts of a launch. */
export interface ProvisionerAccessOptions extends ControlPlaneAccessOptions, Omit<LaunchAccessOptions, 'managedBy'> {}

/**
 * The provisioner reconciles pools: it reads runners several at a time (BatchGetItem), reads the
 * runner configs and the App's key, launches from our templates (launchAccess), retires surplus
 * instances, lists them, and sends a pool's message again or shortens its retry delay.
 */
export function grantProvisionerAccess(role: iam.IRole, options: ProvisionerAccessOptions): void {
  allow(role, [
    ...stateAccess(options.tableArn, { batchGet: true }),
    ...configAccess(role, options.runnerConfigPath, options.privateKeyParameterName),
    ...launchAccess(role, options),
    terminateAccess(role, options.managedBy),
    describeInstancesAccess(),
  ]);
  options.queue.grantSendMessages(role);
  // A failed pool's message comes back after the provisioner's own backoff, not the queue's timeout.
  options.queue.grant(role, 'sqs:ChangeMessageVisibility');
}

function allow(role: iam.IRole, statements: iam.PolicyStatement[]): void {
  for (const statement of statements) role.addToPrincipalPolicy(statement);
}
