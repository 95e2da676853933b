// CreateFleet (Type=instant): validate, expand each override into pools (type × subnet), order them by the market's strategy,
// fill the target pool by pool, and remember each ClientToken so a retry replays the first answer (reference/aws.md 1.1-1.7).
// What a pool cannot give is a per-override error inside the 200; nothing falls back from spot to on-demand (reference/aws.md 1.6).
import { INSTANCE_TYPES_BY_NAME, InstanceRequirementsSpec, matchInstanceRequirements, spotPriceOf } from './catalog';
import { CapacityModel, Ec2Faults, keyOf, PoolKey } from './faults';
import { InstanceLifecycle } from './instances';
import { LaunchTemplateRegistry, LaunchTemplateVersion } from './launch-templates';
import { Ec2Decision, FleetLaunchKey, IdGenerator, InstanceTypeInfo, launchKey, Market, MARKETS, SubnetInfo } from './types';
import { apiErrors, Ec2ApiError, QueryParams, XmlObject, XmlValue } from './wire';
import { tally } from '../common/http';

type Override = Readonly<{ instanceType?: string; requirements?: InstanceRequirementsSpec; subnetId?: string; priority?: number; imageId?: string }>;
/** `overrides` is `[{}]` when the request gave none: one implicit override using the template's own settings. */
type LaunchConfig = Readonly<{ template: LaunchTemplateVersion; overrides: readonly Override[] }>;
/** One pool an override can launch into. */
type Pool = Readonly<{ config: LaunchConfig; override: Override; type: InstanceTypeInfo; subnet: SubnetInfo; imageId?: string }>;

/** What an error item echoes: the config and override, and the pool when one was tried. */
type Site = Pick<Pool, 'config' | 'override'> & Partial<Pool>;
type Fail = (site: Site, market: Market, errorCode: string, errorMessage: string) => void;
type FleetRequest = ReturnType<typeof parseRequest>;

/** The CreateFleet parameters the simulator models; any other is refused as Unsupported rather than silently ignored. */
const MODELLED = new RegExp(`^(${[
  'Action', 'Version', 'Type', 'ClientToken',
  'LaunchTemplateConfigs\\.\\d+\\.LaunchTemplateSpecification\\.(LaunchTemplateId|Version)',
  'LaunchTemplateConfigs\\.\\d+\\.Overrides\\.\\d+\\.(InstanceType|SubnetId|Priority|ImageId)',
  'LaunchTemplateConfigs\\.\\d+\\.Overrides\\.\\d+\\.InstanceRequirements\\.((VCpuCount|MemoryMiB)\\.(Min|Max)|CpuManufacturer\\.\\d+)',
  'TargetCapacitySpecification\\.(TotalTargetCapacity|OnDemandTargetCapacity|SpotTargetCapacity|DefaultTargetCapacityType)',
  '(SpotOptions|OnDemandOptions)\\.AllocationStrategy',
  'TagSpecification\\.\\d+\\.(ResourceType|Tag\\.\\d+\\.(Key|Value))',
].join('|')})$`);

/** EC2's allocation strategies per market; the simulator orders pools by the modelled ones (see `order`). */
const STRATEGIES: Record<Market, readonly string[]> = {
  'spot': ['lowest-price', 'price-capacity-optimized', 'capacity-optimized', 'diversified', 'capacity-optimized-prioritized'],
  'on-demand': ['lowest-price', 'prioritized'],
};
const MODELLED_STRATEGIES = ['lowest-price', 'price-capacity-optimized', 'prioritized'];

function oneOf(params: QueryParams, member: string, allowed: readonly string[]): string | undefined {
  const value = params.string(member);
  if (value !== undefined && !allowed.includes(value)) {
    throw apiErrors.invalidParameterValue(`Value (${value}) for parameter ${params.nameOf(member)} is invalid. Expected one of: ${allowed.join(', ')}.`);
  }
  return value;
}

/** The messages EC2 puts next to per-override error codes, as observed (reference/aws.md 1.7). Callers must classify by code. */
function overrideErrorMessage(code: string, pool?: PoolKey): string {
  if (code !== 'InsufficientInstanceCapacity' || pool?.market !== 'on-demand') return OVERRIDE_MESSAGES[code] ?? code;
  return `We currently do not have sufficient ${pool.instanceType} capacity in the Availability Zone you requested (${pool.availabilityZone}). ` +
    `Our system will be working on provisioning additional capacity. You can currently get ${pool.instanceType} capacity by not specifying an ` +
    'Availability Zone in your request or choosing a different Availability Zone.';
}

