// The EC2 simulator: the EC2 Query endpoint `@aws-sdk/client-ec2` talks to (CreateFleet, DescribeInstances,
// TerminateInstances, StopInstances, StartInstances, CreateTags, and DescribeImages for the status command), a simulated IMDSv2 per
// instance, EventBridge-shaped instance events, seeded faults and what EC2 would bill.
import { IncomingMessage, ServerResponse } from 'http';
import { BillingMeter, BillingSummary, InstanceBill } from './billing';
import { CapacityModel, CapacityRule, Ec2FaultOptions, Ec2Faults } from './faults';
import { FleetService } from './fleet';
import { ImdsServer } from './imds';
import { describeInstances, InstanceLifecycle, InstanceRecord, poolOf, startInstances, stopInstances, terminateInstances } from './instances';
import { LaunchTemplateRegistration, LaunchTemplateRegistry, ROOT_DEVICE_NAME } from './launch-templates';
import { createTags, resourceTags } from './tags';
import { Ec2Authorizer, Ec2Decision, Ec2InstanceEvent, IdGenerator, InstanceStateName, isoSeconds, SubnetInfo } from './types';
import { apiErrors, Ec2ApiError, QueryParams, renderEc2Error, renderEc2Response, unauthorizedMessage, XmlObject } from './wire';
import { LoopbackService, readBody, tally } from '../common/http';
import { SeededRandom } from '../common/random';
import { ScaledClock, SimClock } from '../common/time';

export * from './faults';
export type { BillingSummary, InstanceBill } from './billing';
export * from './launch-templates';
export * from './types';
export { DEFAULT_INSTANCE_TYPES, describeInstanceType } from './catalog';
export { Ec2ApiError, unauthorizedMessage } from './wire';

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
  /** Pool sizes. @default every pool unlimited */
  readonly capacity?: { readonly rules?: readonly CapacityRule[] };
  readonly faults?: Ec2FaultOptions;
  /** Where failures of event and hook listeners go. @default console.error */
  readonly onListenerError?: (err: unknown, context: string) => void;
  /** IAM: decides each call before it runs (see ./types.ts). @default every call allowed */
  readonly authorize?: Ec2Authorizer;
}

/** Calls by action; `throttled` were refused with RequestLimitExceeded (503); `errorsByCode` counts request-level errors, throttling included. */
const noCalls = () => ({ total: 0, byAction: {} as Record<string, number>, throttled: 0, errorsByCode: {} as Record<string, number> });

/** A read-only snapshot of an instance (the instance profile, user data and the rest are on `launchTemplate`). */
type InstanceView = Readonly<InstanceRecord>;
type Listener<T> = (value: T) => void | Promise<void>;

/**
 * What the sandbox needs to run an instance's OS each time it reaches `running`: the template's user data (decoded), the URL that
 * replaces `http://169.254.169.254`, and `poweroff`, the OS powering the instance off (instance-initiated shutdown). `starts` counts the
 * StartInstances behind this run (0: the launch). `resumed`: the instance was hibernated, so its OS resumes where it stopped and runs no
 * boot scripts; otherwise the OS boots afresh and per-boot scripts run again (the user data, as a cloud-init per-boot script would).
 */
export type InstanceRunning = Readonly<{
  instanceId: string;
  imageId: string;
  userData?: string;
  tags: Readonly<Record<string, string>>;
  imdsUrl: string;
  starts: number;
  resumed: boolean;
  poweroff(): void;
}>;

/** `previousState` is undefined for the initial `pending`. */
export type InstanceStateChange = { readonly instance: InstanceView; readonly previousState?: InstanceStateName; readonly state: InstanceStateName };

const view = (i: InstanceRecord): InstanceView => ({ ...i, rootVolume: { ...i.rootVolume } });

function subscribe<T>(listeners: Set<T>, listener: T): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

// The EC2 endpoint (`new EC2Client({ endpoint: sim.url, … })`): counts every call, throttles before an action runs (so a throttled
// call changes nothing and consumes no ClientToken), then asks IAM.
export class Ec2Simulator extends LoopbackService {
  readonly clock: SimClock;
  readonly region: string;
  readonly accountId: string;
  readonly faults: Ec2Faults;
  readonly subnets: readonly SubnetInfo[];

