// At the stack's deletion: every instance of the deployment terminated — warm pool instances
// stopped ahead of demand (they bill their volumes until terminated) and any cold one still alive.
// The launchers are deleted before this runs, but a provisioner run already in flight may land a
// launch a moment later, so the sweep repeats until no new instance has shown up for a quiet period.
import { ComputePort } from '../core/compute';
import { Clock } from '../core/ports';

/** The states of an instance that may still run or bill: a shutting-down or terminated one is going or gone. */
export const LIVE_STATES: readonly string[] = ['pending', 'running', 'stopping', 'stopped'];

export interface TerminateAllDeps {
  /** The deployment's instances (by its managed-by tag) and their termination. */
  readonly compute: Pick<ComputePort, 'listInstances' | 'terminate'>;
  readonly clock: Clock;
  readonly sleep: (ms: number) => Promise<void>;
  /** How long no new instance must be seen before the sweep ends. */
  readonly quietMs: number;
  /** The wait between two sweeps. */
  readonly pollMs: number;
  /** When (epoch ms) the sweep ends even if instances keep appearing. */
  readonly deadline: number;
}

export interface TerminateAllResult {
  /** Every instance the sweep asked EC2 to terminate. */
  readonly terminated: readonly string[];
  /** Describe → terminate rounds. */
  readonly sweeps: number;
  /** Whether the quiet period passed with nothing new; false when the deadline came first. */
  readonly quiet: boolean;
}

export async function terminateAll(deps: TerminateAllDeps): Promise<TerminateAllResult> {
  const { compute, clock } = deps;
  const terminated = new Set<string>();
  let lastNew = clock.now();
  for (let sweeps = 1; ; sweeps++) {
    const live = (await compute.listInstances()).filter((i) => LIVE_STATES.includes(i.state)).map((i) => i.instanceId);
    // Asked again for one already terminated (its state not yet shutting-down in EC2's eventually
    // consistent answer): TerminateInstances is idempotent.
    if (live.length > 0) await compute.terminate(live);
    if (live.some((id) => !terminated.has(id))) lastNew = clock.now();
    live.forEach((id) => terminated.add(id));
    const now = clock.now();
    if (now - lastNew >= deps.quietMs) return { terminated: [...terminated], sweeps, quiet: true };
    if (now >= deps.deadline) return { terminated: [...terminated], sweeps, quiet: false };
    await deps.sleep(Math.max(0, Math.min(deps.pollMs, deps.deadline - now)));
  }
}
