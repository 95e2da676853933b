// IAM for the EC2 simulator's calls: the operations table's requests for the call, decided for the
// caller's role session, plus the account state that changes what a spot launch asks (the Spot
// service-linked role).
import type { AuthorizationRequest, Principal } from './authorizer';
import { createFleetRequests, fleetLaunchRequests, LaunchTemplateFacts, OPERATIONS, spotServiceLinkedRoleRequest } from './operations';
import { principalOf, ServiceIamOptions } from './services';
import { Ec2Authorizer, Ec2Call, Ec2Decision, launchKey, LaunchTemplateVersion, unauthorizedMessage } from '../ec2';

export interface Ec2IamOptions extends ServiceIamOptions {
  /** Whether AWSServiceRoleForEC2Spot exists in the account; a spot launch creates it when the caller may. */
  readonly account: { hasSpotServiceLinkedRole: boolean };
}

/** A per-override error of an instant fleet (karpenter-provider-aws TROUBLESHOOTING.md, terraform-aws-github-runner#104). */
const SPOT_SLR_ERROR = {
  code: 'AuthFailure.ServiceLinkedRoleCreationNotPermitted',
  message: 'The provided credentials do not have permission to create the service-linked role for EC2 Spot Instances.',
};

export function ec2Authorizer(options: Ec2IamOptions): Ec2Authorizer {
  const ctx = options.context;
  const authorizer = { authorize: (p: Principal, r: AuthorizationRequest[]) => options.authorizer().authorize(p, r) };
  return async (call: Ec2Call): Promise<Ec2Decision | undefined> => {
    const identity = call.accessKeyId === undefined ? undefined : options.identityFor(call.accessKeyId);
    if (!identity) return undefined;
    const principal = principalOf(identity);
    if (call.action === 'CreateFleet') return createFleet(call, principal);
    const entry = OPERATIONS[`ec2:${call.action}`];
    if (!entry) throw new Error(`the IAM operations table has no entry for ec2:${call.action}`);
    const input = call.action === 'TerminateInstances'
      ? { instanceIds: call.params.strings('InstanceId'), tagsOf: call.instanceTags }
      : call.params;
    const denial = await authorizer.authorize(principal, entry.requests(input as never, ctx));
    return denial && { denied: denial.message };
  };

  async function createFleet(call: Ec2Call, principal: Principal): Promise<Ec2Decision | undefined> {
    const fleet = call.fleet;
    if (!fleet) return undefined;
    const facts = { ...fleet, templates: fleet.templates.map(templateFacts) };
    const denial = await authorizer.authorize(principal, createFleetRequests(facts, ctx));
    if (denial) return { denied: denial.message };
    // Each pool's RunInstances, decided now (the launch itself runs synchronously).
    const errors = new Map<string, { code: string; message: string }>();
    for (const launch of fleet.launches) {
      const template = facts.templates.find((t) => t.launchTemplateId === launch.launchTemplateId)!;
      const requests: AuthorizationRequest[] = fleetLaunchRequests({ ...launch, template }, fleet.tags, ctx);
      const denied = await authorizer.authorize(principal, requests);
      if (denied) {
        errors.set(launchKey(launch), { code: 'UnauthorizedOperation', message: unauthorizedMessage(denied.message, launchKey(launch)) });
        continue;
      }
      if (launch.market === 'spot' && !options.account.hasSpotServiceLinkedRole) {
        // The first spot launch of an account creates the role, on the caller's authority.
        const slr = await authorizer.authorize(principal, [spotServiceLinkedRoleRequest(ctx)]);
        if (slr) errors.set(launchKey(launch), SPOT_SLR_ERROR);
        else options.account.hasSpotServiceLinkedRole = true;
      }
    }
    return { launchError: (launch) => errors.get(launchKey(launch)) };
  }
}

function templateFacts(t: LaunchTemplateVersion): LaunchTemplateFacts {
  const profileArn = t.data.iamInstanceProfile?.arn;
  const roleName = t.data.iamInstanceProfile?.roleName;
  return {
    launchTemplateId: t.launchTemplateId,
    imageId: t.data.imageId,
    securityGroupIds: t.data.securityGroupIds ?? [],
    instanceProfileRoleArn: roleName && profileArn ? profileArn.replace(/:instance-profile\/.*$/, `:role/${roleName}`) : undefined,
    instanceTags: t.data.tags ?? {},
    volumeTags: t.data.volumeTags ?? {},
  };
}
