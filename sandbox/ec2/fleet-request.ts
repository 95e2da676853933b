// Parsing and validating a CreateFleet request into a typed `FleetRequest`, raising the request-level
// errors EC2 answers with before it tries to launch anything (reference/aws.md 1.2-1.4, 1.7).
import { findInstanceType, InclusionSetting, InstanceRequirementsSpec } from './catalog';
import { apiErrors, Ec2ApiError } from './errors';
import { LaunchTemplateRegistry, LaunchTemplateVersion } from './launch-templates';
import { QueryParams } from './query';
import { InstanceTypeInfo, Market, SubnetInfo } from './types';

export type SpotAllocationStrategy =
  'lowest-price' | 'diversified' | 'capacity-optimized' | 'capacity-optimized-prioritized' | 'price-capacity-optimized';
export type OnDemandAllocationStrategy = 'lowest-price' | 'prioritized';
export type CapacityUnitType = 'units' | 'vcpu' | 'memory-mib';

export interface OverrideRequest {
  readonly instanceType?: string;
  readonly instanceRequirements?: InstanceRequirementsSpec;
  readonly subnetId?: string;
  readonly availabilityZone?: string;
  readonly priority?: number;
  readonly weightedCapacity?: number;
  readonly imageId?: string;
  readonly maxPrice?: string;
}

export interface LaunchConfigRequest {
  /** As the request named it, echoed back in `launchTemplateAndOverrides`. */
  readonly byName: boolean;
  readonly template: LaunchTemplateVersion;
  /** Empty when the request gave none: one implicit override using the template's own settings. */
  readonly overrides: readonly OverrideRequest[];
}

export interface MarketOptions<S extends string> {
  readonly allocationStrategy: S;
  readonly singleInstanceType: boolean;
  readonly singleAvailabilityZone: boolean;
  readonly minTargetCapacity?: number;
}

export interface FleetRequest {
  readonly clientToken?: string;
  readonly configs: readonly LaunchConfigRequest[];
  readonly totalTargetCapacity: number;
  readonly onDemandTargetCapacity?: number;
  readonly spotTargetCapacity?: number;
  readonly defaultTargetCapacityType?: Market;
  /** Capacity to launch per market, in `unitType` units. */
  readonly need: Readonly<Record<Market, number>>;
  readonly unitType: CapacityUnitType;
  readonly spotOptions: MarketOptions<SpotAllocationStrategy>;
  readonly onDemandOptions: MarketOptions<OnDemandAllocationStrategy>;
  readonly instanceTags: ReadonlyMap<string, string>;
  readonly fleetTags: ReadonlyMap<string, string>;
}

const SPOT_STRATEGIES: readonly SpotAllocationStrategy[] =
  ['lowest-price', 'diversified', 'capacity-optimized', 'capacity-optimized-prioritized', 'price-capacity-optimized'];
const ON_DEMAND_STRATEGIES: readonly OnDemandAllocationStrategy[] = ['lowest-price', 'prioritized'];
const TAGGABLE = ['fleet', 'instance', 'volume', 'network-interface'];
/** Observed: "more than the maximum allowed number of InstanceRequirements (4)" (reference/aws.md 1.3). */
const MAX_INSTANCE_REQUIREMENTS = 4;

function oneOf<T extends string>(params: QueryParams, member: string, allowed: readonly T[], fallback: T): T {
  const value = params.string(member) ?? fallback;
  if (!(allowed as readonly string[]).includes(value)) {
    throw apiErrors.invalidParameterValue(`Value (${value}) for parameter ${params.nameOf(member)} is invalid. Expected one of: ${allowed.join(', ')}.`);
  }
  return value as T;
}

