// What each control-plane function may do, written out statement by statement: least privilege is
// a feature of this product, and every wildcard below says why it is there.
import { Arn, ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
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

/** Read the table's items and the pool index; write items with conditions. */
export function stateAccess(tableArn: string, options: { scanIndex?: boolean } = {}): iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement({
      actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
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
    // decrypt through SSM, so no KMS statement is needed.
    statements.push(new iam.PolicyStatement({ actions: ['ssm:GetParameter'], resources: [parameterArn(scope, privateKeyParameterName)] }));
  }
  return statements;
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
}

/**
 * CreateFleet `instant` from our launch templates only, tagging at launch with our managed-by tag,
 * passing only the runner role to EC2.
 */
export function launchAccess(scope: Construct, options: LaunchAccessOptions): iam.PolicyStatement[] {
  const stack = Stack.of(scope);
  const arn = (resource: string, name = '*', account?: string) => stack.formatArn({ service: 'ec2', resource, resourceName: name, ...(account !== undefined ? { account } : {}) });
  return [
    new iam.PolicyStatement({
      actions: ['ec2:CreateFleet', 'ec2:RunInstances'],
      resources: options.launchTemplateArns,
    }),
    // The fleet, the instances and their volumes and interfaces are created by the call: their ids
    // do not exist before it, so the names are wildcards; the tag condition binds them to us.
    new iam.PolicyStatement({
      actions: ['ec2:CreateFleet', 'ec2:RunInstances'],
      resources: [arn('fleet'), arn('instance'), arn('volume')],
      conditions: { StringEquals: { [`aws:RequestTag/${MANAGED_BY_TAG}`]: options.managedBy } },
    }),
    // Subnets, security groups and images are referenced by the launch template and the overrides;
    // the network interfaces are created in those subnets without tags of their own (CreateFleet
    // tags instances, volumes and the fleet only). Public AMIs live in other accounts, hence no
    // account in the image ARN.
    new iam.PolicyStatement({
      actions: ['ec2:CreateFleet', 'ec2:RunInstances'],
      resources: [arn('subnet'), arn('security-group'), arn('network-interface'), arn('image', '*', '')],
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
