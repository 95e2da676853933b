// The AWS services a function's entry point reaches, each behind its role's IAM: DynamoDB (dynalite
// behind the IAM proxy), SSM and SQS (the simulators), with the pool queue created.
import { DynamoTestEngine, startDynalite } from './dynalite';
import { FunctionRole } from './function-role';
import { SqsSimulator } from '../../../sandbox/aws/sqs';
import { SsmSimulator } from '../../../sandbox/ssm';

export interface RoleServices {
  readonly engine: DynamoTestEngine;
  readonly ssm: SsmSimulator;
  readonly sqs: SqsSimulator;
  stop(): Promise<void>;
}

export async function startRoleServices(role: FunctionRole): Promise<RoleServices> {
  const engine = await startDynalite({ asRole: role });
  const ssm = new SsmSimulator({ authorize: role.serviceAuthorizer('ssm') });
  const sqs = new SqsSimulator({ authorize: role.serviceAuthorizer('sqs') });
  await Promise.all([ssm.start(), sqs.start()]);
  sqs.createQueue('pools.fifo');
  return {
    engine,
    ssm,
    sqs,
    async stop() {
      await Promise.all([ssm.stop(), sqs.stop()]);
      await engine.stop();
    },
  };
}
