import { App, Duration, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as imagebuilder from 'aws-cdk-lib/aws-imagebuilder';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { validateTemplate } from '../../../sandbox/aws/cloudformation-schema';

type Template = { Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }> };

function synth(build: (stack: Stack) => void): Template {
  const app = new App();
  const stack = new Stack(app, 'Schema', { env: { account: '123456789012', region: 'us-east-1' } });
  build(stack);
  return app.synth().getStackByName('Schema').template as Template;
}

function distribution(distributions: unknown[]): Template {
  return {
    Resources: {
      Distribution: { Type: 'AWS::ImageBuilder::DistributionConfiguration', Properties: { Name: 'images', Distributions: distributions } },
    },
  };
}

describe('CloudFormation resource schemas (@aws-cdk/aws-service-spec)', () => {
  test('a template aws-cdk-lib synthesizes from its own L2 constructs has no findings', () => {
    const template = synth((stack) => {
      const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0 });
      const table = new dynamodb.Table(stack, 'Table', { partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING }, timeToLiveAttribute: 'ttl' });
      const queue = new sqs.Queue(stack, 'Queue', { fifo: true, visibilityTimeout: Duration.minutes(5) });
      const fn = new lambda.Function(stack, 'Function', {
        runtime: lambda.Runtime.NODEJS_22_X,
        handler: 'index.handler',
        code: lambda.Code.fromInline('exports.handler = async () => {}'),
        vpc,
        environment: { TABLE: table.tableName, QUEUE: queue.queueUrl },
      });
      table.grantReadWriteData(fn);
      queue.grantSendMessages(fn);
      new events.Rule(stack, 'Every', { schedule: events.Schedule.rate(Duration.minutes(1)), targets: [new targets.LambdaFunction(fn)] });
      new ec2.LaunchTemplate(stack, 'LaunchTemplate', {
        machineImage: ec2.MachineImage.latestAmazonLinux2023(),
        requireImdsv2: true,
        blockDevices: [{ deviceName: '/dev/xvda', volume: ec2.BlockDeviceVolume.ebs(30, { encrypted: true, volumeType: ec2.EbsDeviceVolumeType.GP3 }) }],
      });
    });

    expect(validateTemplate(template)).toEqual([]);
  });

  test('a key spelled as the L1 class spells it, inside a property the L1 leaves untyped, is found with the key CloudFormation expects', () => {
    const template = synth((stack) => {
      new imagebuilder.CfnDistributionConfiguration(stack, 'Distribution', {
        name: 'images',
        distributions: [{ region: 'us-east-1', amiDistributionConfiguration: { name: 'image-{{ imagebuilder:buildDate }}', amiTags: { team: 'ci' } } }],
      });
    });
    const [id] = Object.keys(template.Resources).filter((k) => k.startsWith('Distribution'));

    const messages = validateTemplate(template).map((f) => f.message);

    expect(messages).toEqual([
      `'name' was unexpected at Resources.${id}.Properties.Distributions[0].AmiDistributionConfiguration. Did you mean 'Name'?`,
      `'amiTags' was unexpected at Resources.${id}.Properties.Distributions[0].AmiDistributionConfiguration. Did you mean 'AmiTags'?`,
    ]);
  });

  test('the same keys as CloudFormation spells them pass', () => {
    const template = distribution([{ Region: 'us-east-1', AmiDistributionConfiguration: { Name: 'image', AmiTags: { team: 'ci' } } }]);

    expect(validateTemplate(template)).toEqual([]);
  });

  test('a missing required property is found, at the object that lacks it', () => {
    const template = distribution([{ AmiDistributionConfiguration: { Name: 'image' } }]);

    expect(validateTemplate(template).map((f) => f.message)).toEqual([
      "'Region' is a required property at Resources.Distribution.Properties.Distributions[0]",
    ]);
  });

  test('a key one level too high (tags beside the AMI configuration, not in it) is found', () => {
    const template = distribution([{ Region: 'us-east-1', AmiTags: { team: 'ci' }, AmiDistributionConfiguration: { Name: 'image' } }]);

    expect(validateTemplate(template).map((f) => f.message)).toEqual([
      "'AmiTags' was unexpected at Resources.Distribution.Properties.Distributions[0].",
    ]);
  });

  test('literal values of the wrong shape or primitive type are found; intrinsic functions are accepted where a value is', () => {
    const template: Template = {
      Resources: {
        Queue: { Type: 'AWS::SQS::Queue', Properties: { FifoQueue: 'yes', VisibilityTimeout: { 'Fn::GetAtt': ['Other', 'Seconds'] }, Tags: { team: 'ci' } } },
        Parameter: { Type: 'AWS::SSM::Parameter', Properties: { Type: 'String', Value: { 'Fn::Join': ['', ['a', { Ref: 'AWS::Region' }]] }, DataType: 'aws:ec2:image' } },
        Template: { Type: 'AWS::EC2::LaunchTemplate', Properties: { LaunchTemplateData: { ImageId: 'resolve:ssm:/images/x64', MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: '2' } } } },
      },
    };

    expect(validateTemplate(template).map((f) => f.message)).toEqual([
      'expected a boolean at Resources.Queue.Properties.FifoQueue, found string "yes"',
      'expected an array at Resources.Queue.Properties.Tags, found an object',
    ]);
  });

  test('a resource type CloudFormation does not have is found, with the one meant', () => {
    const template: Template = { Resources: { Queue: { Type: 'AWS::SQS::Queeu', Properties: {} } } };

    expect(validateTemplate(template).map((f) => f.message)).toEqual([
      "'AWS::SQS::Queeu' is not a CloudFormation resource type at Resources.Queue.Type. Did you mean 'AWS::SQS::Queue'?",
    ]);
  });

  test('custom resources need only their service token', () => {
    const template: Template = {
      Resources: {
        Good: { Type: 'Custom::Anything', Properties: { ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:f', whatever: [1] } },
        Bad: { Type: 'AWS::CloudFormation::CustomResource', Properties: { whatever: 1 } },
      },
    };

    expect(validateTemplate(template).map((f) => f.message)).toEqual(["'ServiceToken' is a required property at Resources.Bad.Properties"]);
  });
});
