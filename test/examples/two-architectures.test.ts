import { Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { idleCosts } from './idle-cost';
import { VALIDATION_PLUGINS, validationFindings } from './validation';
import { buildApp } from '../../examples/two-architectures/app';
import { RunnerConfigDocument } from '../../src/runner-config-document';

describe('examples/two-architectures', () => {
  const app = buildApp();
  const stack = app.node.findChild('EphemeralRunnersTwoArchitectures') as Stack;
  const template = Template.fromStack(stack);

  test('configs [linux, x64] and [linux, arm64] synthesize, with one warning naming the tie, the job and the winner', () => {
    const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('equally well'));

    expect(warnings.map((w) => w.entry.data)).toEqual([
      expect.stringMatching(/^runner configs 'linux-arm64', 'linux-x64' match a job with runs-on \["linux"\] equally well .*it goes to 'linux-arm64', whose priority 1 is the highest\./),
    ]);
  });

  test('the config documents carry the priority and order the functions break the tie by', () => {
    const documents = Object.values(template.findResources('AWS::SSM::Parameter'))
      .map((p) => p.Properties.Value)
      .filter((v): v is string => typeof v === 'string' && v.startsWith('{'))
      .map((v) => JSON.parse(v) as RunnerConfigDocument);
    expect(documents.map(({ name, labels, priority, order, architecture }) => ({ name, labels, priority, order, architecture }))).toEqual([
      { name: 'linux-x64', labels: ['linux', 'x64'], priority: 0, order: 0, architecture: 'x64' },
      { name: 'linux-arm64', labels: ['arm64', 'linux'], priority: 1, order: 1, architecture: 'arm64' },
    ]);
  });

  test('one image pipeline per architecture, each installing the newest runner release and reporting its version', () => {
    template.resourceCountIs('AWS::ImageBuilder::ImagePipeline', 2);
    const runnerParameters = Object.values(template.findResources('AWS::ImageBuilder::ImageRecipe'))
      .map((r) => r.Properties.Components as Array<{ Parameters?: Array<{ Name: string; Value: string[] }> }>)
      .map((components) => components.find((c) => c.Parameters)!.Parameters!)
      .map((parameters) => Object.fromEntries(parameters.map((p) => [p.Name, p.Value[0]])));
    expect(runnerParameters.map((p) => p.Version)).toEqual(['latest', 'latest']);
    expect(runnerParameters.map((p) => p.VersionParameter).sort()).toEqual([
      expect.stringMatching(/\/image\/runner-version\/arm64$/),
      expect.stringMatching(/\/image\/runner-version\/x64$/),
    ]);
    expect(new Set(runnerParameters.map((p) => p.FloorParameter)).size).toBe(1);
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
