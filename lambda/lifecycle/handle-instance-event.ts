// The lifecycle function's logic: one EC2 instance event in, the runner's record brought up to
// date, its GitHub registration removed and its pool handed to the provisioner. EventBridge sends
// the events of every instance in the account (rules cannot match tags), at least once and in no
// promised order: an unknown instance is dropped after one read, and every step is idempotent.
import { closeRunner } from './close-runner';
import type { LifecycleDeps, LifecycleOutcome } from './deps';
import { LifecycleEventError } from './errors';
import { freeFleetSlot, SLOT_FREEING_STATES } from './free-slot';
import { InstanceEvent, parseInstanceEvent } from './instance-event';
import { handleSpotInterruption } from './spot-interruption';
import { LifecycleMetric } from '../../src/contracts/metrics';

export type { LifecycleDeps, LifecycleOutcome } from './deps';

export async function handleLifecycleEvent(event: unknown, deps: LifecycleDeps): Promise<LifecycleOutcome> {
  const { logger, metrics } = deps;
  let parsed: InstanceEvent | undefined;
  try {
    parsed = parseInstanceEvent(event);
  } catch (error) {
    if (!(error instanceof LifecycleEventError)) throw error;
    // A retry would fail the same way: log it and let the event go.
    logger.error('malformed EC2 event dropped', { error });
    metrics.count(LifecycleMetric.MALFORMED_EVENTS);
    return 'ignored';
  }
  if (!parsed) {
    const e = event as Record<string, unknown>;
    logger.info('event of another kind ignored', { source: e.source, detailType: e['detail-type'] });
    metrics.count(LifecycleMetric.IGNORED_EVENTS);
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
  // Before the runner is closed (which hands its pool over): that pool's reconcile then finds the slot free.
  if (SLOT_FREEING_STATES.includes(event.state)) await freeFleetSlot(event.instanceId, event.eventId, deps);
  return closeRunner(event, deps);
}

function detailOf(event: InstanceEvent): Record<string, string> {
  return event.kind === 'spot-interruption' ? { instanceAction: event.action } : { instanceState: event.state };
}
