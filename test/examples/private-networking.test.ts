import * as fs from 'fs';
import * as path from 'path';
import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { VALIDATION_PLUGINS, validationFindings } from './validation';
import { buildApp } from '../../examples/private-networking/app';

describe('examples/private-networking', () => {
  const app = buildApp();
  const stack = app.node.findChild('EphemeralRunnersPrivate') as Stack;
  const build = app.node.findChild('EphemeralRunnersImageBuild') as Stack;
  const template = Template.fromStack(stack);

  test('no route out of the VPC: no NAT gateway, no internet gateway, no public subnet', () => {
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
    template.resourceCountIs('AWS::EC2::InternetGateway', 0);
    for (const subnet of Object.values(template.findResources('AWS::EC2::Subnet'))) {
      expect(subnet.Properties.MapPublicIpOnLaunch).toBe(false);
    }
  });

  test('the webhook, the setup page and the register endpoint are routes of one private API, reached through the example\'s execute-api endpoint', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::Api', 0);
    template.resourceCountIs('AWS::Lambda::Url', 0);
    template.hasResourceProperties('AWS::ApiGateway::RestApi', {
      EndpointConfiguration: { Types: ['PRIVATE'], VpcEndpointIds: [{ Ref: Match.stringLikeRegexp('^VpcExecuteApi') }] },
    });
    const paths = Object.values(template.findResources('AWS::ApiGateway::Resource')).map((r) => r.Properties.PathPart).sort();
    expect(paths).toEqual(['register', 'setup', 'webhook']);
    // The construct made no endpoint of its own: the example's is the only execute-api one.
    const executeApi = Object.values(template.findResources('AWS::EC2::VPCEndpoint'))
      .filter((e) => JSON.stringify(e.Properties.ServiceName).includes('.execute-api'));
    expect(executeApi).toHaveLength(1);
  });

  test('the six functions run in the control-plane subnets; the setup token\'s custom resource outside any VPC', () => {
    const functions = Object.values(template.findResources('AWS::Lambda::Function'))
      .filter((f) => f.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME !== undefined);
    const service = (f: { [key: string]: any }): string => f.Properties.Environment.Variables.POWERTOOLS_SERVICE_NAME;
    expect(functions.map(service).sort()).toEqual(['lifecycle', 'provisioner', 'reconciler', 'register', 'setup', 'setup-token', 'webhook']);
    for (const fn of functions.filter((f) => service(f) !== 'setup-token')) {
      expect(JSON.stringify(fn.Properties.VpcConfig.SubnetIds)).toMatch(/^\[(\{"Ref":"Vpccontrolplane[^"]*"\},?)+\]$/);
    }
    // It answers CloudFormation at a presigned S3 URL, which subnets without a NAT may not reach.
    expect(functions.find((f) => service(f) === 'setup-token')!.Properties.VpcConfig).toBeUndefined();
  });

  test('the launch templates point runners at the private register route, signed for execute-api', () => {
    for (const t of Object.values(template.findResources('AWS::EC2::LaunchTemplate'))) {
      const userData = JSON.stringify(t.Properties.LaunchTemplateData.UserData);
      expect(userData).toContain("export REGISTER_SERVICE='execute-api'");
      expect(userData).toMatch(/\{"Ref":"VpcExecuteApi[^"]*"\},"\.execute-api\..*\/v1\/register/);
    }
  });

  test('the corporate CA reaches the functions that call GHES and the runner image', () => {
    const pem = fs.readFileSync(path.join(__dirname, '..', '..', 'examples', 'private-networking', 'corporate-root-ca.pem'), 'utf8').trim();
    const callers = Object.values(template.findResources('AWS::Lambda::Function'))
      .filter((f) => f.Properties.Environment?.Variables?.NODE_EXTRA_CA_CERTS !== undefined)
      .map((f) => f.Properties.Environment.Variables.POWERTOOLS_SERVICE_NAME).sort();
    expect(callers).toEqual(['lifecycle', 'provisioner', 'reconciler', 'register', 'setup']);
    const components = JSON.stringify(Template.fromStack(build).findResources('AWS::ImageBuilder::Component'));
    expect(components).toContain(JSON.stringify(pem.split('\n')[1]).slice(1, -1));
  });

  test('the image is built in its own stack, in a public subnet; the runners boot the AMI it names by SSM parameter', () => {
    const images = Template.fromStack(build);
    images.resourceCountIs('AWS::ImageBuilder::ImagePipeline', 1);
    images.hasResourceProperties('AWS::ImageBuilder::InfrastructureConfiguration', { SubnetId: { Ref: Match.stringLikeRegexp('^VpcbuildSubnet1') } });
    images.hasResourceProperties('AWS::ImageBuilder::DistributionConfiguration', {
      Distributions: [Match.objectLike({ SsmParameterConfigurations: [Match.objectLike({ ParameterName: '/platform/runner-images/x64' })] })],
    });
    template.resourceCountIs('AWS::ImageBuilder::ImagePipeline', 0);
    const documents = Object.values(template.findResources('AWS::SSM::Parameter'))
      .map((p) => p.Properties.Value)
      .filter((v): v is string => typeof v === 'string' && v.startsWith('{'))
      .map((v) => JSON.parse(v));
    expect(documents.map((d) => d.image)).toEqual(documents.map(() => ({ parameterName: '/platform/runner-images/x64' })));
  });

  test('runners may reach the logs endpoint, which writes to this account\'s log groups only', () => {
    const [endpoint] = Object.values(template.findResources('AWS::EC2::VPCEndpoint'))
      .filter((e) => JSON.stringify(e.Properties.ServiceName).includes('.logs'));
    expect(JSON.stringify(endpoint.Properties.PolicyDocument)).toMatch(/"logs:CreateLogStream","logs:PutLogEvents".*":logs:",\{"Ref":"AWS::Region"\},":",\{"Ref":"AWS::AccountId"\},":log-group:\*"/);
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      FromPort: 443,
      GroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^VpcLogsSecurityGroup'), 'GroupId'] },
      SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^RunnersFleetSecurityGroup'), 'GroupId'] },
    });
  });

  test('the execute-api endpoint, which jobs reach, may call this account\'s APIs only', () => {
    const [endpoint] = Object.values(template.findResources('AWS::EC2::VPCEndpoint'))
      .filter((e) => JSON.stringify(e.Properties.ServiceName).includes('.execute-api'));
    expect(JSON.stringify(endpoint.Properties.PolicyDocument)).toMatch(/"execute-api:Invoke".*":execute-api:",\{"Ref":"AWS::Region"\},":",\{"Ref":"AWS::AccountId"\},":\*"/);
  });

  // A fresh app: the checks run as validation plugins, at its synth.
  const findings = validationFindings(buildApp());

  test.each(VALIDATION_PLUGINS)('%s finds nothing that is not acknowledged in code with a reason, in either stack', (plugin) => {
    expect(findings[plugin]).toEqual([]);
  });
});
