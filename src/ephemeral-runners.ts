// The L3 construct a user adds to a stack: everything cdk-ephemeral-runners deploys.
import { createHash } from 'crypto';
import { Arn, ArnFormat, CfnOutput, Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { RunnerConfig, toRunnerConfigDocument, validateRunnerConfigs } from './runner-config';
import { StateTable } from './state-table';
import { Webhook } from './webhook';

/** The GitHub App the runners work for. */
export interface GitHubAppOptions {
  /**
   * Base URL of the GitHub Enterprise Server, e.g. `https://ghes.example.com`, or
   * `https://github.com`. The REST API is reached at `<url>/api/v3` (`api.github.com` for github.com).
   */
  readonly url: string;

  /** The GitHub App's numeric id, as shown on its settings page. */
  readonly appId: string;

  /**
   * Name of the SSM SecureString parameter that holds the App's private key (PEM). The construct
   * never creates it: write it once after deploy, so the key never appears in a template.
   *
   * @default - `<parameterPrefix>/github-app/private-key`
   */
  readonly privateKeyParameterName?: string;

  /**
   * Name of the SSM SecureString parameter that holds the App's webhook secret. Written once after
   * deploy, like the private key.
   *
   * @default - `<parameterPrefix>/github-app/webhook-secret`
   */
  readonly webhookSecretParameterName?: string;
}

/** Props of {@link EphemeralRunners}. */
export interface EphemeralRunnersProps {
  /** The GitHub server and App. */
  readonly github: GitHubAppOptions;

  /** The kinds of runner jobs can ask for, routed by their `runs-on` labels. */
  readonly runnerConfigs: RunnerConfig[];

  /**
   * Prefix of every SSM parameter name of this construct, starting with `/`.
   *
   * @default - `/ephemeral-runners/<stack name>/<construct id>`
   */
  readonly parameterPrefix?: string;

  /**
   * How long the functions' and the API's logs are kept.
   *
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * What happens to the state table when the stack is deleted.
   *
   * @default RemovalPolicy.DESTROY - it holds transient control-plane state only
   */
  readonly stateRemovalPolicy?: RemovalPolicy;
}

const PARAMETER_PREFIX = /^\/[A-Za-z0-9_.\-/]{1,900}[A-Za-z0-9_.-]$/;

/**
 * Self-hosted GitHub Actions runners on ephemeral EC2 instances: a webhook receives
 * `workflow_job` events, a control plane launches one instance per queued job, and each instance
 * registers just in time, runs one job and terminates.
 */
export class EphemeralRunners extends Construct {
  /** The URL to enter as the GitHub App's webhook URL. */
  readonly webhookUrl: string;
  /** The control plane's state. */
  readonly table: StateTable;
  /** Pools to reconcile, named by the webhook. */
  readonly queue: sqs.Queue;
  /** Messages the provisioner failed to handle repeatedly. */
  readonly deadLetterQueue: sqs.Queue;
  readonly webhook: Webhook;
  /** Name of the SecureString parameter to write the App's private key to. */
  readonly privateKeyParameterName: string;
  /** Name of the SecureString parameter to write the webhook secret to. */
  readonly webhookSecretParameterName: string;
  /** The SSM path holding one parameter per runner config. */
  readonly runnerConfigPath: string;

  constructor(scope: Construct, id: string, props: EphemeralRunnersProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const prefix = props.parameterPrefix
      ?? `/ephemeral-runners/${stack.stackName}/${id}`.replace(/[^A-Za-z0-9_.\-/]/g, '-');
    const github = parseGitHubUrl(props.github.url);
    this.privateKeyParameterName = props.github.privateKeyParameterName ?? `${prefix}/github-app/private-key`;
    this.webhookSecretParameterName = props.github.webhookSecretParameterName ?? `${prefix}/github-app/webhook-secret`;
    this.runnerConfigPath = `${prefix}/runner-configs`;
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;

    this.node.addValidation({
      validate: () => [
        ...validateRunnerConfigs(props.runnerConfigs),
        ...(github.error ? [github.error] : []),
        ...validateGitHubApp(props.github),
        ...validateParameterName('parameterPrefix', prefix),
        ...validateParameterName('github.privateKeyParameterName', this.privateKeyParameterName),
        ...validateParameterName('github.webhookSecretParameterName', this.webhookSecretParameterName),
      ],
    });

    this.table = new StateTable(this, 'State', { removalPolicy: props.stateRemovalPolicy });
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: DLQ_RETENTION,
    });
    this.queue = new sqs.Queue(this, 'PoolQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: 5 },
    });

    const documents = [];
    const seen = new Set<string>();
    for (const config of props.runnerConfigs) {
      // Duplicates and a bad prefix are reported by the validation above, with every other problem.
      if (seen.has(config.name) || validateParameterName('', prefix).length > 0) continue;
      seen.add(config.name);
      const document = toRunnerConfigDocument(config);
      documents.push(document);
      new ssm.StringParameter(this, `RunnerConfig-${config.name}`, {
        parameterName: `${this.runnerConfigPath}/${config.name}`,
        description: `Runner config '${config.name}' of cdk-ephemeral-runners`,
        stringValue: JSON.stringify(document),
        tier: ssm.ParameterTier.STANDARD,
      });
    }

    this.webhook = new Webhook(this, 'Webhook', {
      table: this.table.table,
      queue: this.queue,
      githubHost: github.host,
      webhookSecretParameterName: this.webhookSecretParameterName,
      webhookSecretParameterArn: parameterArn(stack, this.webhookSecretParameterName),
      runnerConfigPath: this.runnerConfigPath,
      runnerConfigPathArn: parameterArn(stack, this.runnerConfigPath),
      runnerConfigHash: createHash('sha256').update(JSON.stringify(documents)).digest('hex').slice(0, 16),
      logRetention,
    });
    this.webhookUrl = this.webhook.url;

    new CfnOutput(this, 'WebhookUrl', { value: this.webhookUrl, description: 'The GitHub App\'s webhook URL' });
    new CfnOutput(this, 'PrivateKeyParameter', {
      value: this.privateKeyParameterName,
      description: 'Write the GitHub App private key here: aws ssm put-parameter --type SecureString --name <this> --value file://app.pem',
    });
    new CfnOutput(this, 'WebhookSecretParameter', {
      value: this.webhookSecretParameterName,
      description: 'Write the GitHub App webhook secret here: aws ssm put-parameter --type SecureString --name <this> --value <secret>',
    });
  }
}

