// Entry point of the provisioner: builds the control plane's adapters once per container and
// reconciles the pools named by the queue's messages (lambda/provisioner/).
import { Metrics } from '@aws-lambda-powertools/metrics';
import { ChangeMessageVisibilityCommand, SQSClient } from '@aws-sdk/client-sqs';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { CONTROL_PLANE_ENVIRONMENT, controlPlaneFromEnvironment, LAUNCH_ENVIRONMENT } from './wiring/control-plane';
import { readEnvironment } from '../common/env';
import { createLogger } from '../common/logger';
import { SsmImageSource } from '../config/ssm-image-source';
import { ProvisionerDeps } from '../provisioner/deps';
import { PowertoolsProvisionerMetrics } from '../provisioner/provisioner-metrics';
import { createProvisionerHandler } from '../provisioner/sqs-handler';

const logger = createLogger();
const metrics = new Metrics();
let deps: ProvisionerDeps | undefined;
const sqs = new SQSClient({});

const provision = createProvisionerHandler(
  () => {
    if (!deps) {
      readEnvironment([...CONTROL_PLANE_ENVIRONMENT, ...LAUNCH_ENVIRONMENT]);
      deps = {
        ...controlPlaneFromEnvironment(),
        logger,
        metrics: new PowertoolsProvisionerMetrics(metrics),
        images: new SsmImageSource(new SSMClient({})),
      };
    }
    return deps;
  },
  async (record, delaySeconds) => {
    const { QUEUE_URL } = readEnvironment(['QUEUE_URL']);
    await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: QUEUE_URL, ReceiptHandle: record.receiptHandle, VisibilityTimeout: delaySeconds }));
  },
);

export async function handler(event: SQSEvent, context?: Context): Promise<SQSBatchResponse> {
  return provision(event, context);
}
