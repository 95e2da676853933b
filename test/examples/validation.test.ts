import { App, Stack } from 'aws-cdk-lib';
import * as imagebuilder from 'aws-cdk-lib/aws-imagebuilder';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { validationFindings } from './validation';

describe('the checks the examples are held to', () => {
  test('each plugin reports what it finds through CDK\'s validation report: a nag finding, a schema finding', () => {
    const app = new App();
    const stack = new Stack(app, 'Bad');
    new sqs.CfnQueue(stack, 'Queue', {});
    new imagebuilder.CfnDistributionConfiguration(stack, 'Distribution', {
      name: 'images',
      distributions: [{ region: 'us-east-1', amiDistributionConfiguration: { amiTags: { team: 'ci' } } }],
    });

    const findings = validationFindings(app);

    expect(findings.AwsSolutions).toContainEqual(expect.stringMatching(/^AwsSolutions-SQS3 at Bad\/Queue: /));
    expect(findings.Serverless).toContainEqual(expect.stringMatching(/^Serverless-SQSRedrivePolicy at Bad\/Queue: /));
    expect(findings.CloudFormationSchema).toEqual([
      "resource-schema at Bad/Distribution: 'amiTags' was unexpected at Resources.Distribution.Properties.Distributions[0].AmiDistributionConfiguration. Did you mean 'AmiTags'?",
    ]);
  });
});
