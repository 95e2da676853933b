// The webhook's time budget on github.com (GitHub waits 10 s for the answer), through the production
// entry point and its real SDK clients: SSM on the SSM simulator behind a forwarder that can hold
// requests (an SSM answering slowly), DynamoDB on dynalite, SQS on the SQS simulator; every call
// signed as the webhook's role and decided by IAM against what the construct grants it. The deadline
// comes from Lambda's context.getRemainingTimeInMillis(), as in production; the tests assert what
// the handler decided given it, never how fast the machine ran.
import type { Context } from 'aws-lambda';
import { SqsSimulator } from '../../../sandbox/aws/sqs';
import { ScaledClock } from '../../../sandbox/common/time';
import { SsmSimulator } from '../../../sandbox/ssm';
import { WEBHOOK_TIME_BUDGETS } from '../../../src/webhook-time-budget';
import { configDocument } from '../support/configs';
import { grantedRole } from '../support/construct-grants';
import { deliveryEvent } from '../support/deliveries';
import { DynamoTestEngine, startDynalite } from '../support/dynalite';
import { webhookEnvironment } from '../support/function-environment';
import { HoldingProxy, startHoldingProxy } from '../support/holding-proxy';
import { capturePrinted } from '../support/in-memory-ports';
import { workflowJobPayload } from '../support/payloads';

const SECRET = 'budget secret';
const BUDGET = WEBHOOK_TIME_BUDGETS['github.com'];

const role = grantedRole('webhook');
let engine: DynamoTestEngine;
let ssm: SsmSimulator;
let sqs: SqsSimulator;
let proxy: HoldingProxy;
let tableName: string;
const saved = { ...process.env };

beforeAll(async () => {
  engine = await startDynalite({ asRole: role });
  tableName = await engine.createStateTable();
  ssm = new SsmSimulator({ clock: new ScaledClock(0.001), authorize: role.serviceAuthorizer('ssm') });
  await ssm.start();
  ssm.seedParameter({ name: '/runners/webhook-secret', value: SECRET, type: 'SecureString' });
  ssm.seedParameter({ name: '/runners/configs/linux-x64', value: JSON.stringify(configDocument('linux-x64', ['linux', 'x64'])), type: 'String' });
  proxy = await startHoldingProxy(ssm.url);
  sqs = new SqsSimulator({ clock: new ScaledClock(0.001), authorize: role.serviceAuthorizer('sqs') });
  await sqs.start();
  sqs.createQueue('pools.fifo', { visibilityTimeoutSeconds: 600 });
  Object.assign(process.env, webhookEnvironment({
    tableName, queueUrl: sqs.queueUrl('pools.fifo'), githubHost: 'github.com', dynamodb: engine.endpoint, ssm: proxy.url, sqs: sqs.url,
  }), role.environment());
});
afterAll(async () => {
  process.env = saved;
  await proxy.stop();
  await ssm.stop();
  await sqs.stop();
  await engine.stop();
});

/** Lambda's context, with the invocation ending `remainingMs` from now (wall time). */
function invocation(remainingMs: number): Context {
  const deadline = Date.now() + remainingMs;
  return {
    functionName: 'webhook',
    awsRequestId: 'req-1',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:webhook',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  } as unknown as Context;
}

type Handler = typeof import('../../../lambda/handlers/webhook').handler;

/** The entry point as a new container loads it: nothing cached yet (a cold start). */
function coldContainer(): Handler {
  let handler: Handler | undefined;
  jest.isolateModules(() => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    handler = (require('../../../lambda/handlers/webhook') as { handler: Handler }).handler;
  });
  return handler!;
}

async function deliver(handler: Handler, event: ReturnType<typeof deliveryEvent>, context: Context): Promise<{ status: number; message: string }> {
  let result: { statusCode: number; body: string } | undefined;
  await capturePrinted(async () => { result = await handler(event, context); });
  return { status: result!.statusCode, message: (JSON.parse(result!.body) as { message: string }).message };
}

async function eventually<T>(probe: () => Promise<T | undefined>): Promise<T> {
  for (;;) {
    const found = await probe();
    if (found !== undefined) return found;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test('with less time left than the answer needs, the delivery is answered 503 at once and nothing is called', async () => {
  const event = deliveryEvent(JSON.stringify(workflowJobPayload({ jobId: 5001 })), { secret: SECRET });

  const answer = await deliver(coldContainer(), event, invocation(BUDGET.answerMarginMs - 1));

  expect(answer.status).toBe(503);
  expect(answer.message).toMatch(/time GitHub waits/);
  expect(proxy.received).toBe(0);
  expect(await engine.scan(tableName)).toEqual([]);
});

test('SSM answering slowly: the handler answers 503 before its deadline instead of timing out, and the redelivery is accepted', async () => {
  const event = deliveryEvent(JSON.stringify(workflowJobPayload({ jobId: 5002 })), { secret: SECRET });
  const container = coldContainer();
  proxy.hold();

  // 400 ms of the invocation left beyond the answer margin; SSM does not answer in that time.
  const answer = await deliver(container, event, invocation(BUDGET.answerMarginMs + 400));
  const heldWhenAnswered = proxy.held;
  proxy.release(); // SSM recovers; the abandoned work may finish (idempotent) or not
  // GitHub records the 503 as a failed delivery; the reconciler redelivers it with the same GUID.
  const redelivered = await deliver(container, event, invocation(BUDGET.functionTimeoutSeconds * 1000));

  expect(answer.status).toBe(503);
  expect(heldWhenAnswered).toBe(1); // it was waiting for SSM (the webhook secret) when it answered
  expect(redelivered.status).toBe(202);
  const items = await eventually(async () => {
    const all = await engine.scan(tableName);
    return all.some((i) => i.pk === `DELIVERY#${event.headers['x-github-delivery']}`) ? all : undefined;
  });
  expect(items.map((i) => i.pk)).toContain('JOB#github.com#5002');
});

test('a stalled SSM call is abandoned after the budget\'s request timeout and retried, and the delivery is accepted in time', async () => {
  const event = deliveryEvent(JSON.stringify(workflowJobPayload({ jobId: 5003 })), { secret: SECRET });
  const container = coldContainer();
  const before = proxy.received;
  proxy.holdNext(1); // the first GetParameter never gets an answer

  const answer = await deliver(container, event, invocation(BUDGET.functionTimeoutSeconds * 1000));
  proxy.release();

  expect(answer.status).toBe(202);
  // The stalled GetParameter, its retry, then GetParametersByPath.
  expect(proxy.received - before).toBe(3);
  expect(BUDGET.awsRequestTimeoutMs * BUDGET.awsMaxAttempts).toBeLessThan(BUDGET.functionTimeoutSeconds * 1000);
});
