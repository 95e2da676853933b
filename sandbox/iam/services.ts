// IAM hooks of the simulators: identify the caller by the access key of its SigV4 signature, build the
// operation's requests from the operations table, decide them for the caller's role session. EC2's hook
// adds the account state that changes what a spot launch asks (the Spot service-linked role).
import { AuthorizationRequest, DeploymentRole, IamAuthorizer, Principal } from './authorizer';
import { accessKeyOf } from './identities';
import { createFleetRequests, fleetLaunchRequests, OperationContext, OPERATIONS, spotServiceLinkedRoleRequest, TagCallInput } from './operations';
import type { CallerIdentity } from '../aws/function-url';
import { Ec2Authorizer, Ec2Call, Ec2Decision, launchKey, LaunchTemplateVersion, unauthorizedMessage } from '../ec2';

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

/** The requests of `<service>:<operation>` from the operations table. */
function requestsOf(service: string, operation: string, input: unknown, context: OperationContext): AuthorizationRequest[] {
  const entry = OPERATIONS[`${service}:${operation}`];
  if (!entry) throw new Error(`the IAM operations table has no entry for ${service}:${operation}`);
  return entry.requests(input as never, context);
}

/** The `authorize` hook of a JSON-protocol simulator for `service` (`ssm`, `sqs`, `logs`, `dynamodb`). */
export function serviceAuthorizer(service: string, options: ServiceIamOptions) {
  return async (operation: string, input: Record<string, unknown>, authorization: string | undefined): Promise<string | undefined> => {
    const key = accessKeyOf(authorization);
    const identity = key === undefined ? undefined : options.identityFor(key);
    if (!identity) return undefined;
    return (await options.authorizer().authorize(principalOf(identity), requestsOf(service, operation, input, options.context)))?.message;
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

/** A per-override error of an instant fleet (karpenter-provider-aws TROUBLESHOOTING.md, terraform-aws-github-runner#104). */
const SPOT_SLR_ERROR = {
  code: 'AuthFailure.ServiceLinkedRoleCreationNotPermitted',
  message: 'The provided credentials do not have permission to create the service-linked role for EC2 Spot Instances.',
};

/** The EC2 simulator's hook; `account.hasSpotServiceLinkedRole`: whether AWSServiceRoleForEC2Spot exists (a spot launch creates it when the caller may). */
export function ec2Authorizer(options: ServiceIamOptions & { readonly account: { hasSpotServiceLinkedRole: boolean } }): Ec2Authorizer {
  const ctx = options.context;
  const authorize = (p: Principal, r: AuthorizationRequest[]) => options.authorizer().authorize(p, r);
  return async (call: Ec2Call): Promise<Ec2Decision | undefined> => {
    const identity = call.accessKeyId === undefined ? undefined : options.identityFor(call.accessKeyId);
    if (!identity) return undefined;
    const principal = principalOf(identity);
    if (call.action === 'CreateFleet') return createFleet(call, principal);
    const input = ['TerminateInstances', 'StartInstances', 'StopInstances'].includes(call.action)
      ? { instanceIds: call.params.strings('InstanceId'), tagsOf: call.instanceTags, factsOf: call.instanceFacts }
      : call.action === 'CreateTags' ? createTagsInput(call) : call.params;
    const denial = await authorize(principal, requestsOf('ec2', call.action, input, ctx));
    return denial && { denied: denial.message };
  };

  async function createFleet(call: Ec2Call, principal: Principal): Promise<Ec2Decision | undefined> {
    const fleet = call.fleet;
    if (!fleet) return undefined;
    const facts = { ...fleet, templates: fleet.templates.map(templateFacts) };
    const denial = await authorize(principal, createFleetRequests(facts, ctx));
    if (denial) return { denied: denial.message };
    // Each pool's RunInstances, decided now (the launch itself runs synchronously).
    const errors = new Map<string, { code: string; message: string }>();
    for (const launch of fleet.launches) {
      const template = facts.templates.find((t) => t.launchTemplateId === launch.launchTemplateId)!;
      const denied = await authorize(principal, fleetLaunchRequests({ ...launch, template }, fleet.tags, ctx));
      if (denied) {
        errors.set(launchKey(launch), { code: 'UnauthorizedOperation', message: unauthorizedMessage(denied.message, launchKey(launch)) });
      } else if (launch.market === 'spot' && !options.account.hasSpotServiceLinkedRole) {
        // The first spot launch of an account creates the role, on the caller's authority.
        if (await authorize(principal, [spotServiceLinkedRoleRequest(ctx)])) errors.set(launchKey(launch), SPOT_SLR_ERROR);
        else options.account.hasSpotServiceLinkedRole = true;
      }
    }
    return { launchError: (launch) => errors.get(launchKey(launch)) };
  }
}

/** What IAM reads of a CreateTags: the resources, their tags, and the tags as sent (EC2 validates them after authorization here). */
function createTagsInput(call: Ec2Call): TagCallInput {
  const tags = Object.fromEntries(call.params.list('Tag').map((t) => [t.string('Key') ?? '', t.string('Value') ?? '']));
  return { resourceIds: call.params.strings('ResourceId'), tagsOf: call.resourceTags, tags };
}

function templateFacts({ launchTemplateId, data }: LaunchTemplateVersion) {
  const { arn, roleName } = data.iamInstanceProfile ?? {};
  return {
    launchTemplateId,
    imageId: data.imageId,
    securityGroupIds: data.securityGroupIds ?? [],
    instanceProfileRoleArn: roleName && arn ? arn.replace(/:instance-profile\/.*$/, `:role/${roleName}`) : undefined,
    instanceTags: data.tags ?? {},
    volumeTags: data.volumeTags ?? {},
  };
}
