import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { idleCosts } from './idle-cost';
import { VALIDATION_PLUGINS, validationFindings } from './validation';
import { buildApp } from '../../examples/enterprise/app';
import { RunnerConfigDocument } from '../../src/runner-config-document';

describe('examples/enterprise', () => {
  const app = buildApp();
  const stack = app.node.findChild('EphemeralRunnersEnterprise') as Stack;
  const template = Template.fromStack(stack);

  test('the enterprise config registers at the enterprise in a group by name; the GPU config per organization', () => {
    const documents = Object.values(template.findResources('AWS::SSM::Parameter'))
      .map((p) => p.Properties.Value)
      .filter((v): v is string => typeof v === 'string' && v.startsWith('{'))
      .map((v) => JSON.parse(v) as RunnerConfigDocument);
    expect(documents.map(({ name, scope, enterprise, runnerGroupName }) => ({ name, scope, enterprise, runnerGroupName }))).toEqual([
      { name: 'shared-linux', scope: 'enterprise', enterprise: 'octo-enterprise', runnerGroupName: 'Linux Builders' },
      { name: 'team-gpu', scope: 'org', enterprise: undefined, runnerGroupName: 'GPU' },
    ]);
  });

  test('the output names the parameter to write the enterprise credential to', () => {
    template.hasOutput('RunnersEnterpriseTokenParameter', { Value: '/ephemeral-runners/EphemeralRunnersEnterprise/Runners/github-enterprise/token' });
  });

  test('nothing bills by the hour while no job runs', () => {
    expect(idleCosts(template.toJSON())).toEqual([]);
  });

  // A fresh app: the checks run as validation plugins, at its synth.
  const findings = validationFindings(buildApp());

  test.each(VALIDATION_PLUGINS)('%s finds nothing that is not acknowledged in code with a reason', (plugin) => {
    expect(findings[plugin]).toEqual([]);
  });
});