const OVERRIDE_MESSAGES: Record<string, string> = {
  InsufficientInstanceCapacity: 'There is no Spot capacity available that matches your request.',
  UnfulfillableCapacity: 'Unable to fulfill capacity due to your request configuration. Please adjust your request and try again.',
  MaxSpotInstanceCountExceeded: 'Max spot instance count exceeded',
};

/** EC2's words for a type the zone does not offer (karpenter-provider-aws #6483; RunInstances says the same with code Unsupported). */
const unsupportedInZone = (instanceType: string | undefined, availabilityZone: string | undefined) =>
  `Your requested instance type (${instanceType ?? 'null'}) is not supported in your requested Availability Zone (${availabilityZone}).`;

export class FleetService {
  private readonly tokens = new Map<string, { fingerprint: string; result: XmlObject }>();
  private readonly errorCodes: Record<string, number> = {};

  constructor(
    private readonly ids: IdGenerator, private readonly templates: LaunchTemplateRegistry, private readonly lifecycle: InstanceLifecycle,
    private readonly subnets: readonly SubnetInfo[], private readonly capacity: CapacityModel, private readonly faults: Ec2Faults,
  ) {}

  /** Handles one CreateFleet. Runs synchronously, so two concurrent calls with one token cannot both launch. */
  createFleet(params: QueryParams, decision?: Ec2Decision): XmlObject {
    const fingerprint = params.fingerprint(['ClientToken']);
    const token = params.string('ClientToken');
    const seen = token === undefined ? undefined : this.tokens.get(token);
    if (seen && seen.fingerprint !== fingerprint) {
      throw new Ec2ApiError('IdempotentParameterMismatch', 'Arguments on this idempotent request are inconsistent with arguments used in previous request(s).');
    }
    if (seen) return seen.result;
    const fleetId = `fleet-${this.ids.uuid()}`;
    const { instanceSet, errorSet } = this.launch(fleetId, parseRequest(params, this.templates, this.subnets), decision);
    for (const e of errorSet) tally(this.errorCodes, e.errorCode as string);
    const result = { fleetId, errorSet, fleetInstanceSet: instanceSet };
    // The token is consumed even when nothing launched (runs-on #251, reference/aws.md 1.4).
    if (token !== undefined) this.tokens.set(token, { fingerprint, result });
    return result;
  }

  /** Per-override launch errors of every fleet so far, by code (a replayed ClientToken counts once). */
  launchErrorCodes(): Record<string, number> {
    return { ...this.errorCodes };
  }

  /** What a CreateFleet request names, for IAM; undefined when the request is invalid (CreateFleet then refuses it). */
  facts(params: QueryParams) {
    let request: FleetRequest;
    try {
      request = parseRequest(params, this.templates, this.subnets);
    } catch {
      return undefined;
    }
    const all = request.configs.flatMap((config) => config.overrides.flatMap((override) =>
      subnetsOf(this.subnets, override).flatMap((subnet) => request.markets.map((market) => launchOf(config, override, subnet, market)))));
    const launches = [...new Map(all.map((l) => [launchKey(l), l])).values()];
    const images = request.configs.flatMap((c) => c.overrides).map((o) => o.imageId).filter((i): i is string => i !== undefined);
    const subnetIds = [...new Set(launches.map((l) => l.subnetId))];
    return { templates: request.configs.map((c) => c.template), launches, subnetIds, overrideImageIds: [...new Set(images)], tags: request.tags };
  }

  private launch(fleetId: string, request: FleetRequest, decision?: Ec2Decision): { instanceSet: XmlValue[]; errorSet: XmlObject[] } {
    const errorSet: XmlObject[] = [];
    const fail: Fail = (site, lifecycle, errorCode, errorMessage) =>
      errorSet.push({ launchTemplateAndOverrides: renderOverrides(site), lifecycle, errorCode, errorMessage });
    const pools = this.expand(request, fail);
    const instanceSet: XmlValue[] = [];
    const reserved = new Map<string, number>();
    const available = (key: PoolKey) => this.capacity.available(key, reserved.get(keyOf(key)) ?? 0);
    for (const market of request.markets) {
      // Pools IAM refuses answer their error and launch nothing; the others go on (karpenter#7370).
      const allowed = pools.filter((pool) => {
        const denied = decision?.launchError?.(launchOf(pool.config, pool.override, pool.subnet, market));
        if (denied) fail(pool, market, denied.code, denied.message);
        return !denied;
      });
      let remaining = request.need[market];
      for (const pool of order(allowed, market, request.strategy[market], remaining, available)) {
        if (remaining <= 0) break;
        const key = poolKey(pool, market);
        const problem = launchProblem(pool, market, this.faults.capacityFault(key));
        const count = problem ? 0 : Math.min(remaining, available(key));
        if (problem) fail(pool, market, problem.code, problem.message);
        else if (count < remaining) fail(pool, market, 'InsufficientInstanceCapacity', overrideErrorMessage('InsufficientInstanceCapacity', key));
        if (count <= 0) continue;
        remaining -= count;
        reserved.set(keyOf(key), (reserved.get(keyOf(key)) ?? 0) + count);
        instanceSet.push(this.launchInto(fleetId, request, pool, market, count));
      }
    }
    return { instanceSet, errorSet };
  }