export function parseFleetRequest(
  params: QueryParams,
  templates: LaunchTemplateRegistry,
  subnets: readonly SubnetInfo[],
  catalog: readonly InstanceTypeInfo[],
): FleetRequest {
  // Type defaults to maintain (reference/aws.md 1.1); only the one-shot instant type is simulated.
  const type = params.string('Type') ?? 'maintain';
  if (type !== 'instant') {
    if (type !== 'maintain' && type !== 'request') {
      throw apiErrors.invalidParameterValue(`Value (${type}) for parameter Type is invalid. Expected one of: request, maintain, instant.`);
    }
    throw apiErrors.unsupported(
      `The EC2 simulator supports CreateFleet with Type=instant only; got Type=${type}${params.string('Type') ? '' : ' (the default when Type is omitted)'}.`);
  }
  // "a unique, case-sensitive string of up to 64 ASCII characters"
  // (https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-idempotency.html); the code is EC2's
  // generic one for a bad value, the message ours: no public record of EC2's wording was found [GAP].
  const clientToken = params.string('ClientToken');
  if (clientToken !== undefined && (clientToken.length > 64 || !/^[\x20-\x7e]*$/.test(clientToken))) {
    throw apiErrors.invalidParameterValue('The client token must be at most 64 ASCII characters.');
  }

  const configParams = params.list('LaunchTemplateConfigs');
  if (configParams.length === 0) throw apiErrors.missingParameter('LaunchTemplateConfigs');
  if (configParams.length > 50) throw apiErrors.invalidParameterValue('LaunchTemplateConfigs may contain at most 50 entries.');
  const configs = configParams.map((c) => parseConfig(c, templates, subnets, catalog));
  const requirementCount = configs.flatMap((c) => c.overrides).filter((o) => o.instanceRequirements).length;
  if (requirementCount > MAX_INSTANCE_REQUIREMENTS) {
    throw apiErrors.invalidParameterValue(
      `Your request contains more than the maximum allowed number of InstanceRequirements (${MAX_INSTANCE_REQUIREMENTS})`);
  }

  const target = params.struct('TargetCapacitySpecification');
  const total = target.integer('TotalTargetCapacity');
  if (total === undefined) throw apiErrors.missingParameter('TargetCapacitySpecification.TotalTargetCapacity');
  if (total < 1) throw apiErrors.invalidParameterValue(`TotalTargetCapacity must be at least 1; got ${total}.`);
  const onDemand = target.integer('OnDemandTargetCapacity');
  const spot = target.integer('SpotTargetCapacity');
  if ((onDemand ?? 0) < 0 || (spot ?? 0) < 0 || (onDemand ?? 0) + (spot ?? 0) > total) {
    throw apiErrors.invalidParameterValue(
      `OnDemandTargetCapacity (${onDemand ?? 0}) plus SpotTargetCapacity (${spot ?? 0}) must not exceed TotalTargetCapacity (${total}).`);
  }
  const defaultTypeRaw = target.string('DefaultTargetCapacityType');
  if (defaultTypeRaw === 'capacity-block' || defaultTypeRaw === 'reserved-capacity') {
    throw apiErrors.unsupported(`The EC2 simulator does not model ${defaultTypeRaw} capacity.`);
  }
  const defaultType = defaultTypeRaw === undefined
    ? undefined : oneOf<Market>(target, 'DefaultTargetCapacityType', ['spot', 'on-demand'], 'on-demand');
  const unitType = oneOf<CapacityUnitType>(target, 'TargetCapacityUnitType', ['units', 'vcpu', 'memory-mib'], 'units');
  if (unitType !== 'units' && configs.some((c) => c.overrides.length === 0 || c.overrides.some((o) => !o.instanceRequirements))) {
    throw apiErrors.invalidParameterValue('TargetCapacityUnitType can be vcpu or memory-mib only when every override uses InstanceRequirements.');
  }
  // Capacity not claimed by either market goes to the default type (user-guide example: total 20,
  // on-demand 5, default spot → 15 spot). Docs are silent when the default is missing: on-demand here.
  const rest = total - (onDemand ?? 0) - (spot ?? 0);
  const fallback = defaultType ?? 'on-demand';
  const need: Record<Market, number> = {
    'on-demand': (onDemand ?? 0) + (fallback === 'on-demand' ? rest : 0),
    'spot': (spot ?? 0) + (fallback === 'spot' ? rest : 0),
  };

  const spotParams = params.struct('SpotOptions');
  const interruption = spotParams.string('InstanceInterruptionBehavior') ?? 'terminate';
  if (interruption !== 'terminate') {
    throw apiErrors.unsupported(`InstanceInterruptionBehavior ${interruption} needs a persistent spot request; an instant fleet's spot instances can only terminate.`);
  }
  const spotOptions = marketOptions(spotParams, SPOT_STRATEGIES, 'lowest-price');
  const onDemandOptions = marketOptions(params.struct('OnDemandOptions'), ON_DEMAND_STRATEGIES, 'lowest-price');

  const { instanceTags, fleetTags } = parseTagSpecifications(params);
  return {
    clientToken,
    configs,
    totalTargetCapacity: total,
    onDemandTargetCapacity: onDemand,
    spotTargetCapacity: spot,
    defaultTargetCapacityType: defaultType,
    need,
    unitType,
    spotOptions,
    onDemandOptions,
    instanceTags,
    fleetTags,
  };
}

