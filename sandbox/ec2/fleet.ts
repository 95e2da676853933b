// CreateFleet (Type=instant) and DescribeFleets: validate, plan, launch, answer — and remember each
// ClientToken so a retry replays the first answer instead of launching again (reference/aws.md 1.4).
import { Ec2Decision } from './authorization';
import { apiErrors, Ec2ApiError } from './errors';
import { planFleet, PlanContext } from './fleet-plan';
import { FleetRequest, parseFleetRequest } from './fleet-request';
import { IdGenerator } from './ids';
import { InstanceLifecycle, InstanceRecord } from './instances';
import { LaunchTemplateRegistry } from './launch-templates';
import { QueryParams } from './query';
import { renderLaunchTemplateAndOverrides, renderTags } from './render';
import { SubnetInfo, Tags } from './types';
import { XmlObject, XmlValue } from './xml';
import { SimClock } from '../common/time';

export interface FleetServiceDeps extends PlanContext {
  readonly clock: SimClock;
  readonly ids: IdGenerator;
  readonly templates: LaunchTemplateRegistry;
  readonly lifecycle: InstanceLifecycle;
  /** How long a ClientToken is remembered (simulated ms); EC2 documents no expiry. */
  readonly clientTokenTtlMs: number;
}

interface FleetRecord {
  readonly fleetId: string;
  readonly clientToken?: string;
  readonly createTime: number;
  readonly request: FleetRequest;
  readonly tags: Tags;
  readonly errorSet: XmlValue[];
  readonly instanceSet: XmlValue[];
  readonly fulfilled: { readonly total: number; readonly onDemand: number };
}

interface TokenEntry {
  readonly fingerprint: string;
  readonly fleet: FleetRecord;
  readonly at: number;
}

export class FleetService {
  private readonly fleets = new Map<string, FleetRecord>();
  private readonly tokens = new Map<string, TokenEntry>();
  private readonly ipCounters = new Map<string, number>();

  constructor(private readonly deps: FleetServiceDeps) {}

  /**
   * Handles one CreateFleet. Runs synchronously, so two concurrent calls with one token cannot both
   * launch. `throttledInResponse` answers 200 with a single `RequestLimitExceeded` item and no
   * instances, as EC2 sometimes does; like any completed call it consumes the token [I].
   */
  createFleet(params: QueryParams, throttledInResponse = false, decision?: Ec2Decision): XmlObject {
    const fingerprint = params.fingerprint(['ClientToken']);
    const token = params.string('ClientToken');
    const now = this.deps.clock.now();
    if (token !== undefined) {
      const seen = this.tokens.get(token);
      if (seen && now - seen.at <= this.deps.clientTokenTtlMs) {
        if (seen.fingerprint !== fingerprint) throw apiErrors.idempotentParameterMismatch();
        return this.renderCreateResult(seen.fleet);
      }
    }
    const request = parseFleetRequest(params, this.deps.templates, this.deps.subnets, this.deps.catalog);
    const fleet = throttledInResponse ? this.throttledFleet(request) : this.launch(request, decision);
    this.fleets.set(fleet.fleetId, fleet);
    // The token is consumed even when nothing launched (runs-on #251, reference/aws.md 1.4).
    if (token !== undefined) this.tokens.set(token, { fingerprint, fleet, at: now });
    return this.renderCreateResult(fleet);
  }

