// EventBridge events EC2 emits for instances (reference/aws.md 3), and their best-effort delivery
// to subscribers: asynchronous, in order, optionally dropped by the fault injector.
import { IdGenerator, InstanceStateName } from './types';
import { SimClock } from '../common/time';

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

export type SpotInterruptionWarningEvent = Ec2Event<'EC2 Spot Instance Interruption Warning', {
  readonly 'instance-id': string;
  readonly 'instance-action': 'terminate' | 'stop' | 'hibernate';
}>;

export type Ec2InstanceEvent = InstanceStateChangeEvent | SpotInterruptionWarningEvent;

export type Ec2EventListener = (event: Ec2InstanceEvent) => void | Promise<void>;

/** Builds events and fans them out to listeners on a later tick, in publication order; a failing listener is reported, not fatal. */
export class EventBus {
  private readonly listeners = new Set<Ec2EventListener>();
  private readonly published: Ec2InstanceEvent[] = [];
  private closed = false;

  constructor(
    private readonly account: string,
    private readonly region: string,
    private readonly clock: SimClock,
    private readonly ids: IdGenerator,
    private readonly dropped: () => boolean,
    private readonly onListenerError: (err: unknown) => void,
  ) {}

  subscribe(listener: Ec2EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  stateChange(instanceId: string, state: InstanceStateName): void {
    this.publish('EC2 Instance State-change Notification', [`arn:aws:ec2:${this.region}:${this.account}:instance/${instanceId}`], { 'instance-id': instanceId, state });
  }

  /**
   * The interruption warning's resource ARN has the availability zone in the region slot and no
   * account, as in the current EC2 docs' example (reference/aws.md 3.3) — handlers must read
   * `detail.instance-id`, never parse the ARN.
   */
  spotInterruptionWarning(instanceId: string, availabilityZone: string): void {
    this.publish('EC2 Spot Instance Interruption Warning', [`arn:aws:ec2:${availabilityZone}:instance/${instanceId}`],
      { 'instance-id': instanceId, 'instance-action': 'terminate' });
  }

  /** Every event EC2 emitted, including ones the fault injector dropped. */
  history(): readonly Ec2InstanceEvent[] {
    return [...this.published];
  }

  close(): void {
    this.closed = true;
  }

  private publish(detailType: Ec2InstanceEvent['detail-type'], resources: string[], detail: Ec2InstanceEvent['detail']): void {
    // EventBridge `time` has second precision: `2026-01-01T12:00:00Z`.
    const time = new Date(Math.floor(this.clock.now() / 1000) * 1000).toISOString().replace('.000Z', 'Z');
    const event = {
      'version': '0',
      'id': this.ids.uuid(),
      'detail-type': detailType,
      'source': 'aws.ec2',
      'account': this.account,
      time,
      'region': this.region,
      resources,
      detail,
    } as Ec2InstanceEvent;
    this.published.push(event);
    if (this.dropped() || this.closed) return;
    setImmediate(() => {
      if (this.closed) return;
      for (const listener of [...this.listeners]) Promise.resolve().then(() => listener(event)).catch(this.onListenerError);
    });
  }
}
