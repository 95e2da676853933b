// The construct in a stack of its own, for template assertions: a public-subnet VPC, a GHES App,
// and the runner configs given (each test file names its own).
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { EphemeralRunners, EphemeralRunnersProps } from '../../../src';

/** `props` may be a function of the stack, for props that are constructs in it (an SNS topic). */
export function synthRunners(
  runnerConfigs: EphemeralRunnersProps['runnerConfigs'],
  props: Partial<EphemeralRunnersProps> | ((stack: Stack) => Partial<EphemeralRunnersProps>) = {},
): Template {
  const stack = new Stack(new App(), 'Test');
  const vpc = new ec2.Vpc(stack, 'Vpc', { natGateways: 0, subnetConfiguration: [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC }] });
  new EphemeralRunners(stack, 'Runners', {
    github: { url: 'https://ghes.example.com', appId: '12' },
    vpc,
    runnerConfigs,
    ...(typeof props === 'function' ? props(stack) : props),
  });
  return Template.fromStack(stack);
}
