import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { checkConsumerTemplate, CONTROL_PLANE_FUNCTIONS, Template } from './template-checks';

/** A cloud assembly holding one staged bundle per control-plane function, and its template. */
function assembly(): { dir: string; template: { Resources: Record<string, any> } } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'consumer-checks-'));
  const resources: Record<string, any> = {
    Table: { Type: 'AWS::DynamoDB::Table', Properties: {} },
    LaunchTemplate: { Type: 'AWS::EC2::LaunchTemplate', Properties: { LaunchTemplateData: { UserData: 'IyEvYmluL2Jhc2g=' } } },
    Pipeline: { Type: 'AWS::ImageBuilder::ImagePipeline', Properties: {} },
    Component: { Type: 'AWS::ImageBuilder::Component', Properties: { Data: 'phases: []' } },
  };
  for (const service of CONTROL_PLANE_FUNCTIONS) {
    fs.mkdirSync(path.join(dir, `asset.${service}`));
    fs.writeFileSync(path.join(dir, `asset.${service}`, 'index.js'), 'exports.handler = async () => {};');
    resources[`${service}Function`] = {
      Type: 'AWS::Lambda::Function',
      Properties: { Handler: 'index.handler', Environment: { Variables: { POWERTOOLS_SERVICE_NAME: service } } },
      Metadata: { 'aws:asset:path': `asset.${service}` },
    };
  }
  return { dir, template: { Resources: resources } };
}

describe('the checks on the consumer app template', () => {
  test('the control plane as the construct makes it passes', () => {
    const { dir, template } = assembly();

    expect(checkConsumerTemplate(template, dir)).toEqual([]);
  });

  test('a missing function, a source map beside a bundle and a missing pipeline are all reported', () => {
    const { dir, template } = assembly();
    delete template.Resources.reconcilerFunction;
    fs.writeFileSync(path.join(dir, 'asset.webhook', 'index.js.map'), '{}');
    delete template.Resources.Pipeline;

    const problems = checkConsumerTemplate(template as Template, dir);

    expect(problems).toEqual([
      'expected the five control-plane functions (lifecycle, provisioner, reconciler, register, webhook), found 4: lifecycle, provisioner, register, webhook',
      expect.stringMatching(/^function webhookFunction \(webhook\): a source map was packaged/),
      'expected the runner image pipeline (AWS::ImageBuilder::ImagePipeline), found none',
    ]);
  });

  test('a function whose bundle was not staged, and a launch template without user data, are reported', () => {
    const { dir, template } = assembly();
    fs.rmSync(path.join(dir, 'asset.register', 'index.js'));
    template.Resources.LaunchTemplate.Properties.LaunchTemplateData = {};

    const problems = checkConsumerTemplate(template, dir);

    expect(problems).toEqual([
      expect.stringMatching(/^function registerFunction \(register\): its bundle .* is missing or empty$/),
      'launch template LaunchTemplate has no user data (the runner bootstrap script)',
    ]);
  });
});
