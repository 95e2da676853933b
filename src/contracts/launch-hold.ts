// The reasons the register endpoint holds a pool's launches for (the pool item's `launchHold.reason`,
// lambda/core/launch-hold.ts), each with what an operator does about it: the status command prints it.

/** The register endpoint's refusals that no retry fixes until an operator acts. */
export type HoldReason = 'not-installed' | 'no-runner-group' | 'enterprise-credential' | 'runner-missing';

export const HOLD_FIXES: Readonly<Record<HoldReason, string>> = {
  'not-installed': 'install the GitHub App on the pool\'s organization or repository (the part of the pool id before #)',
  'no-runner-group': 'create the runner group the pool\'s runner config names (runnerGroup), or correct the name',
  'enterprise-credential': 'write a valid enterprise token (see the Enterprise credential check)',
  'runner-missing': 'boot an image with the actions runner in /opt/actions-runner (run.sh): fix the config\'s machineImage, or rebuild the runner image',
};

export const HOLD_REASONS = Object.keys(HOLD_FIXES) as readonly HoldReason[];

export function isHoldReason(reason: string): reason is HoldReason {
  return (HOLD_REASONS as readonly string[]).includes(reason);
}
