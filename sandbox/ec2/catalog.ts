// The instance types the simulated region knows, and attribute-based selection over them
// (CreateFleet `InstanceRequirements`). Names come from outside this project: every family and
// size of aws-cdk-lib's `InstanceClass` / `InstanceSize` enums (src/instance-type-name.ts), the
// architecture from aws-cdk-lib's `InstanceType.architecture`. vCPUs follow the size and memory
// the family, as AWS's specification tables give them:
//   https://docs.aws.amazon.com/ec2/latest/instancetypes/gp.html  (general purpose, burstable)
//   https://docs.aws.amazon.com/ec2/latest/instancetypes/co.html  (compute optimized)
//   https://docs.aws.amazon.com/ec2/latest/instancetypes/mo.html  (memory optimized)
//   https://docs.aws.amazon.com/ec2/latest/instancetypes/so.html  (storage optimized)
//   https://docs.aws.amazon.com/ec2/latest/instancetypes/ac.html  (accelerated computing)
//   https://docs.aws.amazon.com/ec2/latest/instancetypes/hpc.html (high-performance computing)
// Which sizes a family has is modelled at the small end (nano–small: burstable families; medium:
// burstable, Graviton, a1 and 7th/8th-generation AMD) and for the families sold in a few big sizes
// only (hpc*, p4/p5, trn, dl, u-*, mac); a size above a family's largest (c5.48xlarge) is not
// refused, and `metal` counts 64 vCPUs for Graviton and 96 otherwise [I].
import { InstanceTypeInfo } from './types';
import { INSTANCE_FAMILIES, INSTANCE_SIZES, instanceTypeArchitecture } from '../../src/instance-type-name';

const BURSTABLE = new Set(['t2', 't3', 't3a', 't4g']);
/** GiB per size of the burstable families (gp.html: t3.nano 0.5 … t3.2xlarge 32). */
const BURSTABLE_MEMORY_GIB = new Map<string, number>([
  ['nano', 0.5], ['micro', 1], ['small', 2], ['medium', 4], ['large', 8], ['xlarge', 16], ['2xlarge', 32],
]);
/** t2 has one vCPU up to small, t3/t3a/t4g two; both have 2 at medium and large, 4 at xlarge, 8 at 2xlarge. */
const BURSTABLE_VCPUS = new Map<string, number>([
  ['nano', 2], ['micro', 2], ['small', 2], ['medium', 2], ['large', 2], ['xlarge', 4], ['2xlarge', 8],
]);
const MEDIUM_AMD = /^[mcr][78]a$/;
const ACCELERATED = /^(g|gr|p|inf|trn|dl|f|vt)\d/;

/** Families that come in a few large sizes only (the specification tables); others span large (or smaller) and up. */
const FAMILY_SIZES = new Map<string, readonly string[]>([
  ['hpc6a', ['48xlarge']], ['hpc6id', ['32xlarge']], ['hpc7a', ['12xlarge', '24xlarge', '48xlarge', '96xlarge']], ['hpc7g', ['4xlarge', '8xlarge', '16xlarge']],
  ['p4d', ['24xlarge']], ['p4de', ['24xlarge']], ['p5', ['4xlarge', '48xlarge']], ['p5e', ['48xlarge']], ['p5en', ['48xlarge']],
  ['dl1', ['24xlarge']], ['dl2q', ['24xlarge']], ['trn1', ['2xlarge', '32xlarge']], ['trn1n', ['32xlarge']], ['trn2', ['48xlarge']], ['trn2u', ['48xlarge']],
  ['u-3tb1', ['56xlarge']], ['u-6tb1', ['56xlarge', '112xlarge', 'metal']], ['u-9tb1', ['112xlarge', 'metal']], ['u-12tb1', ['112xlarge', 'metal']],
  ['u-18tb1', ['112xlarge', 'metal']], ['u-24tb1', ['112xlarge', 'metal']], ['u7i-6tb', ['112xlarge']], ['u7i-8tb', ['112xlarge']],
  ['u7i-12tb', ['224xlarge']], ['u7in-16tb', ['224xlarge']], ['u7in-24tb', ['224xlarge']], ['u7in-32tb', ['224xlarge']], ['u7inh-32tb', ['480xlarge']],
  ['mac1', ['metal']], ['mac2', ['metal']], ['mac2-m2', ['metal']], ['mac2-m2pro', ['metal']], ['mac2-m1ultra', ['metal']],
]);