function marketOptions<S extends string>(p: QueryParams, strategies: readonly S[], fallback: S): MarketOptions<S> {
  const minTargetCapacity = p.integer('MinTargetCapacity');
  const singleInstanceType = p.boolean('SingleInstanceType') ?? false;
  const singleAvailabilityZone = p.boolean('SingleAvailabilityZone') ?? false;
  if (minTargetCapacity !== undefined && !singleInstanceType && !singleAvailabilityZone) {
    throw apiErrors.invalidParameterCombination(
      `${p.nameOf('MinTargetCapacity')} requires ${p.nameOf('SingleInstanceType')} or ${p.nameOf('SingleAvailabilityZone')}.`);
  }
  return { allocationStrategy: oneOf(p, 'AllocationStrategy', strategies, fallback), singleInstanceType, singleAvailabilityZone, minTargetCapacity };
}

function parseConfig(
  c: QueryParams, templates: LaunchTemplateRegistry, subnets: readonly SubnetInfo[], catalog: readonly InstanceTypeInfo[],
): LaunchConfigRequest {
  const spec = c.struct('LaunchTemplateSpecification');
  const template = templates.resolve({
    launchTemplateId: spec.string('LaunchTemplateId'),
    launchTemplateName: spec.string('LaunchTemplateName'),
    version: spec.string('Version'),
  });
  const overrides = c.list('Overrides').map((o) => parseOverride(o, subnets, catalog));
  return { byName: spec.string('LaunchTemplateName') !== undefined, template, overrides };
}

function parseOverride(o: QueryParams, subnets: readonly SubnetInfo[], catalog: readonly InstanceTypeInfo[]): OverrideRequest {
  const instanceType = o.string('InstanceType');
  // A name that is no instance type at all is a malformed request, not a zone without it. EC2's
  // RunInstances answers it with this code and text (moto #1695 and yugabyte-db #7733 quote AWS);
  // CreateFleet's override takes the same InstanceType shape, so the same request-level answer [I].
  if (instanceType !== undefined && !findInstanceType(catalog, instanceType)) {
    throw apiErrors.invalidParameterValue(`Invalid value '${instanceType}' for InstanceType.`);
  }
  const hasRequirements = o.has('InstanceRequirements');
  if (instanceType !== undefined && hasRequirements) {
    throw apiErrors.invalidParameterCombination(
      `${o.nameOf('InstanceType')} and ${o.nameOf('InstanceRequirements')} cannot be specified together.`);
  }
  const subnetId = o.string('SubnetId');
  if (subnetId?.includes(',')) {
    throw apiErrors.invalidParameterValue(`An instant fleet accepts one subnet per override; ${o.nameOf('SubnetId')} is ${subnetId}.`);
  }
  if (subnetId !== undefined && !subnets.some((s) => s.subnetId === subnetId)) {
    throw new Ec2ApiError('InvalidSubnetID.NotFound', `The subnet ID '${subnetId}' does not exist`);
  }
  const availabilityZone = o.string('AvailabilityZone');
  if (availabilityZone !== undefined && o.string('AvailabilityZoneId') !== undefined) {
    throw apiErrors.invalidParameterCombination('Either AvailabilityZone or AvailabilityZoneId can be specified, but not both.');
  }
  if (availabilityZone !== undefined && !subnets.some((s) => s.availabilityZone === availabilityZone)) {
    throw apiErrors.invalidParameterValue(`Invalid availability zone: [${availabilityZone}]`);
  }
  const priority = o.number('Priority');
  if (priority !== undefined && priority < 0) throw apiErrors.invalidParameterValue(`${o.nameOf('Priority')} must be 0 or more.`);
  const weightedCapacity = o.number('WeightedCapacity');
  if (weightedCapacity !== undefined && weightedCapacity <= 0) {
    throw apiErrors.invalidParameterValue(`${o.nameOf('WeightedCapacity')} must be greater than 0.`);
  }
  const imageId = o.string('ImageId');
  if (imageId !== undefined && !/^ami-[0-9a-f]{8,17}$/.test(imageId)) {
    throw new Ec2ApiError('InvalidAMIID.Malformed', `Invalid id: "${imageId}" (expecting "ami-...")`);
  }
  return {
    instanceType,
    instanceRequirements: hasRequirements ? parseRequirements(o.struct('InstanceRequirements')) : undefined,
    subnetId,
    availabilityZone,
    priority,
    weightedCapacity,
    imageId,
    maxPrice: o.string('MaxPrice'),
  };
}

