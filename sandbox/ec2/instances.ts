// Simulated instances and their lifecycle: pending → running → shutting-down → terminated (and
// running → stopping → stopped for an OS shutdown with behaviour `stop`), with boot and shutdown
// delays in simulated time and the two-minute spot interruption notice.
import { Ec2Faults } from './faults';
import { LaunchTemplateVersion } from './launch-templates';
import { InstanceStateName, InvalidInstanceStateError, Market, NotSpotInstanceError, UnknownInstanceError } from './types';
import { SimClock } from '../common/time';

export interface InstanceRecord {
  readonly instanceId: string;
  readonly imageId: string;
  readonly instanceType: string;
  readonly vcpus: number;
  readonly architecture: string;
  readonly market: Market;
  readonly availabilityZone: string;
  readonly subnetId: string;
  readonly privateIpAddress: string;
  readonly amiLaunchIndex: number;
  readonly fleetId: string;
  readonly reservationId: string;
  readonly clientToken: string;
  readonly spotInstanceRequestId?: string;
  readonly launchTemplate: LaunchTemplateVersion;
  readonly tags: Readonly<Record<string, string>>;
  /** Simulated epoch ms. */
  readonly launchTime: number;
  state: InstanceStateName;
  stateReason?: { readonly code: string; readonly message: string };
  stateTransitionReason: string;
  /** Set by the interruption warning: what happens, and when it is reclaimed (simulated epoch ms). */
  interruption?: { readonly action: 'terminate'; readonly time: number };
  terminatedAt?: number;
}

/** Everything fixed at launch. */
export type LaunchSpec = Omit<InstanceRecord, 'launchTime' | 'state' | 'stateReason' | 'stateTransitionReason' | 'interruption' | 'terminatedAt'>;

export interface LifecycleHooks {
  /** Every transition, including the initial `pending` (previous undefined). */
  stateChanged(instance: InstanceRecord, previous: InstanceStateName | undefined): void;
  interruptionWarning(instance: InstanceRecord): void;
}

type ShutdownCause = 'user' | 'instance' | 'spot';

const REASONS: Record<ShutdownCause, { code: string; message: string }> = {
  user: { code: 'Client.UserInitiatedShutdown', message: 'Client.UserInitiatedShutdown: User initiated shutdown' },
  instance: { code: 'Client.InstanceInitiatedShutdown', message: 'Client.InstanceInitiatedShutdown: Instance initiated shutdown' },
  spot: { code: 'Server.SpotInstanceTermination', message: 'Server.SpotInstanceTermination: Spot instance termination' },
};

/** Spot instances get two minutes' notice before they are reclaimed (reference/aws.md 3.3). */
const SPOT_INTERRUPTION_NOTICE_MS = 120_000;

export class InstanceLifecycle {
  private readonly instances = new Map<string, InstanceRecord>();
  private readonly timers = new Map<string, Set<() => void>>();

  constructor(
    private readonly clock: SimClock,
    private readonly faults: Ec2Faults,
    private readonly hooks: LifecycleHooks,
    private readonly terminatedVisibleForMs: number,
  ) {}

  launch(spec: LaunchSpec): InstanceRecord {
    const instance: InstanceRecord = { ...spec, launchTime: this.clock.now(), state: 'pending', stateTransitionReason: '' };
    this.instances.set(instance.instanceId, instance);
    this.hooks.stateChanged(instance, undefined);
    // Both draws happen at launch, in launch order, so a seed replays them whatever order timers fire in.
    const bootDelay = this.faults.bootDelay();
    const interruptAfter = instance.market === 'spot' ? this.faults.interruptionDelay() : undefined;
    this.schedule(instance, bootDelay, () => {
      if (instance.state !== 'pending') return;
      this.transition(instance, 'running');
      if (interruptAfter === undefined) return;
      this.schedule(instance, interruptAfter, () => {
        if (instance.state === 'running' && !instance.interruption) this.interrupt(instance.instanceId);
      });
    });
    return instance;
  }

  /** An instance the simulator still remembers (terminated ones for the visibility window). */
  get(instanceId: string): InstanceRecord | undefined {
    return this.all().find((i) => i.instanceId === instanceId);
  }

  require(instanceId: string): InstanceRecord {
    const instance = this.get(instanceId);
    if (!instance) throw new UnknownInstanceError(instanceId);
    return instance;
  }