/** GiB of memory per vCPU where a family departs from its letter's ratio (the specification tables). */
const FAMILY_GIB_PER_VCPU = new Map<string, number>([
  ['a1', 2], ['m3', 3.75], ['c3', 1.875], ['c4', 1.875], ['c5n', 2.625], ['r3', 7.625], ['r4', 7.625], ['x1', 15.25], ['x1e', 30.5],
  ['x2iedn', 32], ['x2iezn', 32], ['z1d', 8], ['i3', 7.625], ['im4gn', 4], ['is4gen', 6], ['d2', 7.625], ['d3en', 4], ['h1', 4],
  ['g3', 7.625], ['g3s', 7.5], ['g5g', 2], ['g6e', 8], ['gr6', 8], ['p2', 15.25], ['p3', 7.625], ['p4d', 12], ['p4de', 12], ['inf1', 2],
  ['vt1', 2], ['f1', 15.25], ['hpc7g', 2], ['hpc6id', 16], ['mac1', 2.67], ['mac2', 2],
]);
/** By the family's letters: m general purpose 4, c compute 2, r memory 8, x 16, i/d storage 8 … */
const PREFIX_GIB_PER_VCPU = new Map<string, number>([
  ['m', 4], ['c', 2], ['r', 8], ['x', 16], ['z', 8], ['i', 8], ['im', 4], ['is', 6], ['d', 8], ['h', 4], ['g', 4], ['gr', 8], ['p', 10.67],
  ['inf', 4], ['trn', 4], ['dl', 8], ['hpc', 4], ['f', 10.67], ['vt', 2], ['a', 2], ['mac', 2],
]);

/** us-east-1 Linux on-demand list prices, rounded, of the types tests compare; others are estimated [I]. */
const LIST_PRICES = new Map<string, number>([
  ['m7i.large', 0.1008], ['m7i.xlarge', 0.2016], ['m6i.large', 0.096], ['m6i.xlarge', 0.192], ['m5.large', 0.096], ['c6i.large', 0.085],
  ['c6i.xlarge', 0.17], ['m7g.large', 0.0816], ['m7g.xlarge', 0.1632], ['c7g.2xlarge', 0.289], ['m6a.large', 0.0864], ['m6g.large', 0.077],
]);

function vcpusOf(family: string, size: string, arm: boolean): number | undefined {
  if (BURSTABLE.has(family)) {
    if (!BURSTABLE_VCPUS.has(size)) return undefined;
    return family === 't2' && ['nano', 'micro', 'small'].includes(size) ? 1 : BURSTABLE_VCPUS.get(size);
  }
  if (['nano', 'micro', 'small'].includes(size)) return undefined;
  if (size === 'medium') return arm || family === 'a1' || MEDIUM_AMD.test(family) ? 1 : undefined;
  if (size === 'large') return 2;
  if (size === 'xlarge') return 4;
  const times = /^(\d+)xlarge$/.exec(size) ?? /^metal-(\d+)xl$/.exec(size);
  if (times) return Number(times[1]) * 4;
  if (size === 'metal') return arm ? 64 : 96;
  return undefined;
}

function memoryGibOf(family: string, size: string, vcpus: number): number {
  if (BURSTABLE.has(family)) return BURSTABLE_MEMORY_GIB.get(size)!;
  // High-memory families: the name is the memory (u-6tb1, u7i-12tb), whatever the size.
  const tebibytes = /^u\d*[a-z]*-(\d+)tb/.exec(family);
  if (tebibytes) return Number(tebibytes[1]) * 1024;
  const prefix = /^[a-z]+/.exec(family)![0];
  const ratio = FAMILY_GIB_PER_VCPU.get(family) ?? PREFIX_GIB_PER_VCPU.get(prefix) ?? PREFIX_GIB_PER_VCPU.get(prefix[0]) ?? 4;
  return vcpus * ratio;
}

/** Prices only order pools (lowest-price, price-capacity-optimized); the estimate keeps m < r, Graviton < Intel. */
function priceOf(info: Omit<InstanceTypeInfo, 'onDemandPrice'>, family: string): number {
  const listed = LIST_PRICES.get(info.name);
  if (listed !== undefined) return listed;
  const base = info.vcpus * 0.037 + (info.memoryMiB / 1024) * 0.00275;
  const factor = (info.architecture === 'arm64' ? 0.8 : 1) * (cpuManufacturerOf(info) === 'amd' ? 0.9 : 1) * (BURSTABLE.has(family) ? 0.5 : 1)
    // GPUs, Inferentia, Trainium, FPGAs and video transcoders cost several times their vCPUs and memory.
    * (ACCELERATED.test(family) ? 3 : 1);
  return Math.round(base * factor * 10_000) / 10_000;
}

