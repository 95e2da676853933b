// The resources of a template that per-config overrides shape (launch templates, instance roles and
// profiles, security groups, the launch and invoke grants, the register and launch settings of the
// functions, the runner config documents), with their logical ids: what a deployment whose configs
// use no overrides must keep unchanged. The bootstrap in the user data is left out (it changes with
// the bootstrap script, not with the configs); its presence is kept.
type Json = Record<string, any>;

const TYPES = new Set([
  'AWS::EC2::LaunchTemplate', 'AWS::IAM::InstanceProfile', 'AWS::EC2::SecurityGroup', 'AWS::IAM::ManagedPolicy',
  'AWS::Lambda::Url', 'AWS::ApiGateway::RestApi',
]);
/** The functions' variables that say where to launch and who may register. */
const VARIABLES = ['RUNNER_ROLE_NAME', 'SUBNET_IDS', 'LAUNCH_TEMPLATES', 'WARM_LAUNCH_TEMPLATES'];

export function fleetResources(template: { Resources: Record<string, Json> }): Record<string, unknown> {
  const resources = template.Resources;
  const runnerRoles = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::IAM::Role'
    && JSON.stringify(r.Properties.AssumeRolePolicyDocument).includes('ec2.amazonaws.com')).map(([id]) => id);
  const out: Record<string, unknown> = {};
  for (const [id, r] of Object.entries(resources)) {
    // The construct's own image pipeline (its build role and security group) is not the runners'.
    if (!id.startsWith('Runners') || id.includes('ImageBuild')) continue;
    if (TYPES.has(r.Type)) {
      out[id] = r.Type === 'AWS::EC2::LaunchTemplate' ? withoutBootstrap(r) : r;
    } else if (r.Type === 'AWS::IAM::Role' && runnerRoles.includes(id)) {
      out[id] = r;
    } else if (r.Type === 'AWS::IAM::Policy' && runnerRoles.some((role) => JSON.stringify(r.Properties.Roles ?? []).includes(`"${role}"`))) {
      out[id] = r;
    } else if (r.Type === 'AWS::Lambda::Permission' && /InvokeFunctionUrl/.test(JSON.stringify(r.Properties.Action))) {
      out[id] = r;
    } else if (r.Type === 'AWS::SSM::Parameter' && String(r.Properties.Value).startsWith('{"version"')) {
      out[id] = r;
    } else if (r.Type === 'AWS::Lambda::Function') {
      const variables = r.Properties.Environment?.Variables ?? {};
      const kept = Object.fromEntries(Object.entries(variables).filter(([k]) => VARIABLES.includes(k) || k.startsWith('CONFIG_')));
      if (Object.keys(kept).length > 0) out[`${id}.Environment`] = kept;
    }
  }
  return out;
}

function withoutBootstrap(resource: Json): Json {
  const data = resource.Properties.LaunchTemplateData;
  return { ...resource, Properties: { ...resource.Properties, LaunchTemplateData: { ...data, UserData: data.UserData === undefined ? undefined : '<bootstrap>' } } };
}