  /** Whether the API already knows the id (EC2 is eventually consistent right after a launch). */
  visibleToApi(instance: InstanceRecord): boolean {
    return this.clock.now() - instance.launchTime >= this.faults.launchVisibilityDelayMs;
  }

  all(): InstanceRecord[] {
    const now = this.clock.now();
    for (const [id, instance] of this.instances) {
      if (instance.terminatedAt !== undefined && now - instance.terminatedAt > this.terminatedVisibleForMs) {
        this.instances.delete(id);
        this.timers.delete(id);
      }
    }
    return [...this.instances.values()];
  }

  /** Starts termination; returns the state before and after, as TerminateInstances reports them. */
  terminate(instanceId: string, cause: ShutdownCause): { previous: InstanceStateName; current: InstanceStateName } {
    const instance = this.require(instanceId);
    const previous = instance.state;
    if (previous === 'shutting-down' || previous === 'terminated') return { previous, current: previous };
    this.cancelTimers(instance);
    instance.stateReason = REASONS[cause];
    const gmt = new Date(this.clock.now()).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' GMT');
    instance.stateTransitionReason = cause === 'user' ? `User initiated (${gmt})` : REASONS[cause].message;
    this.transition(instance, 'shutting-down');
    this.schedule(instance, this.faults.shutdownDelay(), () => {
      instance.terminatedAt = this.clock.now();
      this.transition(instance, 'terminated');
    });
    return { previous, current: 'shutting-down' };
  }

  /**
   * The instance's OS powered off: the launch template's shutdown behaviour decides what follows.
   * A machine already going down (or gone) ignores it, as a real poweroff racing a reclaim would;
   * a pending instance has no OS yet, so that call is a mistake of the caller.
   */
  shutdownFromOs(instanceId: string): void {
    const instance = this.require(instanceId);
    if (instance.state === 'pending') throw new InvalidInstanceStateError(instanceId, instance.state, 'power off');
    if (instance.state !== 'running') return;
    if (instance.launchTemplate.data.instanceInitiatedShutdownBehavior === 'terminate') {
      this.terminate(instanceId, 'instance');
      return;
    }
    this.cancelTimers(instance);
    instance.stateReason = REASONS.instance;
    instance.stateTransitionReason = REASONS.instance.message;
    this.transition(instance, 'stopping');
    this.schedule(instance, this.faults.shutdownDelay(), () => this.transition(instance, 'stopped'));
  }

  /** Sends the spot interruption warning now and reclaims the instance two simulated minutes later. */
  interrupt(instanceId: string): InstanceRecord {
    const instance = this.require(instanceId);
    if (instance.market !== 'spot') throw new NotSpotInstanceError(instanceId);
    if (instance.state !== 'pending' && instance.state !== 'running') throw new InvalidInstanceStateError(instanceId, instance.state, 'interrupt');
    if (instance.interruption) return instance;
    instance.interruption = { action: 'terminate', time: this.clock.now() + SPOT_INTERRUPTION_NOTICE_MS };
    this.hooks.interruptionWarning(instance);
    this.schedule(instance, SPOT_INTERRUPTION_NOTICE_MS, () => {
      if (instance.state === 'pending' || instance.state === 'running') this.terminate(instanceId, 'spot');
    });
    return instance;
  }

  /** Cancels every pending timer; the simulator is shutting down. */
  stop(): void {
    for (const instance of this.instances.values()) this.cancelTimers(instance);
  }

  private transition(instance: InstanceRecord, state: InstanceStateName): void {
    const previous = instance.state;
    instance.state = state;
    this.hooks.stateChanged(instance, previous);
  }

  private schedule(instance: InstanceRecord, delayMs: number, fn: () => void): void {
    const set = this.timers.get(instance.instanceId) ?? new Set();
    this.timers.set(instance.instanceId, set);
    const cancel = this.clock.after(delayMs, () => {
      set.delete(cancel);
      fn();
    });
    set.add(cancel);
  }

  /** Cancels boot, stop and random-interruption timers; an announced spot reclaim is cancelled too,
   * because the instance is already on its way out. */
  private cancelTimers(instance: InstanceRecord): void {
    const set = this.timers.get(instance.instanceId);
    for (const cancel of set ?? []) cancel();
    set?.clear();
  }
}
