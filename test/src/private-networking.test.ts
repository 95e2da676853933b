import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { EndpointAccess, EphemeralRunners, EphemeralRunnersProps } from '../../src';
import { synthRunners } from './support/synth';
import { validationFindings } from '../examples/validation';

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
    const endpoint = { Ref: expect.stringMatching(/^RunnersApiEndpoint/) };
    const role = { 'Fn::GetAtt': [expect.stringMatching(/^RunnersFleetRole/), 'Arn'] };
    const on = (path: string) => statements.filter((s) => s.Resource === `execute-api:/v1/POST/${path}`).map((s) => ({ Effect: s.Effect, Principal: s.Principal, Condition: s.Condition }));

    expect(statements.filter((s) => s.Resource === 'execute-api:/*')).toEqual([{
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: 'execute-api:Invoke',
      Resource: 'execute-api:/*',
      Condition: { StringNotEquals: { 'aws:SourceVpce': [endpoint] } },
    }]);
    expect(on('webhook')).toEqual([
      { Effect: 'Allow', Principal: { AWS: '*' }, Condition: { StringEquals: { 'aws:SourceVpce': endpoint } } },
      { Effect: 'Deny', Principal: { AWS: '*' }, Condition: { StringNotEquals: { 'aws:SourceVpce': endpoint } } },
    ]);
    // An explicit deny for any other principal: with AWS_IAM, a caller's own IAM policy would
    // otherwise be enough for API Gateway.
    expect(on('register')).toEqual([
      { Effect: 'Allow', Principal: { AWS: role }, Condition: { StringEquals: { 'aws:SourceVpce': endpoint } } },
      { Effect: 'Deny', Principal: { AWS: '*' }, Condition: { StringNotEquals: { 'aws:SourceVpce': endpoint } } },
      { Effect: 'Deny', Principal: { AWS: '*' }, Condition: { ArnNotEquals: { 'aws:PrincipalArn': role } } },
    ]);
    expect(statements).toHaveLength(6);
  });

  test('the endpoint it creates may call this account\'s APIs only: jobs reach it, so it is no way out to other accounts', () => {
    const [endpoint] = Object.values(template.findResources('AWS::EC2::VPCEndpoint'));
    expect(endpoint.Properties.PolicyDocument.Statement).toEqual([{
      Effect: 'Allow',
      Principal: { AWS: '*' },
      Action: 'execute-api:Invoke',
      Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':execute-api:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':*']] },
    }]);
  });

  test('no stack output names the execute-api URL, which does not resolve with private DNS off', () => {
    const outputs = JSON.stringify(template.toJSON().Outputs);
    expect(outputs).not.toMatch(/PrivateApiEndpoint/);
    expect(Object.keys(template.toJSON().Outputs).filter((k) => k.includes('PrivateApi'))).toEqual([]);
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

  test('each function waits for its network-interface policy: Lambda creates its interfaces as it is created', () => {
    const byId = template.findResources('AWS::Lambda::Function', { Properties: { Description: Match.stringLikeRegexp('webhook|runner|pools|instances|Sweeps') } });
    expect(Object.keys(byId)).toHaveLength(5);
    for (const [id, fn] of Object.entries(byId)) {
      const eniPolicy = id.replace(/Function[0-9A-F]{8}$/, 'NetworkInterfaces');
      expect({ id, dependsOn: (fn.DependsOn as string[]).filter((d) => d.startsWith(eniPolicy)) }).toEqual({ id, dependsOn: [expect.any(String)] });
    }
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

describe('a VPC endpoint of another stack', () => {
  test('synthesizes without a cycle: the runners\' ingress rule lives in the runners\' stack', () => {
    const app = new App();
    const network = new Stack(app, 'Network');
    const vpc = isolatedVpc(network);
    const endpoint = vpc.addInterfaceEndpoint('ExecuteApi', { service: ec2.InterfaceVpcEndpointAwsService.APIGATEWAY, open: false });
    const stack = new Stack(app, 'Runners');
    new EphemeralRunners(stack, 'Runners', {
      github: { url: 'https://ghes.example.com', appId: '12' },
      vpc,
      runnerConfigs: CONFIGS,
      webhookAccess: EndpointAccess.privateApi(endpoint),
      registerAccess: EndpointAccess.privateApi(endpoint),
    });

    const assembly = app.synth();

    expect(assembly.getStackByName('Network').dependencies.map((d) => d.id)).not.toContain('Runners');
    expect(assembly.getStackByName('Runners').dependencies.map((d) => d.id)).toContain('Network');
    Template.fromStack(stack).hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      FromPort: 443, ToPort: 443, GroupId: { 'Fn::ImportValue': Match.stringLikeRegexp('ExecuteApiSecurityGroup') },
    });
  });
});

describe('API Gateway\'s account-wide logs role', () => {
  const build = (setApiGatewayAccountLogsRole?: boolean) => {
    const app = new App();
    const stack = new Stack(app, 'Logs');
    new EphemeralRunners(stack, 'Runners', {
      github: { url: 'https://ghes.example.com', appId: '12' },
      vpc: isolatedVpc(stack),
      runnerConfigs: CONFIGS,
      registerAccess: EndpointAccess.privateApi(),
      setApiGatewayAccountLogsRole,
    });
    return { app, stack };
  };

  test('is left alone by default, and synth says what to do if the account has none', () => {
    const { stack } = build();

    Template.fromStack(stack).resourceCountIs('AWS::ApiGateway::Account', 0);
    expect(Annotations.fromStack(stack).findInfo('*', Match.stringLikeRegexp('setApiGatewayAccountLogsRole: true'))).toHaveLength(1);
  });

  test('is set when asked, and cdk-nag finds nothing unacknowledged about it', () => {
    const { app, stack } = build(true);

    Template.fromStack(stack).resourceCountIs('AWS::ApiGateway::Account', 1);
    const findings = validationFindings(app);
    for (const plugin of ['AwsSolutions', 'Serverless'] as const) {
      expect(findings[plugin].filter((f) => /PrivateApi/.test(f))).toEqual([]);
    }
  });
});
