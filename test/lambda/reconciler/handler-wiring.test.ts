// The reconciler's entry point with its production wiring: SDK clients built from the environment,
// DynamoDB on dynalite, EC2 on the EC2 simulator, SSM (the App's private key) and SQS on a JSON
// stub, GitHub on the GHES simulator.
import { createHash } from 'node:crypto';
import { GhesHarness, MANAGED_BY, runnerRecord, startGhes, Ec2Harness, startEc2, PREFIX } from './harness';
import { handler } from '../../../lambda/handlers/reconciler';
import { DynamoRunnerStore } from '../../../lambda/state/dynamo-runner-store';
import { AwsJsonStub, startAwsJsonStub, StubReply, StubRequest } from '../support/aws-json-stub';
import { DynamoTestEngine, startDynalite } from '../support/dynalite';
import { capturePrinted } from '../support/in-memory-ports';

let engine: DynamoTestEngine;
let aws: AwsJsonStub;
let ghes: GhesHarness;
let ec2: Ec2Harness;
let tableName: string;
const saved = { ...process.env };

function awsReply({ operation, body }: StubRequest): StubReply {
  switch (operation) {
    case 'GetParameter':
      return { body: { Parameter: { Name: body.Name, Type: 'SecureString', Value: ghes.sim.privateKey, Version: 1 } } };
    case 'SendMessage':
      return { body: { MessageId: 'm-1', MD5OfMessageBody: createHash('md5').update(String(body.MessageBody)).digest('hex') } };
    default:
      return { status: 400, body: { __type: 'UnknownOperationException' } };
  }
}

beforeAll(async () => {
  engine = await startDynalite();
  aws = await startAwsJsonStub(awsReply);
  ghes = await startGhes();
  ec2 = await startEc2(0.001);
  tableName = await engine.createStateTable();
  Object.assign(process.env, {
    TABLE_NAME: tableName,
    QUEUE_URL: `${aws.endpoint}/123456789012/pools.fifo`,
    RUNNER_CONFIG_PATH: '/runners/configs',
    GITHUB_API_URL: ghes.sim.apiUrl,
    GITHUB_APP_ID: String(ghes.sim.appId),
    PRIVATE_KEY_PARAMETER_NAME: '/runners/github-app-key',
    RUNNER_NAME_PREFIX: PREFIX,
    MANAGED_BY,
    BOOT_TIMEOUT_SECONDS: '600',
    MAX_LIFETIME_SECONDS: '3600',
    POWERTOOLS_METRICS_NAMESPACE: 'EphemeralRunnersTest',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_ENDPOINT_URL_DYNAMODB: engine.endpoint,
    AWS_ENDPOINT_URL_EC2: ec2.sim.url,
    AWS_ENDPOINT_URL_SSM: aws.endpoint,
    AWS_ENDPOINT_URL_SQS: aws.endpoint,
  });
});
afterAll(async () => {
  process.env = saved;
  await ec2.stop();
  await ghes.stop();
  await aws.stop();
  await engine.stop();
});

test('an idle run reads no private key and calls neither GitHub nor SQS', async () => {
  // Act
  let summary;
  const printed = await capturePrinted(async () => {
    summary = await handler({ id: 'schedule-1' });
  });

  // Assert
  expect(summary).toMatchObject({ idle: true, failedSteps: [] });
  expect(aws.requests).toEqual([]);
  expect(ghes.sim.apiCalls().total).toBe(0);
  expect(printed.join('')).toContain('reconciler run finished');
});

test('with a live runner, the pool goes to SQS and GitHub is swept with the key from SSM', async () => {
  // Arrange
  await new DynamoRunnerStore(engine.client, tableName).putRunner(runnerRecord('i-0000000000000000a', 'registered', Date.now()));

  // Act
  let summary;
  const printed = await capturePrinted(async () => {
    summary = await handler({ id: 'schedule-2' });
  });

  // Assert
  expect(summary).toMatchObject({ idle: false, poolsMessaged: 1, failedSteps: [] });
  expect(aws.requests.map((r) => r.operation).sort()).toEqual(['GetParameter', 'SendMessage']);
  expect(JSON.parse(String(aws.requests.find((r) => r.operation === 'SendMessage')!.body.MessageBody))).toMatchObject({
    poolId: 'octo-org#linux-x64', reason: 'reconciler', deliveryId: 'reconciler-schedule-2',
  });
  expect(ghes.sim.apiCalls().byRoute).toMatchObject({ 'GET /app/hook/deliveries': 1, 'GET /orgs/{org}/actions/runners': 1 });
  // EMF metrics on stdout.
  expect(printed.join('')).toContain('"PoolsReconciled"');
});
