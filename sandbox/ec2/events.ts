// EventBridge events EC2 emits for instances (reference/aws.md 3), and their best-effort delivery
// to subscribers: asynchronous, in order, optionally dropped or duplicated by the fault injector.
import { InstanceStateName } from './types';

export interface Ec2Event<DetailType extends string, Detail> {
  readonly 'version': '0';
  readonly 'id': string;
  readonly 'detail-type': DetailType;
  readonly 'source': 'aws.ec2';
  readonly 'account': string;
  readonly 'time': string;
  readonly 'region': string;
  readonly 'resources': readonly string[];
  readonly 'detail': Detail;
}

export type InstanceStateChangeEvent = Ec2Event<'EC2 Instance State-change Notification', {
  readonly 'instance-id': string;
  readonly 'state': InstanceStateName;
}>;

export type SpotInterruptionAction = 'terminate' | 'stop' | 'hibernate';

export type SpotInterruptionWarningEvent = Ec2Event<'EC2 Spot Instance Interruption Warning', {
  readonly 'instance-id': string;
  readonly 'instance-action': SpotInterruptionAction;
}>;

export type Ec2InstanceEvent = InstanceStateChangeEvent | SpotInterruptionWarningEvent;

export interface EventContext {
  readonly account: string;
  readonly region: string;
  readonly id: string;
  readonly timeMs: number;
}

/** EventBridge `time` has second precision: `2026-01-01T12:00:00Z`. */
function eventTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

export function stateChangeEvent(ctx: EventContext, instanceId: string, state: InstanceStateName): InstanceStateChangeEvent {
  return {
    'version': '0',
    'id': ctx.id,
    'detail-type': 'EC2 Instance State-change Notification',
    'source': 'aws.ec2',
    'account': ctx.account,
    'time': eventTime(ctx.timeMs),
    'region': ctx.region,
    'resources': [`arn:aws:ec2:${ctx.region}:${ctx.account}:instance/${instanceId}`],
    'detail': { 'instance-id': instanceId, 'state': state },
  };
}

/**
 * The interruption warning's resource ARN has the availability zone in the region slot and no
 * account, as in the current EC2 docs' example (reference/aws.md 3.3) — handlers must read
 * `detail.instance-id`, never parse the ARN.
 */
export function spotInterruptionWarningEvent(
  ctx: EventContext,
  instanceId: string,
  availabilityZone: string,
  action: SpotInterruptionAction,
): SpotInterruptionWarningEvent {
  return {
    'version': '0',
    'id': ctx.id,
    'detail-type': 'EC2 Spot Instance Interruption Warning',
    'source': 'aws.ec2',
    'account': ctx.account,
    'time': eventTime(ctx.timeMs),
    'region': ctx.region,
    'resources': [`arn:aws:ec2:${availabilityZone}:instance/${instanceId}`],
    'detail': { 'instance-id': instanceId, 'instance-action': action },
  };
}

export type Ec2EventListener = (event: Ec2InstanceEvent) => void | Promise<void>;

/** Fans events out to listeners on a later tick, in publication order; a failing listener is reported, not fatal. */
export class EventBus {
  private readonly listeners = new Set<Ec2EventListener>();
  private readonly published: Ec2InstanceEvent[] = [];
  private closed = false;

  constructor(
    private readonly fate: () => 'deliver' | 'drop' | 'duplicate',
    private readonly onListenerError: (err: unknown, event: Ec2InstanceEvent) => void,
  ) {}

  subscribe(listener: Ec2EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  publish(event: Ec2InstanceEvent): void {
    this.published.push(event);
    const fate = this.fate();
    if (fate === 'drop' || this.closed) return;
    const copies = fate === 'duplicate' ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      setImmediate(() => {
        if (this.closed) return;
        for (const listener of [...this.listeners]) {
          Promise.resolve()
            .then(() => listener(event))
            .catch((err: unknown) => this.onListenerError(err, event));
        }
      });
    }
  }

  /** Every event EC2 emitted, including ones the fault injector dropped. */
  history(): readonly Ec2InstanceEvent[] {
    return [...this.published];
  }

  close(): void {
    this.closed = true;
  }
}
