// The entry point with its production wiring: real SDK clients built from the environment,
// DynamoDB on dynalite, SSM and SQS on a minimal JSON-protocol endpoint (until the shared
// simulators exist), reached through the SDK's service-specific endpoint variables.

import { createHash } from 'node:crypto';
import { handler } from '../../../lambda/handlers/webhook';
import { AwsJsonStub, startAwsJsonStub, StubReply, StubRequest } from '../support/aws-json-stub';
import { configDocument } from '../support/configs';
import { deliveryEvent } from '../support/deliveries';
import { DynamoTestEngine, startDynalite } from '../support/dynalite';
import { capturePrinted } from '../support/in-memory-ports';
import { workflowJobPayload } from '../support/payloads';

const SECRET = 'wiring secret';

function awsReply({ operation, body }: StubRequest): StubReply {
  switch (operation) {
    case 'GetParameter':
      return { body: { Parameter: { Name: body.Name, Type: 'SecureString', Value: SECRET, Version: 1 } } };
    case 'GetParametersByPath':
      return { body: { Parameters: [{ Name: '/runners/configs/linux-x64', Type: 'String', Value: JSON.stringify(configDocument('linux-x64', ['linux', 'x64'])) }] } };
    case 'SendMessage':
      return { body: { MessageId: 'm-1', MD5OfMessageBody: createHash('md5').update(String(body.MessageBody)).digest('hex') } };
    default:
      return { status: 400, body: { __type: 'UnknownOperationException' } };
  }
}

let engine: DynamoTestEngine;
let aws: AwsJsonStub;
let tableName: string;
const saved = { ...process.env };

beforeAll(async () => {
  engine = await startDynalite();
  aws = await startAwsJsonStub(awsReply);
  tableName = await engine.createStateTable();
  Object.assign(process.env, {
    TABLE_NAME: tableName,
    QUEUE_URL: `${aws.endpoint}/123456789012/pools`,
    WEBHOOK_SECRET_PARAMETER_NAME: '/runners/webhook-secret',
    RUNNER_CONFIG_PATH: '/runners/configs',
    GITHUB_HOST: 'GHES.example.com',
    RUNNER_NAME_PREFIX: 'er-0123456789-',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_ENDPOINT_URL_DYNAMODB: engine.endpoint,
    AWS_ENDPOINT_URL_SSM: aws.endpoint,
    AWS_ENDPOINT_URL_SQS: aws.endpoint,
  });
});
afterAll(async () => {
  process.env = saved;
  await aws.stop();
  await engine.stop();
});

test('a signed queued delivery goes through the production wiring: job and delivery in DynamoDB, one SQS message', async () => {
  const event = deliveryEvent(JSON.stringify(workflowJobPayload({ jobId: 4242 })), { secret: SECRET });

  let status: number | undefined;
  await capturePrinted(async () => {
    status = (await handler(event)).statusCode;
  });

  expect(status).toBe(202);
  const items = await engine.scan(tableName);
  expect(items.map((i) => i.pk).sort()).toEqual([`DELIVERY#${event.headers['x-github-delivery']}`, 'JOB#ghes.example.com#4242']);
  expect(aws.requests.map((r) => r.operation)).toEqual(['GetParameter', 'GetParametersByPath', 'SendMessage']);
});
