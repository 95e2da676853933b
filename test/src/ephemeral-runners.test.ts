import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { EphemeralRunners, EphemeralRunnersProps, RunnerScope, SpotStrategy } from '../../src';

function synth(props: Partial<EphemeralRunnersProps> = {}): Template {
  const stack = new Stack(new App(), 'Test');
  new EphemeralRunners(stack, 'Runners', {
    github: { url: 'https://ghes.example.com', appId: '12' },
    runnerConfigs: [
      { name: 'linux-x64', labels: ['linux', 'x64'], instanceTypes: ['m7i.large'], maxRunners: 5 },
      { name: 'linux-arm64-large', labels: ['linux', 'arm64', 'large'], spot: SpotStrategy.SPOT_ONLY, scope: RunnerScope.REPOSITORY },
    ],
    ...props,
  });
  return Template.fromStack(stack);
}

describe('EphemeralRunners', () => {
  const template = synth();

  test('the state table is on-demand with TTL, point-in-time recovery and the pool index', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      GlobalSecondaryIndexes: [Match.objectLike({
        IndexName: 'byPool',
        KeySchema: [{ AttributeName: 'poolId', KeyType: 'HASH' }, { AttributeName: 'poolSort', KeyType: 'RANGE' }],
      })],
    });
  });

  test('the pool queue redrives to a dead-letter queue, both encrypted and TLS-only', () => {
    template.resourceCountIs('AWS::SQS::Queue', 2);
    template.hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: { deadLetterTargetArn: Match.anyValue(), maxReceiveCount: 5 },
      SqsManagedSseEnabled: true,
    });
    template.hasResourceProperties('AWS::SQS::Queue', { MessageRetentionPeriod: 14 * 24 * 3600 });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  test('one String parameter per runner config holds its JSON document', () => {
    template.resourceCountIs('AWS::SSM::Parameter', 2);
    const parameters = template.findResources('AWS::SSM::Parameter');
    const documents = Object.values(parameters).map((p) => ({ name: p.Properties.Name, doc: JSON.parse(p.Properties.Value) }));
    expect(documents).toEqual(expect.arrayContaining([
      { name: '/ephemeral-runners/Test/Runners/runner-configs/linux-x64', doc: expect.objectContaining({ name: 'linux-x64', labels: ['linux', 'x64'], maxRunners: 5, spot: 'SPOT_PREFERRED', scope: 'org' }) },
      { name: '/ephemeral-runners/Test/Runners/runner-configs/linux-arm64-large', doc: expect.objectContaining({ labels: ['arm64', 'large', 'linux'], spot: 'SPOT_ONLY', scope: 'repo' }) },
    ]));
    for (const p of Object.values(parameters)) expect(p.Properties.Type).toBe('String');
  });

  test('the secrets are only named: no SecureString value appears in the template', () => {
    const parameters = Object.values(template.findResources('AWS::SSM::Parameter'));
    expect(parameters.map((p) => p.Properties.Type)).not.toContain('SecureString');
    expect(parameters.map((p) => p.Properties.Name)).not.toContainEqual(expect.stringMatching(/github-app/));
    expect(JSON.stringify(template.toJSON())).not.toMatch(/BEGIN (RSA )?PRIVATE KEY/);
    template.hasOutput('*', { Value: '/ephemeral-runners/Test/Runners/github-app/private-key' });
    template.hasOutput('*', { Value: '/ephemeral-runners/Test/Runners/github-app/webhook-secret' });
  });

  test('the webhook function runs a bundle on arm64 with the environment the handler reads', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: Match.stringLikeRegexp('^nodejs(2[2-9]|[3-9][0-9])\\.x$'),
      Architectures: ['arm64'],
      Handler: 'index.handler',
      Environment: {
        Variables: Match.objectLike({
          NODE_OPTIONS: '--enable-source-maps',
          GITHUB_HOST: 'ghes.example.com',
          WEBHOOK_SECRET_PARAMETER_NAME: '/ephemeral-runners/Test/Runners/github-app/webhook-secret',
          RUNNER_CONFIG_PATH: '/ephemeral-runners/Test/Runners/runner-configs',
          RUNNER_CONFIG_HASH: Match.stringLikeRegexp('^[0-9a-f]{16}$'),
          TABLE_NAME: Match.anyValue(),
          QUEUE_URL: Match.anyValue(),
        }),
      },
    });
  });

  test('an HTTP API routes POST /webhook to the function with payload v2.0 and logs access', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', { ProtocolType: 'HTTP' });
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: 'POST /webhook' });
    template.hasResourceProperties('AWS::ApiGatewayV2::Integration', { IntegrationType: 'AWS_PROXY', PayloadFormatVersion: '2.0' });
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', { AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('X-GitHub-Delivery') } });
  });

  test('the webhook role reads only its secret and the config path, and never touches EC2', () => {
    const policies = template.findResources('AWS::IAM::Policy');
    const statements = Object.values(policies).flatMap((p) => p.Properties.PolicyDocument.Statement);
    const actions = statements.flatMap((s) => [s.Action].flat());
    expect(actions.filter((a: string) => a.startsWith('ec2:'))).toEqual([]);
    expect(actions).not.toContain('*');
    const ssm = statements.filter((s) => [s.Action].flat().some((a: string) => a.startsWith('ssm:')));
    expect(JSON.stringify(ssm)).toMatch(/parameter\/ephemeral-runners\/Test\/Runners\/github-app\/webhook-secret/);
    expect(JSON.stringify(ssm)).toMatch(/parameter\/ephemeral-runners\/Test\/Runners\/runner-configs"/);
    expect(JSON.stringify(ssm)).not.toMatch(/private-key/);
    template.hasResourceProperties('AWS::IAM::Role', { ManagedPolicyArns: Match.absent() });
  });

  test('log groups keep 30 days by default', () => {
    template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  test('a config change changes the function configuration, so warm caches are replaced', () => {
    const hashOf = (t: Template) => JSON.stringify(t.findResources('AWS::Lambda::Function')).match(/RUNNER_CONFIG_HASH":"([0-9a-f]+)/)![1];
    const other = synth({ runnerConfigs: [{ name: 'linux-x64', labels: ['linux', 'x64'], maxRunners: 6 }] });
    expect(hashOf(other)).not.toEqual(hashOf(template));
  });
});

describe('EphemeralRunners validation', () => {
  function synthErrors(props: Partial<EphemeralRunnersProps>): string {
    try {
      synth(props);
    } catch (e) {
      return (e as Error).message;
    }
    throw new Error('expected synth to fail');
  }

  test('every problem is reported in one synth, naming the offending config and the fix', () => {
    const message = synthErrors({
      github: { url: 'http://ghes.example.com/api/v3', appId: 'my-app' },
      runnerConfigs: [
        { name: 'a', labels: ['linux'], maxRunners: 0 },
        { name: 'a', labels: ['linux', 'x64'] },
      ],
    });
    expect(message).toMatch(/runner config 'a' \(runnerConfigs\[0\]\): maxRunners is 0/);
    expect(message).toMatch(/runner config name 'a' is used 2 times/);
    expect(message).toMatch(/github\.url 'http:\/\/ghes\.example\.com\/api\/v3' must use https/);
    expect(message).toMatch(/github\.appId 'my-app' is not a GitHub App id/);
  });

  test('a github URL with a path is refused with the base URL to give', () => {
    expect(synthErrors({ github: { url: 'https://ghes.example.com/api/v3', appId: '1' } })).toMatch(/has a path.*The API path \/api\/v3 is added for you/);
  });

  test('a bad parameter prefix is refused', () => {
    expect(synthErrors({ parameterPrefix: 'no-slash' })).toMatch(/parameterPrefix 'no-slash' is not a valid SSM parameter name/);
  });
});
