import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { EphemeralRunners, RunnerScope } from '../../src';

function synth(appId?: string): Template {
  const stack = new Stack(new App(), 'Test');
  const vpc = new ec2.Vpc(stack, 'Vpc', { natGateways: 0, subnetConfiguration: [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC }] });
  new EphemeralRunners(stack, 'Runners', {
    github: { url: 'https://ghes.example.com', appId },
    vpc,
    runnerConfigs: [
      { name: 'linux', labels: ['linux'] },
      { name: 'repo', labels: ['linux', 'repo'], scope: RunnerScope.REPOSITORY },
    ],
  });
  return Template.fromStack(stack);
}

type Resource = { Properties: Record<string, any>; DependsOn?: string[] };
const functionOf = (template: Template, service: string): [string, Resource] =>
  Object.entries(template.findResources('AWS::Lambda::Function') as Record<string, Resource>)
    .find(([, f]) => f.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME === service)!;

function statementsOf(template: Template, functionId: string): unknown[] {
  const fn = template.findResources('AWS::Lambda::Function')[functionId] as Resource;
  const roleId = fn.Properties.Role['Fn::GetAtt'][0];
  return Object.values(template.findResources('AWS::IAM::Policy') as Record<string, Resource>)
    .filter((p) => JSON.stringify(p.Properties.Roles) === JSON.stringify([{ Ref: roleId }]))
    .flatMap((p) => p.Properties.PolicyDocument.Statement);
}

const parameter = (name: string) => ({
  'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ssm:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:parameter/ephemeral-runners/Test/Runners/${name}`]],
});

describe('the setup page, without github.appId', () => {
  const template = synth();

  test('SetupUrl is the page on the webhook\'s HTTP API with the token of the custom resource: no token in the template', () => {
    const [tokenId] = Object.entries(template.findResources('Custom::SetupToken'))[0];
    const output = template.toJSON().Outputs.RunnersSetupUrl;
    expect(JSON.stringify(output.Value)).toContain('/setup?token=');
    expect(output.Value['Fn::Join'][1]).toContainEqual({ 'Fn::GetAtt': [tokenId, 'Token'] });
    for (const method of ['GET', 'POST']) template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: `${method} /setup` });
  });

  test('the page knows its URL, the webhook URL, the server and the scopes the App needs', () => {
    const [, fn] = functionOf(template, 'setup');
    const env = fn.Properties.Environment.Variables;
    expect(env).toEqual(expect.objectContaining({
      GITHUB_URL: 'https://ghes.example.com',
      GITHUB_API_URL: 'https://ghes.example.com/api/v3',
      RUNNER_SCOPES: 'org,repo',
      APP_ID_PARAMETER_NAME: '/ephemeral-runners/Test/Runners/github-app/app-id',
      SETUP_TOKEN_PARAMETER_NAME: '/ephemeral-runners/Test/Runners/setup/token-sha256',
      STACK_NAME: 'Test',
    }));
    expect(JSON.stringify(env.SETUP_URL)).toContain('/setup');
    expect(JSON.stringify(env.WEBHOOK_URL)).toContain('/webhook');
    expect(JSON.stringify(env)).not.toContain('token=');
  });

  test('the page may read and end the token, and write the three credentials without reading a secret', () => {
    const [id] = functionOf(template, 'setup');
    expect(statementsOf(template, id)).toEqual(expect.arrayContaining([
      { Effect: 'Allow', Action: ['ssm:GetParameter', 'ssm:DeleteParameter'], Resource: parameter('setup/token-sha256') },
      {
        Effect: 'Allow',
        Action: ['ssm:GetParameters', 'ssm:PutParameter', 'ssm:DeleteParameters'],
        Resource: ['github-app/app-id', 'github-app/private-key', 'github-app/webhook-secret'].map(parameter),
      },
    ]));
    expect(JSON.stringify(statementsOf(template, id))).not.toMatch(/"ssm:GetParameter"[^\]]*private-key/);
  });

  test('the custom resource\'s function runs outside any VPC, writes the token and deletes it and the credentials', () => {
    const [id, fn] = functionOf(template, 'setup-token');
    expect(fn.Properties.VpcConfig).toBeUndefined();
    expect(statementsOf(template, id)).toEqual(expect.arrayContaining([
      { Effect: 'Allow', Action: 'ssm:PutParameter', Resource: parameter('setup/token-sha256') },
      // It deletes only once this stack (and no other) says it is being deleted.
      { Effect: 'Allow', Action: 'cloudformation:DescribeStacks', Resource: { Ref: 'AWS::StackId' } },
      {
        Effect: 'Allow',
        Action: 'ssm:DeleteParameters',
        Resource: ['setup/token-sha256', 'github-app/app-id', 'github-app/private-key', 'github-app/webhook-secret'].map(parameter),
      },
    ]));
    const [, token] = Object.entries(template.findResources('Custom::SetupToken') as Record<string, Resource>)[0];
    // Created only once its function may write, so a first deploy does not fail on a missing grant.
    const policies = Object.keys(template.findResources('AWS::IAM::Policy')).filter((p) => token.DependsOn?.includes(p));
    expect(policies).toHaveLength(1);
  });

  test('the functions read the App id from its parameter', () => {
    for (const service of ['register', 'provisioner', 'lifecycle', 'reconciler']) {
      const [id, fn] = functionOf(template, service);
      expect(fn.Properties.Environment.Variables.GITHUB_APP_ID).toBeUndefined();
      expect(statementsOf(template, id)).toContainEqual({ Effect: 'Allow', Action: 'ssm:GetParameter', Resource: parameter('github-app/app-id') });
    }
  });
});

describe('with github.appId', () => {
  const template = synth('12');

  test('no setup page, token or output; the functions take the App id from their environment', () => {
    template.resourceCountIs('Custom::SetupToken', 0);
    expect(template.toJSON().Outputs.RunnersSetupUrl).toBeUndefined();
    expect(functionOf(template, 'setup')).toBeUndefined();
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: 'register', GITHUB_APP_ID: '12' }) },
    });
  });
});
