import { Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { EndpointAccess, EphemeralRunners, EphemeralRunnersProps } from '../../src';
import { synthRunners } from './support/synth';

const CONFIGS: EphemeralRunnersProps['runnerConfigs'] = [
  { name: 'linux-x64', labels: ['linux', 'x64'], instanceTypes: ['m7i.large'], maxRunners: 5 },
];

/** Runners and functions in isolated subnets: no route out of the VPC but its endpoints. */
function isolatedVpc(stack: Stack): ec2.Vpc {
  return new ec2.Vpc(stack, 'PrivateVpc', {
    natGateways: 0,
    subnetConfiguration: [{ name: 'runners', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }],
  });
}

function synthPrivate(props: (stack: Stack, vpc: ec2.Vpc) => Partial<EphemeralRunnersProps>): Template {
  return synthRunners(CONFIGS, (stack) => {
    const vpc = isolatedVpc(stack);
    return { vpc, ...props(stack, vpc) };
  });
}

type Statement = {
  Effect: string;
  Principal?: unknown;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
};

function resourcePolicy(template: Template): Statement[] {
  const [api] = Object.values(template.findResources('AWS::ApiGateway::RestApi'));
  return api.Properties.Policy.Statement;
}

function launchTemplateUserData(template: Template): string[] {
  return Object.values(template.findResources('AWS::EC2::LaunchTemplate'))
    .map((t) => JSON.stringify(t.Properties.LaunchTemplateData.UserData));
}

describe('private webhook and register endpoint', () => {
  const template = synthPrivate(() => ({
    subnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
    webhookAccess: EndpointAccess.privateApi(),
    registerAccess: EndpointAccess.privateApi(),
  }));

  test('one private REST API, associated with an execute-api endpoint the construct creates with private DNS off', () => {
    template.resourceCountIs('AWS::ApiGateway::RestApi', 1);
    template.hasResourceProperties('AWS::ApiGateway::RestApi', {
      EndpointConfiguration: { Types: ['PRIVATE'], VpcEndpointIds: [{ Ref: Match.stringLikeRegexp('RunnersApiEndpoint') }] },
    });
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      VpcEndpointType: 'Interface',
      ServiceName: { 'Fn::Join': ['', ['com.amazonaws.', { Ref: 'AWS::Region' }, '.execute-api']] },
      PrivateDnsEnabled: false,
    });
    template.resourceCountIs('AWS::ApiGatewayV2::Api', 0);
    template.resourceCountIs('AWS::Lambda::Url', 0);
  });

  test('the endpoint it creates lets in the runners on 443 and nobody else until you say so', () => {
    const [group] = Object.values(template.findResources('AWS::EC2::SecurityGroup', { Properties: { GroupDescription: Match.stringLikeRegexp('ApiEndpoint') } }));
    expect(group.Properties.SecurityGroupIngress).toBeUndefined();
    const ingress = Object.values(template.findResources('AWS::EC2::SecurityGroupIngress', {
      Properties: { GroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('RunnersApiEndpointSecurityGroup'), 'GroupId'] } },
    }));
    expect(ingress.map((r) => [r.Properties.FromPort, r.Properties.SourceSecurityGroupId])).toEqual([
      [443, { 'Fn::GetAtt': [expect.stringMatching(/^RunnersFleetSecurityGroup/), 'GroupId'] }],
    ]);
  });

  test('the resource policy refuses every path in but the endpoint, and opens the register route to the runner role only', () => {
    const statements = resourcePolicy(template);
    const endpoint = { Ref: Match.stringLikeRegexp('RunnersApiEndpoint') };
    expect(statements).toHaveLength(3);
    expect(statements[0]).toMatchObject({
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: 'execute-api:Invoke',
      Resource: 'execute-api:/*',
      Condition: { StringNotEquals: { 'aws:SourceVpce': [expect.objectContaining({ Ref: expect.stringMatching(/RunnersApiEndpoint/) })] } },
    });
    const webhook = statements.find((s) => s.Resource === 'execute-api:/v1/POST/webhook')!;
    expect(webhook).toMatchObject({ Effect: 'Allow', Principal: { AWS: '*' } });
    const register = statements.find((s) => s.Resource === 'execute-api:/v1/POST/register')!;
    expect(register.Effect).toBe('Allow');
    expect(JSON.stringify(register.Principal)).toMatch(/RunnersFleetRole.*Arn/);
    for (const allow of [webhook, register]) {
      Template.fromJSON({ Resources: { X: { Type: 'X', Properties: { Condition: allow.Condition } } } })
        .hasResourceProperties('X', { Condition: { StringEquals: { 'aws:SourceVpce': endpoint } } });
    }
  });

  test('the register route needs SigV4 (AWS_IAM); the webhook route takes GitHub\'s HMAC-signed calls', () => {
    template.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'POST',
      AuthorizationType: 'AWS_IAM',
      ResourceId: { Ref: Match.stringLikeRegexp('PrivateApiregister') },
      Integration: Match.objectLike({ Type: 'AWS_PROXY' }),
    });
    template.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'POST',
      AuthorizationType: 'NONE',
      ResourceId: { Ref: Match.stringLikeRegexp('PrivateApiwebhook') },
      Integration: Match.objectLike({ Type: 'AWS_PROXY' }),
    });
  });

  test('the runner role may invoke the register route and write its logs, nothing else', () => {
    const runnerPolicies = Object.values(template.findResources('AWS::IAM::Policy', { Properties: { PolicyName: Match.stringLikeRegexp('FleetRole') } }));
    const statements = runnerPolicies.flatMap((p) => p.Properties.PolicyDocument.Statement);
    expect(statements.flatMap((s: Statement) => [s.Action].flat()).sort()).toEqual(['execute-api:Invoke', 'logs:CreateLogStream', 'logs:PutLogEvents']);
    const invoke = statements.find((s: Statement) => s.Action === 'execute-api:Invoke');
    expect(JSON.stringify(invoke.Resource)).toMatch(/RunnersPrivateApi.*RunnersPrivateApiDeploymentStagev1.*"\/POST\/register"\]\]\}$/);
  });

  test('runners sign for execute-api and call the register route through the endpoint\'s DNS alias', () => {
    for (const userData of launchTemplateUserData(template)) {
      expect(userData).toContain("export REGISTER_SERVICE='execute-api'");
      expect(userData).toMatch(/REGISTER_URL='https:\/\/",\{"Ref":"RunnersPrivateApi[^"]*"\},"-",\{"Ref":"RunnersApiEndpoint[^"]*"\},"\.execute-api\./);
      expect(userData).toContain('/v1/register');
    }
  });

  test('the webhook URL output names the private route through the same alias', () => {
    const outputs = template.findOutputs('*', { Description: 'The GitHub App\'s webhook URL' });
    const [url] = Object.values(outputs).map((o) => JSON.stringify(o.Value));
    expect(url).toMatch(/RunnersPrivateApi.*"-".*RunnersApiEndpoint.*\.execute-api\..*\/v1\/webhook/);
  });

  test('the API logs every call as JSON, naming the VPC endpoint and the signed caller, and throttles abuse', () => {
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'v1',
      AccessLogSetting: { Format: Match.stringLikeRegexp('"vpce":"\\$context.identity.vpceId".*"caller":"\\$context.identity.userArn"') },
      MethodSettings: Match.arrayWith([Match.objectLike({ ThrottlingBurstLimit: 500, ThrottlingRateLimit: 200 })]),
    });
  });
});

