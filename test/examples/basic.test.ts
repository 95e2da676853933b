import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { NAG_PACKS, unacknowledgedFindings } from './nag';
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

  test.each(NAG_PACKS)('cdk-nag %s finds nothing that is not acknowledged in code with a reason', (_, pack) => {
    expect(unacknowledgedFindings(pack, app, stack)).toEqual([]);
  });
});
