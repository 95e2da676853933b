// The entry point with its production wiring: real SDK clients built from the environment,
// DynamoDB on dynalite, SSM and SQS on a minimal JSON-protocol endpoint (until the shared
// simulators exist), reached through the SDK's service-specific endpoint variables.

import { createHash } from 'node:crypto';
import { handler } from '../../../lambda/handlers/webhook';
import { AwsJsonStub, startAwsJsonStub, StubReply, StubRequest } from '../support/aws-json-stub';
import { configDocument } from '../support/configs';
import { deliveryEvent, restApiDeliveryEvent } from '../support/deliveries';
import { DynamoTestEngine, startDynalite } from '../support/dynalite';
import { capturePrinted } from '../support/in-memory-ports';
import { workflowJobPayload } from '../support/payloads';
import { webhookEnvironment } from '../support/webhook-environment';

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
  Object.assign(process.env, webhookEnvironment({
    tableName, queueUrl: `${aws.endpoint}/123456789012/pools`, githubHost: 'GHES.example.com', dynamodb: engine.endpoint, ssm: aws.endpoint, sqs: aws.endpoint,
  }));
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

test('a delivery through the private REST API (v1 event, headers as GitHub spells them) is recorded the same way', async () => {
  aws.requests.length = 0;
  const event = restApiDeliveryEvent(JSON.stringify(workflowJobPayload({ jobId: 4343 })), { secret: SECRET });

  let status: number | undefined;
  await capturePrinted(async () => {
    status = (await handler(event)).statusCode;
  });

  expect(status).toBe(202);
  const keys = (await engine.scan(tableName)).map((i) => i.pk);
  expect(keys).toEqual(expect.arrayContaining([`DELIVERY#${event.headers['X-GitHub-Delivery']}`, 'JOB#ghes.example.com#4343']));
  expect(aws.requests.map((r) => r.operation)).toEqual(['SendMessage']);
});

test('through the private REST API too, a delivery signed with another secret is refused and changes nothing', async () => {
  aws.requests.length = 0;
  const before = (await engine.scan(tableName)).length;
  const event = restApiDeliveryEvent(JSON.stringify(workflowJobPayload({ jobId: 4444 })), { secret: 'not the secret' });

  let status: number | undefined;
  await capturePrinted(async () => {
    status = (await handler(event)).statusCode;
  });

  expect(status).toBe(401);
  expect(await engine.scan(tableName)).toHaveLength(before);
  expect(aws.requests).toEqual([]);
});

test('through the private REST API, a GET is refused with 405: the method is read from the v1 event', async () => {
  aws.requests.length = 0;
  const event = restApiDeliveryEvent(JSON.stringify(workflowJobPayload({ jobId: 4545 })), { secret: SECRET, method: 'GET' });

  let result: Awaited<ReturnType<typeof handler>> | undefined;
  await capturePrinted(async () => {
    result = await handler(event);
  });

  expect(result?.statusCode).toBe(405);
  expect(JSON.parse(result!.body).message).toContain('GitHub delivers webhooks with POST');
  expect(aws.requests).toEqual([]);
});
