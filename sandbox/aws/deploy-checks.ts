// What CloudFormation and the services refuse when a stack is created, checked before the sandbox "deploys" a template: every resource
// against its CloudFormation resource schema, and every launch template's `resolve:ssm:` image against the parameters that exist then.
import { validateTemplate } from './cloudformation-schema';

type Json = Record<string, unknown>;

export interface DeployTemplate {
  readonly Resources: Record<string, { Type: string; Properties?: Json; DependsOn?: string | string[] }>;
}

/** What the account holds before the stack is created: the names of its SSM parameters in the Region. */
type AccountState = { readonly ssmParameters?: readonly string[] };

/** A template the sandbox, like CloudFormation, will not deploy; `problems` says why, one line each. */
export class DeploymentRefusedError extends Error {
  public readonly name = 'DeploymentRefusedError';
  constructor(public readonly problems: string[]) {
    super(`the sandbox refuses to deploy this template, as CloudFormation would fail to create it:\n- ${problems.join('\n- ')}`);
  }
}

/** Throws {@link DeploymentRefusedError} naming every problem; returns when there is none. */
export function assertDeployable(template: DeployTemplate, account: AccountState = {}): void {
  const problems = [
    ...validateTemplate(template).map((f) => `CloudFormation resource schema: ${f.message}`),
    ...launchTemplateParameterProblems(template, account),
  ];
  if (problems.length > 0) throw new DeploymentRefusedError(problems);
}

/** EC2 resolves a launch template's `resolve:ssm:` image when it creates it, refusing a parameter that does not exist or is not of
 * data type `aws:ec2:image` (`SsmInvalidParameter`; https://github.com/aws/aws-cdk/issues/26712,
 * https://docs.aws.amazon.com/autoscaling/ec2/userguide/using-systems-manager-parameters.html): the account's, a public one
 * (`/aws/service/…`), or an `AWS::SSM::Parameter` of the template the launch template depends on. */
export function launchTemplateParameterProblems(template: DeployTemplate, account: AccountState = {}): string[] {
  const resources = template.Resources;
  // The template's parameters by name, where a literal names them.
  const parameters = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::SSM::Parameter');
  const created = new Map(parameters.map(([id, r]) => [literal(r.Properties?.Name), id]));
  const problems: string[] = [];
  for (const [id, r] of Object.entries(resources)) {
    if (r.Type !== 'AWS::EC2::LaunchTemplate') continue;
    for (const reference of ssmReferences(r.Properties?.LaunchTemplateData, 'LaunchTemplateData', resources)) {
      const at = `Resources.${id}.Properties.${reference.path}`;
      if (reference.name === undefined) {
        problems.push(`${at} resolves an SSM parameter whose name the sandbox cannot work out before deploying; name it by a literal, or by a Ref to an AWS::SSM::Parameter of the template.`);
        continue;
      }
      const name = reference.name;
      if (name.startsWith('/aws/service/')) {
        const problem = canonicalParameterProblem(name);
        if (problem) problems.push(`${at} resolves SSM parameter '${name}', which does not exist: ${problem}. EC2 refuses the launch template (SsmInvalidParameter).`);
        continue;
      }
      if (account.ssmParameters?.includes(name)) continue;
      const parameterId = reference.parameterId ?? created.get(name);
      if (parameterId && dependencies(resources, id).has(parameterId)) {
        if (resources[parameterId].Properties?.DataType !== 'aws:ec2:image') {
          problems.push(`${at} resolves SSM parameter '${name}', which Resources.${parameterId} creates without DataType 'aws:ec2:image': `
            + 'EC2 refuses the launch template (SsmInvalidParameter, "Unsupported data type"). Fix: give the parameter DataType aws:ec2:image.');
        }
        continue;
      }
      const why = parameterId
        ? `Resources.${parameterId} creates it, but the launch template does not depend on it, so CloudFormation may create the launch template first`
        : `the template does not create it${writtenLater(resources, name)} and the account has no parameter of that name`;
      problems.push(`${at} resolves SSM parameter '${name}', which does not exist when CloudFormation creates the launch template: ${why}. `
        + 'EC2 refuses the launch template (SsmInvalidParameter) and the stack rolls back. Fix: create the parameter in the template '
        + '(AWS::SSM::Parameter with DataType aws:ec2:image) and make the launch template depend on it, or name an image that exists at deploy time.');
    }
  }
  return problems;
}

/** Canonical's `ubuntu/$PRODUCT/$RELEASE/stable/current|$SERIAL/$ARCH/$VIRT_TYPE/$VOL_TYPE/ami-id`, VOL_TYPE `ebs-gp3` from 23.10 on, `ebs-gp2`
 * up to 23.04 (https://documentation.ubuntu.com/aws/aws-how-to/instances/find-ubuntu-images/); other public parameters are taken as existing. */
