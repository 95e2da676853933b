// What the consumer test expects of the README sample's synthesized stack: the control plane's five
// functions with their bundles staged from the package, the state table, the launch templates and
// the runner image pipeline. Returns every problem found, so one run shows them all.
import * as fs from 'fs';
import * as path from 'path';

/** The functions of the control plane, by the service name each one logs under. */
export const CONTROL_PLANE_FUNCTIONS = ['lifecycle', 'provisioner', 'reconciler', 'register', 'webhook'];

interface Resource {
  readonly Type: string;
  readonly Properties?: Record<string, any>;
  readonly Metadata?: Record<string, any>;
}

/** A CloudFormation template as the CDK writes it. */
export interface Template {
  readonly Resources?: Record<string, Resource>;
}

/**
 * The problems with `template`, empty when there are none. `assemblyDir` is the cloud assembly
 * (cdk.out) the template was read from: the functions' assets are staged there.
 */
export function checkConsumerTemplate(template: Template, assemblyDir: string): string[] {
  const resources = Object.entries(template.Resources ?? {});
  const ofType = (type: string) => resources.filter(([, r]) => r.Type === type);
  const problems: string[] = [];

  const functions = ofType('AWS::Lambda::Function')
    .map(([id, r]) => ({ id, resource: r, service: r.Properties?.Environment?.Variables?.POWERTOOLS_SERVICE_NAME as string | undefined }))
    .filter((f) => f.service !== undefined && CONTROL_PLANE_FUNCTIONS.includes(f.service));
  const services = functions.map((f) => f.service).sort();
  if (JSON.stringify(services) !== JSON.stringify(CONTROL_PLANE_FUNCTIONS)) {
    problems.push(`expected the five control-plane functions (${CONTROL_PLANE_FUNCTIONS.join(', ')}), found ${services.length}: ${services.join(', ') || 'none'}`);
  }
  for (const f of functions) {
    const assetPath = f.resource.Metadata?.['aws:asset:path'] as string | undefined;
    if (f.resource.Properties?.Handler !== 'index.handler' || !assetPath) {
      problems.push(`function ${f.id} (${f.service}) is not an index.handler bundle from an asset`);
      continue;
    }
    const bundle = path.join(assemblyDir, assetPath, 'index.js');
    if (!fs.existsSync(bundle) || fs.statSync(bundle).size === 0) {
      problems.push(`function ${f.id} (${f.service}): its bundle ${bundle} is missing or empty`);
    }
    if (fs.existsSync(`${bundle}.map`)) {
      problems.push(`function ${f.id} (${f.service}): a source map was packaged (${bundle}.map)`);
    }
  }

  const tables = ofType('AWS::DynamoDB::Table');
  if (tables.length !== 1) problems.push(`expected one DynamoDB table (the state table), found ${tables.length}`);

  const launchTemplates = ofType('AWS::EC2::LaunchTemplate');
  if (launchTemplates.length === 0) problems.push('expected a launch template per runner config, found none');
  for (const [id, r] of launchTemplates) {
    if (!r.Properties?.LaunchTemplateData?.UserData) problems.push(`launch template ${id} has no user data (the runner bootstrap script)`);
  }

  if (ofType('AWS::ImageBuilder::ImagePipeline').length === 0) problems.push('expected the runner image pipeline (AWS::ImageBuilder::ImagePipeline), found none');
  const components = ofType('AWS::ImageBuilder::Component');
  if (components.length === 0 || components.some(([, r]) => !r.Properties?.Data)) {
    problems.push('expected Image Builder components with their documents (image-builder/components), found none or an empty one');
  }
  return problems;
}
