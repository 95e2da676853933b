// A function of the control plane: one esbuild bundle from assets/, its own role and log group.
import * as path from 'path';
import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** Props of {@link ControlPlaneFunction}. */
export interface ControlPlaneFunctionProps {
  /** The handler's file name under lambda/handlers/, without extension, e.g. `webhook`. */
  readonly entry: string;
  /** What the function does, for the console. */
  readonly description: string;
  readonly environment: Record<string, string>;
  readonly timeout: Duration;
  /** @default 512 */
  readonly memorySize?: number;
  readonly logRetention: logs.RetentionDays;
}

/**
 * A Node.js function on arm64 running a prebuilt bundle, with a role that may write to its own
 * log group and nothing else until grants are added.
 */
export class ControlPlaneFunction extends Construct {
  readonly function: lambda.Function;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ControlPlaneFunctionProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetention });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Runs the ${props.entry} function of cdk-ephemeral-runners`,
    });
    // Written out rather than AWSLambdaBasicExecutionRole, which may write to every log group.
    this.role.addToPolicy(new iam.PolicyStatement({
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      resources: [this.logGroup.logGroupArn],
    }));
    this.function = new lambda.Function(this, 'Function', {
      description: props.description,
      // The bundles target node22 (esbuild), which nodejs24.x runs unchanged.
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      code: lambda.Code.fromAsset(path.join(__dirname, '..', 'assets', 'lambda', 'handlers', props.entry)),
      handler: 'index.handler',
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout,
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_METRICS_NAMESPACE: 'EphemeralRunners',
        POWERTOOLS_SERVICE_NAME: props.entry,
        ...props.environment,
      },
    });
  }
}
