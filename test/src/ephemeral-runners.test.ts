import { App, Annotations as CoreAnnotations, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { EndpointAccess, EphemeralRunners, EphemeralRunnersProps, RunnerArchitecture, RunnerConfig, RunnerScope, SpotStrategy } from '../../src';
import { bootstrapOf, synthRunners } from './support/synth';
import { ROUTING_TIE_WARNING } from '../../src/private';

/** The runner config parameters (the deployment document, the other String parameter, is a join of names). */
function configParameters(t: Template) {
  return Object.fromEntries(Object.entries(t.findResources('AWS::SSM::Parameter')).filter(([, p]) => String(p.Properties.Name).includes('/runner-configs/')));
}

function synth(props: Parameters<typeof synthRunners>[1] = {}): Template {
  return synthRunners([
    { name: 'linux-x64', labels: ['linux', 'x64'], instanceTypes: ['m7i.large'], maxRunners: 5 },
    { name: 'linux-arm64-large', labels: ['linux', 'arm64', 'large'], spot: SpotStrategy.SPOT_ONLY, scope: RunnerScope.REPOSITORY },
  ], props);
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

  test('the pool queue is FIFO and redrives to a FIFO dead-letter queue, both encrypted and TLS-only', () => {
    template.resourceCountIs('AWS::SQS::Queue', 3); // the pool queue, its DLQ, the DLQ of the event rules
    template.hasResourceProperties('AWS::SQS::Queue', {
      FifoQueue: true,
      RedrivePolicy: { deadLetterTargetArn: Match.anyValue(), maxReceiveCount: 10 },
      SqsManagedSseEnabled: true,
      VisibilityTimeout: 360,
    });
    template.hasResourceProperties('AWS::SQS::Queue', { MessageRetentionPeriod: 14 * 24 * 3600 });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  test('one String parameter per runner config holds its JSON document (and one the deployment document)', () => {
    template.resourceCountIs('AWS::SSM::Parameter', 3);
    const parameters = configParameters(template);
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

  test('the outputs have keys without a hash suffix: the construct id and what they hold', () => {
    template.hasOutput('RunnersWebhookUrl', { Value: Match.anyValue() });
    template.hasOutput('RunnersPrivateKeyParameter', { Value: '/ephemeral-runners/Test/Runners/github-app/private-key' });
    template.hasOutput('RunnersWebhookSecretParameter', { Value: '/ephemeral-runners/Test/Runners/github-app/webhook-secret' });
  });

  test('two deployments of one construct id in a stack are refused rather than sharing output keys', () => {
    const stack = new Stack(new App(), 'Test');
    const props = { github: { url: 'https://ghes.example.com', appId: '12' }, runnerConfigs: [{ name: 'linux', labels: ['linux'] }] };
    new EphemeralRunners(stack, 'Runners', props);
    new EphemeralRunners(new Construct(stack, 'Team'), 'Runners', props);
    expect(() => Template.fromStack(stack)).toThrow(/RunnersWebhookUrl/);
  });

  test('the webhook function runs a bundle on arm64 with the environment the handler reads', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: Match.stringLikeRegexp('^nodejs(2[2-9]|[3-9][0-9])\\.x$'),
      Architectures: ['arm64'],
      Handler: 'index.handler',
      Environment: {
        Variables: Match.objectLike({
          // The package ships no source maps: the bundles keep their names for stack traces instead.
          NODE_OPTIONS: Match.absent(),
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
    const policies = template.findResources('AWS::IAM::Policy', { Properties: { PolicyName: Match.stringLikeRegexp('WebhookHandlerRole') } });
    expect(Object.keys(policies)).toHaveLength(1);
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

describe('EphemeralRunners runner instances', () => {
  const template = synth();

  test('each config gets a launch template: IMDSv2 only with hop limit 1, encrypted gp3, terminate on shutdown, no key pair', () => {
    template.resourceCountIs('AWS::EC2::LaunchTemplate', 2);
    template.allResourcesProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: Match.objectLike({
        MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 1, InstanceMetadataTags: 'disabled' },
        InstanceInitiatedShutdownBehavior: 'terminate',
        BlockDeviceMappings: [{ DeviceName: '/dev/sda1', Ebs: { Encrypted: true, VolumeType: 'gp3', VolumeSize: 30, DeleteOnTermination: true } }],
        KeyName: Match.absent(),
        // No image: EC2 refuses a template whose resolve:ssm: parameter does not exist yet, and the
        // pipeline writes the construct's image parameter only after the first build.
        ImageId: Match.absent(),
      }),
    });
  });

  test('each config document names its architecture\'s image parameter, which only the provisioner may read', () => {
    const documents = Object.values(configParameters(template)).map((p) => JSON.parse(p.Properties.Value));
    // Labels do not set the architecture: 'linux-arm64-large' lists no types, so it gets x64 defaults.
    expect(documents.map((d) => [d.name, d.image]).sort()).toEqual([
      ['linux-arm64-large', { parameterName: '/ephemeral-runners/Test/Runners/image/x64' }],
      ['linux-x64', { parameterName: '/ephemeral-runners/Test/Runners/image/x64' }],
    ]);
    const readers = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((p) => JSON.stringify(p.Properties.PolicyDocument).includes(':parameter/ephemeral-runners/Test/Runners/image/x64'));
    expect(readers.map((p) => JSON.stringify(p.Properties.Roles))).toEqual([expect.stringMatching(/Provisioner/)]);
    expect(JSON.stringify(readers[0].Properties.PolicyDocument)).toMatch(/"Action":"ssm:GetParameter","Effect":"Allow","Resource":\{"Fn::Join":\["",\["arn:",[^\]]*:parameter\/ephemeral-runners\/Test\/Runners\/image\/x64"\]/);
  });

  test('the user data carries the bootstrap and the register URL, and no secret', () => {
    const templates = Object.values(template.findResources('AWS::EC2::LaunchTemplate'));
    for (const t of templates) {
      const userData = JSON.stringify(t.Properties.LaunchTemplateData.UserData);
      expect(userData).toMatch(/REGISTER_URL=/);
      expect(bootstrapOf(t)).toMatch(/--aws-sigv4/);
      // The bootstrap ships its own lines to the runners' log group as it powers off.
      expect(userData).toMatch(/export LOG_GROUP_NAME='",\{"Ref":"RunnersFleetLogs[0-9A-F]+"\},"'/);
      expect(userData).not.toMatch(/private-key|webhook-secret|BEGIN .*PRIVATE KEY|jitconfig=/i);
    }
  });

  test('the register endpoint is a Function URL with AWS_IAM auth, invocable by the runner role only', () => {
    template.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'AWS_IAM' });
    const runnerPolicies = Object.values(template.findResources('AWS::IAM::Policy', { Properties: { PolicyName: Match.stringLikeRegexp('FleetRole') } }));
    const actions = runnerPolicies.flatMap((p) => p.Properties.PolicyDocument.Statement)
      .flatMap((s: { Action: string | string[] }) => [s.Action].flat()).sort();
    expect(actions).toEqual(['lambda:InvokeFunction', 'lambda:InvokeFunctionUrl', 'logs:CreateLogStream', 'logs:PutLogEvents']);
  });

  test('the runner security group allows no inbound traffic', () => {
    template.hasResourceProperties('AWS::EC2::SecurityGroup', { GroupDescription: Match.stringLikeRegexp('runners'), SecurityGroupIngress: Match.absent() });
  });

  test('the provisioner reads the FIFO queue with partial batch failures', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { FunctionResponseTypes: ['ReportBatchItemFailures'], BatchSize: 10 });
  });

  test('EC2 writes are bound to this deployment: terminate by tag, launch with the tag, pass only the runner role', () => {
    // Inline and managed: the provisioner's launch statements are managed policies of its role.
    const statements = [...Object.values(template.findResources('AWS::IAM::Policy')), ...Object.values(template.findResources('AWS::IAM::ManagedPolicy'))]
      .flatMap((p) => p.Properties.PolicyDocument.Statement);
    const terminate = statements.filter((s) => [s.Action].flat().includes('ec2:TerminateInstances'));
    expect(terminate.length).toBe(3);
    for (const s of terminate) expect(s.Condition).toEqual({ StringEquals: { 'aws:ResourceTag/ephemeral-runners:managed-by': expect.stringMatching(/^er-[0-9a-f]{10}$/) } });
    const passRole = statements.filter((s) => [s.Action].flat().includes('iam:PassRole'));
    expect(passRole).toEqual([expect.objectContaining({ Condition: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } }, Resource: { 'Fn::GetAtt': [expect.stringMatching(/FleetRole/), 'Arn'] } })]);
    const createTags = statements.filter((s) => [s.Action].flat().includes('ec2:CreateTags'));
    // At launch only; and after launch, the cost tag keys only, on this deployment's instances and volumes.
    expect(createTags).toHaveLength(2);
    expect(createTags).toEqual(expect.arrayContaining([
      expect.objectContaining({ Condition: { StringEquals: { 'ec2:CreateAction': ['CreateFleet', 'RunInstances'] } } }),
      expect.objectContaining({
        Condition: {
          'StringEquals': { 'aws:ResourceTag/ephemeral-runners:managed-by': expect.stringMatching(/^er-[0-9a-f]{10}$/) },
          'ForAllValues:StringEquals': { 'aws:TagKeys': ['ephemeral-runners:repository', 'ephemeral-runners:workflow'] },
          'Null': { 'aws:TagKeys': 'false' },
        },
      }),
    ]));
    const costTags = createTags.find((st) => st.Condition['ForAllValues:StringEquals'] !== undefined);
    const costTagResources = JSON.stringify(costTags.Resource);
    expect([costTagResources.includes(':instance/*'), costTagResources.includes(':volume/*'), costTags.Resource.length]).toEqual([true, true, 2]);
  });

  test('only the provisioner may tag instances after launch', () => {
    const taggers = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((p) => p.Properties.PolicyDocument.Statement.some((s: { Action: string | string[]; Condition?: object }) =>
        [s.Action].flat().includes('ec2:CreateTags') && !JSON.stringify(s.Condition ?? {}).includes('ec2:CreateAction')))
      .flatMap((p) => p.Properties.Roles.map((r: { Ref: string }) => r.Ref));
    expect(taggers).toEqual([expect.stringMatching(/ProvisionerHandlerRole/)]);
  });

  test('EventBridge sends state changes and spot warnings to the lifecycle function, and a schedule runs the reconciler every minute', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { 'source': ['aws.ec2'], 'detail-type': ['EC2 Instance State-change Notification'], 'detail': Match.anyValue() },
    });
    template.hasResourceProperties('AWS::Events::Rule', { EventPattern: { 'source': ['aws.ec2'], 'detail-type': ['EC2 Spot Instance Interruption Warning'] } });
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 minute)' });
    const stateRule = Object.values(template.findResources('AWS::Events::Rule')).find((r) => r.Properties.EventPattern?.detail?.state);
    expect(stateRule?.Properties.EventPattern.detail.state).toEqual(['shutting-down', 'terminated', 'stopping', 'stopped']);
    expect(stateRule?.Properties.Targets[0].DeadLetterConfig).toEqual({ Arn: expect.anything() });
  });

  test('only the reconciler may scan the pool index and list instances; the lifecycle function handles one instance per event', () => {
    const actionsOf = (role: RegExp) => Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((p) => p.Properties.Roles.some((r: { Ref: string }) => role.test(r.Ref)))
      .flatMap((p) => p.Properties.PolicyDocument.Statement)
      .flatMap((s: { Action: string | string[] }) => [s.Action].flat());
    const lifecycle = actionsOf(/LifecycleHandlerRole/);
    const reconciler = actionsOf(/ReconcilerHandlerRole/);
    expect(lifecycle).toEqual(expect.arrayContaining(['ec2:TerminateInstances', 'dynamodb:Query', 'sqs:SendMessage']));
    expect(lifecycle).not.toContain('dynamodb:Scan');
    expect(lifecycle).not.toContain('ec2:DescribeInstances');
    expect(reconciler).toEqual(expect.arrayContaining(['dynamodb:Scan', 'ec2:DescribeInstances', 'ec2:TerminateInstances']));
  });

  test('five functions, each with its own role, all on arm64', () => {
    // The control plane's; the other is CDK's deploy-time provider that starts the first image build.
    const functions = Object.values(template.findResources('AWS::Lambda::Function'))
      .filter((f) => f.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME !== undefined);
    expect(functions).toHaveLength(5);
    expect(new Set(functions.map((f) => JSON.stringify(f.Properties.Role))).size).toBe(5);
    for (const f of functions) expect(f.Properties.Architectures).toEqual(['arm64']);
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

  test('an instance type that does not exist fails synth with the other problems', () => {
    const message = synthErrors({
      runnerConfigs: [{ name: 'linux-x64', labels: ['linux', 'x64'], instanceTypes: ['m7i.large', 'm7x.large'], maxRunners: 0 }],
    });

    expect(message).toMatch(/runner config 'linux-x64' \(runnerConfigs\[0\]\): instance types 'm7x\.large' \(no instance family 'm7x'\) do not exist/);
    expect(message).toMatch(/maxRunners is 0/);
  });

  test('a github URL with a path is refused with the base URL to give', () => {
    expect(synthErrors({ github: { url: 'https://ghes.example.com/api/v3', appId: '1' } })).toMatch(/has a path.*The API path \/api\/v3 is added for you/);
  });

  test('a bad parameter prefix is refused', () => {
    expect(synthErrors({ parameterPrefix: 'no-slash' })).toMatch(/parameterPrefix 'no-slash' is not a valid SSM parameter name/);
  });
});

describe('EphemeralRunners with configs a job matches equally well', () => {
  const x64: RunnerConfig = { name: 'linux-x64', labels: ['linux', 'x64'] };
  const arm64: RunnerConfig = { name: 'linux-arm64', labels: ['linux', 'arm64'], architecture: RunnerArchitecture.ARM64 };

  function deploy(runnerConfigs: RunnerConfig[], acknowledge = false): Stack {
    const stack = new Stack(new App(), 'Test');
    if (acknowledge) CoreAnnotations.of(stack).acknowledgeWarning(ROUTING_TIE_WARNING, 'a [linux] job may run on x64');
    const vpc = new ec2.Vpc(stack, 'Vpc', { natGateways: 0, subnetConfiguration: [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC }] });
    new EphemeralRunners(stack, 'Runners', { github: { url: 'https://ghes.example.com', appId: '12' }, vpc, runnerConfigs });
    return stack;
  }
  const tieWarnings = (stack: Stack) => Annotations.fromStack(stack).findWarning('/Test/Runners', Match.stringLikeRegexp('equally well'));

  test('synthesize, with one warning naming the tie, the job labels and the winner (the config listed first), under an id to acknowledge', () => {
    const stack = deploy([x64, arm64]);

    expect(tieWarnings(stack).map((w) => w.entry.data)).toEqual([
      expect.stringMatching(new RegExp("^runner configs 'linux-x64', 'linux-arm64' match a job with runs-on \\[\"linux\"\\] equally well .*"
        + "it goes to 'linux-x64', listed first in runnerConfigs \\(runnerConfigs\\[0\\]\\)\\. .*\\[ack: cdk-ephemeral-runners:runnerConfigTie\\]$")),
    ]);
  });

  test('the documents carry each config\'s priority and order, which the functions break the tie by', () => {
    const stack = deploy([{ ...arm64, priority: 3 }, x64]);

    const documents = Object.values(configParameters(Template.fromStack(stack))).map((p) => JSON.parse(p.Properties.Value));
    expect(documents).toEqual(expect.arrayContaining([
      expect.objectContaining({ name: 'linux-arm64', priority: 3, order: 0 }),
      expect.objectContaining({ name: 'linux-x64', priority: 0, order: 1 }),
    ]));
    expect(tieWarnings(stack)).toHaveLength(1);
  });

  test('a higher priority wins over the order, and the warning says so', () => {
    const stack = deploy([x64, { ...arm64, priority: 1 }]);
    expect(tieWarnings(stack).map((w) => w.entry.data)).toEqual([expect.stringMatching(/it goes to 'linux-arm64', whose priority 1 is the highest\./)]);
  });

  test('an acknowledged tie warns no more; configs without a tie never warn', () => {
    expect(tieWarnings(deploy([x64, arm64], true))).toEqual([]);
    expect(tieWarnings(deploy([x64, { ...arm64, labels: ['linux', 'arm64', 'graviton'] }]))).toEqual([]);
  });

  test('configs with identical labels still fail synth, whatever their priorities', () => {
    expect(() => Template.fromStack(deploy([x64, { name: 'other', labels: ['Linux', 'X64'], priority: 9 }])))
      .toThrow(/'linux-x64' and 'other' have the same labels \[linux,x64\], so one of them could never receive a job \(whatever their priority\)/);
  });

  test('a priority outside 0-1000 fails synth, naming the config and the range', () => {
    expect(() => Template.fromStack(deploy([x64, { ...arm64, priority: 1001 }]))).toThrow(/runner config 'linux-arm64' \(runnerConfigs\[1\]\): priority is 1001; give a whole number from 0 to 1000/);
  });
});

describe('EphemeralRunners without a vpc', () => {
  function synthWithoutVpc(props: Partial<EphemeralRunnersProps> = {}): { template: Template; runners: EphemeralRunners } {
    const stack = new Stack(new App(), 'Test', { env: { account: '111111111111', region: 'eu-west-1' } });
    const runners = new EphemeralRunners(stack, 'Runners', {
      github: { url: 'https://ghes.example.com', appId: '12' },
      runnerConfigs: [{ name: 'linux-x64', labels: ['linux', 'x64'] }],
      ...props,
    });
    return { template: Template.fromStack(stack), runners };
  }
  const { template, runners } = synthWithoutVpc();

  test('a VPC of public subnets in three zones is made, which map public IPs on launch', () => {
    template.resourceCountIs('AWS::EC2::VPC', 1);
    template.resourceCountIs('AWS::EC2::Subnet', 3);
    template.allResourcesProperties('AWS::EC2::Subnet', { MapPublicIpOnLaunch: true });
    template.resourceCountIs('AWS::EC2::InternetGateway', 1);
    template.hasResourceProperties('AWS::EC2::Route', { DestinationCidrBlock: '0.0.0.0/0', GatewayId: Match.anyValue() });
  });

  test('nothing in it bills by the hour: no NAT gateway, no elastic IP, no VPC endpoint', () => {
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
    template.resourceCountIs('AWS::EC2::EIP', 0);
    template.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
  });

  test('its flow log records all traffic to a log group kept as long as the functions\' logs', () => {
    const [flowLog] = Object.values(template.findResources('AWS::EC2::FlowLog'));
    expect(flowLog.Properties).toMatchObject({ ResourceType: 'VPC', TrafficType: 'ALL', LogDestinationType: 'cloud-watch-logs' });
    const logGroup = template.findResources('AWS::Logs::LogGroup')[flowLog.Properties.LogGroupName.Ref];
    expect(logGroup.Properties.RetentionInDays).toBe(30);
  });

  test('runners launch into its public subnets, and image builds run in the first of them', () => {
    const subnetRefs = runners.vpc.publicSubnets.map((s) => Stack.of(runners).resolve(s.subnetId));
    const provisioner = Object.values(template.findResources('AWS::Lambda::Function'))
      .find((f) => f.Properties.Environment?.Variables?.SUBNET_IDS !== undefined)!;
    const joined: unknown[] = provisioner.Properties.Environment.Variables.SUBNET_IDS['Fn::Join'][1];
    expect(joined.filter((part) => part !== ',')).toEqual(subnetRefs);
    template.hasResourceProperties('AWS::ImageBuilder::InfrastructureConfiguration', { SubnetId: subnetRefs[0] });
  });

  test('the functions stay outside it', () => {
    for (const fn of Object.values(template.findResources('AWS::Lambda::Function'))) expect(fn.Properties.VpcConfig).toBeUndefined();
  });

  test('what needs a network of the user\'s is refused, each with its fix', () => {
    let message = '';
    try {
      synthWithoutVpc({
        controlPlaneSubnets: { subnetType: ec2.SubnetType.PUBLIC },
        registerAccess: EndpointAccess.privateApi(),
        webhookAccess: EndpointAccess.privateApi(),
      });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/controlPlaneSubnets is set but vpc is not: .*give vpc/);
    expect(message).toMatch(/registerAccess is EndpointAccess\.privateApi\(\) but vpc is not set: .*give vpc/);
    expect(message).toMatch(/webhookAccess is EndpointAccess\.privateApi\(\) but vpc is not set: .*privateApi\(endpoint\)/);
  });
});

describe('EphemeralRunners secretsEncryptionKey', () => {
  const keyArn = 'arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab';
  /** Every kms:Decrypt statement, with the roles its policy is attached to. */
  function decryptStatements(template: Template): Array<{ roles: string[]; parameter: string; viaService: unknown }> {
    return Object.values(template.findResources('AWS::IAM::Policy')).flatMap((policy) => policy.Properties.PolicyDocument.Statement
      .filter((st: { Action: unknown }) => st.Action === 'kms:Decrypt')
      .map((st: { Resource: unknown; Condition: { StringEquals: Record<string, unknown> } }) => {
        expect(st.Resource).toBe(keyArn);
        return {
          roles: policy.Properties.Roles.map((r: { Ref: string }) => r.Ref),
          parameter: JSON.stringify(st.Condition.StringEquals['kms:EncryptionContext:PARAMETER_ARN']),
          viaService: st.Condition.StringEquals['kms:ViaService'],
        };
      }));
  }

  test('without it no role may use KMS: the secrets are under aws/ssm', () => {
    expect(decryptStatements(synth())).toEqual([]);
  });

  test('with it each function that reads a secret may decrypt that parameter only, through SSM only', () => {
    const statements = decryptStatements(synth((stack: Stack) => ({
      github: { url: 'https://ghes.example.com', appId: '12', secretsEncryptionKey: kms.Key.fromKeyArn(stack, 'Key', keyArn) },
    })));

    const privateKey = statements.filter((st) => st.parameter.includes('github-app/private-key'));
    const webhookSecret = statements.filter((st) => st.parameter.includes('github-app/webhook-secret'));
    expect(statements).toHaveLength(5);
    expect(privateKey.map((st) => st.roles[0]).sort()).toEqual([
      expect.stringMatching(/^RunnersLifecycleHandler/),
      expect.stringMatching(/^RunnersProvisionerHandler/),
      expect.stringMatching(/^RunnersReconcilerHandler/),
      expect.stringMatching(/^RunnersRegisterHandler/),
    ]);
    expect(webhookSecret.map((st) => st.roles)).toEqual([[expect.stringMatching(/^RunnersWebhookHandler/)]]);
    for (const st of statements) expect(JSON.stringify(st.viaService)).toMatch(/ssm\./);
  });
});
