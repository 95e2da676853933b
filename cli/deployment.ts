// Finds a deployment of the construct from its stack: the `<id>Deployment` output names the SSM
// parameter holding the deployment document (src/contracts/deployment-document.ts).
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { DeploymentDocument, parseDeploymentDocument } from '../src/contracts/deployment-document';

/** A problem that stops the command before any check: it says what to do. */
export class UsageError extends Error {
  public readonly name = 'UsageError';
}

export interface FoundDeployment {
  readonly stackName: string;
  /** The construct's id (the outputs' key prefix). */
  readonly constructId: string;
  readonly document: DeploymentDocument;
}

export async function findDeployment(
  clients: { readonly cloudformation: CloudFormationClient; readonly ssm: SSMClient },
  stackName: string,
  construct?: string,
): Promise<FoundDeployment> {
  let outputs;
  try {
    const { Stacks } = await clients.cloudformation.send(new DescribeStacksCommand({ StackName: stackName }));
    outputs = Stacks?.[0]?.Outputs ?? [];
  } catch (e) {
    if ((e as Error).name === 'ValidationError') {
      throw new UsageError(`There is no stack ${stackName} in this account and region: give --stack the name \`cdk deploy\` printed, and --region/--profile as for the AWS CLI.`);
    }
    throw e;
  }
  const found = outputs.filter((o) => o.OutputKey?.endsWith('Deployment') && (construct === undefined || o.OutputKey === `${construct}Deployment`));
  if (found.length === 0) {
    throw new UsageError(construct === undefined
      ? `Stack ${stackName} has no cdk-ephemeral-runners deployment (no output ending in Deployment): deploy this version of the construct to it.`
      : `Stack ${stackName} has no output ${construct}Deployment: give --construct the construct's id (letters and digits only).`);
  }
  if (found.length > 1) {
    throw new UsageError(`Stack ${stackName} holds ${found.length} deployments: name one with --construct (${found.map((o) => o.OutputKey!.replace(/Deployment$/, '')).join(', ')}).`);
  }
  const constructId = found[0].OutputKey!.replace(/Deployment$/, '');
  const parameterName = found[0].OutputValue!;
  const { Parameter } = await clients.ssm.send(new GetParameterCommand({ Name: parameterName }));
  const document = parseDeploymentDocument(Parameter?.Value ?? '');
  if (typeof document === 'string') throw new UsageError(`The parameter ${parameterName} is not a deployment document: ${document}.`);
  return { stackName, constructId, document };
}