  /** Pool sizes; tests may add a rule with `capacity.setCapacity`. */
  readonly capacity: CapacityModel;
  /** The IMDS server: an instance's IMDS is at `${imds.url}/${instanceId}`; `imds.stats()` counts answers by status. */
  readonly imds: ImdsServer;
  private readonly fleets: FleetService;
  private readonly templates: LaunchTemplateRegistry;
  private readonly lifecycle: InstanceLifecycle;
  private readonly requestIds: IdGenerator;
  private readonly eventIds: IdGenerator;
  private counts = noCalls();
  private readonly holdingCapacity = new Set<string>();
  private readonly billing = new BillingMeter();
  /** The runner images that exist (the sandbox's stand-ins for the pipeline's builds), by AMI id. */
  private readonly images = new Map<string, { readonly architecture: string; readonly name: string; readonly createdAt: number }>();
  private readonly eventListeners = new Set<Listener<Ec2InstanceEvent>>();
  private readonly eventHistory: Ec2InstanceEvent[] = [];
  private closed = false;
  private readonly runningListeners = new Set<Listener<InstanceRunning>>();
  private readonly stateListeners = new Set<(change: InstanceStateChange) => void>();
  private readonly reportListenerError: (err: unknown, context: string) => void;

  constructor(private readonly options: Ec2SimulatorOptions = {}) {
    super();
    this.clock = options.clock ?? new ScaledClock(1);
    this.region = options.region ?? 'us-east-1';
    this.accountId = options.accountId ?? '123456789012';
    this.subnets = options.subnets ?? ['a', 'b', 'c'].map((zone, n) => ({ subnetId: `subnet-0sandbox00000000${n + 1}`, availabilityZone: `${this.region}${zone}` }));
    this.reportListenerError = options.onListenerError ?? ((err, context) => console.error(`EC2 simulator: a ${context} listener failed`, err));
    const random = new SeededRandom(options.seed ?? 1);
    const resourceIds = new IdGenerator(random.fork('resource-ids'));
    this.requestIds = new IdGenerator(random.fork('request-ids'));
    this.eventIds = new IdGenerator(random.fork('event-ids'));
    this.faults = new Ec2Faults(random.fork('faults'), options.faults);
    this.capacity = new CapacityModel([...options.capacity?.rules ?? []]);
    this.templates = new LaunchTemplateRegistry(resourceIds);
    this.lifecycle = new InstanceLifecycle(this.clock, this.faults, {
      stateChanged: (instance, previous) => this.onStateChanged(instance, previous),
      // The warning's resource ARN has the zone in the region slot and no account, as in the EC2 docs' example (reference/aws.md 3.3).
      interruptionWarning: (i) => this.publish('EC2 Spot Instance Interruption Warning', `arn:aws:ec2:${i.availabilityZone}:instance/${i.instanceId}`,
        { 'instance-id': i.instanceId, 'instance-action': 'terminate' }),
    }, new IdGenerator(random.fork('volume-ids')));
    this.fleets = new FleetService(resourceIds, this.templates, this.lifecycle, this.subnets, this.capacity, this.faults);
    this.imds = new ImdsServer({ clock: this.clock, region: this.region, accountId: this.accountId, instance: (id) => this.lifecycle.get(id) });
  }

  override async start(): Promise<void> {
    await super.start();
    await this.imds.start();
  }

  /** Stops both servers, cancels every pending transition and stops delivering events. */
  override async stop(): Promise<void> {
    this.lifecycle.close();
    this.closed = true;
    await super.stop();
    await this.imds.stop();
  }

  registerLaunchTemplate(registration: LaunchTemplateRegistration) {
    return this.templates.register(registration);
  }

  /** EventBridge-shaped instance events, delivered on a later tick in publication order. */
  onEvent(listener: Listener<Ec2InstanceEvent>): () => void {
    return subscribe(this.eventListeners, listener);
  }

  /** Every event emitted so far. */
  events(): readonly Ec2InstanceEvent[] {
    return [...this.eventHistory];
  }

  /** Called when an instance reaches `running`: the moment its OS would run the user data. */
  onInstanceRunning(listener: Listener<InstanceRunning>): () => void {
    return subscribe(this.runningListeners, listener);
  }

  /** Every state transition, reliably and synchronously (for the sandbox's own bookkeeping, not EventBridge). */
  onInstanceStateChange(listener: (change: InstanceStateChange) => void): () => void {
    return subscribe(this.stateListeners, listener);
  }

