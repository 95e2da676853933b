// The EC2 simulator: an EC2 Query endpoint the real `@aws-sdk/client-ec2` talks to (CreateFleet,
// DescribeInstances, TerminateInstances), a simulated IMDSv2 per instance, EventBridge-shaped
// instance events, and seeded fault injection.
import { Ec2Authorizer } from './authorization';
import { Ec2InstanceEvent, Ec2EventListener, EventBus } from './events';
import { CapacityModel, CapacityOptions, CapacityRule, Ec2FaultOptions, Ec2Faults, MarketUsage } from './faults';
import { FleetService } from './fleet';
import { CredentialIdentity, ImdsServer, ImdsStats } from './imds';
import { InstanceApi } from './instance-api';
import { InstanceLifecycle, InstanceRecord } from './instances';
import { LaunchTemplateRegistration, LaunchTemplateRegistry, LaunchTemplateVersion } from './launch-templates';
import { IdGenerator, InstanceStateName, Market, SubnetInfo } from './types';
import { ApiCallCounts, Ec2ApiServer } from './wire';
import { SeededRandom } from '../common/random';
import { ScaledClock, SimClock } from '../common/time';

export * from './authorization';
export * from './events';
export * from './faults';
export * from './launch-templates';
export * from './types';
export { DEFAULT_INSTANCE_TYPES, describeInstanceType } from './catalog';
export { Ec2ApiError, unauthorizedMessage } from './wire';
export type { ApiCallCounts } from './wire';
export type { CredentialIdentity, ImdsStats } from './imds';

export interface Ec2SimulatorOptions {
  /** @default a real-time ScaledClock */
  readonly clock?: SimClock;
  /** Seeds ids, faults and delays. @default 1 */
  readonly seed?: number;
  /** @default 'us-east-1' */
  readonly region?: string;
  /** @default '123456789012' */
  readonly accountId?: string;
  /** @default one subnet in each of the region's zones a, b and c */
  readonly subnets?: readonly SubnetInfo[];
  /** Pool sizes and quotas. @default unlimited */
  readonly capacity?: CapacityOptions;
  readonly faults?: Ec2FaultOptions;
  /** How long terminated instances stay visible to DescribeInstances (simulated). @default one hour */
  readonly terminatedVisibleForMs?: number;
  /** Where failures of event and hook listeners go. @default console.error */
  readonly onListenerError?: (err: unknown, context: string) => void;
  /** IAM: decides each call before it runs (see ./authorization.ts). @default every call allowed */
  readonly authorize?: Ec2Authorizer;
}

/** A read-only snapshot of an instance (the instance profile, user data and the rest are on `launchTemplate`). */
export type InstanceView = Readonly<InstanceRecord>;

/** What the sandbox needs to boot an instance's simulated OS. */
export interface InstanceRunning {
  readonly instance: InstanceView;
  readonly instanceId: string;
  /** The launch template's user data, decoded; undefined when it has none. */
  readonly userData?: string;
  readonly tags: Readonly<Record<string, string>>;
  /** Replaces `http://169.254.169.254` for this instance. */
  readonly imdsUrl: string;
  /** The OS powers the instance off (instance-initiated shutdown). */
  poweroff(): void;
}

export interface InstanceStateChange {
  readonly instance: InstanceView;
  /** Undefined for the initial `pending`. */
  readonly previousState?: InstanceStateName;
  readonly state: InstanceStateName;
}

const view = (i: InstanceRecord): InstanceView => ({ ...i });

export class Ec2Simulator {
  readonly clock: SimClock;
  readonly region: string;
  readonly accountId: string;
  readonly faults: Ec2Faults;
  readonly subnets: readonly SubnetInfo[];

