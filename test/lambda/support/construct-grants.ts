// What the construct grants each control-plane function, from the same grant methods its construct
// calls (each function construct's static grantAccess, over collaborators known by their names), as
// the resolved statements of a FunctionRole: a grant taken out of the construct fails the runtime
// tests with the service's access-denied error.
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { ACCOUNT, FunctionRole, REGION } from './function-role';
import {
  ControlPlaneAccess, GitHubApp, Lifecycle, parameterArn, Provisioner, Reconciler, RegisterEndpoint, RunnerConfigParameters, RunnerFleet, Setup,
  StateTable, Teardown, Webhook,
} from '../../../src/private';

/** Stands for the state table's ARN while the grants are synthesized; each table's ARN replaces it. */
const TABLE_ARN = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/STATE-TABLE`;

export type ControlPlaneFunctionName = 'webhook' | 'register' | 'provisioner' | 'lifecycle' | 'reconciler' | 'setup' | 'setup-token' | 'teardown';

/** The stack the grants are synthesized in, as `AWS::StackId` names it. */
export const STACK_ID = `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/Grants/00000000-0000-4000-8000-000000000001`;

/** The names the function's environment gives it, which its grants name too. */
export interface GrantedNames {
  /** @default 'pools.fifo' */
  readonly queueName?: string;
  /** @default '/runners/configs' */
  readonly runnerConfigPath?: string;
  /** @default '/runners/github-private-key' */
  readonly privateKeyParameterName?: string;
  /** @default '/runners/webhook-secret' */
  readonly webhookSecretParameterName?: string;
  /** @default '/runners/app-id' */
  readonly appIdParameterName?: string;
  /** @default '/runners/setup-token' */
  readonly setupTokenParameterName?: string;
  /** The enterprise of enterprise-scoped configs: the functions that call GitHub may read its credential. @default none */
  readonly enterprise?: string;
  /** @default '/runners/enterprise-token' */
  readonly enterpriseTokenParameterName?: string;
  /** The App comes from the setup page (the props give no App id): the functions read its id from SSM. @default false */
  readonly appFromSetup?: boolean;
  /** The deployment's id (the managed-by tag). @default 'test' */
  readonly managedBy?: string;
  /** The role's name, when a test has two roles of one function. @default 'FunctionRole' */
  readonly roleName?: string;
  /** The reconciler's runner version parameters: the server's and the images'. @default none (no image pipeline) */
  readonly runnerVersions?: { readonly server: string; readonly images: readonly string[] };
  /** What the provisioner launches from, as the EC2 simulator has it. @default nothing */
  readonly launch?: GrantedLaunch;
}

/** The launch facts the provisioner's grants name: ids of the EC2 simulator's resources. */
export interface GrantedLaunch {
  readonly launchTemplateIds: readonly string[];
  readonly subnetIds: readonly string[];
  readonly securityGroupIds: readonly string[];
  /** The role the launch templates' instance profile holds. */
  readonly runnerRoleName: string;
  /** @default none */
  readonly imageParameterNames?: readonly string[];
  /** A config keeps a warm pool. @default false */
  readonly warmPools?: boolean;
}

/** The role of `fn` with the statements the construct grants it. */
export function grantedRole(fn: ControlPlaneFunctionName, names: GrantedNames = {}): FunctionRole {
  return new FunctionRole(grantedPolicy(fn, names), names.roleName);
}

/** The statements `fn`'s grant function puts in its role, resolved; computed once, then per table by substitution. */
function grantedPolicy(fn: ControlPlaneFunctionName, names: GrantedNames): (tableArn: string) => unknown[] {
  const stack = new Stack(new App(), 'Grants', { env: { account: ACCOUNT, region: REGION } });
  const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  const queue = sqs.Queue.fromQueueArn(stack, 'Queue', `arn:aws:sqs:${REGION}:${ACCOUNT}:${names.queueName ?? 'pools.fifo'}`);
  const launch = names.launch;
  const access: ControlPlaneAccess = {
    table: StateTable.fromTableArn(stack, 'Table', TABLE_ARN),
    queue,
    configs: RunnerConfigParameters.fromPath(stack, 'Configs', names.runnerConfigPath ?? '/runners/configs'),
    githubApp: new GitHubApp(stack, {
      url: 'https://ghes.example.com',
      appId: names.appFromSetup ? undefined : '1',
      appIdParameterName: names.appIdParameterName ?? '/runners/app-id',
      privateKeyParameterName: names.privateKeyParameterName ?? '/runners/github-private-key',
      webhookSecretParameterName: names.webhookSecretParameterName ?? '/runners/webhook-secret',
      setupTokenParameterName: names.setupTokenParameterName ?? '/runners/setup-token',
      enterprise: names.enterprise,
      enterpriseTokenParameterName: names.enterpriseTokenParameterName ?? '/runners/enterprise-token',
    }),
    fleet: RunnerFleet.fromAttributes(stack, 'Fleet', {
      managedBy: names.managedBy ?? 'test',
      launchTemplateArns: (launch?.launchTemplateIds ?? []).map((id) => `arn:aws:ec2:${REGION}:${ACCOUNT}:launch-template/${id}`),
      runnerRole: iam.Role.fromRoleName(stack, 'RunnerRole', launch?.runnerRoleName ?? 'none'),
      imageParameterArns: (launch?.imageParameterNames ?? []).map((name) => parameterArn(stack, name)),
      subnetIds: [...launch?.subnetIds ?? []],
      securityGroupIds: [...launch?.securityGroupIds ?? []],
      warmPools: launch?.warmPools,
    }),
  };
  switch (fn) {
    case 'webhook': Webhook.grantAccess(role, access); break;
    case 'register': RegisterEndpoint.grantAccess(role, access); break;
    case 'provisioner':
      if (!launch) throw new Error('the provisioner\'s grants name its launch templates, subnets and security groups: give names.launch');
      Provisioner.grantAccess(role, access);
      break;
    case 'lifecycle': Lifecycle.grantAccess(role, access); break;
    case 'reconciler':
      Reconciler.grantAccess(role, access);
      if (names.runnerVersions) {
        const parameter = (id: string, name: string) => ssm.StringParameter.fromStringParameterName(stack, id, name);
        Reconciler.grantRunnerVersions(role, parameter('Server', names.runnerVersions.server),
          names.runnerVersions.images.map((name, n) => parameter(`Image${n}`, name)));
      }
      break;
    case 'setup': Setup.grantAccess(role, access.githubApp); break;
    case 'setup-token': access.githubApp.grantTokenLifecycle(role); break;
    case 'teardown': Teardown.grantAccess(role, access.fleet); break;
  }
  const template = Template.fromStack(stack);
  // Inline and managed alike: the provisioner's launch statements are managed policies of its role.
  const policies = [...Object.values(template.findResources('AWS::IAM::Policy')), ...Object.values(template.findResources('AWS::IAM::ManagedPolicy'))];
  const statements = policies.flatMap((p) => [(p.Properties as { PolicyDocument: { Statement: unknown } }).PolicyDocument.Statement].flat());
  const json = JSON.stringify(resolvePartition(statements));
  return (tableArn) => JSON.parse(json.split(TABLE_ARN).join(tableArn)) as unknown[];
}

/** The template's ARNs as IAM holds them: `Fn::Join` over `{"Ref": "AWS::Partition"}`, and the stack's own id (the grants name nothing else). */
function resolvePartition(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(resolvePartition);
  if (typeof value !== 'object' || value === null) return value;
  const v = value as Record<string, unknown>;
  if (v.Ref === 'AWS::Partition') return 'aws';
  if (v.Ref === 'AWS::StackId') return STACK_ID;
  if ('Ref' in v || 'Fn::GetAtt' in v) throw new Error(`a grant names ${JSON.stringify(v)}, which these tests cannot resolve`);
  if ('Fn::Join' in v) {
    const [separator, parts] = v['Fn::Join'] as [string, unknown[]];
    return parts.map((p) => String(resolvePartition(p))).join(separator);
  }
  return Object.fromEntries(Object.entries(v).map(([k, inner]) => [k, resolvePartition(inner)]));
}