/** One type's entry, or undefined when the family has no such size (m7i.nano). */
export function describeInstanceType(name: string): InstanceTypeInfo | undefined {
  const dot = name.indexOf('.');
  const family = name.slice(0, dot);
  const size = name.slice(dot + 1);
  if (dot <= 0 || !INSTANCE_FAMILIES.has(family) || !INSTANCE_SIZES.has(size)) return undefined;
  if (FAMILY_SIZES.has(family) && !FAMILY_SIZES.get(family)!.includes(size)) return undefined;
  // aws-cdk-lib cannot tell the architecture of u-*/mac2-m* names: high-memory types are x86_64, Apple silicon arm64.
  const architecture = instanceTypeArchitecture(name) ?? (family.startsWith('mac') ? 'arm64' : 'x86_64');
  const vcpus = vcpusOf(family, size, architecture === 'arm64');
  if (vcpus === undefined) return undefined;
  const entry = { name, vcpus, memoryMiB: Math.round(memoryGibOf(family, size, vcpus) * 1024), architecture };
  return { ...entry, onDemandPrice: priceOf(entry, family) };
}

/** Every family × size aws-cdk-lib knows that the family has (a few thousand types): the simulator's catalog. */
export const DEFAULT_INSTANCE_TYPES: readonly InstanceTypeInfo[] = [...INSTANCE_FAMILIES].flatMap((family) =>
  [...INSTANCE_SIZES].map((size) => describeInstanceType(`${family}.${size}`)).filter((t): t is InstanceTypeInfo => t !== undefined));

export const INSTANCE_TYPES_BY_NAME: ReadonlyMap<string, InstanceTypeInfo> = new Map(DEFAULT_INSTANCE_TYPES.map((t) => [t.name, t]));

export type InclusionSetting = 'included' | 'excluded' | 'required';

export interface InstanceRequirementsSpec {
  readonly vCpuCount: { readonly min: number; readonly max?: number };
  readonly memoryMiB: { readonly min: number; readonly max?: number };
  readonly allowedInstanceTypes: readonly string[];
  readonly excludedInstanceTypes: readonly string[];
  /** `intel`, `amd`, `amazon-web-services`, `apple`; empty: any. */
  readonly cpuManufacturers: readonly string[];
  /** @default 'excluded' (API_InstanceRequirements: BareMetal, BurstablePerformance) */
  readonly bareMetal?: InclusionSetting;
  /** @default 'excluded' */
  readonly burstablePerformance?: InclusionSetting;
}

/** Who makes a type's CPU: Graviton for arm64 (Apple for mac), AMD for families with an `a` after the generation (m6a, c7a), else Intel. */
export function cpuManufacturerOf(type: Pick<InstanceTypeInfo, 'name' | 'architecture'>): string {
  if (type.name.startsWith('mac')) return type.architecture === 'arm64' ? 'apple' : 'intel';
  if (type.architecture === 'arm64') return 'amazon-web-services';
  return /^[a-z]+\d+[a-z]*a[a-z]*\./.test(type.name) && !/^[a-z]+\d+i/.test(type.name) ? 'amd' : 'intel';
}

/** Spot prices are modelled at 30 % of on-demand: they only order pools. */
export function spotPriceOf(type: InstanceTypeInfo): number {
  return type.onDemandPrice * 0.3;
}

/** The catalog types that satisfy the requirements, in catalog order. */
export function matchInstanceRequirements(catalog: readonly InstanceTypeInfo[], req: InstanceRequirementsSpec): InstanceTypeInfo[] {
  const within = (value: number, range: { min: number; max?: number }) =>
    value >= range.min && (range.max === undefined || value <= range.max);
  const allows = (setting: InclusionSetting | undefined, has: boolean) =>
    (setting ?? 'excluded') === 'included' || (setting === 'required' ? has : !has);
  return catalog.filter((type) =>
    within(type.vcpus, req.vCpuCount) &&
    within(type.memoryMiB, req.memoryMiB) &&
    allows(req.bareMetal, type.name.includes('.metal')) &&
    allows(req.burstablePerformance, BURSTABLE.has(type.name.split('.')[0])) &&
    (req.allowedInstanceTypes.length === 0 || req.allowedInstanceTypes.some((p) => matchesTypePattern(type.name, p))) &&
    (req.cpuManufacturers.length === 0 || req.cpuManufacturers.includes(cpuManufacturerOf(type))) &&
    !req.excludedInstanceTypes.some((p) => matchesTypePattern(type.name, p)));
}

/** `m5.*`, `*.large`, `c7g.2xlarge`: `*` stands for any run of characters. */
function matchesTypePattern(name: string, pattern: string): boolean {
  const source = pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*');
  return new RegExp(`^${source}$`).test(name);
}
