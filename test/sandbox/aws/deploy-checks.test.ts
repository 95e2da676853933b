import * as fs from 'fs';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { validateTemplate } from '../../../sandbox/aws/cloudformation-schema';
import { assertDeployable, DeploymentRefusedError, DeployTemplate, launchTemplateParameterProblems } from '../../../sandbox/aws/deploy-checks';
import { synthesizeDeployment } from '../../../sandbox/deployment';
import { DEFAULT_SCENARIO, parseScenario } from '../../../sandbox/scenario';
import { RunnerImagePipeline } from '../../../src';

function synth(build: (stack: Stack) => void): DeployTemplate {
  const app = new App();
  const stack = new Stack(app, 'Deploy');
  build(stack);
  return app.synth().getStackByName('Deploy').template as DeployTemplate;
}

function launchTemplate(stack: Stack, parameterName: string): ec2.LaunchTemplate {
  return new ec2.LaunchTemplate(stack, 'LaunchTemplate', { machineImage: ec2.MachineImage.resolveSsmParameterAtLaunch(parameterName) });
}

function imageParameter(stack: Stack, dataType = ssm.ParameterDataType.AWS_EC2_IMAGE): ssm.StringParameter {
  return new ssm.StringParameter(stack, 'Image', { parameterName: '/runners/image/x64', stringValue: 'ami-0123456789abcdef0', dataType });
}

function refusal(template: DeployTemplate, account = {}): string[] {
  try {
    assertDeployable(template, account);
  } catch (error) {
    if (error instanceof DeploymentRefusedError) return error.problems;
    throw error;
  }
  return [];
}

describe('deploy-time checks: a launch template\'s resolve:ssm: image must exist when the launch template is created', () => {
  test('a launch template resolving the image pipeline\'s parameter is refused: the pipeline writes it only after its first build', () => {
    // The construct's launch templates up to issue 11 did this.
    const template = synth((stack) => {
      const pipeline = new RunnerImagePipeline(stack, 'Images', { architectures: [ec2.InstanceArchitecture.X86_64], parameterPrefix: '/runners/image' });
      launchTemplate(stack, pipeline.parameterNameFor(ec2.InstanceArchitecture.X86_64)!);
    });

    const problems = refusal(template);

    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(new RegExp('^Resources\\.LaunchTemplate\\w+\\.Properties\\.LaunchTemplateData\\.ImageId resolves SSM parameter \'/runners/image/x64\', '
      + 'which does not exist when CloudFormation creates the launch template: the template does not create it \\(the image distribution Resources\\.\\S+ writes it'));
    expect(problems[0]).toContain('SsmInvalidParameter');
    expect(problems[0]).toContain('Fix: create the parameter in the template');
  });

  test('the construct\'s template as the sandbox synthesizes it deploys: its launch templates name no image', () => {
    const deployment = synthesizeDeployment(DEFAULT_SCENARIO);

    const launchTemplates = Object.values(deployment.resources).filter((r) => r.Type === 'AWS::EC2::LaunchTemplate');
    expect(launchTemplates.length).toBeGreaterThan(0);
    expect(refusal({ Resources: deployment.resources })).toEqual([]);
  });

  test('a parameter the template creates, with data type aws:ec2:image, that the launch template depends on, passes', () => {
    const template = synth((stack) => {
      const parameter = imageParameter(stack);
      launchTemplate(stack, '/runners/image/x64').node.addDependency(parameter);
    });

    expect(refusal(template)).toEqual([]);
  });

  test('a parameter named by Ref is a dependency of the launch template by itself', () => {
    const template = synth((stack) => launchTemplate(stack, imageParameter(stack).parameterName));

    expect(refusal(template)).toEqual([]);
  });

  test('a parameter the template creates but the launch template does not wait for is refused', () => {
    const template = synth((stack) => {
      imageParameter(stack);
      launchTemplate(stack, '/runners/image/x64');
    });

    expect(launchTemplateParameterProblems(template)).toEqual([expect.stringContaining(
      "resolves SSM parameter '/runners/image/x64', which does not exist when CloudFormation creates the launch template: "
      + 'Resources.Image9D742C96 creates it, but the launch template does not depend on it')]);
  });

  test('a parameter of data type text is refused, as EC2 refuses it (aws-cdk#26712)', () => {
    const template = synth((stack) => launchTemplate(stack, imageParameter(stack, ssm.ParameterDataType.TEXT).parameterName));

    expect(launchTemplateParameterProblems(template)).toEqual([expect.stringContaining("without DataType 'aws:ec2:image'")]);
  });

  test('a parameter the account holds already, or a public one (Canonical\'s), passes', () => {
    const own = synth((stack) => launchTemplate(stack, '/golden/ami'));
    const canonical = synth((stack) => launchTemplate(stack, '/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id'));

    expect(refusal(own, { ssmParameters: ['/golden/ami'] })).toEqual([]);
    expect(refusal(own)).toEqual([expect.stringContaining("resolves SSM parameter '/golden/ami'")]);
    expect(refusal(canonical)).toEqual([]);
  });

  test('a Canonical Ubuntu parameter Canonical does not publish is refused: 22.04 exists under ebs-gp2 only', () => {
    const names = [
      '/aws/service/canonical/ubuntu/server/22.04/stable/current/amd64/hvm/ebs-gp3/ami-id',
      '/aws/service/canonical/ubuntu/server/22.04/stable/current/arm64/hvm/ebs-gp2/ami-id',
      '/aws/service/canonical/ubuntu/server/24.04/stable/current/arm64/hvm/ebs-gp3/ami-id',
      '/aws/service/canonical/ubuntu/server/noble/stable/current/amd64/hvm/ebs-gp2/ami-id',
    ];

    const problems = names.map((name) => launchTemplateParameterProblems(synth((stack) => launchTemplate(stack, name))));

    expect(problems).toEqual([
      [expect.stringContaining('Canonical publishes Ubuntu 22.04 under ebs-gp2, not ebs-gp3')],
      [],
      [],
      [expect.stringContaining('Canonical publishes Ubuntu 24.04 under ebs-gp3, not ebs-gp2')],
    ]);
  });

  test('a schema problem is refused too, named as CloudFormation names it', () => {
    const template: DeployTemplate = { Resources: { Queue: { Type: 'AWS::SQS::Queue', Properties: { FifoQeue: true } } } };

    expect(refusal(template)).toEqual(["CloudFormation resource schema: 'FifoQeue' was unexpected at Resources.Queue.Properties. Did you mean 'FifoQueue'?"]);
  });

  test.each(['public', 'private'])('the sandbox\'s %s deployment has nothing CloudFormation\'s resource schemas refuse', (network) => {
    const file = path.join(__dirname, '..', '..', '..', 'sandbox', 'scenarios', network === 'private' ? 'private.json' : 'demo.json');
    const scenario = parseScenario(JSON.parse(fs.readFileSync(file, 'utf8')));
    expect(scenario.network).toBe(network);

    const deployment = synthesizeDeployment(scenario);

    expect(validateTemplate({ Resources: deployment.resources }).map((f) => f.message)).toEqual([]);
  });
});
