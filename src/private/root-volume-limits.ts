// A runner config's root volume against the limits EC2 enforces at launch, checked at synth.
import { Size, SizeRoundingBehavior, Token } from 'aws-cdk-lib';
import { RunnerRootVolume, RunnerVolumeType } from '../runner-root-volume';

interface VolumeLimits {
  readonly sizeGiB: readonly [number, number];
  /** Provisioned IOPS range and the most IOPS per GiB; absent when the type takes no IOPS. */
  readonly iops?: { readonly range: readonly [number, number]; readonly perGiB: number; readonly required: boolean };
  /** Provisioned throughput range (MiB/s) and the most MiB/s per provisioned IOPS; gp3 only. */
  readonly throughput?: { readonly range: readonly [number, number]; readonly perIops: number };
}

/**
 * What EC2 accepts per volume type: "Amazon EBS volume types"
 * (https://docs.aws.amazon.com/ebs/latest/userguide/ebs-volume-types.html); "General Purpose SSD
 * volumes" (https://docs.aws.amazon.com/ebs/latest/userguide/general-purpose.html): gp3 up to 64 TiB,
 * 3,000-80,000 IOPS at most 500 per GiB, 125-2,000 MiB/s at most 0.25 MiB/s per IOPS (raised in
 * 2025 from 16 TiB, 16,000 IOPS and 1,000 MiB/s; the CreateVolume API reference gives "125 - 2000
 * MiB/s", and aws-cdk-lib's own Volume check 3,000-80,000 IOPS), gp2 up to 16 TiB with no IOPS of
 * its own; "Provisioned IOPS SSD volumes" (https://docs.aws.amazon.com/ebs/latest/userguide/provisioned-iops.html):
 * io1 4 GiB-16 TiB, 100-64,000 IOPS at most 50 per GiB; io2 Block Express 4 GiB-64 TiB,
 * 100-256,000 IOPS at most 1,000 per GiB; IOPS required for both, throughput for neither.
 */
const VOLUME_LIMITS: Readonly<Record<RunnerVolumeType, VolumeLimits>> = {
  [RunnerVolumeType.GP3]: {
    sizeGiB: [1, 65_536],
    iops: { range: [3_000, 80_000], perGiB: 500, required: false },
    throughput: { range: [125, 2_000], perIops: 0.25 },
  },
  [RunnerVolumeType.GP2]: { sizeGiB: [1, 16_384] },
  [RunnerVolumeType.IO1]: { sizeGiB: [4, 16_384], iops: { range: [100, 64_000], perGiB: 50, required: true } },
  [RunnerVolumeType.IO2]: { sizeGiB: [4, 65_536], iops: { range: [100, 256_000], perGiB: 1_000, required: true } },
};

/** gp3's included IOPS: the ratio limits apply to IOPS provisioned above it. */
const GP3_BASELINE_IOPS = 3_000;

/** A root volume with the deployment's size filled in; `sizeGiB` undefined when the size is not whole GiB. */
export interface SettledRootVolume {
  readonly volumeType: RunnerVolumeType;
  readonly sizeGiB?: number;
  readonly iops?: number;
  readonly throughput?: number;
}

export function settleRootVolume(volume: RunnerRootVolume, sharedSize: Size): SettledRootVolume {
  const size = volume.size ?? sharedSize;
  return {
    volumeType: volume.volumeType ?? RunnerVolumeType.GP3,
    sizeGiB: wholeGiB(size),
    iops: volume.iops,
    throughput: volume.throughput,
  };
}

/** Every problem of a config's root volume, naming the config (`who`), the value and the fix. */
export function validateRootVolume(who: string, volume: RunnerRootVolume, sharedSize: Size): string[] {
  const settled = settleRootVolume(volume, sharedSize);
  const { volumeType: type, sizeGiB, iops, throughput } = settled;
  const limits = VOLUME_LIMITS[type];
  const at = `${who}: rootVolume`;
  const errors: string[] = [];
  if (!Object.values(RunnerVolumeType).includes(type)) {
    return [`${at}.volumeType is '${type}'; use RunnerVolumeType.GP3, GP2, IO1 or IO2.`];
  }
  if (sizeGiB === undefined) {
    errors.push(`${at}.size is not a whole number of GiB; give one, e.g. Size.gibibytes(100).`);
  } else if (sizeGiB < limits.sizeGiB[0] || sizeGiB > limits.sizeGiB[1]) {
    errors.push(`${at}.size is ${sizeGiB} GiB; a ${type} volume holds ${limits.sizeGiB[0]}-${limits.sizeGiB[1]} GiB.`);
  }
  const number = (value: number | undefined) => value === undefined || Token.isUnresolved(value) || Number.isInteger(value);
  if (!number(iops)) errors.push(`${at}.iops is ${iops}; give a whole number.`);
  if (!number(throughput)) errors.push(`${at}.throughput is ${throughput}; give a whole number of MiB/s.`);
  if (!limits.iops && iops !== undefined) {
    errors.push(`${at}.iops is ${iops}, but a ${type} volume's IOPS follow its size; leave iops out, or use RunnerVolumeType.GP3 to provision IOPS.`);
  }
  if (limits.iops?.required && iops === undefined) {
    errors.push(`${at} is ${type} without iops; EC2 requires provisioned IOPS for ${type}: give iops (${limits.iops.range[0]}-${limits.iops.range[1]}).`);
  }
  if (limits.iops && iops !== undefined) {
    const [min, max] = limits.iops.range;
    if (iops < min || iops > max) errors.push(`${at}.iops is ${iops}; a ${type} volume takes ${min}-${max} IOPS.`);
    const ratioApplies = type !== RunnerVolumeType.GP3 || iops > GP3_BASELINE_IOPS;
    if (ratioApplies && sizeGiB !== undefined && iops > limits.iops.perGiB * sizeGiB) {
      errors.push(`${at}.iops is ${iops} for ${sizeGiB} GiB; a ${type} volume takes at most ${limits.iops.perGiB} IOPS per GiB: `
        + `give at least ${Math.ceil(iops / limits.iops.perGiB)} GiB, or at most ${limits.iops.perGiB * sizeGiB} IOPS.`);
    }
  }
  if (!limits.throughput && throughput !== undefined) {
    errors.push(`${at}.throughput is ${throughput}, but only gp3 volumes take a provisioned throughput; leave it out, or use RunnerVolumeType.GP3.`);
  }
  if (limits.throughput && throughput !== undefined) {
    const [min, max] = limits.throughput.range;
    if (throughput < min || throughput > max) errors.push(`${at}.throughput is ${throughput} MiB/s; a ${type} volume takes ${min}-${max} MiB/s.`);
    const effectiveIops = iops ?? GP3_BASELINE_IOPS;
    if (throughput > limits.throughput.perIops * effectiveIops) {
      errors.push(`${at}.throughput is ${throughput} MiB/s with ${effectiveIops} IOPS; a ${type} volume takes at most ${limits.throughput.perIops} MiB/s per IOPS: `
        + `give iops of at least ${Math.ceil(throughput / limits.throughput.perIops)}, or at most ${Math.floor(limits.throughput.perIops * effectiveIops)} MiB/s.`);
    }
  }
  return errors;
}

function wholeGiB(size: Size): number | undefined {
  const mebibytes = size.toMebibytes({ rounding: SizeRoundingBehavior.NONE });
  return Number.isInteger(mebibytes / 1024) ? mebibytes / 1024 : undefined;
}
