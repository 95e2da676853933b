// The lifecycle function's logic: one EC2 instance event in, the runner's record brought up to
// date, its GitHub registration removed and its pool handed to the provisioner. EventBridge sends
// the events of every instance in the account (rules cannot match tags), at least once and in no
// promised order: an unknown instance is dropped after one read, and every step is idempotent.
import { closeRunner } from './close-runner';
import { LifecycleEventError } from './errors';
import { InstanceEvent, parseInstanceEvent } from './instance-event';
import { handleSpotInterruption } from './spot-interruption';
import { CountMetrics } from '../common/count-metrics';
import { Logger } from '../common/logger';
import { ComputePort } from '../core/compute';
import { GitHubPort } from '../core/github';
import { Clock, JobStore, PoolQueue, PoolStore, RunnerStore } from '../core/ports';
import { ReconcilerStateStore } from '../core/reconciler-state';

export type LifecycleMetricName =
  | 'RunnersClosed' | 'SpotInterruptions' | 'RegistrationsDeleted' | 'RegistrationsLeftToSweep' | 'IgnoredEvents' | 'MalformedEvents';

export interface LifecycleDeps {
  readonly runners: RunnerStore;
  readonly pools: PoolStore;
  readonly jobs: JobStore;
  readonly queue: PoolQueue;
  readonly compute: ComputePort;
  /** Built on first use only: most events need no GitHub call. */
  readonly github: () => Promise<GitHubPort>;
  /** Where a registration GitHub would not delete yet is handed to the reconciler's ghost sweep. */
  readonly reconcilerState: ReconcilerStateStore;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: CountMetrics<LifecycleMetricName>;
}

/**
 * - `ignored`: not an event that changes a runner (another detail type, `pending`, `running`);
 * - `unknown-instance`: not one of our runners;
 * - `closed`: the runner is gone now; `already-gone`: it was before (a repeated or late event);
 * - `retired`: an idle or booting spot runner is retired, deregistered and terminated;
 * - `job-marked`: a busy spot runner's job is marked for a re-run if it fails;
 * - `already-retiring`: a spot runner that was on its way out anyway.
 */
export type LifecycleOutcome = 'ignored' | 'unknown-instance' | 'closed' | 'already-gone' | 'retired' | 'job-marked' | 'already-retiring';

export async function handleLifecycleEvent(event: unknown, deps: LifecycleDeps): Promise<LifecycleOutcome> {
  const { logger, metrics } = deps;
  let parsed: InstanceEvent | undefined;
  try {
    parsed = parseInstanceEvent(event);
  } catch (error) {
    if (!(error instanceof LifecycleEventError)) throw error;
    // A retry would fail the same way: log it and let the event go.
    logger.error('malformed EC2 event dropped', { error });
    metrics.count('MalformedEvents');
    return 'ignored';
  }
  if (!parsed) {
    const e = event as Record<string, unknown>;
    logger.info('event of another kind ignored', { source: e.source, detailType: e['detail-type'] });
    metrics.count('IgnoredEvents');
    return 'ignored';
  }
  logger.appendKeys({ eventId: parsed.eventId, instanceId: parsed.instanceId });
  try {
    const outcome = await handle(parsed, deps);
    logger.info('instance event handled', { kind: parsed.kind, ...detailOf(parsed), outcome });
    return outcome;
  } finally {
    logger.resetKeys();
  }
}

async function handle(event: InstanceEvent, deps: LifecycleDeps): Promise<LifecycleOutcome> {
  if (event.kind === 'spot-interruption') return handleSpotInterruption(event, deps);
  return closeRunner(event, deps);
}

function detailOf(event: InstanceEvent): Record<string, string> {
  return event.kind === 'spot-interruption' ? { instanceAction: event.action } : { instanceState: event.state };
}
