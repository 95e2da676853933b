// The lifecycle function's entry point with its production wiring: SDK clients built from the
// environment, DynamoDB on dynalite, EC2 on the EC2 simulator (whose events are the input), SSM and
// SQS on their simulators; every AWS call signed as the lifecycle function's role and decided by IAM
// against what the construct grants it. No GitHub call is needed for these events, so none is
// configured to answer.
import { handler } from '../../../lambda/handlers/lifecycle';
import { DynamoRunnerStore } from '../../../lambda/state/dynamo-runner-store';
import { SqsSimulator } from '../../../sandbox/aws/sqs';
import { SsmSimulator } from '../../../sandbox/ssm';
import { Ec2Harness, MANAGED_BY, PREFIX, runnerRecord, startEc2 } from '../reconciler/harness';
import { grantedRole } from '../support/construct-grants';
import { DynamoTestEngine } from '../support/dynalite';
import { controlPlaneEnvironment, sdkEnvironment } from '../support/function-environment';
import { capturePrinted } from '../support/in-memory-ports';
import { RoleServices, startRoleServices } from '../support/role-services';

const role = grantedRole('lifecycle', { managedBy: MANAGED_BY, privateKeyParameterName: '/runners/github-app-key' });
let services: RoleServices;
let engine: DynamoTestEngine;
let ssm: SsmSimulator;
let sqs: SqsSimulator;
let ec2: Ec2Harness;
let tableName: string;
const saved = { ...process.env };

beforeAll(async () => {
  services = await startRoleServices(role);
  ({ engine, ssm, sqs } = services);
  ec2 = await startEc2(0.01, {}, role);
  tableName = await engine.createStateTable();
  Object.assign(process.env, controlPlaneEnvironment({
    tableName,
    queueUrl: sqs.queueUrl('pools.fifo'),
    runnerNamePrefix: PREFIX,
    managedBy: MANAGED_BY,
  }), sdkEnvironment({ dynamodb: engine.endpoint, ec2: ec2.sim.url, ssm: ssm.url, sqs: sqs.url }), role.environment());
});
afterAll(async () => {
  process.env = saved;
  await ec2.stop();
  await services.stop();
});

test('a booting runner\'s instance shutting down closes the runner and sends its pool to SQS', async () => {
  // Arrange
  const instanceId = await ec2.launch('on-demand');
  await new DynamoRunnerStore(engine.operator, tableName).putRunner(runnerRecord(instanceId, 'booting', Date.now(), { market: 'on-demand' }));
  ec2.sim.poweroff(instanceId);
  const event = await ec2.nextEvent(instanceId, (e) => (e.detail as { state?: string }).state === 'shutting-down');

  // Act
  let outcome;
  const printed = await capturePrinted(async () => {
    outcome = await handler(event as never);
  });

  // Assert
  expect(outcome).toBe('closed');
  expect(await new DynamoRunnerStore(engine.operator, tableName).getRunner(instanceId)).toMatchObject({ state: 'gone' });
  expect(sqs.apiCalls().byAction).toEqual({ SendMessage: 1 });
  expect(sqs.queue('pools.fifo').peek().map((m) => JSON.parse(m.body) as unknown)).toEqual([
    expect.objectContaining({ reason: 'instance-state', deliveryId: event.id }),
  ]);
  const lines = printed.join('').split('\n').filter((l) => l.includes('instance event handled'));
  expect(JSON.parse(lines[0])).toMatchObject({ instanceId, poolId: 'octo-org#linux-x64', outcome: 'closed', eventId: event.id });
});
