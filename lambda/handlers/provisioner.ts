// Entry point of the provisioner: builds the control plane's adapters once per container and
// reconciles the pools named by the queue's messages (lambda/provisioner/).
import { Metrics } from '@aws-lambda-powertools/metrics';
import { ChangeMessageVisibilityCommand, SQSClient } from '@aws-sdk/client-sqs';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { CONTROL_PLANE_AND_PACING, controlPlaneFrom } from './wiring/control-plane';
import { decodeEnvironment, LAUNCH_ENVIRONMENT } from '../../src/contracts/environment';
import { createLogger } from '../common/logger';
import { SsmImageSource } from '../config/ssm-image-source';
import { ProvisionerDeps } from '../provisioner/deps';
import { PowertoolsProvisionerMetrics } from '../provisioner/provisioner-metrics';
import { createProvisionerHandler } from '../provisioner/sqs-handler';

const logger = createLogger();
const metrics = new Metrics();
let deps: ProvisionerDeps | undefined;
const sqs = new SQSClient({});
let queueUrl: string | undefined;

const provision = createProvisionerHandler(
  () => {
    if (!deps) {
      const env = decodeEnvironment({ ...CONTROL_PLANE_AND_PACING, ...LAUNCH_ENVIRONMENT }, process.env);
      queueUrl = env.queueUrl;
      deps = {
        ...controlPlaneFrom(env, env),
        logger,
        metrics: new PowertoolsProvisionerMetrics(metrics),
        images: new SsmImageSource(new SSMClient({})),
      };
    }
    return deps;
  },
  async (record, delaySeconds) => {
    await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: record.receiptHandle, VisibilityTimeout: delaySeconds }));
  },
);

export async function handler(event: SQSEvent, context?: Context): Promise<SQSBatchResponse> {
  return provision(event, context);
}
