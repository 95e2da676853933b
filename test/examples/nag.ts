// cdk-nag over an example stack: every finding not acknowledged in code, one line each.
import { App, Stack } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';

/** The packs every example is held to. */
export const NAG_PACKS = [
  ['AwsSolutionsChecks', (app: App) => new AwsSolutionsChecks(app)],
  ['ServerlessChecks', (app: App) => new ServerlessChecks(app)],
] as const;

export function unacknowledgedFindings(pack: (app: App) => AwsSolutionsChecks | ServerlessChecks, app: App, stack: Stack): string[] {
  const report = pack(app).validateScope(stack);
  return report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}: ${v.description}`));
}