describe('a VPC endpoint of your own', () => {
  const template = synthPrivate((_stack, vpc) => ({
    subnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
    registerAccess: EndpointAccess.privateApi(vpc.addInterfaceEndpoint('SharedApi', { service: ec2.InterfaceVpcEndpointAwsService.APIGATEWAY, open: false })),
  }));

  test('creates no endpoint, associates yours, and lets the runners through its security group on 443', () => {
    template.resourceCountIs('AWS::EC2::VPCEndpoint', 1);
    template.hasResourceProperties('AWS::ApiGateway::RestApi', {
      EndpointConfiguration: { Types: ['PRIVATE'], VpcEndpointIds: [{ Ref: Match.stringLikeRegexp('SharedApi') }] },
    });
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      IpProtocol: 'tcp',
      FromPort: 443,
      ToPort: 443,
      GroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('SharedApiSecurityGroup'), 'GroupId'] },
      SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('RunnersFleetSecurityGroup'), 'GroupId'] },
    });
  });

  test('a public webhook beside a private register route: the HTTP API stays, the private API holds only the register route', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::Api', 1);
    template.resourceCountIs('AWS::ApiGateway::Resource', 1);
    template.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: 'register' });
    const allows = resourcePolicy(template).filter((s) => s.Effect === 'Allow');
    expect(allows).toHaveLength(1);
    expect(allows[0].Principal).not.toEqual({ AWS: '*' });
  });
});

