// Entry point of the lifecycle function (EventBridge: EC2 state changes and spot interruption
// warnings): wires the shared control-plane adapters once per container into the lifecycle logic.
// An error thrown here makes EventBridge's asynchronous invocation retry the event.
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context, EventBridgeEvent } from 'aws-lambda';
import { CONTROL_PLANE_AND_PACING, controlPlaneFrom } from './wiring/control-plane';
import { decodeEnvironment } from '../../src/contracts/environment';
import { LifecycleMetricName } from '../../src/contracts/metrics';
import { PowertoolsCountMetrics } from '../common/count-metrics';
import { createLogger } from '../common/logger';
import { handleLifecycleEvent, LifecycleDeps, LifecycleOutcome } from '../lifecycle/handle-instance-event';

const logger = createLogger();
let deps: LifecycleDeps | undefined;

function buildDeps(): LifecycleDeps {
  const env = decodeEnvironment(CONTROL_PLANE_AND_PACING, process.env);
  const plane = controlPlaneFrom(env);
  return {
    runners: plane.runners,
    pools: plane.pools,
    jobs: plane.jobs,
    queue: plane.queue,
    compute: plane.compute,
    github: plane.github,
    reconcilerState: plane.reconcilerState,
    clock: plane.clock,
    fleet: plane.fleet,
    logger,
    metrics: new PowertoolsCountMetrics<LifecycleMetricName>(new Metrics()),
  };
}

export async function handler(event: EventBridgeEvent<string, unknown>, context?: Context): Promise<LifecycleOutcome> {
  if (context) logger.addContext(context);
  deps ??= buildDeps();
  return handleLifecycleEvent(event, deps);
}
