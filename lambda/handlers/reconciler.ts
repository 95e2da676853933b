// Entry point of the reconciler function (EventBridge schedule, every minute): wires the shared
// control-plane adapters and the reconciler's state item (once per container) into one run.
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context, ScheduledEvent } from 'aws-lambda';
import { controlPlaneFromEnvironment, timingFromEnvironment } from './wiring/control-plane';
import { PowertoolsCountMetrics } from '../common/count-metrics';
import { readEnvironment } from '../common/env';
import { createLogger } from '../common/logger';
import { ReconcilerLimits } from '../reconciler/reconciler-limits';
import { ReconcilerDeps, ReconcilerMetricName, ReconcileSummary, runReconciler } from '../reconciler/run-reconciler';
import { DynamoReconcilerStore } from '../state/dynamo-reconciler-store';

const logger = createLogger();
let deps: ReconcilerDeps | undefined;

function buildDeps(): ReconcilerDeps {
  const plane = controlPlaneFromEnvironment();
  const { TABLE_NAME } = readEnvironment(['TABLE_NAME']);
  const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } });
  return {
    settings: plane.settings,
    runners: plane.runners,
    jobs: plane.jobs,
    queue: plane.queue,
    compute: plane.compute,
    github: plane.github,
    state: new DynamoReconcilerStore(documents, TABLE_NAME),
    clock: plane.clock,
    logger,
    metrics: new PowertoolsCountMetrics<ReconcilerMetricName>(new Metrics()),
    limits: limitsFromEnvironment(),
  };
}

/** The reconciler's windows the optional timing variables set (none in a deployment; see TIMING_ENVIRONMENT). */
function limitsFromEnvironment(): Partial<ReconcilerLimits> {
  const { RECONCILER_GITHUB_SWEEP_MS: sweep, RECONCILER_REDELIVERY_SPACING_MS: redeliverAfter } = timingFromEnvironment();
  return {
    ...(sweep === undefined ? {} : { githubSweepEveryMs: sweep }),
    ...(redeliverAfter === undefined ? {} : { retryAfterMs: redeliverAfter }),
  };
}

export async function handler(event: Partial<ScheduledEvent>, context?: Context): Promise<ReconcileSummary> {
  if (context) logger.addContext(context);
  deps ??= buildDeps();
  // The schedule's event id names the run in pool messages (and keeps their SQS de-duplication per run).
  return runReconciler(deps, `reconciler-${event.id ?? context?.awsRequestId ?? deps.clock.now()}`);
}
