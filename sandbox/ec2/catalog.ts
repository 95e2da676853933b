// The region's instance types (aws-cdk-lib's names and architectures, src/instance-type-name.ts) and CreateFleet `InstanceRequirements`
// over them. vCPUs follow the size, memory the family's letters (https://docs.aws.amazon.com/ec2/latest/instancetypes/ gp.html, co.html,
// mo.html, so.html, ac.html, hpc.html). nano–small only burstable; medium for burstable, Graviton, a1, 7th/8th gen AMD; hpc*, p4/p5, trn,
// dl, u-*, mac in a few big sizes; a size above a family's largest is not refused; `metal` is 64 vCPUs on Graviton, else 96 [I].
import { InstanceTypeInfo } from './types';
import { INSTANCE_FAMILIES, INSTANCE_SIZES, instanceTypeArchitecture } from '../../src/instance-type-name';

const BURSTABLE = new Set(['t2', 't3', 't3a', 't4g']);
/** Burstable families per size: [vCPUs, GiB] (gp.html: t3.nano 2 vCPUs 0.5 GiB … t3.2xlarge 8 and 32); t2 has one vCPU up to small. */
const BURSTABLE_SIZES = new Map<string, readonly [number, number]>([
  ['nano', [2, 0.5]], ['micro', [2, 1]], ['small', [2, 2]], ['medium', [2, 4]], ['large', [2, 8]], ['xlarge', [4, 16]], ['2xlarge', [8, 32]],
]);
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

/** GiB per vCPU by the family's letters: m general purpose 4, c compute 2, r memory 8, x 16, i/d storage 8 … */
const GIB_PER_VCPU = new Map<string, number>([
  ['m', 4], ['c', 2], ['r', 8], ['x', 16], ['z', 8], ['i', 8], ['im', 4], ['is', 6], ['d', 8], ['h', 4], ['g', 4], ['gr', 8], ['p', 10.67],
  ['inf', 4], ['trn', 4], ['dl', 8], ['hpc', 4], ['f', 10.67], ['vt', 2], ['a', 2], ['mac', 2],
]);

/** us-east-1 Linux on-demand list prices, rounded, of the types tests compare; others are estimated [I]. */
const LIST_PRICES = new Map<string, number>([
  ['m7i.large', 0.1008], ['m7i.xlarge', 0.2016], ['m6i.large', 0.096], ['m6i.xlarge', 0.192], ['m5.large', 0.096], ['c6i.large', 0.085],
  ['c6i.xlarge', 0.17], ['m7g.large', 0.0816], ['m7g.xlarge', 0.1632], ['c7g.2xlarge', 0.289], ['m6a.large', 0.0864], ['m6g.large', 0.077],
]);

function vcpusOf(family: string, size: string, arm: boolean): number | undefined {
  if (BURSTABLE.has(family)) return family === 't2' && ['nano', 'micro', 'small'].includes(size) ? 1 : BURSTABLE_SIZES.get(size)?.[0];
  if (size === 'medium') return arm || family === 'a1' || /^[mcr][78]a$/.test(family) ? 1 : undefined;
  const times = /^(\d*)xlarge$/.exec(size) ?? /^metal-(\d+)xl$/.exec(size);
  if (times) return Number(times[1] || 1) * 4;
  return { large: 2, metal: arm ? 64 : 96 }[size];
}

function memoryGibOf(family: string, size: string, vcpus: number): number {
  if (BURSTABLE.has(family)) return BURSTABLE_SIZES.get(size)![1];
  // High-memory families: the name is the memory (u-6tb1, u7i-12tb), whatever the size.
  const tebibytes = /^u\d*[a-z]*-(\d+)tb/.exec(family);
  if (tebibytes) return Number(tebibytes[1]) * 1024;
  const prefix = /^[a-z]+/.exec(family)![0];
  return vcpus * (GIB_PER_VCPU.get(prefix) ?? GIB_PER_VCPU.get(prefix[0]) ?? 4);
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
  const [family, size, ...rest] = name.split('.');
  if (rest.length > 0 || !INSTANCE_FAMILIES.has(family) || !INSTANCE_SIZES.has(size)) return undefined;
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

/** Who makes a type's CPU: Graviton for arm64 (Apple for mac), AMD for families with an `a` after the generation (m6a, c7a), else Intel. */
export function cpuManufacturerOf(type: Pick<InstanceTypeInfo, 'name' | 'architecture'>): string {
  if (type.name.startsWith('mac')) return type.architecture === 'arm64' ? 'apple' : 'intel';
  if (type.architecture === 'arm64') return 'amazon-web-services';
  return /^[a-z]+\d+[a-z]*a[a-z]*\./.test(type.name) && !/^[a-z]+\d+i/.test(type.name) ? 'amd' : 'intel';
}

/** Spot prices are modelled at 30 % of on-demand: they only order pools. */
export const spotPriceOf = (type: InstanceTypeInfo) => type.onDemandPrice * 0.3;

type Range = { readonly min: number; readonly max?: number };
/** `cpuManufacturers`: `intel`, `amd`, `amazon-web-services`, `apple`; empty: any. */
export type InstanceRequirementsSpec = { readonly vCpuCount: Range; readonly memoryMiB: Range; readonly cpuManufacturers: readonly string[] };

/** The catalog types that satisfy the requirements, in catalog order, without the defaults' exclusions `BareMetal` and `BurstablePerformance` (API_InstanceRequirements). */
export function matchInstanceRequirements(req: InstanceRequirementsSpec): InstanceTypeInfo[] {
  const within = (value: number, range: Range) => value >= range.min && (range.max === undefined || value <= range.max);
  return DEFAULT_INSTANCE_TYPES.filter((type) =>
    within(type.vcpus, req.vCpuCount) &&
    within(type.memoryMiB, req.memoryMiB) &&
    !type.name.includes('.metal') &&
    !BURSTABLE.has(type.name.split('.')[0]) &&
    (req.cpuManufacturers.length === 0 || req.cpuManufacturers.includes(cpuManufacturerOf(type))));
}