describe('functions in the VPC', () => {
  const template = synthPrivate(() => ({
    github: { url: 'https://ghes.corp.example:8443', appId: '12' },
    controlPlaneSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
  }));
  const functions = Object.values(template.findResources('AWS::Lambda::Function', {
    Properties: { Description: Match.stringLikeRegexp('webhook|runner|pools|instances|Sweeps') },
  }));

  test('all five functions run in the chosen subnets with one security group', () => {
    expect(functions).toHaveLength(5);
    for (const fn of functions) {
      // An environment-agnostic stack spans two Availability Zones.
      expect(fn.Properties.VpcConfig.SubnetIds).toEqual([
        { Ref: expect.stringMatching(/^PrivateVpcrunnersSubnet1/) }, { Ref: expect.stringMatching(/^PrivateVpcrunnersSubnet2/) },
      ]);
      expect(fn.Properties.VpcConfig.SecurityGroupIds).toEqual([{ 'Fn::GetAtt': [expect.stringMatching(/RunnersControlPlaneSecurityGroup/), 'GroupId'] }]);
    }
  });

  test('their security group takes no inbound traffic and sends only HTTPS and the GitHub server\'s own port', () => {
    const [group] = Object.values(template.findResources('AWS::EC2::SecurityGroup', { Properties: { GroupDescription: Match.stringLikeRegexp('control-plane') } }));
    expect(group.Properties.SecurityGroupIngress).toBeUndefined();
    const egress = group.Properties.SecurityGroupEgress as Array<{ FromPort: number; ToPort: number; IpProtocol: string }>;
    expect(egress.map((r) => [r.IpProtocol, r.FromPort, r.ToPort])).toEqual([['tcp', 443, 443], ['tcp', 8443, 8443]]);
  });

  test('each role may manage its network interfaces, and no role gets the managed VPC policy (it may write every log group)', () => {
    const eniPolicies = Object.values(template.findResources('AWS::IAM::Policy', { Properties: { PolicyName: Match.stringLikeRegexp('NetworkInterfaces') } }));
    expect(eniPolicies).toHaveLength(5);
    for (const policy of eniPolicies) {
      expect(policy.Properties.PolicyDocument.Statement[0].Action).toEqual(expect.arrayContaining(['ec2:CreateNetworkInterface', 'ec2:DeleteNetworkInterface']));
    }
    expect(JSON.stringify(template.toJSON())).not.toContain('AWSLambdaVPCAccessExecutionRole');
  });

  test('without controlPlaneSubnets the functions stay outside the VPC', () => {
    const outside = synthPrivate(() => ({}));
    for (const fn of Object.values(outside.findResources('AWS::Lambda::Function'))) {
      expect(fn.Properties.VpcConfig).toBeUndefined();
    }
  });
});

describe('isolated runner subnets with a public register endpoint', () => {
  test('synth warns that runners could not reach it, and names the fix', () => {
    const stack = new Stack(undefined, 'Warned');
    new EphemeralRunners(stack, 'Runners', {
      github: { url: 'https://ghes.example.com', appId: '12' },
      vpc: isolatedVpc(stack),
      runnerConfigs: CONFIGS,
    });

    const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('registerAccess: EndpointAccess.privateApi()'));

    expect(warnings).toHaveLength(1);
    expect(warnings[0].id).toBe('/Warned/Runners');
  });

  test('a private register endpoint in the same subnets draws no warning', () => {
    const stack = new Stack(undefined, 'Quiet');
    new EphemeralRunners(stack, 'Runners', {
      github: { url: 'https://ghes.example.com', appId: '12' },
      vpc: isolatedVpc(stack),
      runnerConfigs: CONFIGS,
      registerAccess: EndpointAccess.privateApi(),
    });

    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('register'))).toEqual([]);
  });
});
