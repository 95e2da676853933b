// The image runner instances boot: an enum-like class with a factory per kind of source.
import { Arn, ArnFormat, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import { canonicalUbuntuParameter } from './ubuntu-image';

/**
 * Where the runner image comes from, per architecture. Images named by an SSM parameter are
 * resolved at every launch (`resolve:ssm:`), so a new image is used without a redeploy.
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

  /** The image for instances of `architecture`; throws if none was given for it. */
  abstract imageFor(architecture: ec2.InstanceArchitecture): ec2.IMachineImage;

  /** ARNs of the SSM parameters the launches read, for the launching role. */
  abstract parameterArns(scope: Construct): string[];
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

  imageFor(architecture: ec2.InstanceArchitecture): ec2.IMachineImage {
    return ec2.MachineImage.resolveSsmParameterAtLaunch(required(this.names, architecture, 'SSM parameter'));
  }

  parameterArns(scope: Construct): string[] {
    return Object.values(this.names).filter((n): n is string => !!n).map((name) => Arn.format({
      service: 'ssm',
      resource: 'parameter',
      resourceName: name.replace(/^\//, ''),
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
      // AWS public parameters belong to no account.
      account: name.startsWith('/aws/service/') ? '' : undefined,
    }, Stack.of(scope)));
  }
}

class AmiIdImage extends RunnerMachineImage {
  constructor(private readonly ids: PerArchitecture) {
    super();
  }

  imageFor(architecture: ec2.InstanceArchitecture): ec2.IMachineImage {
    const id = required(this.ids, architecture, 'AMI id');
    return { getImage: () => ({ imageId: id, osType: ec2.OperatingSystemType.LINUX, userData: ec2.UserData.forLinux() }) };
  }

  parameterArns(): string[] {
    return [];
  }
}
