import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { buildApp } from '../../examples/basic/app';

describe('examples/basic', () => {
  const app = buildApp();
  const stack = app.node.findChild('EphemeralRunnersBasic') as Stack;

  test('synthesizes the stack a user deploys', () => {
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.resourceCountIs('AWS::ApiGatewayV2::Api', 1);
    template.resourceCountIs('AWS::SSM::Parameter', 1);
  });

  test.each([
    ['AwsSolutionsChecks', () => new AwsSolutionsChecks(app)],
    ['ServerlessChecks', () => new ServerlessChecks(app)],
  ])('cdk-nag %s finds nothing that is not acknowledged in code with a reason', (_, pack) => {
    const report = pack().validateScope(stack);
    const findings = report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}: ${v.description}`));
    expect(findings).toEqual([]);
  });
});
