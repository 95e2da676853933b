// Session Manager on a runner config's instances (debug.sessionManager): what the SSM agent and its
// session logging need on the instance role, and the Session document sessions are started with.
import { ArnFormat, CfnOutput, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { acknowledgeWildcards } from './nag';

/**
 * The instance role's part, as "Create a custom IAM instance profile for Session Manager" lists it
 * (https://docs.aws.amazon.com/systems-manager/latest/userguide/getting-started-create-iam-instance-profile.html):
 * the agent's registration and its message channels, and session logs to CloudWatch Logs. The
 * runner role already writes streams of `logGroup` (CreateLogStream, PutLogEvents).
 */
export function grantSessionManager(role: iam.Role, logGroup: logs.ILogGroup): void {
  const stack = Stack.of(role);
  const statements = [
    // The instance's own registration: an EC2 instance ARN, whose id is not known before launch.
    new iam.PolicyStatement({
      actions: ['ssm:UpdateInstanceInformation'],
      resources: [stack.formatArn({ service: 'ec2', resource: 'instance', resourceName: '*' })],
    }),
    // ssmmessages has no resource types (Service Authorization Reference): `*` is the only resource.
    new iam.PolicyStatement({
      actions: ['ssmmessages:CreateControlChannel', 'ssmmessages:CreateDataChannel', 'ssmmessages:OpenControlChannel', 'ssmmessages:OpenDataChannel'],
      resources: ['*'],
    }),
    // The agent looks the session log group up before it streams to it; DescribeLogGroups lists the
    // account's groups, so it is granted on every group of this account and region.
    new iam.PolicyStatement({ actions: ['logs:DescribeLogGroups'], resources: [stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME })] }),
    new iam.PolicyStatement({ actions: ['logs:DescribeLogStreams'], resources: [logGroup.logGroupArn] }),
  ];
  statements.forEach((s) => role.addToPolicy(s));
  const why = 'Session Manager (getting-started-create-iam-instance-profile): ';
  acknowledgeWildcards(role, [
    ['Resource::*', `${why}ssmmessages has no resource types.`],
    ['Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:instance/*', `${why}an instance registers itself, under an id not known before launch.`],
    ['Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:*', `${why}the agent's logs:DescribeLogGroups lists the account's groups.`],
  ]);
}

/** The Session document operators start sessions with: as the `runner` user, logged to the runner log group. */
export class RunnerSessionDocument extends Construct {
  readonly documentName: string;

  constructor(scope: Construct, id: string, logGroup: logs.ILogGroup) {
    super(scope, id);
    // Session document schema: https://docs.aws.amazon.com/systems-manager/latest/userguide/session-manager-schema.html
    const document = new ssm.CfnDocument(this, 'Document', {
      documentType: 'Session',
      content: {
        schemaVersion: '1.0',
        description: 'Shell on an ephemeral GitHub Actions runner, as its runner user, logged to the runner log group',
        sessionType: 'Standard_Stream',
        inputs: {
          cloudWatchLogGroupName: logGroup.logGroupName,
          cloudWatchEncryptionEnabled: false,
          cloudWatchStreamingEnabled: true,
          s3BucketName: '',
          s3EncryptionEnabled: false,
          runAsEnabled: true,
          runAsDefaultUser: 'runner',
          idleSessionTimeout: '20',
          shellProfile: { linux: '', windows: '' },
        },
      },
    });
    this.documentName = document.ref;
    new CfnOutput(this, 'Name', { key: 'SessionDocumentName', value: document.ref, description: 'aws ssm start-session --target <instance> --document-name <this>' });
  }
}
