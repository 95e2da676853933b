// The entry point with its production wiring: real SDK clients built from the environment,
// DynamoDB on dynalite, SSM and SQS on their simulators, reached through the SDK's service-specific
// endpoint variables; every call signed as the webhook's role and decided by IAM against what the
// construct grants it.

import { handler } from '../../../lambda/handlers/webhook';
import { SqsSimulator } from '../../../sandbox/aws/sqs';
import { SsmSimulator } from '../../../sandbox/ssm';
import { configDocument } from '../support/configs';
import { grantedRole } from '../support/construct-grants';
import { deliveryEvent, restApiDeliveryEvent } from '../support/deliveries';
import { DynamoTestEngine } from '../support/dynalite';
import { webhookEnvironment } from '../support/function-environment';
import { capturePrinted } from '../support/in-memory-ports';
import { workflowJobPayload } from '../support/payloads';
import { RoleServices, startRoleServices } from '../support/role-services';

const SECRET = 'wiring secret';

const role = grantedRole('webhook');
let services: RoleServices;
let engine: DynamoTestEngine;
let ssm: SsmSimulator;
let sqs: SqsSimulator;
let tableName: string;
const saved = { ...process.env };

beforeAll(async () => {
  services = await startRoleServices(role);
  ({ engine, ssm, sqs } = services);
  ssm.seedParameter({ name: '/runners/webhook-secret', type: 'SecureString', value: SECRET });
  ssm.seedParameter({ name: '/runners/configs/linux-x64', type: 'String', value: JSON.stringify(configDocument('linux-x64', ['linux', 'x64'])) });
  tableName = await engine.createStateTable();
  Object.assign(process.env, webhookEnvironment({
    tableName, queueUrl: sqs.queueUrl('pools.fifo'), githubHost: 'GHES.example.com', dynamodb: engine.endpoint, ssm: ssm.url, sqs: sqs.url,
  }), role.environment());
});
afterAll(async () => {
  process.env = saved;
  await services.stop();
});

let counted: Record<string, number> = {};
/** The calls made to SSM and SQS since the last look, by action. */
function newAwsCalls(): Record<string, number> {
  const now = { ...ssm.apiCalls().byAction, ...sqs.apiCalls().byAction };
  const fresh = Object.entries(now).map(([action, n]) => [action, n - (counted[action] ?? 0)] as const).filter(([, n]) => n > 0);
  counted = now;
  return Object.fromEntries(fresh);
}

test('a signed queued delivery goes through the production wiring: job and delivery in DynamoDB, one SQS message', async () => {
  const event = deliveryEvent(JSON.stringify(workflowJobPayload({ jobId: 4242 })), { secret: SECRET });

  let status: number | undefined;
  await capturePrinted(async () => {
    status = (await handler(event)).statusCode;
  });

  expect(status).toBe(202);
  const items = await engine.scan(tableName);
  expect(items.map((i) => i.pk).sort()).toEqual([`DELIVERY#${event.headers['x-github-delivery']}`, 'JOB#ghes.example.com#4242']);
  expect(newAwsCalls()).toEqual({ GetParameter: 1, GetParametersByPath: 1, SendMessage: 1 });
  expect(sqs.queue('pools.fifo').peek().map((m) => JSON.parse(m.body) as Record<string, unknown>)).toEqual([
    expect.objectContaining({ poolId: 'octo-org#linux-x64', reason: 'workflow_job.queued' }),
  ]);
});

test('a delivery through the private REST API (v1 event, headers as GitHub spells them) is recorded the same way', async () => {
  newAwsCalls();
  const event = restApiDeliveryEvent(JSON.stringify(workflowJobPayload({ jobId: 4343 })), { secret: SECRET });

  let status: number | undefined;
  await capturePrinted(async () => {
    status = (await handler(event)).statusCode;
  });

  expect(status).toBe(202);
  const keys = (await engine.scan(tableName)).map((i) => i.pk);
  expect(keys).toEqual(expect.arrayContaining([`DELIVERY#${event.headers['X-GitHub-Delivery']}`, 'JOB#ghes.example.com#4343']));
  expect(newAwsCalls()).toEqual({ SendMessage: 1 });
});

test('through the private REST API too, a delivery signed with another secret is refused and changes nothing', async () => {
  newAwsCalls();
  const before = (await engine.scan(tableName)).length;
  const event = restApiDeliveryEvent(JSON.stringify(workflowJobPayload({ jobId: 4444 })), { secret: 'not the secret' });

  let status: number | undefined;
  await capturePrinted(async () => {
    status = (await handler(event)).statusCode;
  });

  expect(status).toBe(401);
  expect(await engine.scan(tableName)).toHaveLength(before);
  expect(newAwsCalls()).toEqual({});
});

test('through the private REST API, a GET is refused with 405: the method is read from the v1 event', async () => {
  newAwsCalls();
  const event = restApiDeliveryEvent(JSON.stringify(workflowJobPayload({ jobId: 4545 })), { secret: SECRET, method: 'GET' });

  let result: Awaited<ReturnType<typeof handler>> | undefined;
  await capturePrinted(async () => {
    result = await handler(event);
  });

  expect(result?.statusCode).toBe(405);
  expect(JSON.parse(result!.body).message).toContain('GitHub delivers webhooks with POST');
  expect(newAwsCalls()).toEqual({});
});

test('without sqs:SendMessage, which the construct grants, a queued delivery fails with SQS\'s AccessDenied and is not recorded', async () => {
  newAwsCalls();
  const event = deliveryEvent(JSON.stringify(workflowJobPayload({ jobId: 4646 })), { secret: SECRET });

  let status: number | undefined;
  const printed = await capturePrinted(async () => {
    status = (await role.without(['sqs:SendMessage'], () => handler(event))).statusCode;
  });

  expect(status).toBe(500);
  expect(printed.join('')).toContain('is not authorized to perform: sqs:SendMessage');
  expect(sqs.apiCalls().errorsByCode).toMatchObject({ AccessDenied: 1 });
  expect((await engine.scan(tableName)).map((i) => i.pk)).not.toContain(`DELIVERY#${event.headers['x-github-delivery']}`);
});