// 14 days, the most SQS keeps a message: time to find out why the provisioner failed.
const DLQ_RETENTION = Duration.days(14);

function parameterArn(stack: Stack, name: string): string {
  return Arn.format({
    service: 'ssm',
    resource: 'parameter',
    // A name starting with '/' already carries the separator.
    resourceName: name.replace(/^\//, ''),
    arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
  }, stack);
}

interface ParsedGitHubUrl {
  readonly host: string;
  readonly error?: string;
}

function parseGitHubUrl(url: string): ParsedGitHubUrl {
  const fix = 'give the server\'s base URL, e.g. \'https://ghes.example.com\'.';
  if (Token.isUnresolved(url)) return { host: url, error: `github.url must be known at synth time; ${fix}` };
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { host: 'invalid', error: `github.url '${url}' is not a URL; ${fix}` };
  }
  if (parsed.protocol !== 'https:') {
    return { host: parsed.hostname, error: `github.url '${url}' must use https; ${fix}` };
  }
  if (parsed.pathname !== '/' && parsed.pathname !== '' || parsed.search || parsed.username) {
    return { host: parsed.hostname, error: `github.url '${url}' has a path, query or credentials; ${fix} The API path /api/v3 is added for you.` };
  }
  return { host: parsed.host };
}

function validateGitHubApp(app: GitHubAppOptions): string[] {
  if (!Token.isUnresolved(app.appId) && !/^[1-9][0-9]{0,11}$/.test(app.appId)) {
    return [`github.appId '${app.appId}' is not a GitHub App id; use the numeric App ID from the App's settings page, e.g. '12'.`];
  }
  return [];
}

function validateParameterName(prop: string, name: string): string[] {
  if (Token.isUnresolved(name) || PARAMETER_PREFIX.test(name)) return [];
  return [`${prop} '${name}' is not a valid SSM parameter name; start it with '/' and use letters, digits, '_', '.', '-' and '/'.`];
}
