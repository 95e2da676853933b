// The EC2 simulator: an EC2 Query endpoint the real `@aws-sdk/client-ec2` talks to, a simulated
// IMDSv2 per instance, EventBridge-shaped instance events, and seeded fault injection.
import { Ec2Authorizer, Ec2FleetFacts, FleetLaunchKey } from './authorization';
import { CapacityModel, CapacityOptions, CapacityRule, Ec2Quotas, MarketUsage } from './capacity';
import { allInstanceTypes } from './catalog';
import { CredentialIdentity, CredentialStore } from './credentials';
import { Ec2EventListener, Ec2InstanceEvent, EventBus, spotInterruptionWarningEvent, stateChangeEvent } from './events';
import { Ec2FaultOptions, Ec2Faults } from './faults';
import { FleetService } from './fleet';
import { parseFleetRequest, readTags } from './fleet-request';
import { IdGenerator } from './ids';
import { ImdsServer, ImdsStats } from './imds';
import { InstanceApi } from './instance-api';
import { InstanceLifecycle, InstanceRecord } from './instances';
import { LaunchTemplateData, LaunchTemplateRegistration, LaunchTemplateRegistry, LaunchTemplateVersion } from './launch-templates';
import { QueryParams } from './query';
import { ApiCallCounts, Ec2ApiServer } from './server';
import { InstanceStateName, InstanceTypeInfo, Market, SubnetInfo, tagsToObject } from './types';
import { SeededRandom } from '../common/random';
import { ScaledClock, SimClock } from '../common/time';

export * from './authorization';
export * from './capacity';
export * from './credentials';
export * from './errors';
export * from './events';
export * from './faults';
export * from './launch-templates';
export * from './types';
export { allInstanceTypes, DEFAULT_INSTANCE_TYPES, describeInstanceType } from './catalog';
export type { ApiCallCounts } from './server';
export type { ImdsStats } from './imds';

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
  /** The types the region knows. @default every type aws-cdk-lib's InstanceClass × InstanceSize names (allInstanceTypes()) */
  readonly instanceTypes?: readonly InstanceTypeInfo[];
  /** Pool sizes and quotas. @default unlimited */
  readonly capacity?: CapacityOptions;
  readonly faults?: Ec2FaultOptions;
  /** How long terminated instances stay visible to DescribeInstances (simulated). @default one hour */
  readonly terminatedVisibleForMs?: number;
  /** How long a CreateFleet ClientToken is remembered (simulated). @default forever */
  readonly clientTokenTtlMs?: number;
  /** Lifetime of instance role credentials (simulated). @default six hours */
  readonly credentialLifetimeMs?: number;
  /** Where failures of event and hook listeners go. @default console.error */
  readonly onListenerError?: (err: unknown, context: string) => void;
  /** IAM: decides each call before it runs (see ./authorization.ts). @default every call allowed */
  readonly authorize?: Ec2Authorizer;
}

/** A read-only snapshot of an instance. */
export interface InstanceView {
  readonly instanceId: string;
  readonly state: InstanceStateName;
  readonly market: Market;
  readonly instanceType: string;
  readonly availabilityZone: string;
  readonly subnetId: string;
  readonly imageId: string;
  readonly privateIpAddress: string;
  /** Simulated epoch ms. */
  readonly launchTime: number;
  readonly tags: Readonly<Record<string, string>>;
  readonly fleetId: string;
  readonly launchTemplateId: string;
  readonly launchTemplateVersion: number;
  readonly stateReason?: { readonly code: string; readonly message: string };
  /** Set once the spot interruption warning went out; `time` is when it is reclaimed (simulated ms). */
  readonly interruption?: { readonly action: string; readonly time: number };
}

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

export class Ec2Simulator {
  readonly clock: SimClock;
  readonly region: string;
  readonly accountId: string;
  readonly faults: Ec2Faults;
  readonly subnets: readonly SubnetInfo[];

