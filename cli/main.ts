// npx cdk-ephemeral-runners status|reset --stack NAME: what is wrong with a deployment, and how to
// start its setup over. Region and credentials as the AWS CLI takes them (--region, --profile, or
// AWS_REGION, AWS_PROFILE and the rest of the SDK's configuration).
import { parseArgs } from 'util';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DeleteParametersCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { CheckResult, runChecks, STATUS_PERMISSIONS } from './checks';
import { findDeployment, FoundDeployment, UsageError } from './deployment';
import { newSetupToken, setupTokenHash } from '../src/contracts/setup-token';

const USAGE = `Usage: npx cdk-ephemeral-runners <command> --stack NAME [options]

Commands:
  status   check the deployment: the GitHub App, its installations and deliveries, the runner
           images and configs, what runs, launch errors, dead letters and alarms. Exits 1 when a
           check fails. Read-only; needs ${STATUS_PERMISSIONS.join(', ')}
           (and kms:Decrypt for secrets under a key of your own).
  reset    delete the App credentials the setup page stored and print a new setup link.
           Needs ssm:DeleteParameters and ssm:PutParameter too. Asks for --yes.

Options:
  --stack NAME           the stack the construct is in (required)
  --construct ID         the construct's id, when the stack holds more than one
  --region REGION        as for the AWS CLI
  --profile PROFILE      as for the AWS CLI
  --json                 machine-readable output
  --github-api-url URL   reach the GitHub API at this URL instead of the deployment's (a proxy)
  --yes                  confirm reset`;

/** Runs one command; returns the exit code. `print` writes a line to standard output. */
export async function main(argv: string[], print: (line: string) => void = console.log, env = process.env): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        'stack': { type: 'string' },
        'construct': { type: 'string' },
        'region': { type: 'string' },
        'profile': { type: 'string' },
        'json': { type: 'boolean' },
        'github-api-url': { type: 'string' },
        'yes': { type: 'boolean' },
        'help': { type: 'boolean' },
      },
    });
  } catch (e) {
    print(`${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = args;
  const command = positionals[0];
  if (values.help || command === undefined) {
    print(USAGE);
    return values.help ? 0 : 2;
  }
  if (command !== 'status' && command !== 'reset') {
    print(`Unknown command '${command}'.\n\n${USAGE}`);
    return 2;
  }
  if (!values.stack) {
    print(`--stack is required: the name of the stack the construct is in.\n\n${USAGE}`);
    return 2;
  }
  // As the AWS CLI: --profile and --region before the environment's.
  if (values.profile) env.AWS_PROFILE = values.profile;
  const config = values.region ? { region: values.region } : {};
  const ssm = new SSMClient(config);
  try {
    const found = await findDeployment({ cloudformation: new CloudFormationClient(config), ssm }, values.stack, values.construct);
    if (command === 'reset') return await reset(found, ssm, values.yes === true, print);
    const results = await runChecks(found, {
      ssm,
      ec2: new EC2Client(config),
      sqs: new SQSClient(config),
      dynamodb: new DynamoDBClient(config),
      cloudwatch: new CloudWatchClient(config),
      githubApiUrl: values['github-api-url'],
    });
    const failed = results.filter((r) => !r.ok).length;
    if (values.json) print(JSON.stringify({ stack: found.stackName, construct: found.constructId, ok: failed === 0, checks: results }, undefined, 2));
    else print(render(found.stackName, results));
    return failed === 0 ? 0 : 1;
  } catch (e) {
    if (e instanceof UsageError) {
      print(e.message);
      return 2;
    }
    const name = (e as Error).name;
    if (['CredentialsProviderError', 'ExpiredTokenException', 'UnrecognizedClientException', 'InvalidClientTokenId'].includes(name)) {
      print(`AWS refused the credentials (${name}): sign in as for the AWS CLI (aws sso login, --profile, AWS_PROFILE).`);
      return 2;
    }
    if (name === 'AccessDeniedException' || name === 'AccessDenied') {
      print(`AWS denied a call: ${(e as Error).message}\nThe command needs ${STATUS_PERMISSIONS.join(', ')}.`);
      return 2;
    }
    throw e;
  }
}

function render(stackName: string, results: readonly CheckResult[]): string {
  const width = Math.max(...results.map((r) => r.check.length));
  const lines = results.flatMap((r) => [
    `${r.ok ? 'OK     ' : 'PROBLEM'}  ${r.check.padEnd(width)}  ${r.detail}`,
    ...(r.ok || !r.fix ? [] : [`${' '.repeat(width + 11)}fix: ${r.fix}`]),
  ]);
  const failed = results.filter((r) => !r.ok).length;
  return [`cdk-ephemeral-runners in stack ${stackName}`, '', ...lines, '', failed === 0 ? 'All checks passed.' : `${failed} of ${results.length} checks failed.`].join('\n');
}

async function reset(found: FoundDeployment, ssm: SSMClient, confirmed: boolean, print: (line: string) => void): Promise<number> {
  const doc = found.document;
  if (doc.appId !== undefined || doc.setupUrl === undefined) {
    throw new UsageError('This deployment names its App in code (github.appId): replace its private key and webhook secret with aws ssm put-parameter --overwrite.');
  }
  const names = [doc.appIdParameterName, doc.privateKeyParameterName, doc.webhookSecretParameterName];
  if (!confirmed) {
    print(`reset deletes ${names.join(', ')}: the runners take no job until the setup page has created a new App.\nRun again with --yes to go on.`);
    return 2;
  }
  // The new link first: were the deletion refused, the old App would still work.
  const token = newSetupToken();
  await ssm.send(new PutParameterCommand({
    Name: doc.setupTokenParameterName,
    Value: setupTokenHash(token),
    Type: 'String',
    Overwrite: true,
    Tier: 'Standard',
    Description: 'SHA-256 of the cdk-ephemeral-runners setup token',
  }));
  await ssm.send(new DeleteParametersCommand({ Names: names }));
  print(`Deleted the App credentials of ${found.constructId} in ${found.stackName}. The old App stays on the GitHub server: delete it there if it is not needed.`);
  print(`Open this link to create the App again (it works once):\n${doc.setupUrl}?token=${token}`);
  return 0;
}