function canonicalParameterProblem(name: string): string | undefined {
  const prefix = '/aws/service/canonical/ubuntu/';
  if (!name.startsWith(prefix) || name.startsWith(`${prefix}eks`)) return undefined;
  const parts = name.slice(prefix.length).split('/');
  const [product, release, stable, , arch, virt, volume, leaf] = parts;
  const grammar = 'Canonical names them ubuntu/<server|server-minimal|pro-server>/<release>/stable/<current|serial>/<amd64|arm64>/<hvm|pv>/<volume type>/ami-id';
  if (parts.length !== 8 || !['server', 'server-minimal', 'pro-server'].includes(product) || stable !== 'stable'
    || !['amd64', 'arm64'].includes(arch) || !['hvm', 'pv'].includes(virt) || leaf !== 'ami-id') return grammar;
  const version = CODENAMES[release] ?? release;
  if (!/^\d{2}\.\d{2}$/.test(version)) return `${grammar}; '${release}' is not a release`;
  const [published, other] = version >= '23.10' ? ['ebs-gp3', 'ebs-gp2'] : ['ebs-gp2', 'ebs-gp3'];
  if (volume === other) {
    return `Canonical publishes Ubuntu ${version} under ${published}, not ${other} (ebs-gp3 is for 23.10 and later, ebs-gp2 for 23.04 and earlier)`;
  }
  return ['ebs-gp3', 'ebs-gp2', 'ebs-io1', 'ebs-standard', 'instance-store'].includes(volume) ? undefined : `${grammar}; '${volume}' is not a volume type`;
}

const CODENAMES: Record<string, string> = { xenial: '16.04', bionic: '18.04', focal: '20.04', jammy: '22.04', noble: '24.04' };

/** An Image Builder distribution that writes the parameter does so after a build, not at deploy. */
function writtenLater(resources: DeployTemplate['Resources'], name: string): string {
  const writer = Object.entries(resources).find(([, r]) => r.Type === 'AWS::ImageBuilder::DistributionConfiguration'
    && JSON.stringify(r.Properties?.Distributions ?? []).includes(JSON.stringify(name)));
  return writer ? ` (the image distribution Resources.${writer[0]} writes it when a build finishes, after the stack exists)` : '';
}

type SsmReference = { path: string; name?: string; parameterId?: string };

/** Every `resolve:ssm:NAME[:version]` in `value`: where, its name (unless only a deploy knows it), the AWS::SSM::Parameter it `Ref`s. */
function ssmReferences(value: unknown, path: string, resources: DeployTemplate['Resources']): SsmReference[] {
  const text = literal(value);
  // Parameter names hold no ':'; what follows one is a version or label.
  if (text !== undefined) return text.startsWith('resolve:ssm:') ? [{ path, name: text.slice('resolve:ssm:'.length).split(':')[0] }] : [];
  const [separator, parts] = joinOf(value) ?? [];
  if (parts) {
    if (separator !== '' || typeof parts[0] !== 'string' || !parts[0].startsWith('resolve:ssm:')) return [];
    // `resolve:ssm:` followed by a Ref to a parameter of the template (its Ref is its name).
    const [prefix, ref, ...rest] = parts as [string, { Ref?: string }, ...unknown[]];
    const parameterId = prefix === 'resolve:ssm:' && rest.length === 0 && typeof ref?.Ref === 'string'
      && resources[ref.Ref]?.Type === 'AWS::SSM::Parameter' ? ref.Ref : undefined;
    if (!parameterId) return [{ path }];
    return [{ path, parameterId, name: literal(resources[parameterId].Properties?.Name) ?? `<name of ${parameterId}>` }];
  }
  if (Array.isArray(value)) return value.flatMap((v, i) => ssmReferences(v, `${path}[${i}]`, resources));
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([k, v]) => ssmReferences(v, `${path}.${k}`, resources));
}

/** A string the template fixes without deploying anything: a literal, or a join of literals. */
function literal(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  const [separator, parts] = joinOf(value) ?? [];
  const texts = parts?.map(literal);
  return texts?.every((t): t is string => t !== undefined) ? texts.join(separator) : undefined;
}

function joinOf(value: unknown): [string, unknown[]] | undefined {
  return typeof value === 'object' && value !== null && 'Fn::Join' in value ? (value as { 'Fn::Join': [string, unknown[]] })['Fn::Join'] : undefined;
}

/** The resources `id` depends on, directly or through others: `DependsOn`, `Ref`, `Fn::GetAtt`, `Fn::Sub`. */
function dependencies(resources: DeployTemplate['Resources'], id: string, seen = new Set<string>()): Set<string> {
  const r = resources[id];
  for (const to of r ? [...[r.DependsOn ?? []].flat(), ...references(r.Properties)] : []) {
    if (resources[to] && !seen.has(to)) dependencies(resources, to, seen.add(to));
  }
  return seen;
}

function references(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(references);
  if (typeof value !== 'object' || value === null) return [];
  const v = value as Json;
  const getAtt = v['Fn::GetAtt'];
  const sub = v['Fn::Sub'];
  const subText = typeof sub === 'string' ? sub : Array.isArray(sub) ? String(sub[0]) : '';
  return [
    ...(typeof v.Ref === 'string' ? [v.Ref] : []),
    ...(Array.isArray(getAtt) ? [String(getAtt[0])] : typeof getAtt === 'string' ? [getAtt.split('.')[0]] : []),
    ...[...subText.matchAll(/\$\{([A-Za-z0-9]+)[.}]/g)].map((m) => m[1]),
    ...Object.values(v).flatMap(references),
  ];
}
