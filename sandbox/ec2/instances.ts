// Simulated instances: pending → running → shutting-down → terminated (→ stopping → stopped for an OS shutdown with behaviour `stop`),
// boot and shutdown delays, the two-minute spot notice; DescribeInstances and TerminateInstances with EC2's validation and the SDK
// model's element names (`instanceState`, `tagSet` …, reference/aws.md 2).
import { createHash } from 'crypto';
import { Ec2Faults } from './faults';
import { LaunchTemplateVersion } from './launch-templates';
import { Ec2SimulatorError, InstanceStateName, Market, STATE_CODES } from './types';
import { apiErrors, Ec2ApiError, QueryParams, XmlObject } from './wire';
import { SimClock } from '../common/time';

export interface InstanceRecord {
  readonly instanceId: string;
  readonly imageId: string;
  readonly instanceType: string;
  readonly market: Market;
  readonly availabilityZone: string;
  readonly reservationId: string;
  readonly launchTemplate: LaunchTemplateVersion;
  readonly tags: Readonly<Record<string, string>>;
  /** Simulated epoch ms. */
  readonly launchTime: number;
  state: InstanceStateName;
  stateReason?: { readonly code: string; readonly message: string };
  /** Set by the interruption warning: when the instance is reclaimed (simulated epoch ms). */
  interruptAt?: number;
  terminatedAt?: number;
}

type ShutdownCause = 'user' | 'instance' | 'spot';

const REASONS: Record<ShutdownCause, { code: string; message: string }> = {
  user: { code: 'Client.UserInitiatedShutdown', message: 'Client.UserInitiatedShutdown: User initiated shutdown' },
  instance: { code: 'Client.InstanceInitiatedShutdown', message: 'Client.InstanceInitiatedShutdown: Instance initiated shutdown' },
  spot: { code: 'Server.SpotInstanceTermination', message: 'Server.SpotInstanceTermination: Spot instance termination' },
};

/** Spot instances get two minutes' notice before they are reclaimed (reference/aws.md 3.3). */
const SPOT_INTERRUPTION_NOTICE_MS = 120_000;
/** Terminated instances stay visible to DescribeInstances for about an hour (DescribeInstances). */
const TERMINATED_VISIBLE_MS = 3_600_000;

export class InstanceLifecycle {
  private readonly instances = new Map<string, InstanceRecord>();
  private readonly timers = new Map<string, Set<() => void>>();

  /** `stateChanged` hears every transition, the initial `pending` included (previous undefined). */
  constructor(private readonly clock: SimClock, private readonly faults: Ec2Faults, private readonly hooks: {
    stateChanged(instance: InstanceRecord, previous: InstanceStateName | undefined): void;
    interruptionWarning(instance: InstanceRecord): void;
  }) {}

