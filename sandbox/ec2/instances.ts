// Simulated instances, one state machine: pending → running → shutting-down → terminated, and running → stopping → stopped →
// pending → running (StopInstances, StartInstances, an OS shutdown with behaviour `stop`, hibernation); boot, start and shutdown
// delays, the two-minute spot notice; DescribeInstances, TerminateInstances, StopInstances and StartInstances with EC2's validation
// and the SDK model's element names (`instanceState`, `tagSet`, `instancesSet` …, reference/aws.md 2).
import { createHash } from 'crypto';
import { CapacityModel, Ec2Faults, PoolKey } from './faults';
import { LaunchTemplateVersion, ROOT_DEVICE_NAME } from './launch-templates';
import { Ec2SimulatorError, IdGenerator, InstanceStateName, Market, STATE_CODES } from './types';
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
  /** Replaced as a whole by CreateTags (./tags.ts). */
  tags: Readonly<Record<string, string>>;
  /** The EBS root volume, created with the instance and deleted with it (DeleteOnTermination, as the runners' templates set it). */
  readonly rootVolume: RootVolume;
  /** Simulated epoch ms. */
  readonly launchTime: number;
  state: InstanceStateName;
  stateReason?: { readonly code: string; readonly message: string };
  /** DescribeInstances' `StateTransitionReason` (`reason` on the wire): `User initiated (2026-01-01 12:00:00 GMT)` after a user's stop or terminate. */
  stateTransitionReason?: string;
  /** How the instance last went to pending: its launch, a StartInstances of a stopped instance, or of a hibernated one (a resume). */
  lastStart: 'launch' | 'start' | 'resume';
  /** StartInstances that took it from stopped to pending. */
  starts: number;
  /** Set from a StopInstances with Hibernate until it runs again: the RAM is on the root volume. */
  hibernated?: boolean;
  /** Set by the interruption warning: when the instance is reclaimed (simulated epoch ms). */
  interruptAt?: number;
  terminatedAt?: number;
}

/** An instance's root volume: its id, and its tags (the template's and the launch's volume TagSpecifications, then CreateTags). */
export interface RootVolume {
  readonly volumeId: string;
  tags: Readonly<Record<string, string>>;
}

type ShutdownCause = 'user' | 'instance' | 'spot' | 'hibernate';

/** StateReason codes (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_StateReason.html). */
const REASONS: Record<ShutdownCause, { code: string; message: string }> = {
  user: { code: 'Client.UserInitiatedShutdown', message: 'Client.UserInitiatedShutdown: User initiated shutdown' },
  instance: { code: 'Client.InstanceInitiatedShutdown', message: 'Client.InstanceInitiatedShutdown: Instance initiated shutdown' },
  spot: { code: 'Server.SpotInstanceTermination', message: 'Server.SpotInstanceTermination: Spot instance termination' },
  hibernate: { code: 'Client.UserInitiatedHibernate', message: 'Client.UserInitiatedHibernate: User initiated hibernate' },
};

/** `User initiated (2026-01-01 12:00:00 GMT)`, the StateTransitionReason of a user's stop or terminate (API_Instance: "the reason for the most recent state transition"). */
const userInitiated = (ms: number) => `User initiated (${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} GMT)`;

/** Spot instances get two minutes' notice before they are reclaimed (reference/aws.md 3.3). */
const SPOT_INTERRUPTION_NOTICE_MS = 120_000;
/** Terminated instances stay visible to DescribeInstances for about an hour (DescribeInstances). */
const TERMINATED_VISIBLE_MS = 3_600_000;

export const poolOf = (i: InstanceRecord): PoolKey => ({ instanceType: i.instanceType, availabilityZone: i.availabilityZone, market: i.market });

export class InstanceLifecycle {
  private readonly instances = new Map<string, InstanceRecord>();
  private readonly timers = new Map<string, Set<() => void>>();

  /** `stateChanged` hears every transition, the initial `pending` included (previous undefined). */
  /** `volumeIds`: its own id source, so that root volumes leave the instance ids a seed gives as they were. */
  constructor(private readonly clock: SimClock, private readonly faults: Ec2Faults, private readonly hooks: {
    stateChanged(instance: InstanceRecord, previous: InstanceStateName | undefined): void;
    interruptionWarning(instance: InstanceRecord): void;
  }, private readonly volumeIds: IdGenerator) {}

