// The roles of the synthesized template with their identity policies, intrinsics resolved to the
// sandbox's physical ids: what IAM would hold after `cdk deploy`.
import type { CfnResource, TemplateResolver } from '../deployment';

export interface DeploymentRole {
  readonly logicalId: string;
  readonly roleName: string;
  /** Inline policies (AWS::IAM::Policy attached to the role, and the role's own `Policies`). */
  readonly policies: ReadonlyArray<{ readonly name: string; readonly policy: unknown }>;
  /**
   * Managed policies attached to the role, by ARN. Not evaluated: the control plane's and the
   * runners' roles have none; AWS managed policies (Image Builder's roles) are not in the template.
   */
  readonly managedPolicyArns: readonly string[];
}

/** Every AWS::IAM::Role of the template, by its physical role name (`roleNames` maps logical ids to names). */
export function deploymentRoles(
  resources: Readonly<Record<string, CfnResource>>,
  resolver: TemplateResolver,
  roleNames: Readonly<Record<string, string>>,
  /** Logical ids of the roles to read (the others may name resources the caller has no physical ids for). @default all */
  only?: ReadonlySet<string>,
): Map<string, DeploymentRole> {
  type Mutable = { logicalId: string; roleName: string; policies: Array<{ name: string; policy: unknown }>; managedPolicyArns: string[] };
  const roles = new Map<string, Mutable>();
  const byLogicalId = new Map<string, string>();
  for (const [id, r] of Object.entries(resources)) {
    if (r.Type !== 'AWS::IAM::Role' || (only && !only.has(id))) continue;
    const roleName = roleNames[id];
    if (roleName === undefined) throw new Error(`no physical name for the role ${id}`);
    const inline = ((r.Properties.Policies ?? []) as Array<{ PolicyName: string; PolicyDocument: unknown }>)
      .map((p) => ({ name: p.PolicyName, policy: resolver.resolve(p.PolicyDocument) }));
    const managed = ((r.Properties.ManagedPolicyArns ?? []) as unknown[]).map((a) => String(resolver.resolve(a)));
    roles.set(roleName, { logicalId: id, roleName, policies: inline, managedPolicyArns: managed });
    byLogicalId.set(id, roleName);
  }
  for (const [id, r] of Object.entries(resources)) {
    if (r.Type !== 'AWS::IAM::Policy') continue;
    for (const ref of (r.Properties.Roles ?? []) as Array<{ Ref: string }>) {
      const name = byLogicalId.get(ref.Ref);
      if (name === undefined) continue;
      roles.get(name)!.policies.push({ name: String(r.Properties.PolicyName ?? id), policy: resolver.resolve(r.Properties.PolicyDocument) });
    }
  }
  return roles;
}