  private readonly capacity: CapacityModel;
  private readonly fleetService: FleetService;
  private readonly templates: LaunchTemplateRegistry;
  private readonly catalog: readonly InstanceTypeInfo[];
  private readonly lifecycle: InstanceLifecycle;
  private readonly credentials: CredentialStore;
  private readonly bus: EventBus;
  private readonly api: Ec2ApiServer;
  private readonly imds: ImdsServer;
  private readonly eventIds: IdGenerator;
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
    this.eventIds = new IdGenerator(random.fork('event-ids'));
    this.faults = new Ec2Faults(random.fork('faults'), options.faults);
    this.capacity = new CapacityModel(options.capacity);
    this.templates = new LaunchTemplateRegistry(resourceIds);
    this.credentials = new CredentialStore(this.clock, this.accountId, options.credentialLifetimeMs);
    this.bus = new EventBus(() => this.faults.eventFate(), (err) => this.reportListenerError(err, 'event'));
    this.lifecycle = new InstanceLifecycle(this.clock, this.faults, {
      stateChanged: (instance, previous) => this.onStateChanged(instance, previous),
      interruptionWarning: (instance) => this.bus.publish(spotInterruptionWarningEvent(
        this.eventContext(), instance.instanceId, instance.availabilityZone, instance.interruption!.action)),
    }, options.terminatedVisibleForMs ?? 3_600_000);
    this.catalog = options.instanceTypes ?? allInstanceTypes();
    const fleets = this.fleetService = new FleetService({
      clock: this.clock,
      ids: resourceIds,
      templates: this.templates,
      lifecycle: this.lifecycle,
      catalog: this.catalog,
      subnets: this.subnets,
      capacity: this.capacity,
      faults: this.faults,
      clientTokenTtlMs: options.clientTokenTtlMs ?? Infinity,
    });
    const instanceApi = new InstanceApi(this.lifecycle, fleets, this.accountId);
    this.api = new Ec2ApiServer({
      handlers: {
        CreateFleet: (params, ctx) => fleets.createFleet(params, ctx.throttledInResponse, ctx.decision),
        DescribeFleets: (params) => fleets.describeFleets(params),
        DescribeInstances: (params) => instanceApi.describeInstances(params),
        TerminateInstances: (params) => instanceApi.terminateInstances(params),
        CreateTags: (params) => instanceApi.createTags(params),
      },
      faults: this.faults,
      ids: new IdGenerator(random.fork('request-ids')),
      accountId: this.accountId,
      onInternalError: (err) => console.error('EC2 simulator: internal error', err),
      authorize: options.authorize && ((action, params, authorization) => options.authorize!({
        action,
        params,
        accessKeyId: /Credential=([^/]+)\//.exec(authorization ?? '')?.[1],
        fleet: action === 'CreateFleet' ? this.fleetFacts(params) : undefined,
        instanceTags: (id) => Object.fromEntries(this.lifecycle.get(id)?.tags ?? []),
      })),
    });
    this.imds = new ImdsServer({
      clock: this.clock,
      region: this.region,
      accountId: this.accountId,
      instance: (id) => this.lifecycle.get(id),
      credentials: this.credentials,
    });
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

  imdsBaseUrlFor(instanceId: string): string {
    return this.imds.baseUrlFor(instanceId);
  }

  /** What a CreateFleet request names, for IAM; undefined when the request is invalid (CreateFleet then refuses it). */
  private fleetFacts(params: QueryParams): Ec2FleetFacts | undefined {
    let request;
    try {
      request = parseFleetRequest(params, this.templates, this.subnets, this.catalog);
    } catch {
      return undefined;
    }
    const markets = (['spot', 'on-demand'] as const).filter((m) => request.need[m] > 0);
    const launches: FleetLaunchKey[] = [];
    const subnetIds = new Set<string>();
    const overrideImageIds = new Set<string>();
    for (const config of request.configs) {
      for (const override of config.overrides.length > 0 ? config.overrides : [{}] as const) {
        const o = override as { subnetId?: string; availabilityZone?: string; imageId?: string };
        const subnets = o.subnetId !== undefined
          ? this.subnets.filter((sn) => sn.subnetId === o.subnetId)
          : this.subnets.filter((sn) => o.availabilityZone === undefined || sn.availabilityZone === o.availabilityZone);
        if (o.imageId !== undefined) overrideImageIds.add(o.imageId);
        for (const subnet of subnets) {
          subnetIds.add(subnet.subnetId);
          for (const market of markets) {
            launches.push({
              launchTemplateId: config.template.launchTemplateId,
              subnetId: subnet.subnetId,
              imageId: o.imageId ?? config.template.data.imageId,
              imageFromOverride: o.imageId !== undefined,
              market,
            });
          }
        }
      }
    }
    const tags = { fleet: {} as Record<string, string>, instance: {} as Record<string, string>, volume: {} as Record<string, string> };
    for (const spec of params.list('TagSpecification')) {
      const type = spec.string('ResourceType');
      if (type === 'fleet' || type === 'instance' || type === 'volume') Object.assign(tags[type], Object.fromEntries(readTags(spec, 'Tag')));
    }
    return { templates: request.configs.map((c) => c.template), launches, subnetIds: [...subnetIds], overrideImageIds: [...overrideImageIds], tags };
  }

