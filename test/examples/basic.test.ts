import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { VALIDATION_PLUGINS, validationFindings } from './validation';
import { buildApp } from '../../examples/basic/app';

describe('examples/basic', () => {
  const app = buildApp();
  const stack = app.node.findChild('EphemeralRunnersBasic') as Stack;

  test('synthesizes the stack a user deploys', () => {
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.resourceCountIs('AWS::ApiGatewayV2::Api', 1);
    // The runner config's document, the deployment document the status command reads, and the
    // runner versions of the image and of the server.
    template.resourceCountIs('AWS::SSM::Parameter', 4);
    // No App id: the setup page and its token.
    template.resourceCountIs('Custom::SetupToken', 1);
    template.hasOutput('RunnersSetupUrl', {});
  });

  // A fresh app: the checks run as validation plugins, at its synth.
  const findings = validationFindings(buildApp());

  test.each(VALIDATION_PLUGINS)('%s finds nothing that is not acknowledged in code with a reason', (plugin) => {
    expect(findings[plugin]).toEqual([]);
  });
});
