// What a user writes: the props of EphemeralRunners.
import { Duration, RemovalPolicy, Size } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { EndpointAccess } from './endpoint-access';
import { MonitoringOptions } from './monitoring-options';
import { RunnerConfig } from './runner-config';
import { RunnerImageOptions } from './runner-image-pipeline';
import { RunnerMachineImage } from './runner-machine-image';

/** The GitHub App the runners work for. */
export interface GitHubAppOptions {
  /**
   * Base URL of the GitHub Enterprise Server, e.g. `https://ghes.example.com`, or
   * `https://github.com`. The REST API is reached at `<url>/api/v3` (`api.github.com` for github.com).
   */
  readonly url: string;

  /**
   * The numeric id of a GitHub App you created yourself, as shown on its settings page; you then
   * write its private key and webhook secret into their parameters after deploy.
   *
   * @default - the stack's setup page (output `SetupUrl`) creates the App on the server from a
   * manifest and stores its id, private key and webhook secret; they are deleted with the stack
   */
  readonly appId?: string;

  /**
   * Name of the SSM SecureString parameter that holds the App's private key (PEM). The construct
   * never creates it, so the key never appears in a template: the setup page writes it, or you do
   * after deploy when you give `appId`.
   *
   * @default - `<parameterPrefix>/github-app/private-key`
   */
  readonly privateKeyParameterName?: string;

  /**
   * Name of the SSM SecureString parameter that holds the App's webhook secret, written like the
   * private key.
   *
   * @default - `<parameterPrefix>/github-app/webhook-secret`
   */
  readonly webhookSecretParameterName?: string;

  /**
   * The KMS key both SecureString parameters are encrypted with (`aws ssm put-parameter --key-id`).
   * The webhook function may decrypt the webhook secret with it, and the four functions that call
   * GitHub the private key; each only through SSM and only for its parameter. The key's policy must
   * let this account's IAM policies grant its use, as the default key policy does.
   *
   * @default - the AWS managed key `aws/ssm` (`put-parameter` without `--key-id`), which every
   * principal of the account may use through SSM
   */
  readonly secretsEncryptionKey?: kms.IKey;

  /**
   * The slug of the enterprise that runner configs of scope `RunnerScope.ENTERPRISE` register at,
   * e.g. `octo-enterprise` (as in `https://ghes.example.com/enterprises/octo-enterprise`). Needed
   * only for such configs. Its runners register with the enterprise credential (see
   * `enterpriseTokenParameterName`).
   *
   * @default - no enterprise: runner configs of scope `RunnerScope.ENTERPRISE` are refused at synth
   */
  readonly enterprise?: string;

  /**
   * Name of the SSM SecureString parameter that holds the enterprise credential: a personal access
   * token (classic) of an enterprise owner with the `manage_runners:enterprise` scope and no other.
   * GitHub offers nothing narrower for enterprise runners: GitHub App tokens and fine-grained tokens
   * cannot call the enterprise runner endpoints. Written like the App's private key, once, after
   * deploy; only the four functions that call GitHub may read it. Used only when `enterprise` is set.
   *
   * @default - `<parameterPrefix>/github-enterprise/token`
   */
  readonly enterpriseTokenParameterName?: string;

  /**
   * PEM certificates of the private CA that signed the server's TLS certificate. The functions
   * that call GitHub trust them (Node.js `NODE_EXTRA_CA_CERTS`, from a layer), and so does the
   * runner image the construct builds.
   *
   * @default - the public CAs only
   */
  readonly caCertificatesPem?: string;
}

/** Props of {@link EphemeralRunners}. */
export interface EphemeralRunnersProps {
  /** The GitHub server and App. */
  readonly github: GitHubAppOptions;

  /** The kinds of runner jobs can ask for, routed by their `runs-on` labels. */
  readonly runnerConfigs: RunnerConfig[];

  /**
   * The VPC the runner instances run in (and the image builds, the private API's endpoint and,
   * with `controlPlaneSubnets`, the functions).
   *
   * @default - a new VPC that bills nothing by the hour: `10.0.0.0/16` over up to three
   * Availability Zones (two when the stack has no explicit account and region), one public subnet
   * per zone that assigns public IPv4 addresses on launch, an internet gateway, no NAT gateway and
   * no VPC endpoint; runners reach GitHub and AWS over the internet gateway. Its flow log (all
   * traffic) goes to a CloudWatch log group kept for `logRetention`. `controlPlaneSubnets`, a
   * private register endpoint, and a private webhook without an endpoint of its own need a VPC of
   * your own.
   */
  readonly vpc?: ec2.IVpc;

