// The setup token, as a CloudFormation custom resource: made at deploy (its SHA-256 kept in SSM, the
// token itself only in the resource's data, which the SetupUrl output carries), and at stack deletion
// the token and the App's credentials deleted, so no secret outlives the deployment. A Delete that is
// not the stack's (the resource left the template, moved, or a rollback) deletes nothing: the
// credentials may be in use, or an operator's. Never logged.
// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref-responses.html

import { newSetupToken, setupTokenHash } from '../../src/contracts/setup-token';
import { CustomResourceEvent, CustomResourceResponse, StackBeingDeleted } from '../common/custom-resource';
import { Logger } from '../common/logger';
import { SetupTokenStore } from '../core/setup';

export interface TokenResourceDeps {
  readonly store: SetupTokenStore;
  readonly respond: (response: CustomResourceResponse) => Promise<void>;
  readonly stackBeingDeleted: StackBeingDeleted;
  readonly logger: Logger;
}

/** The physical id: one token per deployment. */
export const SETUP_TOKEN_RESOURCE_ID = 'setup-token';

export async function handleTokenEvent(event: CustomResourceEvent, deps: TokenResourceDeps): Promise<void> {
  const { StackId, RequestId, LogicalResourceId } = event;
  const base = { PhysicalResourceId: SETUP_TOKEN_RESOURCE_ID, StackId, RequestId, LogicalResourceId };
  if (event.RequestType === 'Delete') {
    try {
      if (await deps.stackBeingDeleted(event.StackId)) await deps.store.deleteAll();
    } catch (e) {
      // A stack deletion is not held up; the parameters left are named in the log.
      deps.logger.error('could not delete the setup token and the App credentials; delete them by hand', { error: String(e) });
    }
    await deps.respond({ Status: 'SUCCESS', ...base });
    return;
  }
  try {
    const token = newSetupToken();
    await deps.store.putTokenHash(setupTokenHash(token));
    await deps.respond({ Status: 'SUCCESS', ...base, Data: { Token: token } });
  } catch (e) {
    deps.logger.error('could not make the setup token', { error: String(e) });
    await deps.respond({ Status: 'FAILED', ...base, Reason: `could not make the setup token: ${String(e)}` });
  }
}
