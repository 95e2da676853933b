// The reconciler's entry point with its production wiring: SDK clients built from the environment,
// DynamoDB on dynalite, EC2 on the EC2 simulator, SSM (the App's private key) and SQS on their
// simulators, GitHub on the GHES simulator; every AWS call signed as the reconciler's role and
// decided by IAM against what the construct grants it.
import { GhesHarness, MANAGED_BY, runnerRecord, startGhes, Ec2Harness, startEc2, PREFIX } from './harness';
import { handler } from '../../../lambda/handlers/reconciler';
import { DynamoRunnerStore } from '../../../lambda/state/dynamo-runner-store';
import { SqsSimulator } from '../../../sandbox/aws/sqs';
import { SsmSimulator } from '../../../sandbox/ssm';
import { grantedRole } from '../support/construct-grants';
import { DynamoTestEngine } from '../support/dynalite';
import { controlPlaneEnvironment, sdkEnvironment } from '../support/function-environment';
import { capturePrinted } from '../support/in-memory-ports';
import { RoleServices, startRoleServices } from '../support/role-services';

const role = grantedRole('reconciler', { managedBy: MANAGED_BY, privateKeyParameterName: '/runners/github-app-key' });
let services: RoleServices;
let engine: DynamoTestEngine;
let ssm: SsmSimulator;
let sqs: SqsSimulator;
let ghes: GhesHarness;
let ec2: Ec2Harness;
let tableName: string;
const saved = { ...process.env };

beforeAll(async () => {
  services = await startRoleServices(role);
  ({ engine, ssm, sqs } = services);
  ghes = await startGhes();
  ssm.seedParameter({ name: '/runners/github-app-key', type: 'SecureString', value: ghes.sim.privateKey });
  ec2 = await startEc2(0.001, {}, role);
  tableName = await engine.createStateTable();
  Object.assign(process.env, controlPlaneEnvironment({
    tableName,
    queueUrl: sqs.queueUrl('pools.fifo'),
    runnerNamePrefix: PREFIX,
    managedBy: MANAGED_BY,
    githubApiUrl: ghes.sim.apiUrl,
    githubAppId: String(ghes.sim.appId),
  }), sdkEnvironment({ dynamodb: engine.endpoint, ec2: ec2.sim.url, ssm: ssm.url, sqs: sqs.url }), role.environment());
});
afterAll(async () => {
  process.env = saved;
  await ec2.stop();
  await ghes.stop();
  await services.stop();
});

test('an idle run reads the App\'s delivery log with the key from SSM, and sends nothing to SQS', async () => {
  // Act
  let summary;
  const printed = await capturePrinted(async () => {
    summary = await handler({ id: 'schedule-1' });
  });

  // Assert
  expect(summary).toMatchObject({ idle: true, failedSteps: [] });
  expect(ssm.apiCalls().byAction).toEqual({ GetParameter: 1 });
  expect(sqs.apiCalls().total).toBe(0);
  expect(ghes.sim.apiCalls().byRoute).toEqual({ 'GET /app/hook/deliveries': 1 });
  expect(printed.join('')).toContain('reconciler run finished');
});

test('with a live runner, the pool goes to SQS; the delivery log the idle run read a moment ago is not read again', async () => {
  // Arrange
  await new DynamoRunnerStore(engine.operator, tableName).putRunner(runnerRecord('i-0000000000000000a', 'registered', Date.now()));
  ghes.sim.resetApiCalls();

  // Act
  let summary;
  const printed = await capturePrinted(async () => {
    summary = await handler({ id: 'schedule-2' });
  });

  // Assert
  expect(summary).toMatchObject({ idle: false, poolsMessaged: 1, failedSteps: [] });
  // The key was read once, by the run before: the container keeps its GitHub client.
  expect(ssm.apiCalls().byAction).toEqual({ GetParameter: 1 });
  expect(sqs.apiCalls().byAction).toEqual({ SendMessage: 1 });
  expect(sqs.queue('pools.fifo').peek().map((m) => JSON.parse(m.body) as unknown)).toEqual([
    expect.objectContaining({ poolId: 'octo-org#linux-x64', reason: 'reconciler', deliveryId: 'reconciler-schedule-2' }),
  ]);
  // No GitHub call: the delivery log was read by the run before, within the sweep interval, and a scope
  // first seen active has no registration left behind yet (no runner list).
  expect(ghes.sim.apiCalls().byRoute).toEqual({});
  // EMF metrics on stdout.
  expect(printed.join('')).toContain('"PoolsReconciled"');
});
