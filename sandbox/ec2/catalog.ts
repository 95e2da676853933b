// The instance types the simulated region offers, and attribute-based selection over them
// (CreateFleet `InstanceRequirements`: vCPU and memory ranges, allowed / excluded type patterns).
import { InstanceTypeInfo } from './types';

/** A small catalog of the types runner configs typically use; prices are us-east-1 list prices, rounded. */
export const DEFAULT_INSTANCE_TYPES: readonly InstanceTypeInfo[] = [
  { name: 'm7i.large', vcpus: 2, memoryMiB: 8192, architecture: 'x86_64', onDemandPrice: 0.1008 },
  { name: 'm7i.xlarge', vcpus: 4, memoryMiB: 16384, architecture: 'x86_64', onDemandPrice: 0.2016 },
  { name: 'm6i.large', vcpus: 2, memoryMiB: 8192, architecture: 'x86_64', onDemandPrice: 0.096 },
  { name: 'm6i.xlarge', vcpus: 4, memoryMiB: 16384, architecture: 'x86_64', onDemandPrice: 0.192 },
  { name: 'm5.large', vcpus: 2, memoryMiB: 8192, architecture: 'x86_64', onDemandPrice: 0.096 },
  { name: 'c6i.large', vcpus: 2, memoryMiB: 4096, architecture: 'x86_64', onDemandPrice: 0.085 },
  { name: 'c6i.xlarge', vcpus: 4, memoryMiB: 8192, architecture: 'x86_64', onDemandPrice: 0.17 },
  { name: 'm7g.large', vcpus: 2, memoryMiB: 8192, architecture: 'arm64', onDemandPrice: 0.0816 },
  { name: 'm7g.xlarge', vcpus: 4, memoryMiB: 16384, architecture: 'arm64', onDemandPrice: 0.1632 },
  { name: 'c7g.2xlarge', vcpus: 8, memoryMiB: 16384, architecture: 'arm64', onDemandPrice: 0.289 },
];

export interface InstanceRequirementsSpec {
  readonly vCpuCount: { readonly min: number; readonly max?: number };
  readonly memoryMiB: { readonly min: number; readonly max?: number };
  readonly allowedInstanceTypes: readonly string[];
  readonly excludedInstanceTypes: readonly string[];
  /** `intel`, `amd`, `amazon-web-services`; empty: any. */
  readonly cpuManufacturers: readonly string[];
}

/** Who makes a type's CPU: Graviton for arm64, AMD for families with an `a` after the generation (m6a, c7a), else Intel. */
export function cpuManufacturerOf(type: InstanceTypeInfo): string {
  if (type.architecture === 'arm64') return 'amazon-web-services';
  return /^[a-z]+\d+[a-z]*a[a-z]*\./.test(type.name) && !/^[a-z]+\d+i/.test(type.name) ? 'amd' : 'intel';
}

export function spotPriceOf(type: InstanceTypeInfo): number {
  return type.spotPrice ?? type.onDemandPrice * 0.3;
}

/** The catalog types that satisfy the requirements, in catalog order. */
export function matchInstanceRequirements(
  catalog: readonly InstanceTypeInfo[],
  req: InstanceRequirementsSpec,
): InstanceTypeInfo[] {
  const within = (value: number, range: { min: number; max?: number }) =>
    value >= range.min && (range.max === undefined || value <= range.max);
  return catalog.filter((type) =>
    within(type.vcpus, req.vCpuCount) &&
    within(type.memoryMiB, req.memoryMiB) &&
    (req.allowedInstanceTypes.length === 0 || req.allowedInstanceTypes.some((p) => matchesTypePattern(type.name, p))) &&
    (req.cpuManufacturers.length === 0 || req.cpuManufacturers.includes(cpuManufacturerOf(type))) &&
    !req.excludedInstanceTypes.some((p) => matchesTypePattern(type.name, p)));
}

/** `m5.*`, `*.large`, `c7g.2xlarge`: `*` stands for any run of characters. */
export function matchesTypePattern(name: string, pattern: string): boolean {
  const source = pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*');
  return new RegExp(`^${source}$`).test(name);
}
