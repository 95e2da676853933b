// A function of the control plane: one esbuild bundle from assets/, its own role and log group.
import * as path from 'path';
import { Duration } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { CA_BUNDLE_PATH } from './ca-bundle';
import { acknowledgeFindings } from './nag';
import { RUNNER_CONFIG_HASH_VARIABLE, RUNTIME_VARIABLES } from '../contracts/environment';
import { FunctionName, METRICS_NAMESPACE } from '../contracts/metrics';

/** Where functions placed in a VPC run. */
export interface ControlPlaneNetwork {
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  readonly securityGroup: ec2.ISecurityGroup;
}

/** What every function of a deployment shares. */
export interface ControlPlaneFunctionSettings {
  readonly logRetention: logs.RetentionDays;
  /** A hash of the runner configs: a change replaces the functions' containers and their caches. */
  readonly runnerConfigHash: string;
  /** The VPC subnets the functions run in. @default - outside any VPC */
  readonly network?: ControlPlaneNetwork;
  /** The layer with the GitHub server's private CA, for the functions that call GitHub. @default - the public CAs only */
  readonly caBundle?: lambda.ILayerVersion;
}

/** Props of {@link ControlPlaneFunction}. */
export interface ControlPlaneFunctionProps {
  /** The handler's file name under lambda/handlers/, and the name it publishes metrics as. */
  readonly entry: FunctionName;
  /** What the function does, for the console. */
  readonly description: string;
  /** The function's own variables, encoded by its contract (src/contracts/environment.ts). */
  readonly environment: Record<string, string>;
  readonly timeout: Duration;
  readonly settings: ControlPlaneFunctionSettings;
  /** Trust the GitHub server's private CA, if it has one: the function calls GitHub. @default false */
  readonly callsGitHub?: boolean;
  /** @default 512 */
  readonly memorySize?: number;
  /** Where asynchronous invocations that failed every retry go. @default - none (synchronous and queue-driven functions) */
  readonly deadLetterQueue?: sqs.IQueue;
}

/**
 * A Node.js function on arm64 running a prebuilt bundle, with a role that may write to its own
 * log group and nothing else until grants are added.
 */
export class ControlPlaneFunction extends Construct implements iam.IGrantable {
  /** The handler it runs, and the service name it publishes metrics as. */
  readonly entry: FunctionName;
  readonly function: lambda.Function;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  readonly grantPrincipal: iam.IPrincipal;

  constructor(scope: Construct, id: string, props: ControlPlaneFunctionProps) {
    super(scope, id);
    const { settings } = props;
    this.entry = props.entry;
    this.logGroup = new logs.LogGroup(this, 'Logs', { retention: settings.logRetention });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Runs the ${props.entry} function of cdk-ephemeral-runners`,
    });
    this.grantPrincipal = this.role;
    // Written out rather than AWSLambdaBasicExecutionRole, which may write to every log group.
    this.role.addToPolicy(new iam.PolicyStatement({
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      resources: [this.logGroup.logGroupArn],
    }));
    const caBundle = props.callsGitHub ? settings.caBundle : undefined;
    this.function = new lambda.Function(this, 'Function', {
      description: props.description,
      // The bundles target node22 (esbuild), which nodejs24.x runs unchanged.
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      // The bundle alone: a source map beside it (in a clone of this repository) is not deployed.
      code: lambda.Code.fromAsset(path.join(__dirname, '..', '..', 'assets', 'lambda', 'handlers', props.entry), { exclude: ['*.map'] }),
      handler: 'index.handler',
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout,
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      deadLetterQueue: props.deadLetterQueue,
      layers: caBundle && [caBundle],
      vpc: settings.network?.vpc,
      vpcSubnets: settings.network?.subnets,
      securityGroups: settings.network && [settings.network.securityGroup],
      environment: {
        [RUNTIME_VARIABLES.metricsNamespace]: METRICS_NAMESPACE,
        [RUNTIME_VARIABLES.serviceName]: props.entry,
        ...props.environment,
        [RUNNER_CONFIG_HASH_VARIABLE]: settings.runnerConfigHash,
        // A private CA: the layer puts the bundle at /opt, where Node.js reads it at start.
        ...(caBundle ? { [RUNTIME_VARIABLES.extraCaCertificates]: CA_BUNDLE_PATH } : {}),
      },
    });
    if (settings.network) this.allowNetworkInterfaces();
    acknowledgeFindings(this.function, {
      'Serverless-LambdaTracing': 'Every log line carries the job, pool, instance and runner it concerns, across all five functions; X-Ray traces would add cost per invocation and no answer the logs lack.',
    });
  }

  /**
   * Lambda creates and deletes the function's network interfaces with the function's own role.
   * Written out rather than AWSLambdaVPCAccessExecutionRole, which may also write every log group.
   */
  private allowNetworkInterfaces(): void {
    const eni = new iam.Policy(this, 'NetworkInterfaces', {
      roles: [this.role],
      statements: [new iam.PolicyStatement({
        actions: [
          'ec2:CreateNetworkInterface', 'ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets',
          'ec2:DeleteNetworkInterface', 'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses',
        ],
        resources: ['*'],
      })],
    });
    acknowledgeFindings(eni, {
      'AwsSolutions-IAM5[Resource::*]': 'What Lambda documents for a function in a VPC: Describe* accepts only "*", and a DeleteNetworkInterface scoped to some interfaces can cut the function off its VPC (https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html).',
    });
    // The function must not be created before it may create its interfaces.
    this.function.node.addDependency(eni);
  }
}
