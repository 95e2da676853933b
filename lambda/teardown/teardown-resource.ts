// The teardown, as a CloudFormation custom resource: Create and Update do nothing; a Delete at the
// stack's deletion terminates every instance of the deployment (terminate-all.ts), so that no warm
// pool instance outlives the stack and bills its volume. A Delete that is not the stack's (the
// resource left the template because no config keeps a warm pool any more, or a rollback) terminates
// nothing: the deployment goes on running its jobs.
import { terminateAll, TerminateAllDeps } from './terminate-all';
import { TAG_MANAGED_BY } from '../../src/contracts/instance-tags';
import { CustomResourceEvent, CustomResourceResponse, StackBeingDeleted } from '../common/custom-resource';
import { Logger } from '../common/logger';

/** The physical id: one teardown per deployment. */
export const TEARDOWN_RESOURCE_ID = 'instance-teardown';

export interface TeardownResourceDeps {
  readonly sweep: Omit<TerminateAllDeps, 'deadline'>;
  /** When the sweep must end, for the answer to reach CloudFormation in the function's time. */
  readonly deadline: () => number;
  /** The managed-by tag's value, for an operator's message. */
  readonly managedBy: string;
  readonly respond: (response: CustomResourceResponse) => Promise<void>;
  readonly stackBeingDeleted: StackBeingDeleted;
  readonly logger: Logger;
}

export async function handleTeardownEvent(event: CustomResourceEvent, deps: TeardownResourceDeps): Promise<void> {
  const { StackId, RequestId, LogicalResourceId } = event;
  const base = { PhysicalResourceId: TEARDOWN_RESOURCE_ID, StackId, RequestId, LogicalResourceId };
  if (event.RequestType !== 'Delete') {
    await deps.respond({ Status: 'SUCCESS', ...base });
    return;
  }
  let deleting: boolean;
  try {
    deleting = await deps.stackBeingDeleted(StackId);
  } catch (e) {
    // Not knowing whether the stack goes, terminate nothing: a rollback or an update is not held up.
    deps.logger.error('could not tell whether the stack is being deleted; no instance terminated', { error: String(e) });
    await deps.respond({ Status: 'SUCCESS', ...base });
    return;
  }
  if (!deleting) {
    deps.logger.info('the teardown left the template without the stack being deleted; no instance terminated');
    await deps.respond({ Status: 'SUCCESS', ...base });
    return;
  }
  const fix = `terminate the instances tagged ${TAG_MANAGED_BY}=${deps.managedBy} (aws ec2 describe-instances --filters Name=tag:${TAG_MANAGED_BY},Values=${deps.managedBy}), then delete the stack again`;
  try {
    const result = await terminateAll({ ...deps.sweep, deadline: deps.deadline() });
    deps.logger.info('instances of the deployment terminated', { count: result.terminated.length, sweeps: result.sweeps, quiet: result.quiet });
    if (!result.quiet) {
      // Something still launches: the stack's deletion fails loudly rather than leave instances billing.
      await deps.respond({ Status: 'FAILED', ...base, Reason: `instances of this deployment kept appearing until the teardown's time ran out; ${fix}` });
      return;
    }
    await deps.respond({ Status: 'SUCCESS', ...base });
  } catch (e) {
    deps.logger.error('could not terminate the instances of the deployment', { error: String(e) });
    await deps.respond({ Status: 'FAILED', ...base, Reason: `could not terminate the instances of this deployment (${String(e).slice(0, 300)}); ${fix}` });
  }
}
