// Entry point of the setup token function: a CloudFormation custom resource (lambda/setup/token-resource.ts).
// It runs outside any VPC, so that its answer reaches CloudFormation's presigned S3 URL wherever the
// other functions run.
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { SSMClient } from '@aws-sdk/client-ssm';
import { decodeEnvironment, SETUP_TOKEN_ENVIRONMENT } from '../../src/contracts/environment';
import { answerAfterFailure, CustomResourceEvent, respondToCloudFormation, stackBeingDeleted } from '../common/custom-resource';
import { createLogger } from '../common/logger';
import { SsmAppCredentials } from '../config/ssm-app-credentials';
import { handleTokenEvent, SETUP_TOKEN_RESOURCE_ID } from '../setup/token-resource';

const logger = createLogger();

export async function handler(event: CustomResourceEvent): Promise<void> {
  try {
    const env = decodeEnvironment(SETUP_TOKEN_ENVIRONMENT, process.env);
    await handleTokenEvent(event, {
      store: new SsmAppCredentials(new SSMClient({}), env),
      respond: (response) => respondToCloudFormation(event.ResponseURL, response),
      stackBeingDeleted: stackBeingDeleted(new CloudFormationClient({})),
      logger,
    });
  } catch (e) {
    await answerAfterFailure(event, SETUP_TOKEN_RESOURCE_ID, e, logger);
  }
}
