// A runner config's own root volume: size, EBS type, IOPS, throughput (checked at synth by
// private/root-volume-limits.ts).
import { Size } from 'aws-cdk-lib';

/** EBS volume types a runner's root volume can be. */
export enum RunnerVolumeType {
  /** General Purpose SSD gp3: 3,000 IOPS and 125 MiB/s included, more provisioned independently of size. */
  GP3 = 'gp3',
  /** General Purpose SSD gp2: IOPS follow the size (3 per GiB), none provisioned. */
  GP2 = 'gp2',
  /** Provisioned IOPS SSD io1. */
  IO1 = 'io1',
  /** Provisioned IOPS SSD io2 (Block Express). */
  IO2 = 'io2',
}

/** The root volume of a runner config's instances; what is left out is the deployment's. */
export interface RunnerRootVolume {
  /**
   * Size of the root volume, whole GiB.
   *
   * @default - the deployment's `runnerVolumeSize` (30 GiB unless set)
   */
  readonly size?: Size;

  /**
   * The EBS volume type. Always encrypted, deleted with the instance.
   *
   * @default RunnerVolumeType.GP3
   */
  readonly volumeType?: RunnerVolumeType;

  /**
   * Provisioned IOPS: gp3 3,000-80,000 and at most 500 per GiB; io1 100-64,000 and at most 50 per
   * GiB; io2 100-256,000 and at most 1,000 per GiB. Required for io1 and io2; gp2 takes none.
   *
   * @default - gp3: 3,000 (its baseline); io1 and io2: none (give one)
   */
  readonly iops?: number;

  /**
   * Provisioned throughput, MiB/s, gp3 only: 125-2,000 and at most 0.25 MiB/s per provisioned IOPS.
   *
   * @default - gp3: 125 MiB/s (its baseline)
   */
  readonly throughput?: number;
}
