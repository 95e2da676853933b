// The names one deployment gives what it makes (its SSM parameters and its id), the outputs a setup
// step reads them from, and the settings its props leave to defaults.
import { createHash } from 'crypto';
import { CfnOutput, Duration, Size, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { GitHubApp } from './github-app';
import type { Setup } from './setup';
import { DEPLOYMENT_DOCUMENT_VERSION, DeploymentDocument } from '../contracts/deployment-document';
import { EphemeralRunnersProps } from '../ephemeral-runners-props';
import { JobHooks } from '../job-hooks';
import { overridesOf, RunnerConfigOverrides } from './config-overrides';

export interface DeploymentNames {
  /** Prefix of every SSM parameter name of the deployment. */
  readonly prefix: string;
  readonly privateKeyParameterName: string;
  readonly webhookSecretParameterName: string;
  /** The enterprise credential (a personal access token, classic), for enterprise-scoped configs. */
  readonly enterpriseTokenParameterName: string;
  /** Where the setup page stores the App id it created. */
  readonly appIdParameterName: string;
  /** The SHA-256 of the setup token. */
  readonly setupTokenParameterName: string;
  /** The SSM path holding one parameter per runner config. */
  readonly runnerConfigPath: string;
  /**
   * The deployment's id: its instances are tagged with it (IAM conditions rely on it) and its
   * runner names start with it (the reconciler deletes only registrations it made).
   */
  readonly managedBy: string;
}

/** The names of the deployment `construct` is, with id `id`. */
export function deploymentNames(construct: Construct, id: string, props: EphemeralRunnersProps): DeploymentNames {
  const stack = Stack.of(construct);
  const prefix = props.parameterPrefix ?? `/ephemeral-runners/${stack.stackName}/${id}`.replace(/[^A-Za-z0-9_.\-/]/g, '-');
  return {
    prefix,
    privateKeyParameterName: props.github.privateKeyParameterName ?? `${prefix}/github-app/private-key`,
    webhookSecretParameterName: props.github.webhookSecretParameterName ?? `${prefix}/github-app/webhook-secret`,
    enterpriseTokenParameterName: props.github.enterpriseTokenParameterName ?? `${prefix}/github-enterprise/token`,
    appIdParameterName: `${prefix}/github-app/app-id`,
    setupTokenParameterName: `${prefix}/setup/token-sha256`,
    runnerConfigPath: `${prefix}/runner-configs`,
    managedBy: `er-${createHash('sha256').update(`${stack.stackName}/${construct.node.path}`).digest('hex').slice(0, 10)}`,
  };
}

/**
 * The outputs a setup step needs, under keys without CDK's hash suffix so it can name them: the
 * construct id (letters and digits only) and what the output holds, e.g. RunnersWebhookUrl. Two
 * constructs of one id in a stack would share keys: CDK refuses that at synth.
 */
export function setupOutputs(construct: Construct, names: DeploymentNames, parts: DeploymentParts): void {
  const { githubApp, setup } = parts;
  const output = (name: string, value: string, description: string) =>
    new CfnOutput(construct, name, { value, description }).overrideLogicalId(`${construct.node.id.replace(/[^A-Za-z0-9]/g, '')}${name}`);
  output('WebhookUrl', parts.webhook.url, 'The GitHub App\'s webhook URL');
  const stack = Stack.of(construct);
  // A bad prefix is reported by the construct's validation, with every other problem: no parameter is written under it.
  if (!parts.prefixValid) return;
  const parameter = new ssm.StringParameter(construct, 'DeploymentDocument', {
    parameterName: `${names.prefix}/deployment`,
    description: 'What `npx cdk-ephemeral-runners status` reads of this deployment',
    stringValue: stack.toJsonString({
      version: DEPLOYMENT_DOCUMENT_VERSION,
      githubUrl: githubApp.url,
      githubApiUrl: githubApp.apiUrl,
      appId: githubApp.appId,
      appIdParameterName: names.appIdParameterName,
      privateKeyParameterName: names.privateKeyParameterName,
      webhookSecretParameterName: names.webhookSecretParameterName,
      ...(githubApp.enterprise !== undefined
        ? { enterprise: githubApp.enterprise, enterpriseTokenParameterName: names.enterpriseTokenParameterName } : {}),
      setupTokenParameterName: names.setupTokenParameterName,
      setupUrl: setup?.url,
      webhookUrl: parts.webhook.url,
      runnerConfigPath: names.runnerConfigPath,
      tableName: parts.table.tableName,
      queueUrl: parts.queue.queueUrl,
      deadLetterQueueUrls: parts.deadLetterQueues.map((q) => q.queueUrl),
      managedBy: names.managedBy,
      alarmNames: parts.monitoring.alarms.map((a) => a.alarmName),
    } satisfies DeploymentDocument),
  });
  output('Deployment', parameter.parameterName, 'Read by npx cdk-ephemeral-runners status --stack ' + stack.stackName);
  if (setup) output('SetupUrl', setup.urlWithToken, 'Open to create the GitHub App on the server and store its credentials (once; the link holds a token)');
  output('PrivateKeyParameter', names.privateKeyParameterName,
    'Write the GitHub App private key here: aws ssm put-parameter --type SecureString --name <this> --value file://app.pem');
  output('WebhookSecretParameter', names.webhookSecretParameterName,
    'Write the GitHub App webhook secret here: aws ssm put-parameter --type SecureString --name <this> --value <secret>');
  if (githubApp.enterprise !== undefined) {
    output('EnterpriseTokenParameter', names.enterpriseTokenParameterName,
      'Write the enterprise credential here, a personal access token (classic) with the manage_runners:enterprise scope only: '
      + 'aws ssm put-parameter --type SecureString --name <this> --value <token>');
  }
}

/** The parts of a deployment the status command reads, besides its names. */
export interface DeploymentParts {
  /** Whether `parameterPrefix` is a valid SSM parameter name. */
  readonly prefixValid: boolean;
  readonly githubApp: GitHubApp;
  /** The setup page, unless the props give an App id. */
  readonly setup?: Setup;
  readonly webhook: { readonly url: string };
  readonly table: { readonly tableName: string };
  readonly queue: sqs.IQueue;
  readonly deadLetterQueues: readonly sqs.IQueue[];
  readonly monitoring: { readonly alarms: readonly cloudwatch.IAlarm[] };
}

/** The settings the props leave to their defaults, settled. */
export interface DeploymentSettings {
  readonly logRetention: logs.RetentionDays;
  readonly maxLifetime: Duration;
  readonly bootTimeout: Duration;
  readonly rootVolumeSize: Size;
  readonly reconcileInterval: Duration;
  /** Job hooks by runner config name, for the configs that have any. */
  readonly jobHooks: Readonly<Record<string, JobHooks>>;
  /** What configs set for their own instances, by runner config name, for the configs that set anything. */
  readonly overrides: Readonly<Record<string, RunnerConfigOverrides>>;
  /** The runner configs whose instances stream the runner's own logs (`debug.runnerLogs`). */
  readonly runnerLogConfigs: readonly string[];
}

/** The props' settings with their documented defaults. */
export function settingsOf(props: EphemeralRunnersProps): DeploymentSettings {
  return {
    logRetention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
    maxLifetime: props.maxRunnerLifetime ?? Duration.hours(6),
    bootTimeout: props.runnerBootTimeout ?? Duration.minutes(10),
    rootVolumeSize: props.runnerVolumeSize ?? Size.gibibytes(30),
    reconcileInterval: props.reconcileInterval ?? Duration.minutes(1),
    jobHooks: Object.fromEntries(props.runnerConfigs.flatMap((c) => (c.jobHooks ? [[c.name, c.jobHooks]] : []))),
    overrides: overridesOf(props.runnerConfigs),
    runnerLogConfigs: props.runnerConfigs.filter((c) => c.debug?.runnerLogs === true).map((c) => c.name),
  };
}