  /** Launches `count` instances into one pool as one reservation; the item echoes the override as the request gave it. */
  private launchInto(fleetId: string, request: FleetRequest, pool: Pool, market: Market, count: number): XmlObject {
    const { config: { template }, subnet, type } = pool;
    const reservationId = this.ids.resourceId('r-');
    const tags = {
      ...template.data.tags,
      ...request.tags.instance,
      // EC2 adds these to instances a fleet launches from a template.
      'aws:ec2:fleet-id': fleetId,
      'aws:ec2launchtemplate:id': template.launchTemplateId,
      'aws:ec2launchtemplate:version': String(template.versionNumber),
    };
    const { availabilityZone, subnetId } = subnet;
    const volumeTags = { ...template.data.volumeTags, ...request.tags.volume };
    const spec = {
      imageId: pool.imageId!, instanceType: type.name, market, availabilityZone, reservationId, launchTemplate: template, tags, volumeTags,
    };
    const instanceIds = Array.from({ length: count }, () => this.lifecycle.launch({ ...spec, instanceId: this.ids.resourceId('i-') }).instanceId);
    const launchTemplateAndOverrides = renderOverrides({ config: pool.config, override: pool.override });
    return { launchTemplateAndOverrides, lifecycle: market, instanceIds, instanceType: type.name, availabilityZone, subnetId };
  }

  /** Each override's pools: the types it names or its requirements match, in each of its subnets that offers them. */
  private expand(request: FleetRequest, fail: Fail): Pool[] {
    const pools: Pool[] = [];
    for (const config of request.configs) {
      for (const override of config.overrides) {
        const subnets = subnetsOf(this.subnets, override);
        const imageId = override.imageId ?? config.template.data.imageId;
        const failEach = (code: string, message: string, pool: Site = { config, override }) =>
          request.markets.forEach((m) => fail(pool, m, code, message));
        if (override.requirements) {
          // Attribute-based selection picks among the types each zone offers; an unoffered one is no error.
          const matching = matchInstanceRequirements(override.requirements).flatMap((type) => subnets
            .filter((s) => this.faults.offered(type.name, s.availabilityZone)).map((subnet) => ({ config, override, type, subnet, imageId })));
          if (matching.length === 0) failEach('UnfulfillableCapacity', overrideErrorMessage('UnfulfillableCapacity'));
          pools.push(...matching);
          continue;
        }
        // A name that is no type was refused already; a zone that does not offer the type answers once per pool as EC2 does
        // (reference/aws.md 1.6; karpenter-provider-aws #6483, #1219).
        const name = override.instanceType ?? config.template.data.instanceType;
        const type = name === undefined ? undefined : INSTANCE_TYPES_BY_NAME.get(name);
        if (!type) {
          // Observed shape with no type at all: "(null)" and empty overrides (reference/aws.md 1.6).
          failEach('InvalidFleetConfiguration', unsupportedInZone(name, subnets[0]?.availabilityZone));
          continue;
        }
        for (const subnet of subnets) {
          const pool = { config, override, type, subnet, imageId };
          if (this.faults.offered(type.name, subnet.availabilityZone)) pools.push(pool);
          else failEach('InvalidFleetConfiguration', unsupportedInZone(type.name, subnet.availabilityZone), pool);
        }
      }
    }
    return pools;
  }
}

