// Ghost registrations: GitHub runners with our name prefix whose instance has no live runner item.
// A busy one is left alone: GitHub refuses to delete it (422), and removes it itself once its job
// ends or GitHub gives up on the lost runner; a later sweep deletes whatever is left.
import { RegisteredRunner } from '../core/github';
import { instanceIdOfRunner } from '../core/runner';

export interface GhostCandidate {
  readonly registration: RegisteredRunner;
  readonly instanceId: string;
}

/**
 * Registrations of ours (prefix and an instance id in the name), not busy, whose instance is not
 * among the live runners found in the pool index. Each still needs a strongly consistent look at
 * its runner item before it is deleted: the index may lag behind a runner registered a moment ago.
 */
export function ghostCandidates(
  registrations: readonly RegisteredRunner[], prefix: string, liveInstanceIds: ReadonlySet<string>,
): GhostCandidate[] {
  const candidates: GhostCandidate[] = [];
  for (const registration of registrations) {
    const instanceId = instanceIdOfRunner(prefix, registration.name);
    if (instanceId === undefined || registration.busy || liveInstanceIds.has(instanceId)) continue;
    candidates.push({ registration, instanceId });
  }
  return candidates;
}
