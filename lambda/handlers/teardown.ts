// Entry point of the teardown function: a CloudFormation custom resource (lambda/teardown/teardown-resource.ts).
// It runs outside any VPC, as the setup token function does: its answer goes to CloudFormation's
// presigned S3 URL, and it calls EC2 and CloudFormation, none of which subnets without a NAT or
// endpoints reach.
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { EC2Client } from '@aws-sdk/client-ec2';
import type { Context } from 'aws-lambda';
import { decodeEnvironment, TEARDOWN_ENVIRONMENT } from '../../src/contracts/environment';
import { systemClock } from '../common/clock';
import { answerAfterFailure, CustomResourceEvent, respondToCloudFormation, stackBeingDeleted } from '../common/custom-resource';
import { createLogger } from '../common/logger';
import { Ec2Fleet } from '../compute/ec2-fleet';
import { handleTeardownEvent, TEARDOWN_RESOURCE_ID } from '../teardown/teardown-resource';

const logger = createLogger();

/** Time kept back from the function's timeout for the answer (its PUT retries for up to 10 s). */
const ANSWER_MARGIN_MS = 20_000;

export async function handler(event: CustomResourceEvent, context?: Context): Promise<void> {
  try {
    const env = decodeEnvironment(TEARDOWN_ENVIRONMENT, process.env);
    // Lists and terminates only: it launches nothing, so it needs no subnet or launch template.
    const compute = new Ec2Fleet({
      client: new EC2Client({}),
      managedBy: env.managedBy,
      subnetIds: [],
      launchTemplateFor: (configName) => {
        throw new Error(`the teardown function launches nothing (asked for runner config '${configName}')`);
      },
    });
    const maxWaitMs = env.teardownMaxWaitMs ?? 180_000;
    await handleTeardownEvent(event, {
      sweep: {
        compute,
        clock: systemClock,
        sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
        quietMs: env.teardownQuietMs ?? 60_000,
        pollMs: env.teardownPollMs ?? 5_000,
      },
      deadline: () => systemClock.now() + Math.min(maxWaitMs, context ? context.getRemainingTimeInMillis() - ANSWER_MARGIN_MS : maxWaitMs),
      managedBy: env.managedBy,
      respond: (response) => respondToCloudFormation(event.ResponseURL, response),
      stackBeingDeleted: stackBeingDeleted(new CloudFormationClient({})),
      logger,
    });
  } catch (e) {
    await answerAfterFailure(event, TEARDOWN_RESOURCE_ID, e, logger);
  }
}