function parseRequest(params: QueryParams, templates: LaunchTemplateRegistry, subnets: readonly SubnetInfo[]) {
  // Type defaults to maintain (reference/aws.md 1.1); only the one-shot instant type is simulated.
  const type = oneOf(params, 'Type', ['request', 'maintain', 'instant']);
  if (type !== 'instant') throw apiErrors.unsupported(`The EC2 simulator supports CreateFleet with Type=instant only; got Type=${type ?? 'maintain (the default)'}.`);
  const unmodelled = params.names().find((name) => !MODELLED.test(name));
  if (unmodelled !== undefined) throw apiErrors.unsupported(`The EC2 simulator does not model the CreateFleet parameter ${unmodelled}.`);
  // "a unique, case-sensitive string of up to 64 ASCII characters" (https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-idempotency.html);
  // the code is EC2's generic one for a bad value, the message ours: no public record of EC2's wording was found [GAP].
  const clientToken = params.string('ClientToken');
  if (clientToken !== undefined && !/^[\x20-\x7e]{0,64}$/.test(clientToken)) throw apiErrors.invalidParameterValue('The client token must be at most 64 ASCII characters.');
  const configs = params.list('LaunchTemplateConfigs').map((c): LaunchConfig => {
    const spec = c.struct('LaunchTemplateSpecification');
    const overrides = c.list('Overrides').map((o) => parseOverride(o, subnets));
    return { template: templates.resolve(spec.string('LaunchTemplateId'), spec.string('Version')), overrides: overrides.length > 0 ? overrides : [{}] };
  });
  if (configs.length === 0) throw apiErrors.missingParameter('LaunchTemplateConfigs');
  if (configs.flatMap((c) => c.overrides).filter((o) => o.requirements).length > 4) {
    // Observed (reference/aws.md 1.3).
    throw apiErrors.invalidParameterValue('Your request contains more than the maximum allowed number of InstanceRequirements (4)');
  }
  const target = params.struct('TargetCapacitySpecification');
  const total = target.integer('TotalTargetCapacity');
  if (total === undefined) throw apiErrors.missingParameter('TargetCapacitySpecification.TotalTargetCapacity');
  if (total < 1) throw apiErrors.invalidParameterValue(`TotalTargetCapacity must be at least 1; got ${total}.`);
  const onDemand = target.integer('OnDemandTargetCapacity') ?? 0;
  const spot = target.integer('SpotTargetCapacity') ?? 0;
  if (onDemand < 0 || spot < 0 || onDemand + spot > total) {
    throw apiErrors.invalidParameterValue(`OnDemandTargetCapacity (${onDemand}) plus SpotTargetCapacity (${spot}) must not exceed TotalTargetCapacity (${total}).`);
  }
  const defaultType = oneOf(target, 'DefaultTargetCapacityType', ['spot', 'on-demand', 'capacity-block', 'reserved-capacity']) ?? 'on-demand';
  if (defaultType !== 'spot' && defaultType !== 'on-demand') throw apiErrors.unsupported(`The EC2 simulator does not model ${defaultType} capacity.`);
  // Unclaimed capacity goes to the default type (user guide: total 20, on-demand 5, default spot → 15 spot); docs are silent without one.
  const rest = total - onDemand - spot;
  const need = { 'on-demand': onDemand + (defaultType === 'on-demand' ? rest : 0), 'spot': spot + (defaultType === 'spot' ? rest : 0) };
  const strategy = { 'spot': 'lowest-price', 'on-demand': 'lowest-price' };
  for (const market of MARKETS) {
    const options = params.struct(market === 'spot' ? 'SpotOptions' : 'OnDemandOptions');
    strategy[market] = oneOf(options, 'AllocationStrategy', STRATEGIES[market]) ?? 'lowest-price';
    if (!MODELLED_STRATEGIES.includes(strategy[market])) throw apiErrors.unsupported(`The EC2 simulator does not model the ${strategy[market]} strategy.`);
  }
  const tags: Record<'fleet' | 'instance' | 'volume', Record<string, string>> = { fleet: {}, instance: {}, volume: {} };
  for (const spec of params.list('TagSpecification')) {
    const resourceType = oneOf(spec, 'ResourceType', ['fleet', 'instance', 'volume', 'network-interface']) ?? spec.requiredString('ResourceType');
    const into = resourceType === 'network-interface' ? {} : tags[resourceType as keyof typeof tags];
    for (const tag of spec.list('Tag')) {
      const key = tag.requiredString('Key');
      const value = tag.string('Value') ?? '';
      if (key.toLowerCase().startsWith('aws:')) throw apiErrors.invalidParameterValue(`Tag keys starting with 'aws:' are reserved for internal use (${key}).`);
      if (key.length > 128 || value.length > 256) throw apiErrors.invalidParameterValue(`Tag ${key}: keys are at most 128 and values at most 256 characters.`);
      into[key] = value;
    }
    if (Object.keys(into).length > 50) throw new Ec2ApiError('TagLimitExceeded', 'The maximum number of tags per resource (50) has been exceeded.');
  }
  return { configs, need, markets: MARKETS.filter((m) => need[m] > 0), strategy, tags };
}

