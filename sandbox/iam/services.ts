// IAM for the JSON-protocol simulators (SSM, SQS, CloudWatch Logs, DynamoDB) and the endpoints the
// runner instances call (Function URL, private REST API): identify the caller by the access key of
// its SigV4 signature, build the operation's requests from the operations table, decide them.
import { IamAuthorizer, Principal } from './authorizer';
import { accessKeyOf } from './identities';
import { OperationContext, OPERATIONS } from './operations';
import type { DeploymentRole } from './roles';
import type { CallerIdentity } from '../aws/function-url';

export interface ServiceIamOptions {
  /** The authorizer (a getter: the sandbox builds it once every physical id is known). */
  readonly authorizer: () => IamAuthorizer;
  readonly context: OperationContext;
  /** The role session an access key belongs to; undefined for a key IAM does not check (the sandbox operator's). */
  readonly identityFor: (accessKeyId: string) => CallerIdentity | undefined;
}

export function principalOf(identity: CallerIdentity): Principal {
  return { accountId: identity.accountId, roleName: identity.roleName, sessionName: identity.sessionName };
}

/** The `authorize` hook of a JSON-protocol simulator for `service` (`ssm`, `sqs`, `logs`, `dynamodb`). */
export function serviceAuthorizer(service: string, options: ServiceIamOptions) {
  return async (operation: string, input: Record<string, unknown>, authorization: string | undefined): Promise<string | undefined> => {
    const key = accessKeyOf(authorization);
    const identity = key === undefined ? undefined : options.identityFor(key);
    if (!identity) return undefined;
    const entry = OPERATIONS[`${service}:${operation}`];
    if (!entry) throw new Error(`the IAM operations table has no entry for ${service}:${operation}`);
    const denial = await options.authorizer().authorize(principalOf(identity), entry.requests(input as never, options.context));
    return denial?.message;
  };
}

/** Roles from plain policy statements, by role name: for tests that give a role a policy by hand. */
export function rolesWithPolicies(statementsByRole: Record<string, unknown[]>): Map<string, DeploymentRole> {
  return new Map(Object.entries(statementsByRole).map(([roleName, statements]) => [roleName, {
    logicalId: roleName,
    roleName,
    policies: [{ name: `${roleName}-policy`, policy: { Version: '2012-10-17', Statement: statements } }],
  }]));
}