  private readonly capacity: CapacityModel;
  private readonly fleets: FleetService;
  private readonly templates: LaunchTemplateRegistry;
  private readonly lifecycle: InstanceLifecycle;
  private readonly bus: EventBus;
  private readonly api: Ec2ApiServer;
  private readonly imds: ImdsServer;
  private readonly holdingCapacity = new Set<string>();
  private readonly runningListeners = new Set<(info: InstanceRunning) => void | Promise<void>>();
  private readonly stateListeners = new Set<(change: InstanceStateChange) => void>();
  private readonly reportListenerError: (err: unknown, context: string) => void;

  constructor(options: Ec2SimulatorOptions = {}) {
    this.clock = options.clock ?? new ScaledClock(1);
    this.region = options.region ?? 'us-east-1';
    this.accountId = options.accountId ?? '123456789012';
    this.subnets = options.subnets ?? ['a', 'b', 'c'].map((zone, n) => ({
      subnetId: `subnet-0sandbox00000000${n + 1}`,
      availabilityZone: `${this.region}${zone}`,
    }));
    this.reportListenerError = options.onListenerError ??
      ((err, context) => console.error(`EC2 simulator: a ${context} listener failed`, err));
    const random = new SeededRandom(options.seed ?? 1);
    const resourceIds = new IdGenerator(random.fork('resource-ids'));
    this.faults = new Ec2Faults(random.fork('faults'), options.faults);
    this.capacity = new CapacityModel(options.capacity);
    this.templates = new LaunchTemplateRegistry(resourceIds);
    this.bus = new EventBus(this.accountId, this.region, this.clock, new IdGenerator(random.fork('event-ids')),
      () => this.faults.eventDropped(), (err) => this.reportListenerError(err, 'event'));
    this.lifecycle = new InstanceLifecycle(this.clock, this.faults, {
      stateChanged: (instance, previous) => this.onStateChanged(instance, previous),
      interruptionWarning: (instance) => this.bus.spotInterruptionWarning(instance.instanceId, instance.availabilityZone),
    }, options.terminatedVisibleForMs ?? 3_600_000);
    const fleets = this.fleets = new FleetService({
      ids: resourceIds,
      templates: this.templates,
      lifecycle: this.lifecycle,
      subnets: this.subnets,
      capacity: this.capacity,
      faults: this.faults,
    });
    const instanceApi = new InstanceApi(this.lifecycle, this.accountId);
    const authorize = options.authorize;
    this.api = new Ec2ApiServer({
      handlers: {
        CreateFleet: (params, ctx) => fleets.createFleet(params, ctx.throttledInResponse, ctx.decision),
        DescribeInstances: (params) => instanceApi.describeInstances(params),
        TerminateInstances: (params) => instanceApi.terminateInstances(params),
      },
      faults: this.faults,
      ids: new IdGenerator(random.fork('request-ids')),
      accountId: this.accountId,
      authorize: authorize && ((action, params, authorization) => authorize({
        action,
        params,
        accessKeyId: /Credential=([^/]+)\//.exec(authorization ?? '')?.[1],
        fleet: action === 'CreateFleet' ? fleets.facts(params) : undefined,
        instanceTags: (id) => this.lifecycle.get(id)?.tags ?? {},
      })),
    });
    this.imds = new ImdsServer({ clock: this.clock, region: this.region, accountId: this.accountId, instance: (id) => this.lifecycle.get(id) });
  }

  async start(): Promise<void> {
    await this.api.start();
    await this.imds.start();
  }

  /** Stops both servers, cancels every pending transition and stops delivering events. */
  async stop(): Promise<void> {
    this.lifecycle.stop();
    this.bus.close();
    await this.api.stop();
    await this.imds.stop();
  }

  /** The EC2 endpoint: `new EC2Client({ endpoint: sim.url, … })`. */
  get url(): string {
    return this.api.url;
  }

  /** The IMDS server's root; an instance's IMDS is at `imdsBaseUrlFor(id)`. */
  get imdsUrl(): string {
    return this.imds.url;
  }

  /** The base URL that replaces `http://169.254.169.254` for one instance. */
  imdsBaseUrlFor(instanceId: string): string {
    return `${this.imds.url}/${instanceId}`;
  }

