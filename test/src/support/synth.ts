// The construct in a stack of its own, for template assertions: a public-subnet VPC, a GHES App,
// and the runner configs given (each test file names its own).
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { EphemeralRunners, EphemeralRunnersProps } from '../../../src';
import { unpackBootstrap } from '../../../src/private/bootstrap-install';

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

/** The message synth fails with for these configs; the test fails if synth succeeds. */
export function synthErrors(runnerConfigs: EphemeralRunnersProps['runnerConfigs'], props: Partial<EphemeralRunnersProps> = {}): string {
  try {
    synthRunners(runnerConfigs, props);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected synth to fail');
}

/** The user data of each launch template, by the template's logical id, as one string. */
export function userDataOf(template: Template): Record<string, string> {
  return Object.fromEntries(Object.entries(template.findResources('AWS::EC2::LaunchTemplate'))
    .map(([id, t]) => [id, JSON.stringify(t.Properties.LaunchTemplateData.UserData)]));
}

/** The bootstrap a launch template's user data installs, unpacked; the test fails if it installs none. */
export function bootstrapOf(launchTemplate: { readonly [key: string]: unknown }): string {
  // The user data is Fn::Base64 of a Fn::Join: its literal parts hold the packed script whole.
  const { Properties } = launchTemplate as { Properties: { LaunchTemplateData: { UserData: unknown } } };
  const text = JSON.stringify(Properties.LaunchTemplateData.UserData).replace(/\\n/g, '\n');
  const script = unpackBootstrap(text);
  if (script === undefined) throw new Error('the user data installs no bootstrap');
  return script;
}
