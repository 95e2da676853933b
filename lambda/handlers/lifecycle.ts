// Entry point of the lifecycle function (EventBridge: EC2 state changes and spot interruption
// warnings): wires the shared control-plane adapters once per container into the lifecycle logic.
// An error thrown here makes EventBridge's asynchronous invocation retry the event.
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context, EventBridgeEvent } from 'aws-lambda';
import { controlPlaneFromEnvironment } from './wiring/control-plane';
import { PowertoolsCountMetrics } from '../common/count-metrics';
import { readEnvironment } from '../common/env';
import { createLogger } from '../common/logger';
import { handleLifecycleEvent, LifecycleDeps, LifecycleMetricName, LifecycleOutcome } from '../lifecycle/handle-instance-event';
import { DynamoReconcilerStore } from '../state/dynamo-reconciler-store';

const logger = createLogger();
let deps: LifecycleDeps | undefined;

function buildDeps(): LifecycleDeps {
  const plane = controlPlaneFromEnvironment();
  const { TABLE_NAME } = readEnvironment(['TABLE_NAME']);
  const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } });
  return {
    runners: plane.runners,
    pools: plane.pools,
    jobs: plane.jobs,
    queue: plane.queue,
    compute: plane.compute,
    github: plane.github,
    reconcilerState: new DynamoReconcilerStore(documents, TABLE_NAME),
    clock: plane.clock,
    logger,
    metrics: new PowertoolsCountMetrics<LifecycleMetricName>(new Metrics()),
  };
}

export async function handler(event: EventBridgeEvent<string, unknown>, context?: Context): Promise<LifecycleOutcome> {
  if (context) logger.addContext(context);
  deps ??= buildDeps();
  return handleLifecycleEvent(event, deps);
}