function parseRequirements(r: QueryParams): InstanceRequirementsSpec {
  const range = (member: string) => {
    const min = r.struct(member).integer('Min');
    if (min === undefined) throw apiErrors.missingParameter(r.struct(member).nameOf('Min'));
    return { min, max: r.struct(member).integer('Max') };
  };
  return {
    vCpuCount: range('VCpuCount'),
    memoryMiB: range('MemoryMiB'),
    allowedInstanceTypes: r.strings('AllowedInstanceType'),
    excludedInstanceTypes: r.strings('ExcludedInstanceType'),
    cpuManufacturers: r.strings('CpuManufacturer'),
    bareMetal: inclusion(r, 'BareMetal'),
    burstablePerformance: inclusion(r, 'BurstablePerformance'),
  };
}

function inclusion(r: QueryParams, member: string): InclusionSetting | undefined {
  return r.string(member) === undefined ? undefined : oneOf<InclusionSetting>(r, member, ['included', 'excluded', 'required'], 'excluded');
}

function parseTagSpecifications(params: QueryParams): { instanceTags: Map<string, string>; fleetTags: Map<string, string> } {
  const instanceTags = new Map<string, string>();
  const fleetTags = new Map<string, string>();
  for (const spec of params.list('TagSpecification')) {
    const resourceType = spec.requiredString('ResourceType');
    if (!TAGGABLE.includes(resourceType)) {
      throw apiErrors.invalidParameterValue(`'${resourceType}' is not a valid taggable resource type for this operation.`);
    }
    const tags = readTags(spec, 'Tag');
    const into = resourceType === 'fleet' ? fleetTags : resourceType === 'instance' ? instanceTags : undefined;
    for (const [key, value] of tags) into?.set(key, value);
  }
  return { instanceTags, fleetTags };
}

/** `Tag.N.Key` / `Tag.N.Value` with EC2's rules: no `aws:` keys, at most 50 per resource, value may be empty. */
export function readTags(params: QueryParams, member: string): Map<string, string> {
  const tags = new Map<string, string>();
  for (const tag of params.list(member)) {
    const key = tag.requiredString('Key');
    if (key.toLowerCase().startsWith('aws:')) {
      throw apiErrors.invalidParameterValue(`Tag keys starting with 'aws:' are reserved for internal use (${key}).`);
    }
    if (key.length > 128 || (tag.string('Value') ?? '').length > 256) {
      throw apiErrors.invalidParameterValue(`Tag ${key}: keys are at most 128 and values at most 256 characters.`);
    }
    tags.set(key, tag.string('Value') ?? '');
  }
  if (tags.size > 50) throw new Ec2ApiError('TagLimitExceeded', 'The maximum number of tags per resource (50) has been exceeded.');
  return tags;
}