  registerLaunchTemplate(registration: LaunchTemplateRegistration): LaunchTemplateVersion {
    return this.templates.register(registration);
  }

  createLaunchTemplateVersion(idOrName: string, data: LaunchTemplateData, options?: { makeDefault?: boolean }): LaunchTemplateVersion {
    return this.templates.createVersion(idOrName, data, options);
  }

  setCapacity(rule: CapacityRule): void {
    this.capacity.setCapacity(rule);
  }

  setQuotas(quotas: Ec2Quotas): void {
    this.capacity.setQuotas(quotas);
  }

  capacityUsage(market: Market): MarketUsage {
    return this.capacity.usageOf(market);
  }

  /** EventBridge-shaped instance events (best effort: fault injection may drop or repeat them). */
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
    return instance ? view(instance) : undefined;
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
    return this.credentials.lookup(accessKeyId);
  }

  /** CreateFleet's per-override errors so far, by code (request-level errors are in apiCalls()). */
  launchErrorCodes(): Record<string, number> {
    return this.fleetService.launchErrorCodes();
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
      this.capacity.acquire(pool, instance.vcpus);
      this.holdingCapacity.add(instance.instanceId);
    } else if ((instance.state === 'stopped' || instance.state === 'terminated') && this.holdingCapacity.delete(instance.instanceId)) {
      this.capacity.release(pool, instance.vcpus);
    }
    this.bus.publish(stateChangeEvent(this.eventContext(), instance.instanceId, instance.state));
    const change: InstanceStateChange = { instance: view(instance), previousState: previous, state: instance.state };
    for (const listener of [...this.stateListeners]) {
      try {
        listener(change);
      } catch (err) {
        this.reportListenerError(err, 'state-change');
      }
    }
    if (instance.state === 'running') this.announceRunning(instance);
  }

  private announceRunning(instance: InstanceRecord): void {
    const info: InstanceRunning = {
      instance: view(instance),
      instanceId: instance.instanceId,
      userData: instance.launchTemplate.data.userData,
      tags: tagsToObject(instance.tags),
      imdsUrl: this.imds.baseUrlFor(instance.instanceId),
      poweroff: () => this.poweroff(instance.instanceId),
    };
    for (const listener of [...this.runningListeners]) {
      Promise.resolve()
        .then(() => listener(info))
        .catch((err: unknown) => this.reportListenerError(err, 'instance-running'));
    }
  }

  private eventContext() {
    return { account: this.accountId, region: this.region, id: this.eventIds.uuid(), timeMs: this.clock.now() };
  }
}

function view(i: InstanceRecord): InstanceView {
  return {
    instanceId: i.instanceId,
    state: i.state,
    market: i.market,
    instanceType: i.instanceType,
    availabilityZone: i.availabilityZone,
    subnetId: i.subnetId,
    imageId: i.imageId,
    privateIpAddress: i.privateIpAddress,
    launchTime: i.launchTime,
    tags: tagsToObject(i.tags),
    fleetId: i.fleetId,
    launchTemplateId: i.launchTemplate.launchTemplateId,
    launchTemplateVersion: i.launchTemplate.versionNumber,
    stateReason: i.stateReason,
    interruption: i.interruption,
  };
}
