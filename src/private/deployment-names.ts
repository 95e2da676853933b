// The names one deployment gives what it makes (its SSM parameters and its id), the outputs a setup
// step reads them from, and the settings its props leave to defaults.
import { createHash } from 'crypto';
import { CfnOutput, Duration, Size, Stack } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { EphemeralRunnersProps } from '../ephemeral-runners-props';

export interface DeploymentNames {
  /** Prefix of every SSM parameter name of the deployment. */
  readonly prefix: string;
  readonly privateKeyParameterName: string;
  readonly webhookSecretParameterName: string;
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
    runnerConfigPath: `${prefix}/runner-configs`,
    managedBy: `er-${createHash('sha256').update(`${stack.stackName}/${construct.node.path}`).digest('hex').slice(0, 10)}`,
  };
}

/**
 * The outputs a setup step needs, under keys without CDK's hash suffix so it can name them: the
 * construct id (letters and digits only) and what the output holds, e.g. RunnersWebhookUrl. Two
 * constructs of one id in a stack would share keys: CDK refuses that at synth.
 */
export function setupOutputs(construct: Construct, names: DeploymentNames, webhookUrl: string): void {
  const output = (name: string, value: string, description: string) =>
    new CfnOutput(construct, name, { value, description }).overrideLogicalId(`${construct.node.id.replace(/[^A-Za-z0-9]/g, '')}${name}`);
  output('WebhookUrl', webhookUrl, 'The GitHub App\'s webhook URL');
  output('PrivateKeyParameter', names.privateKeyParameterName,
    'Write the GitHub App private key here: aws ssm put-parameter --type SecureString --name <this> --value file://app.pem');
  output('WebhookSecretParameter', names.webhookSecretParameterName,
    'Write the GitHub App webhook secret here: aws ssm put-parameter --type SecureString --name <this> --value <secret>');
}

/** The settings the props leave to their defaults, settled. */
export interface DeploymentSettings {
  readonly logRetention: logs.RetentionDays;
  readonly maxLifetime: Duration;
  readonly bootTimeout: Duration;
  readonly rootVolumeSize: Size;
  readonly reconcileInterval: Duration;
}

/** The props' settings with their documented defaults. */
export function settingsOf(props: EphemeralRunnersProps): DeploymentSettings {
  return {
    logRetention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
    maxLifetime: props.maxRunnerLifetime ?? Duration.hours(6),
    bootTimeout: props.runnerBootTimeout ?? Duration.minutes(10),
    rootVolumeSize: props.runnerVolumeSize ?? Size.gibibytes(30),
    reconcileInterval: props.reconcileInterval ?? Duration.minutes(1),
  };
}