  /** Launches an instance from everything fixed at launch. */
  launch(spec: Omit<InstanceRecord, 'launchTime' | 'state' | 'stateReason' | 'interruptAt' | 'terminatedAt'>): InstanceRecord {
    const instance: InstanceRecord = { ...spec, launchTime: this.clock.now(), state: 'pending' };
    this.instances.set(instance.instanceId, instance);
    this.hooks.stateChanged(instance, undefined);
    // Both draws happen at launch, in launch order, so a seed replays them whatever order timers fire in.
    const bootDelay = this.faults.delay('boot');
    const interruptAfter = instance.market === 'spot' ? this.faults.interruptionDelay() : undefined;
    this.schedule(instance, bootDelay, () => {
      if (instance.state !== 'pending') return;
      this.transition(instance, 'running');
      if (interruptAfter === undefined) return;
      this.schedule(instance, interruptAfter, () => {
        if (instance.state === 'running' && instance.interruptAt === undefined) this.interrupt(instance.instanceId);
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
    if (!instance) throw new Ec2SimulatorError(`no instance ${instanceId} in the EC2 simulator; launch it with CreateFleet first`);
    return instance;
  }

  all(): InstanceRecord[] {
    const now = this.clock.now();
    for (const [id, instance] of this.instances) {
      if (instance.terminatedAt !== undefined && now - instance.terminatedAt > TERMINATED_VISIBLE_MS) {
        this.instances.delete(id);
        this.timers.delete(id);
      }
    }
    return [...this.instances.values()];
  }

  /** Starts termination (or stopping, for `stop`); returns the state before and after, as TerminateInstances reports them. */
  terminate(instanceId: string, cause: ShutdownCause, stop = false): { previous: InstanceStateName; current: InstanceStateName } {
    const instance = this.require(instanceId);
    const previous = instance.state;
    if (previous === 'shutting-down' || previous === 'terminated') return { previous, current: previous };
    const [current, final] = stop ? (['stopping', 'stopped'] as const) : (['shutting-down', 'terminated'] as const);
    this.cancelTimers(instance);
    instance.stateReason = REASONS[cause];
    this.transition(instance, current);
    this.schedule(instance, this.faults.delay('shutdown'), () => {
      if (final === 'terminated') instance.terminatedAt = this.clock.now();
      this.transition(instance, final);
    });
    return { previous, current };
  }

  /** The OS powered off: the template's shutdown behaviour decides what follows. Ignored on the way down (a poweroff racing a reclaim); pending has no OS yet. */
  shutdownFromOs(instanceId: string): void {
    const instance = this.require(instanceId);
    if (instance.state === 'pending') throw new Ec2SimulatorError(`cannot power off instance ${instanceId} in state pending`);
    const stop = instance.launchTemplate.data.instanceInitiatedShutdownBehavior === 'stop';
    if (instance.state === 'running') this.terminate(instanceId, 'instance', stop);
  }

  /** Sends the spot interruption warning now and reclaims the instance two simulated minutes later. */
  interrupt(instanceId: string): InstanceRecord {
    const instance = this.require(instanceId);
    if (instance.market !== 'spot') throw new Ec2SimulatorError(`instance ${instanceId} is on-demand; only spot instances can be interrupted`);
    if (instance.state !== 'pending' && instance.state !== 'running') throw new Ec2SimulatorError(`cannot interrupt instance ${instanceId} in state ${instance.state}`);
    if (instance.interruptAt !== undefined) return instance;
    instance.interruptAt = this.clock.now() + SPOT_INTERRUPTION_NOTICE_MS;
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

  /** Cancels boot, stop and random-interruption timers, and an announced spot reclaim: the instance is already on its way out. */
  private cancelTimers(instance: InstanceRecord): void {
    const set = this.timers.get(instance.instanceId);
    for (const cancel of set ?? []) cancel();
    set?.clear();
  }
}

const INSTANCE_ID = /^i-([0-9a-f]{8}|[0-9a-f]{17})$/;

const renderState = (state: InstanceStateName) => ({ code: STATE_CODES[state], name: state });

export function describeInstances(lifecycle: InstanceLifecycle, accountId: string, params: QueryParams): XmlObject {
  if (params.has('InstanceId')) throw apiErrors.unsupported('The EC2 simulator models DescribeInstances by filters only, not InstanceId.N.');
  const maxResults = params.integer('MaxResults');
  // The current model drops the 5-1000 range; enforced anyway to be safe (reference/aws.md 2.1).
  if (maxResults !== undefined && (maxResults < 5 || maxResults > 1000)) {
    throw apiErrors.invalidParameterValue(`Value ( ${maxResults} ) for parameter maxResults is invalid. Expecting a value between 5 and 1000.`);
  }
  // Filters are ANDed, the values of one filter ORed, values case-sensitive. Modelled: `instance-state-name` and `tag:KEY`.
  const filters = params.list('Filter').map((f) => {
    const name = f.requiredString('Name');
    if (!name.startsWith('tag:') && name !== 'instance-state-name') throw apiErrors.invalidParameterValue(`The filter '${name}' is invalid`);
    const values = f.strings('Value');
    const valueOf = (i: InstanceRecord) => (name === 'instance-state-name' ? i.state : i.tags[name.slice(4)]);
    return (i: InstanceRecord) => values.some((v) => v === valueOf(i));
  });
  const matching = lifecycle.all().filter((i) => filters.every((matches) => matches(i)));

  // A NextToken is good only for the request that produced it.
  const scope = createHash('sha256').update(params.fingerprint(['NextToken', 'MaxResults'])).digest('hex').slice(0, 16);
  const token = params.string('NextToken');
  const [at, boundTo] = (token ?? `0@${scope}`).split('@');
  if (boundTo !== scope || !/^\d+$/.test(at)) throw apiErrors.invalidParameterValue(`The NextToken '${token}' is not valid for this request.`);
  const offset = Number(at);
  const end = offset + (maxResults ?? 1000);
  const reservations = new Map<string, InstanceRecord[]>();
  for (const i of matching.slice(offset, end)) reservations.set(i.reservationId, [...(reservations.get(i.reservationId) ?? []), i]);
  const reservationSet = [...reservations].map(([reservationId, instances]) =>
    ({ reservationId, ownerId: accountId, groupSet: [], instancesSet: instances.map(renderInstance) }));
  return { reservationSet, nextToken: end < matching.length ? `${end}@${scope}` : undefined };
}

/** If one id is malformed or unknown, none is terminated (reference/aws.md 2.2): Malformed before NotFound. */
export function terminateInstances(lifecycle: InstanceLifecycle, params: QueryParams): XmlObject {
  const ids = params.strings('InstanceId');
  if (ids.length === 0) throw apiErrors.missingParameter('InstanceId');
  const malformed = ids.find((id) => !INSTANCE_ID.test(id));
  if (malformed !== undefined) throw new Ec2ApiError('InvalidInstanceID.Malformed', `Invalid id: "${malformed}" (expecting "i-...")`);
  const missing = ids.filter((id) => !lifecycle.get(id));
  if (missing.length > 0) {
    throw new Ec2ApiError('InvalidInstanceID.NotFound', missing.length === 1
      ? `The instance ID '${missing[0]}' does not exist` : `The instance IDs '${missing.join(', ')}' do not exist`);
  }
  return {
    instancesSet: ids.map((instanceId) => {
      const { previous, current } = lifecycle.terminate(instanceId, 'user');
      return { instanceId, currentState: renderState(current), previousState: renderState(previous) };
    }),
  };
}

function renderInstance(i: InstanceRecord): XmlObject {
  return {
    instanceId: i.instanceId,
    imageId: i.imageId,
    instanceState: renderState(i.state),
    instanceType: i.instanceType,
    launchTime: new Date(i.launchTime).toISOString(),
    placement: { availabilityZone: i.availabilityZone, tenancy: 'default' },
    stateReason: i.stateReason,
    // No `on-demand` value exists for instanceLifecycle: on-demand instances omit it (reference/aws.md 2.1).
    instanceLifecycle: i.market === 'spot' ? 'spot' : undefined,
    tagSet: Object.entries(i.tags).map(([key, value]) => ({ key, value })),
  };
}
