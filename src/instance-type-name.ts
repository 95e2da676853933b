// Which EC2 instance type names exist and which architecture they run, from aws-cdk-lib's own
// `InstanceClass` and `InstanceSize` enums and `InstanceType.architecture` rather than a list kept
// here. Shared by synth-time validation and the sandbox's EC2 simulator. Internal: not exported
// from the package.
import { InstanceArchitecture, InstanceClass, InstanceSize, InstanceType } from 'aws-cdk-lib/aws-ec2';

/**
 * The families EC2 names (m7i, c7gn, t4g, u7i-6tb, m7i-flex …): each `InstanceClass` value as
 * `InstanceType.of` spells it in a type name. aws-cdk-lib leaves a few symbolic names unmapped
 * (`parallel5-extended` for p5e); a family name is at most four letters before its generation.
 */
export const INSTANCE_FAMILIES: ReadonlySet<string> = new Set(
  Object.values(InstanceClass)
    .map((value) => InstanceType.of(value, InstanceSize.LARGE).toString().split('.')[0])
    .filter((family) => /^[a-z]{1,4}[-\d]/.test(family)),
);

/** Sizes as EC2 spells them: nano … 48xlarge, metal, metal-24xl … */
export const INSTANCE_SIZES: ReadonlySet<string> = new Set<string>(Object.values(InstanceSize));

export interface InstanceTypeName {
  readonly family: string;
  readonly size: string;
}

/** `m7i-flex.large` → { family: 'm7i-flex', size: 'large' }; undefined when there is no dot. */
export function splitInstanceTypeName(name: string): InstanceTypeName | undefined {
  const dot = name.indexOf('.');
  if (dot <= 0 || dot === name.length - 1) return undefined;
  return { family: name.slice(0, dot), size: name.slice(dot + 1) };
}

/** Why `name` is no instance type aws-cdk-lib knows, or undefined when both family and size are known. */
export function unknownInstanceTypeReason(name: string): string | undefined {
  const parts = splitInstanceTypeName(name);
  if (!parts) return 'it is not family.size';
  if (!INSTANCE_FAMILIES.has(parts.family)) return `no instance family '${parts.family}'`;
  if (!INSTANCE_SIZES.has(parts.size)) return `no instance size '${parts.size}'`;
  return undefined;
}

/**
 * The CPU architecture aws-cdk-lib gives the type (Graviton families and a1 are arm64), or
 * undefined where aws-cdk-lib cannot tell (u-6tb1, mac2-m2 …).
 */
export function instanceTypeArchitecture(name: string): 'x86_64' | 'arm64' | undefined {
  try {
    return new InstanceType(name).architecture === InstanceArchitecture.ARM_64 ? 'arm64' : 'x86_64';
  } catch {
    return undefined;
  }
}