  /**
   * The subnets the runner instances run in; one instance goes to whichever has capacity. Public
   * subnets must assign public IPv4 addresses; private ones need a route to GitHub (a NAT, or the
   * network the GitHub server is in) and, without a route to the internet, `registerAccess: EndpointAccess.privateApi()`.
   *
   * @default - the VPC's private subnets with egress if it has any, else its public subnets, else its isolated ones
   */
  readonly subnets?: ec2.SubnetSelection;

  /**
   * How GitHub reaches the webhook. `EndpointAccess.privateApi()` puts it on a private REST API,
   * reachable only through an `execute-api` interface VPC endpoint: for a GHES that cannot, or must
   * not, call out to the internet.
   *
   * @default EndpointAccess.publicInternet() - an HTTP API; each delivery is checked by its HMAC signature
   */
  readonly webhookAccess?: EndpointAccess;

  /**
   * How runner instances reach the register endpoint. `EndpointAccess.privateApi()` puts it on a
   * private REST API, reachable only through an `execute-api` interface VPC endpoint: for runner
   * subnets without a route to the internet (Function URLs are not reachable through PrivateLink).
   *
   * @default EndpointAccess.publicInternet() - a Function URL with AWS_IAM auth
   */
  readonly registerAccess?: EndpointAccess;

  /**
   * Set API Gateway's account-wide CloudWatch Logs role (`AWS::ApiGateway::Account`), which the
   * private API's access logs need once per account and region. Leave it off where the account has
   * one already (another API, or a landing zone, set it): there is one per account and region, and
   * the last stack to set it wins. The role is kept when the stack is deleted.
   *
   * @default false
   */
  readonly setApiGatewayAccountLogsRole?: boolean;

  /**
   * Run the five control-plane functions in these subnets of `vpc`: for a GHES reachable only from
   * inside the network. The subnets then need a way to DynamoDB, SQS, SSM and EC2 (VPC endpoints or
   * a NAT; docs/configuration.md lists them) and to the GitHub server. The functions get a security
   * group with no inbound rule and HTTPS out.
   *
   * @default - the functions run outside any VPC and reach GitHub over the internet
   */
  readonly controlPlaneSubnets?: ec2.SubnetSelection;

  /**
   * The image runner instances boot, per architecture, instead of the one this construct builds.
   * It must hold the GitHub Actions runner in `/opt/actions-runner` and a user `runner`.
   *
   * @default - an image built by an EC2 Image Builder pipeline of this construct (see `runnerImage`)
   */
  readonly machineImage?: RunnerMachineImage;

  /**
   * How the construct's own runner image is built, when `machineImage` is not given.
   *
   * @default - Ubuntu 24.04 LTS, the newest runner release at each build (RunnerVersion.latest()), weekly rebuilds, the newest 3 images kept
   */
  readonly runnerImage?: RunnerImageOptions;

  /**
   * The longest a runner instance may live, job included; then it is terminated.
   *
   * @default Duration.hours(6)
   */
  readonly maxRunnerLifetime?: Duration;

  /**
   * How long an instance may take from launch to asking for its runner config before it is
   * terminated and replaced.
   *
   * @default Duration.minutes(10)
   */
  readonly runnerBootTimeout?: Duration;

  /**
   * Size of the runners' encrypted gp3 root volume.
   *
   * @default Size.gibibytes(30)
   */
  readonly runnerVolumeSize?: Size;

  /**
   * The most runner instances of this deployment alive at once, across every runner config and
   * scope: a ceiling on the fleet (and its spend) where `maxRunners` bounds one pool only. An instance
   * counts from its launch until it shuts down; a warm pool's stopped instances count too. Jobs
   * beyond it wait, and as instances end the waiting jobs get them in the order they were queued,
   * whichever pool they belong to. At most 1000.
   *
   * @default - no deployment-wide cap; each config's maxRunners only
   */
  readonly maxInstances?: number;

  /**
   * How often the reconciler sweeps pools, instances, GitHub registrations and deliveries.
   *
   * @default Duration.minutes(1)
   */
  readonly reconcileInterval?: Duration;

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
   * The CloudWatch dashboard and alarms (dead letters, jobs queued too long, too many instances,
   * function errors), optionally sent to an SNS topic.
   *
   * @default - a dashboard and the alarms, sent nowhere
   */
  readonly monitoring?: MonitoringOptions;

  /**
   * What happens to the state table when the stack is deleted.
   *
   * @default RemovalPolicy.DESTROY - it holds transient control-plane state only
   */
  readonly stateRemovalPolicy?: RemovalPolicy;
}
