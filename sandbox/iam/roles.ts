// The roles of the synthesized template with their identity policies, intrinsics resolved to the
// sandbox's physical ids: what IAM would hold after `cdk deploy`.
import type { CfnResource, TemplateResolver } from '../deployment';

export interface DeploymentRole {
  readonly logicalId: string;
  readonly roleName: string;
  /**
   * Inline policies (AWS::IAM::Policy attached to the role, and the role's own `Policies`) and the
   * template's customer managed policies attached to it. AWS managed policies (`ManagedPolicyArns`)
   * are not evaluated: the control plane's and the runners' roles have none.
   */
  readonly policies: ReadonlyArray<{ readonly name: string; readonly policy: unknown }>;
}

/** Every AWS::IAM::Role of the template, by its physical role name (`roleNames` maps logical ids to names). */
export function deploymentRoles(
  resources: Readonly<Record<string, CfnResource>>,
  resolver: TemplateResolver,
  roleNames: Readonly<Record<string, string>>,
  /** Logical ids of the roles to read (the others may name resources the caller has no physical ids for). @default all */
  only?: ReadonlySet<string>,
): Map<string, DeploymentRole> {
  type Mutable = { logicalId: string; roleName: string; policies: Array<{ name: string; policy: unknown }> };
  const roles = new Map<string, Mutable>();
  const byLogicalId = new Map<string, string>();
  for (const [id, r] of Object.entries(resources)) {
    if (r.Type !== 'AWS::IAM::Role' || (only && !only.has(id))) continue;
    const roleName = roleNames[id];
    if (roleName === undefined) throw new Error(`no physical name for the role ${id}`);
    const inline = ((r.Properties.Policies ?? []) as Array<{ PolicyName: string; PolicyDocument: unknown }>)
      .map((p) => ({ name: p.PolicyName, policy: resolver.resolve(p.PolicyDocument) }));
    roles.set(roleName, { logicalId: id, roleName, policies: inline });
    byLogicalId.set(id, roleName);
  }
  for (const [id, r] of Object.entries(resources)) {
    // Inline policies, and customer managed policies attached through their `Roles` (IAM evaluates both).
    if (r.Type !== 'AWS::IAM::Policy' && r.Type !== 'AWS::IAM::ManagedPolicy') continue;
    for (const ref of (r.Properties.Roles ?? []) as Array<{ Ref: string }>) {
      const name = byLogicalId.get(ref.Ref);
      if (name === undefined) continue;
      const policyName = String(r.Properties.PolicyName ?? r.Properties.ManagedPolicyName ?? id);
      roles.get(name)!.policies.push({ name: policyName, policy: resolver.resolve(r.Properties.PolicyDocument) });
    }
  }
  return roles;
}