  /** Launches an instance, and its root volume tagged with `volumeTags`, from everything fixed at launch. */
  launch(spec: Pick<InstanceRecord, 'instanceId' | 'imageId' | 'instanceType' | 'market' | 'availabilityZone' | 'reservationId' | 'launchTemplate' | 'tags'>
    & { readonly volumeTags: Readonly<Record<string, string>> }): InstanceRecord {
    const { volumeTags, ...fixed } = spec;
    const rootVolume = { volumeId: this.volumeIds.resourceId('vol-'), tags: { ...volumeTags } };
    const instance: InstanceRecord = { ...fixed, rootVolume, launchTime: this.clock.now(), state: 'pending', lastStart: 'launch', starts: 0 };
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

  /**
   * The instance whose root volume this is, while the volume exists: a terminated instance's root
   * volume is deleted with it (DeleteOnTermination), so it is unknown from then on.
   */
  volumeOwner(volumeId: string): InstanceRecord | undefined {
    return this.all().find((i) => i.rootVolume.volumeId === volumeId && i.state !== 'terminated');
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

  /** Starts termination; returns the state before and after, as TerminateInstances reports them. */
  terminate(instanceId: string, cause: Exclude<ShutdownCause, 'hibernate'>): { previous: InstanceStateName; current: InstanceStateName } {
    const instance = this.require(instanceId);
    const previous = instance.state;
    if (previous === 'shutting-down' || previous === 'terminated') return { previous, current: previous };
    this.shutDown(instance, cause, 'shutting-down');
    return { previous, current: instance.state };
  }

  /**
   * Stops (or hibernates) a running instance: stopping, then stopped after the shutdown delay. A stopping or stopped one is left as it is
   * (StopInstances reports it unchanged); the callers refuse the states EC2 refuses.
   */
  stop(instanceId: string, cause: 'user' | 'instance' | 'hibernate'): { previous: InstanceStateName; current: InstanceStateName } {
    const instance = this.require(instanceId);
    const previous = instance.state;
    if (previous !== 'running') return { previous, current: previous };
    instance.hibernated = cause === 'hibernate';
    this.shutDown(instance, cause, 'stopping');
    return { previous, current: instance.state };
  }

  /** Starts a stopped instance: pending, then running after the start delay (a shorter resume delay when it was hibernated). Others are left as they are. */
  start(instanceId: string): { previous: InstanceStateName; current: InstanceStateName } {
    const instance = this.require(instanceId);
    const previous = instance.state;
    if (previous !== 'stopped') return { previous, current: previous };
    // A started instance shows no reason for its last stop (API_Instance: StateReason, StateTransitionReason).
    instance.stateReason = undefined;
    instance.stateTransitionReason = undefined;
    instance.lastStart = instance.hibernated ? 'resume' : 'start';
    instance.starts += 1;
    this.transition(instance, 'pending');
    this.schedule(instance, this.faults.delay(instance.lastStart), () => {
      if (instance.state !== 'pending') return;
      instance.hibernated = undefined;
      this.transition(instance, 'running');
    });
    return { previous, current: instance.state };
  }

  /** The OS powered off: the template's shutdown behaviour decides what follows. Ignored on the way down (a poweroff racing a reclaim); pending has no OS yet. */
  shutdownFromOs(instanceId: string): void {
    const instance = this.require(instanceId);
    if (instance.state === 'pending') throw new Ec2SimulatorError(`cannot power off instance ${instanceId} in state pending`);
    if (instance.state !== 'running') return;
    if (instance.launchTemplate.data.instanceInitiatedShutdownBehavior === 'stop') this.stop(instanceId, 'instance');
    else this.terminate(instanceId, 'instance');
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
  close(): void {
    for (const instance of this.instances.values()) this.cancelTimers(instance);
  }

  /** To stopping or shutting-down now, and to stopped or terminated after the shutdown delay; every other timer is cancelled. */
  private shutDown(instance: InstanceRecord, cause: ShutdownCause, to: 'stopping' | 'shutting-down'): void {
    this.cancelTimers(instance);
    instance.stateReason = REASONS[cause];
    if (cause === 'user' || cause === 'hibernate') instance.stateTransitionReason = userInitiated(this.clock.now());
    this.transition(instance, to);
    this.schedule(instance, this.faults.delay('shutdown'), () => {
      if (to === 'shutting-down') instance.terminatedAt = this.clock.now();
      this.transition(instance, to === 'stopping' ? 'stopped' : 'terminated');
    });
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
  // Filters are ANDed, the values of one filter ORed, values case-sensitive. Modelled: `instance-id`, `instance-state-name` and
  // `tag:KEY`. Unlike InstanceId.N, an `instance-id` filter naming an unknown id is no error: it matches nothing (API_DescribeInstances).
  const filters = params.list('Filter').map((f) => {
    const name = f.requiredString('Name');
    if (!name.startsWith('tag:') && name !== 'instance-state-name' && name !== 'instance-id') throw apiErrors.invalidParameterValue(`The filter '${name}' is invalid`);
    const values = f.strings('Value');
    const valueOf = (i: InstanceRecord) => (name === 'instance-state-name' ? i.state : name === 'instance-id' ? i.instanceId : i.tags[name.slice(4)]);
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

/** The instances a request names by InstanceId.N; one malformed or unknown id fails the whole call, Malformed before NotFound (reference/aws.md 2.2). */
function namedInstances(lifecycle: InstanceLifecycle, params: QueryParams): InstanceRecord[] {
  const ids = params.strings('InstanceId');
  if (ids.length === 0) throw apiErrors.missingParameter('InstanceId');
  const malformed = ids.find((id) => !INSTANCE_ID.test(id));
  if (malformed !== undefined) throw new Ec2ApiError('InvalidInstanceID.Malformed', `Invalid id: "${malformed}" (expecting "i-...")`);
  const missing = ids.filter((id) => !lifecycle.get(id));
  if (missing.length > 0) {
    throw new Ec2ApiError('InvalidInstanceID.NotFound', missing.length === 1
      ? `The instance ID '${missing[0]}' does not exist` : `The instance IDs '${missing.join(', ')}' do not exist`);
  }
  return ids.map((id) => lifecycle.require(id));
}

/** Refuses a parameter the simulator does not model rather than ignoring it. */
function onlyParameters(params: QueryParams, action: string, modelled: RegExp): void {
  const other = params.names().find((name) => !/^(Action|Version|InstanceId\.\d+)$/.test(name) && !modelled.test(name));
  if (other !== undefined) throw apiErrors.unsupported(`The EC2 simulator does not model the ${action} parameter ${other}.`);
}

const flag = (params: QueryParams, name: string) => params.string(name) === 'true';

/** "Request would have succeeded, but DryRun flag is set." (412; https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html: DryRunOperation). */
const dryRun = () => new Ec2ApiError('DryRunOperation', 'Request would have succeeded, but DryRun flag is set.', 412);

const stateChanges = (changes: { instanceId: string; previous: InstanceStateName; current: InstanceStateName }[]): XmlObject => ({
  instancesSet: changes.map(({ instanceId, previous, current }) =>
    ({ instanceId, currentState: renderState(current), previousState: renderState(previous) })),
});

/** If one id is malformed or unknown, none is terminated (reference/aws.md 2.2): Malformed before NotFound. */
export function terminateInstances(lifecycle: InstanceLifecycle, params: QueryParams): XmlObject {
  return stateChanges(namedInstances(lifecycle, params).map(({ instanceId }) => ({ instanceId, ...lifecycle.terminate(instanceId, 'user') })));
}

/**
 * StopInstances (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_StopInstances.html): running → stopping → stopped, or
 * hibernated with `Hibernate`; a stopping or stopped instance is reported unchanged. Any instance EC2 refuses fails the whole call and
 * nothing stops, as one bad id does (a refusal is per request, reference/aws.md 2.2). Refusals, as EC2 words them:
 * - a one-time spot instance (every instance an instant fleet launches): UnsupportedOperation (cloud-custodian #8003,
 *   https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/spot-requests.html "You can't stop a Spot Instance associated with a one-time request");
 * - a first-launch pending instance: IncorrectInstanceState "cannot be stopped as it has never reached the 'running' state" (cloud-custodian #6014,
 *   flatcar/mantle #315); a pending one after a start, shutting-down or terminated: IncorrectInstanceState [I: the wording is EC2's for terminated];
 * - `Hibernate` on an instance launched without hibernation: UnsupportedHibernationConfiguration (instance-scheduler-on-aws #510).
 * `Force` changes nothing here: the simulated OS has nothing to flush.
 */
export function stopInstances(lifecycle: InstanceLifecycle, params: QueryParams): XmlObject {
  onlyParameters(params, 'StopInstances', /^(Hibernate|Force|DryRun)$/);
  const instances = namedInstances(lifecycle, params);
  const hibernate = flag(params, 'Hibernate');
  if (flag(params, 'DryRun')) throw dryRun();
  for (const i of instances) {
    if (i.market === 'spot') {
      throw new Ec2ApiError('UnsupportedOperation', `You can't stop the Spot Instance '${i.instanceId}' because it is associated with a one-time Spot Instance request. ` +
        'You can only stop Spot Instances associated with persistent Spot Instance requests.');
    }
    if (i.state === 'pending' && i.starts === 0) {
      throw new Ec2ApiError('IncorrectInstanceState', `Instance '${i.instanceId}' cannot be stopped as it has never reached the 'running' state.`);
    }
    if (['pending', 'shutting-down', 'terminated'].includes(i.state)) {
      throw new Ec2ApiError('IncorrectInstanceState', `This instance '${i.instanceId}' is not in a state from which it can be stopped.`);
    }
    if (hibernate && i.state === 'running' && !i.launchTemplate.data.hibernationConfigured) {
      throw new Ec2ApiError('UnsupportedHibernationConfiguration',
        `The instance can't be hibernated because it was not configured at launch for hibernation: ${i.instanceId}`);
    }
  }
  return stateChanges(instances.map(({ instanceId }) => ({ instanceId, ...lifecycle.stop(instanceId, hibernate ? 'hibernate' : 'user') })));
}

/**
 * StartInstances (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_StartInstances.html): stopped → pending → running; a pending
 * or running instance is reported unchanged (stackshy/cloudemu #153 on EC2's behaviour). A stopping, shutting-down or terminated instance is
 * refused with IncorrectInstanceState "…is not in a state from which it can be started" (canonical/ubuntu-pro-client #1697), and the whole
 * call fails: one refused instance leaves the others stopped (cloud-custodian #3143). A stopped instance holds no capacity; when its pool has
 * none (the capacity model, or the seeded `startCapacityErrorRate`) the call fails with InsufficientInstanceCapacity "Insufficient capacity.",
 * a server error (500; errors-overview.html lists it among the server error codes) and nothing starts.
 */
export function startInstances(lifecycle: InstanceLifecycle, capacity: CapacityModel, faults: Ec2Faults, params: QueryParams): XmlObject {
  onlyParameters(params, 'StartInstances', /^DryRun$/);
  const instances = namedInstances(lifecycle, params);
  if (flag(params, 'DryRun')) throw dryRun();
  for (const i of instances) {
    if (!['stopped', 'pending', 'running'].includes(i.state)) {
      throw new Ec2ApiError('IncorrectInstanceState', `The instance '${i.instanceId}' is not in a state from which it can be started.`);
    }
  }
  const reserved = new Map<string, number>();
  for (const i of instances.filter((s) => s.state === 'stopped')) {
    const key = JSON.stringify(poolOf(i));
    const taken = reserved.get(key) ?? 0;
    if (capacity.available(poolOf(i), taken) < 1 || faults.startCapacityFault()) throw new Ec2ApiError('InsufficientInstanceCapacity', 'Insufficient capacity.', 500);
    reserved.set(key, taken + 1);
  }
  return stateChanges(instances.map(({ instanceId }) => ({ instanceId, ...lifecycle.start(instanceId) })));
}

function renderInstance(i: InstanceRecord): XmlObject {
  return {
    instanceId: i.instanceId,
    imageId: i.imageId,
    instanceState: renderState(i.state),
    instanceType: i.instanceType,
    launchTime: new Date(i.launchTime).toISOString(),
    placement: { availabilityZone: i.availabilityZone, tenancy: 'default' },
    reason: i.stateTransitionReason ?? '',
    stateReason: i.stateReason,
    // No `on-demand` value exists for instanceLifecycle: on-demand instances omit it (reference/aws.md 2.1).
    instanceLifecycle: i.market === 'spot' ? 'spot' : undefined,
    tagSet: Object.entries(i.tags).map(([key, value]) => ({ key, value })),
    rootDeviceType: 'ebs',
    rootDeviceName: ROOT_DEVICE_NAME,
    // The root volume while it exists; a terminated instance lists none (API_InstanceBlockDeviceMapping: `ebs`, `volumeId`).
    blockDeviceMapping: i.state === 'terminated' ? [] : [{
      deviceName: ROOT_DEVICE_NAME,
      ebs: { volumeId: i.rootVolume.volumeId, status: 'attached', attachTime: new Date(i.launchTime).toISOString(), deleteOnTermination: true },
    }],
    hibernationOptions: { configured: i.launchTemplate.data.hibernationConfigured === true },
  };
}
