// Entry point of the setup token function: a CloudFormation custom resource (lambda/setup/token-resource.ts).
// It runs outside any VPC, so that its answer reaches CloudFormation's presigned S3 URL wherever the
// other functions run.
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { SSMClient } from '@aws-sdk/client-ssm';
import { decodeEnvironment, SETUP_TOKEN_ENVIRONMENT } from '../../src/contracts/environment';
import { createLogger } from '../common/logger';
import { SsmAppCredentials } from '../config/ssm-app-credentials';
import { CustomResourceEvent, CustomResourceResponse, handleTokenEvent } from '../setup/token-resource';

const logger = createLogger();

export async function handler(event: CustomResourceEvent): Promise<void> {
  try {
    const env = decodeEnvironment(SETUP_TOKEN_ENVIRONMENT, process.env);
    const cloudformation = new CloudFormationClient({});
    await handleTokenEvent(event, {
      store: new SsmAppCredentials(new SSMClient({}), env),
      respond: (response) => respond(event.ResponseURL, response),
      stackBeingDeleted: async (stackId) =>
        (await cloudformation.send(new DescribeStacksCommand({ StackName: stackId }))).Stacks?.[0]?.StackStatus === 'DELETE_IN_PROGRESS',
      logger,
    });
  } catch (e) {
    // Whatever failed before an answer (the environment, the answer itself): CloudFormation must not wait for one.
    logger.error('setup token request failed', { error: String(e) });
    const { StackId, RequestId, LogicalResourceId, PhysicalResourceId } = event;
    await respond(event.ResponseURL, {
      Status: event.RequestType === 'Delete' ? 'SUCCESS' : 'FAILED',
      Reason: String(e).slice(0, 500),
      PhysicalResourceId: PhysicalResourceId ?? 'setup-token',
      StackId,
      RequestId,
      LogicalResourceId,
    }).catch(() => undefined);
  }
}

/** CloudFormation reads the answer from a presigned S3 URL: a PUT with an empty content type. */
async function respond(url: string, response: CustomResourceResponse): Promise<void> {
  const body = JSON.stringify(response);
  for (let attempt = 1; ; attempt++) {
    const answer = await fetch(url, { method: 'PUT', headers: { 'content-type': '' }, body }).catch((e: Error) => e);
    if (!(answer instanceof Error) && answer.ok) return;
    if (attempt === 5) throw new Error(`CloudFormation's response URL refused the answer: ${answer instanceof Error ? answer.message : answer.status}`);
    await new Promise((resolve) => setTimeout(resolve, attempt * 1000));
  }
}
