// The image runner instances boot: an enum-like class with a factory per kind of source.
import { Arn, ArnFormat, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import { ImageSourceDocument } from './runner-config-document';
import type { RunnerImagePipeline } from './runner-image-pipeline';
import { canonicalUbuntuParameter } from './ubuntu-image';

/**
 * Where the runner image comes from, per architecture. Images named by an SSM parameter are read
 * by the provisioner at each launch and passed to EC2 as the AMI id, so a new image is used
 * without a redeploy, and a parameter that does not exist yet (the first image is still being
 * built) makes jobs wait instead of failing the deploy.
 */
export abstract class RunnerMachineImage {
  /** Ubuntu 24.04 LTS, from Canonical's public SSM parameters. */
  static ubuntu2404(): RunnerMachineImage {
    return RunnerMachineImage.canonical('24.04');
  }

  /** Ubuntu 22.04 LTS, from Canonical's public SSM parameters. */
  static ubuntu2204(): RunnerMachineImage {
    return RunnerMachineImage.canonical('22.04');
  }

  /**
   * Images named by SSM parameters (an image pipeline writes the newest AMI id into them).
   * Give the parameter of each architecture your runner configs use.
   */
  static fromSsmParameters(x64ParameterName?: string, arm64ParameterName?: string): RunnerMachineImage {
    return new SsmParameterImage({ [ec2.InstanceArchitecture.X86_64]: x64ParameterName, [ec2.InstanceArchitecture.ARM_64]: arm64ParameterName });
  }

  /**
   * The newest images of a {@link RunnerImagePipeline} of your own (e.g. one with extra components
   * for a runner config of its own), read from the pipeline's SSM parameters at each launch.
   */
  static fromPipeline(pipeline: RunnerImagePipeline): RunnerMachineImage {
    return new SsmParameterImage({
      [ec2.InstanceArchitecture.X86_64]: pipeline.parameterNameFor(ec2.InstanceArchitecture.X86_64),
      [ec2.InstanceArchitecture.ARM_64]: pipeline.parameterNameFor(ec2.InstanceArchitecture.ARM_64),
    });
  }

  /** Fixed AMI ids. */
  static fromAmiIds(x64AmiId?: string, arm64AmiId?: string): RunnerMachineImage {
    return new AmiIdImage({ [ec2.InstanceArchitecture.X86_64]: x64AmiId, [ec2.InstanceArchitecture.ARM_64]: arm64AmiId });
  }

  private static canonical(release: string): RunnerMachineImage {
    return new SsmParameterImage({
      [ec2.InstanceArchitecture.X86_64]: canonicalUbuntuParameter(release, 'amd64'),
      [ec2.InstanceArchitecture.ARM_64]: canonicalUbuntuParameter(release, 'arm64'),
    });
  }

  /**
   * Where instances of `architecture` get their image, as the runner config document says it.
   * Throws if none was given for the architecture.
   * @internal
   */
  abstract _sourceFor(architecture: ec2.InstanceArchitecture): ImageSourceDocument;

  /**
   * ARNs of the SSM parameters the provisioner reads at launch.
   * @internal
   */
  abstract _parameterArns(scope: Construct): string[];
}

type PerArchitecture = Partial<Record<ec2.InstanceArchitecture, string>>;

function required(values: PerArchitecture, architecture: ec2.InstanceArchitecture, what: string): string {
  const value = values[architecture];
  if (!value) {
    throw new Error(`machineImage has no ${what} for ${architecture} runner configs; give one for ${architecture}, or change the configs' architecture.`);
  }
  return value;
}

class SsmParameterImage extends RunnerMachineImage {
  constructor(private readonly names: PerArchitecture) {
    super();
  }

  _sourceFor(architecture: ec2.InstanceArchitecture): ImageSourceDocument {
    return { parameterName: required(this.names, architecture, 'SSM parameter') };
  }

  _parameterArns(scope: Construct): string[] {
    return Object.values(this.names).filter((n): n is string => !!n).map((name) => (name.startsWith('arn:') ? name : Arn.format({
      service: 'ssm',
      resource: 'parameter',
      resourceName: name.replace(/^\//, ''),
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
      // AWS public parameters belong to no account.
      account: name.startsWith('/aws/service/') ? '' : undefined,
    }, Stack.of(scope))));
  }
}

class AmiIdImage extends RunnerMachineImage {
  constructor(private readonly ids: PerArchitecture) {
    super();
  }

  _sourceFor(architecture: ec2.InstanceArchitecture): ImageSourceDocument {
    return { amiId: required(this.ids, architecture, 'AMI id') };
  }

  _parameterArns(): string[] {
    return [];
  }
}
