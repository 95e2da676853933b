import { Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { idleCosts } from './idle-cost';
import { VALIDATION_PLUGINS, validationFindings } from './validation';
import { buildApp } from '../../examples/config-overrides/app';
import { RunnerConfigDocument } from '../../src/runner-config-document';

type Json = Record<string, any>;

describe('examples/config-overrides', () => {
  const app = buildApp();
  const stack = app.node.findChild('EphemeralRunnersConfigOverrides') as Stack;
  const template = Template.fromStack(stack);
  const resources = template.toJSON().Resources as Record<string, Json>;
  const launchTemplate = (config: string) => Object.entries(resources)
    .find(([id, r]) => r.Type === 'AWS::EC2::LaunchTemplate' && id.startsWith(`RunnersFleetLaunchTemplate${config.replace(/-/g, '')}`))![1].Properties.LaunchTemplateData;
  const roleOf = (config: string) => resources[launchTemplate(config).IamInstanceProfile.Arn['Fn::GetAtt'][0]].Properties.Roles[0].Ref;

  test('each config boots its own image: the construct\'s, the team\'s AMI, the team\'s pipeline', () => {
    const documents = Object.values(template.findResources('AWS::SSM::Parameter'))
      .map((p) => p.Properties.Value)
      .filter((v): v is string => typeof v === 'string' && v.startsWith('{'))
      .map((v) => JSON.parse(v) as RunnerConfigDocument);
    const images = Object.fromEntries(documents.map((d) => [d.name, d.image]));
    expect(images.gpu).toEqual({ amiId: 'ami-0123456789abcdef0' });
    expect(images.integration).toEqual({ parameterName: '/platform/runner-images/integration/x64' });
    expect(images['linux-x64']?.parameterName).toMatch(/\/image\/x64$/);
    // The construct's pipeline and the team's.
    template.resourceCountIs('AWS::ImageBuilder::ImagePipeline', 2);
  });

  test('the GPU config has its io2 volume and, for Session Manager, a role of its own; the integration config its gp3 IOPS and throughput, its group, metadata tags and role', () => {
    expect(launchTemplate('gpu').BlockDeviceMappings[0].Ebs).toEqual({ DeleteOnTermination: true, Encrypted: true, Iops: 16000, VolumeSize: 500, VolumeType: 'io2' });
    const integration = launchTemplate('integration');
    expect(integration.BlockDeviceMappings[0].Ebs).toEqual({ DeleteOnTermination: true, Encrypted: true, Iops: 6000, Throughput: 400, VolumeSize: 30, VolumeType: 'gp3' });
    expect(integration.SecurityGroupIds).toHaveLength(2);
    expect(integration.MetadataOptions.InstanceMetadataTags).toBe('enabled');
    expect(roleOf('integration')).not.toBe(roleOf('linux-x64'));
    // Session Manager (debug.sessionManager) gives the GPU config a role of its own, with the agent's channels.
    expect(roleOf('gpu')).not.toBe(roleOf('linux-x64'));
    expect(roleOf('gpu')).not.toBe(roleOf('integration'));
    const gpuPolicies = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((p) => JSON.stringify(p.Properties.Roles).includes(roleOf('gpu')));
    expect(JSON.stringify(gpuPolicies)).toContain('ssmmessages:OpenDataChannel');
    template.resourceCountIs('AWS::SSM::Document', 1);
  });

  test('the integration config launches into its own subnets only; the others into the deployment\'s', () => {
    const subnetsOf = (group: string) => Object.keys(resources).filter((id) => id.startsWith(`Vpc${group}Subnet`) && resources[id].Type === 'AWS::EC2::Subnet');
    const provisioner = Object.values(resources).find((r) => r.Type === 'AWS::Lambda::Function'
      && r.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME === 'provisioner')!.Properties.Environment.Variables;
    const own = JSON.stringify(provisioner.CONFIG_SUBNET_IDS);
    expect(subnetsOf('integration')).toHaveLength(2);
    for (const id of subnetsOf('integration')) expect(own).toContain(`{"Ref":"${id}"}`);
    expect(own).toContain('integration');
    expect(JSON.stringify(provisioner.SUBNET_IDS)).not.toContain('Vpcintegration');
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('isolated subnets'))).toEqual([]);
  });

  test('nothing bills by the hour while no job runs', () => {
    expect(idleCosts(template.toJSON())).toEqual([]);
  });

  const findings = validationFindings(buildApp());
  test.each(VALIDATION_PLUGINS)('%s finds nothing that is not acknowledged in code with a reason', (plugin) => {
    expect(findings[plugin]).toEqual([]);
  });
});
