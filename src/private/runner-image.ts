// The construct's own runner image, when the user names none: one Image Builder pipeline per
// architecture of the configs without an image of their own, its newest AMI ids in SSM parameters
// the provisioner reads.
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import { EphemeralRunnersProps } from '../ephemeral-runners-props';
import { RunnerArchitecture } from '../runner-config';
import { RunnerImagePipeline } from '../runner-image-pipeline';
import { RunnerMachineImage } from '../runner-machine-image';

/** What {@link buildRunnerImage} is built from besides the user's props. */
export interface RunnerImageContext {
  /** The construct's SSM parameter prefix. */
  readonly prefix: string;
  readonly vpc: ec2.IVpc;
  /** The runner subnets: builds run where the runners run, which reach GitHub and the package mirrors. */
  readonly subnets: ec2.SelectedSubnets;
  /** Whether github.caCertificatesPem is malformed: the construct reports it once, and the image leaves it out. */
  readonly caCertificatesMalformed: boolean;
}

export interface RunnerImage {
  readonly pipeline: RunnerImagePipeline;
  /** The image the runners boot: the newest the pipeline built, read at each launch. */
  readonly machineImage: RunnerMachineImage;
}

/** The construct's own image; undefined when every config names an image of its own. */
export function buildRunnerImage(scope: Construct, props: EphemeralRunnersProps, context: RunnerImageContext): RunnerImage | undefined {
  const needing = props.runnerConfigs.filter((c) => c.machineImage === undefined);
  if (needing.length === 0) return undefined;
  const architectures = [...new Set(needing.map((c) => (c.architecture === RunnerArchitecture.ARM64
    ? ec2.InstanceArchitecture.ARM_64 : ec2.InstanceArchitecture.X86_64)))];
  const pipeline = new RunnerImagePipeline(scope, 'Image', {
    ...props.runnerImage,
    caCertificatesPem: props.runnerImage?.caCertificatesPem ?? (context.caCertificatesMalformed ? undefined : props.github.caCertificatesPem),
    architectures,
    parameterPrefix: `${context.prefix}/image`,
    vpc: context.vpc,
    subnet: context.subnets.subnets[0],
  });
  const machineImage = RunnerMachineImage.fromSsmParameters(
    pipeline.parameterNameFor(ec2.InstanceArchitecture.X86_64), pipeline.parameterNameFor(ec2.InstanceArchitecture.ARM_64));
  return { pipeline, machineImage };
}
