// The checks every example is held to, run as CDK runs validation plugins at synth
// (`Validations.of(app).addPlugins`): cdk-nag's packs over the construct tree, and
// CloudFormation's resource schemas over the synthesized templates.
import * as fs from 'fs';
import * as path from 'path';
import { App, IPolicyValidationContext, IPolicyValidationPlugin, PolicyValidationPluginReport, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, INagValidationContext, NagPack, ServerlessChecks } from 'cdk-nag';
import { validateTemplate } from '../../sandbox/aws/cloudformation-schema';

/**
 * A cdk-nag 3 pack as a validation plugin. cdk-nag's packs implement the plugin interface, but
 * their `validate` needs the construct tree on the context (`appConstruct`), which aws-cdk-lib
 * 2.257 does not provide: it passes template paths only, and the pack fails with "NagPack requires
 * a construct tree on the validation context". This hands the pack the app it was added to.
 */
class NagPackPlugin implements IPolicyValidationPlugin {
  readonly name: string;
  constructor(private readonly pack: NagPack, private readonly app: App) {
    this.name = pack.readPackName;
  }
  validate(context: IPolicyValidationContext): PolicyValidationPluginReport {
    return this.pack.validate({ ...context, appConstruct: this.app } as INagValidationContext);
  }
}

/** CloudFormation's resource schemas (@aws-cdk/aws-service-spec) over every template of the app. */
class CloudFormationSchemaPlugin implements IPolicyValidationPlugin {
  readonly name = 'CloudFormationSchema';
  validate(context: IPolicyValidationContext): PolicyValidationPluginReport {
    const violations = context.templatePaths.flatMap((templatePath) => {
      const findings = validateTemplate(JSON.parse(fs.readFileSync(templatePath, 'utf8')));
      return findings.map((f) => ({
        ruleName: 'resource-schema',
        description: f.message,
        violatingResources: [{ resourceLogicalId: f.logicalId, templatePath, locations: [f.path] }],
      }));
    });
    return { success: violations.length === 0, violations };
  }
}

/** The plugins, by the name their findings are reported under. */
export const VALIDATION_PLUGINS = ['AwsSolutions', 'Serverless', 'CloudFormationSchema'] as const;
export type ValidationPluginName = typeof VALIDATION_PLUGINS[number];

interface ReportJson {
  pluginReports: Array<{
    summary: { pluginName: string; status: string; metadata?: Record<string, string> };
    violations: Array<{
      ruleName: string;
      description: string;
      violatingConstructs?: Array<{ constructPath?: string; resourceLogicalId?: string }>;
    }>;
  }>;
}

/**
 * Adds the plugins to `app`, synthesizes it, and returns each plugin's findings from CDK's own
 * validation report (after CDK and cdk-nag dropped what is acknowledged in code), one line each.
 */
export function validationFindings(app: App): Record<ValidationPluginName, string[]> {
  Validations.of(app).addPlugins(
    new NagPackPlugin(new AwsSolutionsChecks(app), app),
    new NagPackPlugin(new ServerlessChecks(app), app),
    new CloudFormationSchemaPlugin(),
  );
  // CDK prints a failed report and sets process.exitCode = 1 (the context flag that turns this off
  // cannot be set once the app has stacks): the findings are this function's answer, asserted by
  // the tests, and a deliberate finding must not fail the whole jest run.
  const exitCode = process.exitCode;
  const assembly = app.synth({ force: true });
  process.exitCode = exitCode;
  const report = JSON.parse(fs.readFileSync(path.join(assembly.directory, 'policy-validation-report.json'), 'utf8')) as ReportJson;
  const findings = Object.fromEntries(VALIDATION_PLUGINS.map((name) => [name, [] as string[]])) as Record<ValidationPluginName, string[]>;
  for (const plugin of report.pluginReports) {
    const name = plugin.summary.pluginName as ValidationPluginName;
    const lines = findings[name] ?? (findings[name] = []);
    // A plugin that threw is a finding too, or a broken plugin would pass every example.
    if (plugin.summary.metadata?.error) lines.push(plugin.summary.metadata.error);
    for (const v of plugin.violations) {
      for (const c of v.violatingConstructs ?? [{}]) lines.push(`${v.ruleName} at ${c.constructPath ?? c.resourceLogicalId ?? '?'}: ${v.description}`);
    }
  }
  return findings;
}
