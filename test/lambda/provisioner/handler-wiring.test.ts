// The provisioner's entry point with its production wiring: SDK clients built from the environment,
// DynamoDB on dynalite, EC2 on the EC2 simulator, the runner configs in the SSM simulator, the pool
// queue on the SQS simulator; every AWS call signed as the provisioner's role and decided by IAM
// against what the construct grants it. No GitHub is needed to launch: getting the runners' token
// ahead is best effort, and here the App's key parameter was never written.
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { Harness, POOL, provisionerRole, startHarness } from './harness';
import { buildPoolMessageFor } from '../../../lambda/core/pool-message';
import type { handler as provisionerHandler } from '../../../lambda/handlers/provisioner';
import { SqsSimulator } from '../../../sandbox/aws/sqs';
import { SsmSimulator } from '../../../sandbox/ssm';
import { configDocument } from '../support/configs';
import { DynamoTestEngine } from '../support/dynalite';
import { controlPlaneEnvironment, sdkEnvironment } from '../support/function-environment';
import { capturePrinted } from '../support/in-memory-ports';
import { RoleServices, startRoleServices } from '../support/role-services';

const role = provisionerRole({ privateKeyParameterName: '/runners/github-app-key' });
let services: RoleServices;
let engine: DynamoTestEngine;
let ssm: SsmSimulator;
let sqs: SqsSimulator;
let h: Harness;
let handler: typeof provisionerHandler;
let messages = 0;
const saved = { ...process.env };

beforeAll(async () => {
  services = await startRoleServices(role);
  ({ engine, ssm, sqs } = services);
  ssm.seedParameter({ name: '/runners/configs/linux-x64', type: 'String', value: JSON.stringify(configDocument('linux-x64', ['linux', 'x64'])) });
  h = await startHarness(engine);
  Object.assign(process.env, controlPlaneEnvironment({
    tableName: h.tableName,
    queueUrl: sqs.queueUrl('pools.fifo'),
    runnerNamePrefix: 'er-test-',
    managedBy: 'test',
    subnetIds: h.sim.subnets.map((s) => s.subnetId),
    launchTemplates: { 'linux-x64': h.launchTemplateId },
  }), sdkEnvironment({ dynamodb: engine.endpoint, ec2: h.sim.url, ssm: ssm.url, sqs: sqs.url }), role.environment());
  // The handler builds its clients when its module loads: after the environment is in place.
  ({ handler } = await import('../../../lambda/handlers/provisioner'));
});
afterAll(async () => {
  process.env = saved;
  await h.stop();
  await services.stop();
});

/** The pool's message as Lambda's event source hands it over: received from the queue, with its receipt handle. */
function deliveredPoolMessage(): SQSEvent {
  const id = `delivery-${++messages}`;
  const body = JSON.stringify(buildPoolMessageFor(POOL, 'workflow_job.queued', id));
  const queue = sqs.queue('pools.fifo');
  queue.send({ body, messageGroupId: POOL.poolId, messageDeduplicationId: id, senderId: 'AROAWEBHOOK:webhook' });
  const [received] = queue.receive({ maxMessages: 1 });
  const record = {
    messageId: received.message.messageId,
    receiptHandle: received.receiptHandle,
    body,
    attributes: { ApproximateReceiveCount: '1', MessageGroupId: POOL.poolId, MessageDeduplicationId: id },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:pools.fifo',
    awsRegion: 'us-east-1',
  } as unknown as SQSRecord;
  return { Records: [record] };
}

/** Runs the handler on `event` and, as the event source does, deletes the messages it did not report as failed. */
async function handle(event: SQSEvent): Promise<{ response: SQSBatchResponse; printed: string }> {
  let response: SQSBatchResponse | undefined;
  const printed = await capturePrinted(async () => {
    response = await handler(event);
  });
  const failed = new Set(response!.batchItemFailures.map((f) => f.itemIdentifier));
  for (const record of event.Records) if (!failed.has(record.messageId)) sqs.queue('pools.fifo').delete(record.receiptHandle);
  return { response: response!, printed: printed.join('') };
}

const liveInstances = () => h.sim.instances().filter((i) => i.state !== 'terminated' && i.state !== 'shutting-down');

test('a queued job launches its runner: the config from SSM, CreateFleet as the provisioner', async () => {
  // Arrange
  await h.queueJob(1);
  const event = deliveredPoolMessage();

  // Act
  const { response } = await handle(event);

  // Assert
  expect(response).toEqual({ batchItemFailures: [] });
  // The configs, and the App's key for the token the runner will register with (absent here: the launch stands).
  expect(ssm.apiCalls().byAction).toEqual({ GetParametersByPath: 1, GetParameter: 1 });
  expect(liveInstances()).toHaveLength(1);
  expect(await h.runners.listPoolRunners(POOL.poolId)).toEqual([expect.objectContaining({ state: 'booting' })]);
  expect(sqs.apiCalls().total).toBe(0);
});

test('without ec2:CreateFleet the launch fails with UnauthorizedOperation; the message is retried soon and the job stays queued until a launch succeeds', async () => {
  // Arrange
  const before = liveInstances().length;
  await h.queueJob(2);
  const event = deliveredPoolMessage();

  // Act
  const denied = await role.without(['ec2:CreateFleet'], () => handle(event));
  const whileDenied = { instances: liveInstances().length, job: await h.state.getJob({ githubHost: 'ghes.example.com', jobId: 2 }) };
  const retried = await handle(event);

  // Assert
  expect(denied.response).toEqual({ batchItemFailures: [{ itemIdentifier: event.Records[0].messageId }] });
  expect(denied.printed).toContain('UnauthorizedOperation');
  // The retry delay is the provisioner's (5 s), set on the message as the role.
  expect(sqs.apiCalls().byAction).toEqual({ ChangeMessageVisibility: 1 });
  expect(whileDenied).toEqual({ instances: before, job: expect.objectContaining({ state: 'queued' }) });
  expect(retried.response).toEqual({ batchItemFailures: [] });
  expect(liveInstances()).toHaveLength(before + 1);
});