  registerLaunchTemplate(registration: LaunchTemplateRegistration): LaunchTemplateVersion {
    return this.templates.register(registration);
  }

  setCapacity(rule: CapacityRule): void {
    this.capacity.setCapacity(rule);
  }

  capacityUsage(market: Market): MarketUsage {
    return this.capacity.usageOf(market);
  }

  /** EventBridge-shaped instance events (best effort: fault injection may drop them). */
  onEvent(listener: Ec2EventListener): () => void {
    return this.bus.subscribe(listener);
  }

  /** Every event emitted so far, including dropped ones. */
  events(): readonly Ec2InstanceEvent[] {
    return this.bus.history();
  }

  /** Called when an instance reaches `running`: the moment its OS would run the user data. */
  onInstanceRunning(listener: (info: InstanceRunning) => void | Promise<void>): () => void {
    this.runningListeners.add(listener);
    return () => this.runningListeners.delete(listener);
  }

  /** Every state transition, reliably and synchronously (for the sandbox's own bookkeeping, not EventBridge). */
  onInstanceStateChange(listener: (change: InstanceStateChange) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  instances(): InstanceView[] {
    return this.lifecycle.all().map(view);
  }

  instance(instanceId: string): InstanceView | undefined {
    const instance = this.lifecycle.get(instanceId);
    return instance && view(instance);
  }

  /** The instance's OS powers it off; the launch template's shutdown behaviour decides what follows. */
  poweroff(instanceId: string): void {
    this.lifecycle.shutdownFromOs(instanceId);
  }

  /** Interruption warning now, reclaimed two simulated minutes later. Spot instances only. */
  interrupt(instanceId: string): InstanceView {
    return view(this.lifecycle.interrupt(instanceId));
  }

  /** The instance and role behind an access key id IMDS handed out (for a SigV4 verifier). */
  credentialsFor(accessKeyId: string): CredentialIdentity | undefined {
    return this.imds.credentialsFor(accessKeyId);
  }

  /** CreateFleet's per-override errors so far, by code (request-level errors are in apiCalls()). */
  launchErrorCodes(): Record<string, number> {
    return this.fleets.launchErrorCodes();
  }

  apiCalls(): ApiCallCounts {
    return this.api.calls();
  }

  resetApiCalls(): void {
    this.api.resetCalls();
  }

  imdsStats(): ImdsStats {
    return this.imds.stats();
  }

  private onStateChanged(instance: InstanceRecord, previous: InstanceStateName | undefined): void {
    const pool = { instanceType: instance.instanceType, availabilityZone: instance.availabilityZone, market: instance.market };
    if (previous === undefined) {
      this.capacity.hold(pool, instance.vcpus, 1);
      this.holdingCapacity.add(instance.instanceId);
    } else if ((instance.state === 'stopped' || instance.state === 'terminated') && this.holdingCapacity.delete(instance.instanceId)) {
      this.capacity.hold(pool, instance.vcpus, -1);
    }
    this.bus.stateChange(instance.instanceId, instance.state);
    const change: InstanceStateChange = { instance: view(instance), previousState: previous, state: instance.state };
    for (const listener of [...this.stateListeners]) {
      try {
        listener(change);
      } catch (err) {
        this.reportListenerError(err, 'state-change');
      }
    }
    if (instance.state !== 'running') return;
    const info: InstanceRunning = {
      instance: view(instance),
      instanceId: instance.instanceId,
      userData: instance.launchTemplate.data.userData,
      tags: instance.tags,
      imdsUrl: this.imdsBaseUrlFor(instance.instanceId),
      poweroff: () => this.poweroff(instance.instanceId),
    };
    for (const listener of [...this.runningListeners]) {
      Promise.resolve().then(() => listener(info)).catch((err: unknown) => this.reportListenerError(err, 'instance-running'));
    }
  }
}
