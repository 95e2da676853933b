// The lifecycle function's entry point with its production wiring: SDK clients built from the
// environment, DynamoDB on dynalite, EC2 on the EC2 simulator (whose events are the input), SQS on a
// JSON stub. No GitHub call is needed for these events, so none is configured to answer.
import { createHash } from 'node:crypto';
import { handler } from '../../../lambda/handlers/lifecycle';
import { DynamoRunnerStore } from '../../../lambda/state/dynamo-runner-store';
import { Ec2Harness, MANAGED_BY, PREFIX, runnerRecord, startEc2 } from '../reconciler/harness';
import { AwsJsonStub, startAwsJsonStub, StubReply, StubRequest } from '../support/aws-json-stub';
import { DynamoTestEngine, startDynalite } from '../support/dynalite';
import { capturePrinted } from '../support/in-memory-ports';

let engine: DynamoTestEngine;
let aws: AwsJsonStub;
let ec2: Ec2Harness;
let tableName: string;
const saved = { ...process.env };

function awsReply({ operation, body }: StubRequest): StubReply {
  if (operation === 'SendMessage') return { body: { MessageId: 'm-1', MD5OfMessageBody: createHash('md5').update(String(body.MessageBody)).digest('hex') } };
  return { status: 400, body: { __type: 'UnknownOperationException' } };
}

beforeAll(async () => {
  engine = await startDynalite();
  aws = await startAwsJsonStub(awsReply);
  ec2 = await startEc2(0.01);
  tableName = await engine.createStateTable();
  Object.assign(process.env, {
    TABLE_NAME: tableName,
    QUEUE_URL: `${aws.endpoint}/123456789012/pools.fifo`,
    RUNNER_CONFIG_PATH: '/runners/configs',
    GITHUB_API_URL: 'http://127.0.0.1:9/api/v3',
    GITHUB_APP_ID: '1',
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
  await aws.stop();
  await engine.stop();
});

test('a booting runner\'s instance shutting down closes the runner and sends its pool to SQS', async () => {
  // Arrange
  const instanceId = await ec2.launch('on-demand');
  await new DynamoRunnerStore(engine.client, tableName).putRunner(runnerRecord(instanceId, 'booting', Date.now(), { market: 'on-demand' }));
  ec2.sim.poweroff(instanceId);
  const event = await ec2.nextEvent(instanceId, (e) => (e.detail as { state?: string }).state === 'shutting-down');

  // Act
  let outcome;
  const printed = await capturePrinted(async () => {
    outcome = await handler(event as never);
  });

  // Assert
  expect(outcome).toBe('closed');
  expect(await new DynamoRunnerStore(engine.client, tableName).getRunner(instanceId)).toMatchObject({ state: 'gone' });
  expect(aws.requests.map((r) => r.operation)).toEqual(['SendMessage']);
  expect(JSON.parse(String(aws.requests[0].body.MessageBody))).toMatchObject({ reason: 'instance-state', deliveryId: event.id });
  const lines = printed.join('').split('\n').filter((l) => l.includes('instance event handled'));
  expect(JSON.parse(lines[0])).toMatchObject({ instanceId, poolId: 'octo-org#linux-x64', outcome: 'closed', eventId: event.id });
});