  instances(): InstanceView[] {
    return this.lifecycle.all().map(view);
  }

  /** The most instances live at once (pending, running, stopping or stopped: `LIVE_STATES`) since the simulator started. */
  peakLiveInstances(): number {
    return this.lifecycle.peakLive();
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
  credentialsFor(accessKeyId: string) {
    return this.imds.credentialsFor(accessKeyId);
  }

  /** CreateFleet's per-override errors so far, by code (request-level errors are in apiCalls()). */
  launchErrorCodes(): Record<string, number> {
    return this.fleets.launchErrorCodes();
  }

  /** What EC2 would have billed one instance so far (see ./billing.ts); undefined for an id it never launched. */
  instanceBill(instanceId: string): InstanceBill | undefined {
    return this.billing.bill(instanceId, this.clock.now());
  }

  /** Every instance's bill so far, summed: compute seconds by market, root-volume GiB-seconds and the part of them while stopped. */
  billingSummary(): BillingSummary {
    return this.billing.summary(this.clock.now());
  }

  apiCalls(): Readonly<ReturnType<typeof noCalls>> {
    return { ...this.counts, byAction: { ...this.counts.byAction }, errorsByCode: { ...this.counts.errorsByCode } };
  }

  resetApiCalls(): void {
    this.counts = noCalls();
  }

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = this.requestIds.uuid();
    const send = (status: number, body: string) => res.writeHead(status, { 'content-type': 'text/xml;charset=UTF-8', 'x-amzn-requestid': requestId })
      .end(`<?xml version="1.0" encoding="UTF-8"?>\n${body}`);
    try {
      const params = new QueryParams(new Map(new URLSearchParams((await readBody(req)).toString('utf8'))));
      const action = params.string('Action');
      if (action === undefined) throw new Ec2ApiError('MissingAction', 'The request must contain the parameter Action');
      this.counts.total += 1;
      tally(this.counts.byAction, action);
      const handlers: Record<string, (decision?: Ec2Decision) => XmlObject> = {
        CreateFleet: (decision) => this.fleets.createFleet(params, decision),
        DescribeInstances: () => describeInstances(this.lifecycle, this.accountId, params),
        TerminateInstances: () => terminateInstances(this.lifecycle, params),
        StopInstances: () => stopInstances(this.lifecycle, params),
        StartInstances: () => startInstances(this.lifecycle, this.capacity, this.faults, params),
        DescribeImages: () => this.describeImages(params),
        CreateTags: () => createTags(this.lifecycle, params),
      };
      const handler = Object.prototype.hasOwnProperty.call(handlers, action) ? handlers[action] : undefined;
      if (!handler) throw new Ec2ApiError('InvalidAction', `The action ${action} is not valid for this web service.`);
      if (params.string('Version') === undefined) throw apiErrors.missingParameter('Version');
      if (this.faults.throttled(action)) {
        this.counts.throttled += 1;
        // 503, as observed for CreateFleet (reference/aws.md 1.7).
        throw new Ec2ApiError('RequestLimitExceeded', `Request limit exceeded. Account ${this.accountId} has been throttled on ec2:${action} ` +
          'because it exceeded its request rate limit.', 503);
      }
      const decision = await this.options.authorize?.({
        action,
        params,
        accessKeyId: /Credential=([^/]+)\//.exec(req.headers.authorization ?? '')?.[1],
        fleet: action === 'CreateFleet' ? this.fleets.facts(params) : undefined,
        instanceTags: (id) => this.lifecycle.get(id)?.tags ?? {},
        resourceTags: (id) => resourceTags(this.lifecycle, id),
        instanceFacts: (id) => {
          const i = this.lifecycle.get(id);
          return i && { instanceType: i.instanceType, availabilityZone: i.availabilityZone, market: i.market };
        },
      });
      if (decision?.denied !== undefined) throw new Ec2ApiError('UnauthorizedOperation', unauthorizedMessage(decision.denied, this.requestIds.uuid()), 403);
      send(200, renderEc2Response(action, requestId, handler(decision)));
    } catch (err) {
      if (!(err instanceof Ec2ApiError)) console.error('EC2 simulator: internal error', err);
      const e = err instanceof Ec2ApiError ? err : new Ec2ApiError('InternalError', 'An internal error has occurred', 500, { cause: err });
      tally(this.counts.errorsByCode, e.code);
      send(e.status, renderEc2Error(e, requestId));
    }
  }

