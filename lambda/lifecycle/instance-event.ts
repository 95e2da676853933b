// The EC2 events the lifecycle function subscribes to, read from their EventBridge envelope
// (reference/aws.md 3). The instance id comes from `detail`, never from `resources`: the spot
// warning's ARN has a different shape from the state-change one.
import { LifecycleEventError } from './errors';

export const STATE_CHANGE = 'EC2 Instance State-change Notification';
export const SPOT_INTERRUPTION = 'EC2 Spot Instance Interruption Warning';

const INSTANCE_STATES = ['pending', 'running', 'stopping', 'stopped', 'shutting-down', 'terminated'] as const;
export type InstanceState = typeof INSTANCE_STATES[number];

/** States after which the instance never runs a job again. */
export const ENDING_STATES: readonly InstanceState[] = ['stopping', 'stopped', 'shutting-down', 'terminated'];

export type InstanceEvent =
  | {
    readonly kind: 'state-change';
    readonly eventId: string;
    readonly instanceId: string;
    readonly state: InstanceState;
    /** Epoch ms of the change (the envelope's `time`, whole seconds), when the event has one. */
    readonly time?: number;
  }
  | { readonly kind: 'spot-interruption'; readonly eventId: string; readonly instanceId: string; readonly action: string };

const INSTANCE_ID = /^i-[0-9a-f]{8,17}$/;

/**
 * The instance event in an EventBridge event; `undefined` for an event of another kind (a rule
 * widened by hand, a test event). Throws {@link LifecycleEventError} for a malformed EC2 event.
 */
export function parseInstanceEvent(event: unknown): InstanceEvent | undefined {
  if (typeof event !== 'object' || event === null) throw new LifecycleEventError('the event is not a JSON object');
  const e = event as Record<string, unknown>;
  const detailType = e['detail-type'];
  if (e.source !== 'aws.ec2' || (detailType !== STATE_CHANGE && detailType !== SPOT_INTERRUPTION)) return undefined;
  const eventId = typeof e.id === 'string' && e.id !== '' ? e.id : undefined;
  if (!eventId) throw new LifecycleEventError(`${detailType} event has no id`);
  const detail = (typeof e.detail === 'object' && e.detail !== null ? e.detail : {}) as Record<string, unknown>;
  const instanceId = detail['instance-id'];
  if (typeof instanceId !== 'string' || !INSTANCE_ID.test(instanceId)) {
    throw new LifecycleEventError(`${detailType} event ${eventId}: detail.instance-id must be an instance id such as i-0123456789abcdef0, found ${JSON.stringify(instanceId)}`);
  }
  if (detailType === SPOT_INTERRUPTION) {
    const action = detail['instance-action'];
    return { kind: 'spot-interruption', eventId, instanceId, action: typeof action === 'string' ? action : 'terminate' };
  }
  const state = detail.state;
  if (typeof state !== 'string' || !(INSTANCE_STATES as readonly string[]).includes(state)) {
    throw new LifecycleEventError(`${detailType} event ${eventId}: detail.state must be one of ${INSTANCE_STATES.join(', ')}, found ${JSON.stringify(state)}`);
  }
  const time = typeof e.time === 'string' ? Date.parse(e.time) : Number.NaN;
  return { kind: 'state-change', eventId, instanceId, state: state as InstanceState, ...(Number.isNaN(time) ? {} : { time }) };
}