  /** Per-override launch errors of every fleet so far, by code (a replayed ClientToken counts once). */
  launchErrorCodes(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const fleet of this.fleets.values()) {
      for (const error of fleet.errorSet) {
        const code = String((error as { errorCode?: unknown }).errorCode);
        counts[code] = (counts[code] ?? 0) + 1;
      }
    }
    return counts;
  }

  describeFleets(params: QueryParams): XmlObject {
    if (params.has('Filter')) throw apiErrors.unsupported('The EC2 simulator supports DescribeFleets with FleetId.N only.');
    const ids = params.strings('FleetId');
    const missing = ids.filter((id) => !this.fleets.has(id));
    if (missing.length > 0) throw new Ec2ApiError('InvalidFleetId.NotFound', `The fleet ID '${missing.join(', ')}' does not exist`);
    const fleets = ids.length > 0 ? ids.map((id) => this.fleets.get(id)!) : [...this.fleets.values()];
    return {
      fleetSet: fleets.map((f) => ({
        activityStatus: 'fulfilled',
        createTime: new Date(f.createTime),
        fleetId: f.fleetId,
        fleetState: 'active',
        clientToken: f.clientToken,
        fulfilledCapacity: f.fulfilled.total,
        fulfilledOnDemandCapacity: f.fulfilled.onDemand,
        targetCapacitySpecification: {
          totalTargetCapacity: f.request.totalTargetCapacity,
          onDemandTargetCapacity: f.request.onDemandTargetCapacity,
          spotTargetCapacity: f.request.spotTargetCapacity,
          defaultTargetCapacityType: f.request.defaultTargetCapacityType,
          targetCapacityUnitType: f.request.unitType,
        },
        type: 'instant',
        spotOptions: { allocationStrategy: f.request.spotOptions.allocationStrategy },
        onDemandOptions: { allocationStrategy: f.request.onDemandOptions.allocationStrategy },
        tagSet: renderTags(f.tags),
        errorSet: f.errorSet,
        fleetInstanceSet: f.instanceSet,
      })),
    };
  }

  /** Tags a fleet (CreateTags on a `fleet-…` id); false when there is no such fleet. */
  tagFleet(fleetId: string, tags: ReadonlyMap<string, string>): boolean {
    const fleet = this.fleets.get(fleetId);
    if (!fleet) return false;
    for (const [k, v] of tags) fleet.tags.set(k, v);
    return true;
  }

  private launch(request: FleetRequest, decision?: Ec2Decision): FleetRecord {
    const { ids, lifecycle } = this.deps;
    const fleetId = ids.fleetId();
    const plan = planFleet(request, { ...this.deps, launchError: decision?.launchError });
    const instanceSet: XmlValue[] = [];
    let launchIndex = 0;
    let total = 0;
    let onDemand = 0;
    for (const allocation of plan.allocations) {
      const { candidate: c, market, count } = allocation;
      const reservationId = ids.reservationId();
      const launched: InstanceRecord[] = [];
      for (let n = 0; n < count; n++) {
        const instanceId = ids.instanceId();
        const tags: Tags = new Map([
          ...Object.entries(c.config.template.data.tags ?? {}),
          ...request.instanceTags,
          // EC2 adds these to instances a fleet launches from a template.
          ['aws:ec2:fleet-id', fleetId],
          ['aws:ec2launchtemplate:id', c.config.template.launchTemplateId],
          ['aws:ec2launchtemplate:version', String(c.config.template.versionNumber)],
        ]);
        launched.push(lifecycle.launch({
          instanceId,
          imageId: c.imageId!,
          instanceType: c.instanceType.name,
          vcpus: c.instanceType.vcpus,
          architecture: c.instanceType.architecture,
          market,
          availabilityZone: c.subnet.availabilityZone,
          subnetId: c.subnet.subnetId,
          vpcId: c.subnet.vpcId ?? 'vpc-0sandbox000000001',
          privateIpAddress: this.nextIp(c.subnet),
          amiLaunchIndex: launchIndex++,
          fleetId,
          reservationId,
          // Instances carry a fleet-made token, not the caller's ClientToken [I]: find them by tag.
          clientToken: `${fleetId}-${launchIndex}`,
          spotInstanceRequestId: market === 'spot' ? ids.spotInstanceRequestId() : undefined,
          launchTemplate: c.config.template,
          tags,
        }));
      }
      total += count * c.weight;
      if (market === 'on-demand') onDemand += count * c.weight;
      instanceSet.push({
        launchTemplateAndOverrides: renderLaunchTemplateAndOverrides(c.config, c.override),
        lifecycle: market,
        instanceIds: launched.map((i) => i.instanceId),
        instanceType: c.instanceType.name,
        availabilityZone: c.subnet.availabilityZone,
        subnetId: c.subnet.subnetId,
      });
    }
    const errorSet: XmlValue[] = plan.errors.map((e) => ({
      launchTemplateAndOverrides: renderLaunchTemplateAndOverrides(e.config, e.override, { instanceType: e.instanceType, subnet: e.subnet }),
      lifecycle: e.market,
      errorCode: e.code,
      errorMessage: e.message,
    }));
    return {
      fleetId,
      clientToken: request.clientToken,
      createTime: this.deps.clock.now(),
      request,
      tags: new Map(request.fleetTags),
      errorSet,
      instanceSet,
      fulfilled: { total, onDemand },
    };
  }

  private throttledFleet(request: FleetRequest): FleetRecord {
    const first = request.configs[0];
    return {
      fleetId: this.deps.ids.fleetId(),
      clientToken: request.clientToken,
      createTime: this.deps.clock.now(),
      request,
      tags: new Map(request.fleetTags),
      errorSet: [{
        launchTemplateAndOverrides: renderLaunchTemplateAndOverrides(first, first.overrides[0] ?? {}),
        lifecycle: request.need.spot > 0 ? 'spot' : 'on-demand',
        errorCode: 'RequestLimitExceeded',
        errorMessage: 'Request limit exceeded.',
      }],
      instanceSet: [],
      fulfilled: { total: 0, onDemand: 0 },
    };
  }

  private renderCreateResult(fleet: FleetRecord): XmlObject {
    return { fleetId: fleet.fleetId, errorSet: fleet.errorSet, fleetInstanceSet: fleet.instanceSet };
  }

  private nextIp(subnet: SubnetInfo): string {
    const n = (this.ipCounters.get(subnet.subnetId) ?? 0) + 1;
    this.ipCounters.set(subnet.subnetId, n);
    const index = this.deps.subnets.indexOf(subnet);
    const prefix = subnet.ipPrefix ?? `10.0.${index + 1}`;
    return `${prefix}.${10 + (n % 240)}`;
  }
}
