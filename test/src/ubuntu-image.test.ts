import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { RunnerImagePipeline, RunnerMachineImage, UbuntuRelease } from '../../src';

// Canonical's names, as https://documentation.ubuntu.com/aws/aws-how-to/instances/find-ubuntu-images/
// gives them: volume type ebs-gp3 for releases 23.10 and later, ebs-gp2 for 23.04 and earlier.
const CANONICAL = new Map([
  ['24.04', {
    amd64: '/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id',
    arm64: '/aws/service/canonical/ubuntu/server/24.04/stable/current/arm64/hvm/ebs-gp3/ami-id',
  }],
  ['22.04', {
    amd64: '/aws/service/canonical/ubuntu/server/22.04/stable/current/amd64/hvm/ebs-gp2/ami-id',
    arm64: '/aws/service/canonical/ubuntu/server/22.04/stable/current/arm64/hvm/ebs-gp2/ami-id',
  }],
]);
const [noble, jammy] = [CANONICAL.get('24.04')!, CANONICAL.get('22.04')!];

/** The image parameters the provisioner reads at launch, per architecture (x64, arm64). */
function imageParameters(image: RunnerMachineImage): Array<string | undefined> {
  return [ec2.InstanceArchitecture.X86_64, ec2.InstanceArchitecture.ARM_64].map((a) => image._sourceFor(a).parameterName);
}

function parentImages(release: UbuntuRelease): string[] {
  const stack = new Stack(new App(), 'Pipeline');
  new RunnerImagePipeline(stack, 'Images', {
    architectures: [ec2.InstanceArchitecture.X86_64, ec2.InstanceArchitecture.ARM_64], parameterPrefix: '/images', ubuntuRelease: release,
  });
  return Object.values(Template.fromStack(stack).findResources('AWS::ImageBuilder::ImageRecipe')).map((r) => r.Properties.ParentImage);
}

describe('Canonical\'s Ubuntu AMI parameters, per release and architecture', () => {
  test('the Canonical images a launch reads are the parameters Canonical publishes', () => {
    expect(imageParameters(RunnerMachineImage.ubuntu2404())).toEqual([noble.amd64, noble.arm64]);
    expect(imageParameters(RunnerMachineImage.ubuntu2204())).toEqual([jammy.amd64, jammy.arm64]);
  });

  test('the image pipeline builds on the parameters Canonical publishes', () => {
    expect(parentImages(UbuntuRelease.UBUNTU_24_04)).toEqual([`ssm:${noble.amd64}`, `ssm:${noble.arm64}`]);
    expect(parentImages(UbuntuRelease.UBUNTU_22_04)).toEqual([`ssm:${jammy.amd64}`, `ssm:${jammy.arm64}`]);
  });

  test('a 22.04 image warns at synth: its curl (7.81) sends the session token unsigned', () => {
    const warnings = (release: UbuntuRelease) => {
      const stack = new Stack(new App(), 'Pipeline');
      new RunnerImagePipeline(stack, 'Images', { architectures: [ec2.InstanceArchitecture.X86_64], parameterPrefix: '/images', ubuntuRelease: release });
      return Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('curl 7.81')).length;
    };

    expect(warnings(UbuntuRelease.UBUNTU_22_04)).toBe(1);
    expect(warnings(UbuntuRelease.UBUNTU_24_04)).toBe(0);
  });
});