  /** An AMI that exists from now on, as an image build registers it. */
  registerImage(imageId: string, architecture: 'x86_64' | 'arm64', name: string): void {
    this.images.set(imageId, { architecture, name, createdAt: this.clock.now() });
  }

  /**
   * DescribeImages by ImageId.N, as the status command asks: an id that names no image fails the whole call
   * (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeImages.html; errors: InvalidAMIID.NotFound).
   */
  private describeImages(params: QueryParams): XmlObject {
    if (params.names().some((n) => !/^(Action|Version|ImageId\.\d+)$/.test(n))) throw apiErrors.unsupported('The EC2 simulator models DescribeImages by ImageId.N only.');
    const ids = params.strings('ImageId');
    const missing = ids.filter((id) => !this.images.has(id));
    if (missing.length > 0) throw new Ec2ApiError('InvalidAMIID.NotFound', `The image id '[${missing.join(', ')}]' does not exist`);
    return {
      imagesSet: ids.map((imageId) => {
        const image = this.images.get(imageId)!;
        return {
          imageId,
          imageLocation: `${this.accountId}/${image.name}`,
          imageState: 'available',
          imageOwnerId: this.accountId,
          creationDate: isoSeconds(image.createdAt),
          isPublic: false,
          architecture: image.architecture,
          imageType: 'machine',
          name: image.name,
          rootDeviceType: 'ebs',
          rootDeviceName: ROOT_DEVICE_NAME,
          virtualizationType: 'hvm',
        };
      }),
    };
  }

  private publish(detailType: Ec2InstanceEvent['detail-type'], resource: string, detail: Ec2InstanceEvent['detail']): void {
    const id = this.eventIds.uuid();
    const time = isoSeconds(this.clock.now());
    const event = { 'version': '0', id, 'detail-type': detailType, 'source': 'aws.ec2', 'account': this.accountId, time, 'region': this.region, 'resources': [resource], detail } as Ec2InstanceEvent;
    this.eventHistory.push(event);
    setImmediate(() => {
      if (!this.closed) this.deliver(this.eventListeners, event, 'event');
    });
  }

  /** Calls each listener on a later microtask; a failure goes to `onListenerError`. */
  private deliver<T>(listeners: Set<Listener<T>>, value: T, context: string): void {
    const report = (err: unknown) => this.reportListenerError(err, context);
    for (const listener of [...listeners]) Promise.resolve().then(() => listener(value)).catch(report);
  }

  private onStateChanged(instance: InstanceRecord, previous: InstanceStateName | undefined): void {
    // An instance holds a unit of its pool from pending (a launch or a start) until it is stopped or terminated.
    if (instance.state === 'pending' && !this.holdingCapacity.has(instance.instanceId)) {
      this.capacity.hold(poolOf(instance), 1);
      this.holdingCapacity.add(instance.instanceId);
    } else if ((instance.state === 'stopped' || instance.state === 'terminated') && this.holdingCapacity.delete(instance.instanceId)) {
      this.capacity.hold(poolOf(instance), -1);
    }
    // A start hands the instance fresh role credentials: the ones IMDS served before stay valid until they expire, as in AWS.
    if (instance.state === 'pending' && previous === 'stopped') this.imds.rotateCredentials(instance.instanceId);
    this.billing.record(instance, previous, this.clock.now());
    this.publish('EC2 Instance State-change Notification', `arn:aws:ec2:${this.region}:${this.accountId}:instance/${instance.instanceId}`,
      { 'instance-id': instance.instanceId, 'state': instance.state });
    for (const listener of [...this.stateListeners]) {
      try {
        listener({ instance: view(instance), previousState: previous, state: instance.state });
      } catch (err) {
        this.reportListenerError(err, 'state-change');
      }
    }
    if (instance.state !== 'running') return;
    const { instanceId, imageId, tags, starts, lastStart, launchTemplate: { data: { userData } } } = instance;
    const imdsUrl = `${this.imds.url}/${instanceId}`;
    const running: InstanceRunning = { instanceId, imageId, userData, tags, imdsUrl, poweroff: () => this.poweroff(instanceId), starts, resumed: lastStart === 'resume' };
    this.deliver(this.runningListeners, running, 'instance-running');
  }
}