function parseOverride(o: QueryParams, subnets: readonly SubnetInfo[]): Override {
  const instanceType = o.string('InstanceType');
  // A name that is no instance type is a malformed request, not a zone without it: RunInstances answers this code and text
  // (moto #1695 and yugabyte-db #7733 quote AWS); CreateFleet's override has the same InstanceType shape [I].
  if (instanceType !== undefined && !INSTANCE_TYPES_BY_NAME.has(instanceType)) throw apiErrors.invalidParameterValue(`Invalid value '${instanceType}' for InstanceType.`);
  const subnetId = o.string('SubnetId');
  if (subnetId !== undefined && !subnets.some((s) => s.subnetId === subnetId)) throw new Ec2ApiError('InvalidSubnetID.NotFound', `The subnet ID '${subnetId}' does not exist`);
  const imageId = o.string('ImageId');
  if (imageId !== undefined && !/^ami-[0-9a-f]{8,17}$/.test(imageId)) throw new Ec2ApiError('InvalidAMIID.Malformed', `Invalid id: "${imageId}" (expecting "ami-...")`);
  const r = o.struct('InstanceRequirements');
  const range = (member: string) => ({ min: r.struct(member).integer('Min') ?? 0, max: r.struct(member).integer('Max') });
  const requirements = o.has('InstanceRequirements')
    ? { vCpuCount: range('VCpuCount'), memoryMiB: range('MemoryMiB'), cpuManufacturers: r.strings('CpuManufacturer') }
    : undefined;
  const priority = o.string('Priority');
  return { instanceType, requirements, subnetId, priority: priority === undefined ? undefined : Number(priority), imageId };
}

const subnetsOf = (subnets: readonly SubnetInfo[], { subnetId }: Override) =>
  (subnetId === undefined ? subnets : subnets.filter((s) => s.subnetId === subnetId));

const poolKey = (pool: Pool, market: Market): PoolKey => ({ instanceType: pool.type.name, availabilityZone: pool.subnet.availabilityZone, market });

function launchOf({ template }: LaunchConfig, { imageId }: Override, { subnetId }: SubnetInfo, market: Market): FleetLaunchKey {
  const { launchTemplateId } = template;
  return { launchTemplateId, subnetId, imageId: imageId ?? template.data.imageId, imageFromOverride: imageId !== undefined, market };
}

/** Orders pools the way the market's strategy prefers them; ties keep request order. */
function order(pools: Pool[], market: Market, strategy: string, need: number, available: (pool: PoolKey) => number): Pool[] {
  const price = (p: Pool) => (market === 'spot' ? spotPriceOf(p.type) : p.type.onDemandPrice);
  const compare = (x: number, y: number) => (x < y ? -1 : x > y ? 1 : 0);
  const keys: ((p: Pool) => number)[] = {
    'lowest-price': [price],
    'prioritized': [(p: Pool) => p.override.priority ?? Infinity, price],
    // Deep pools first (those that can take the whole remaining need rank equal), then the cheapest.
    'price-capacity-optimized': [(p: Pool) => -Math.min(available(poolKey(p, market)), need), price],
  }[strategy]!;
  return pools
    .map((p, index) => ({ p, index, k: keys.map((f) => f(p)) }))
    .sort((a, b) => a.k.map((v, i) => compare(v, b.k[i])).find((c) => c !== 0) ?? a.index - b.index)
    .map((x) => x.p);
}

/** Problems a pool has before capacity is even considered. */
function launchProblem(pool: Pool, market: Market, fault: string | undefined): { code: string; message: string } | undefined {
  if (fault) return { code: fault, message: overrideErrorMessage(fault, poolKey(pool, market)) };
  if (pool.imageId === undefined) {
    return { code: 'MissingParameter', message: 'The request must contain the parameter ImageId (neither the launch template nor the override sets one).' };
  }
  // A one-time spot instance cannot stop; EC2 refuses stop as its shutdown behaviour [I].
  if (market === 'spot' && pool.config.template.data.instanceInitiatedShutdownBehavior === 'stop') {
    const message = 'The instance-initiated shutdown behavior of a one-time Spot Instance must be terminate; the launch template says stop.';
    return { code: 'InvalidParameterCombination', message };
  }
  return undefined;
}

/** `launchTemplateAndOverrides` echoing a config and override, filled in with the pool that was tried. */
function renderOverrides({ config: { template }, override, type, subnet }: Site): XmlObject {
  return {
    launchTemplateSpecification: { launchTemplateId: template.launchTemplateId, version: String(template.versionNumber) },
    overrides: {
      instanceType: override.instanceType ?? type?.name, subnetId: override.subnetId ?? subnet?.subnetId, availabilityZone: subnet?.availabilityZone,
    },
  };
}
