// The reconcile decision of one pool: a pure function of (queued jobs, runners, config, now).
// Level-triggered: any event, or the periodic reconciler, recomputes the same answer, so lost,
// duplicated and out-of-order events cannot strand a job or double a runner (DESIGN.md section 3.2).
import { JobKey } from './job';
import { RetireReason, RunnerView } from './runner';

export interface ReconcileLimits {
  /** The most instances of the pool alive at once. */
  readonly maxRunners: number;
  /** How long an instance may take from launch to asking for its JIT config. */
  readonly bootTimeoutMs: number;
  /** The longest an instance may live, job included. */
  readonly maxLifetimeMs: number;
}

export interface ReconcileInput {
  readonly limits: ReconcileLimits;
  /** Jobs of the pool that GitHub has not started yet. */
  readonly queuedJobs: number;
  /** The pool's runners that are not gone. */
  readonly runners: readonly RunnerView[];
  /** Instances of a launch that was started and not yet recorded as runners. */
  readonly pendingLaunches: number;
  readonly now: number;
}

/** How to retire one runner. */
export interface Retirement {
  readonly instanceId: string;
  readonly reason: RetireReason;
  /**
   * - `terminate`: it holds no registration (still booting): terminate the instance;
   * - `deregister-and-terminate`: delete its GitHub registration, then terminate — unless GitHub
   *   says it is busy, in which case it has just taken a job and stays;
   * - `terminate-busy`: past its lifetime while running a job: the job is lost either way.
   */
  readonly action: 'terminate' | 'deregister-and-terminate' | 'terminate-busy';
}

export interface ReconcileDecision {
  /** Instances to launch now. */
  readonly launch: number;
  readonly retire: readonly Retirement[];
  /** Demand the pool cannot meet now because of maxRunners; it waits for a runner to finish. */
  readonly deferred: number;
}

/**
 * Launches the difference between demand (queued jobs) and supply (runners launching, booting or
 * idle), bounded by maxRunners; retires surplus and expired runners.
 *
 * Surplus goes booting runners first, newest first: they hold no registration, and the newest is
 * furthest from being useful. A runner being retired is neither supply nor capacity.
 */
export function reconcile(input: ReconcileInput): ReconcileDecision {
  const { limits, now } = input;
  const retire: Retirement[] = [];
  const live: RunnerView[] = [];
  for (const runner of input.runners) {
    if (runner.state === 'gone' || runner.state === 'retiring') continue;
    if (now - runner.launchedAt > limits.maxLifetimeMs) {
      retire.push({ instanceId: runner.instanceId, reason: 'max-lifetime', action: actionFor(runner) });
    } else if (runner.state === 'booting' && now - runner.launchedAt > limits.bootTimeoutMs) {
      retire.push({ instanceId: runner.instanceId, reason: 'boot-timeout', action: 'terminate' });
    } else {
      live.push(runner);
    }
  }
  const retiring = input.runners.filter((r) => r.state === 'retiring').length;

  const booting = live.filter((r) => r.state === 'booting');
  const idle = live.filter((r) => r.state === 'registered');
  const supply = booting.length + idle.length + input.pendingLaunches;
  const demand = input.queuedJobs;

  if (demand > supply) {
    // Retiring instances still occupy capacity until they are gone.
    const alive = live.length + input.pendingLaunches + retiring;
    const room = Math.max(0, limits.maxRunners - alive);
    const launch = Math.min(demand - supply, room);
    return { launch, retire, deferred: demand - supply - launch };
  }

  let surplus = supply - demand;
  const byNewest = (a: RunnerView, b: RunnerView) => b.launchedAt - a.launchedAt || a.instanceId.localeCompare(b.instanceId);
  for (const runner of [...booting].sort(byNewest)) {
    if (surplus === 0) break;
    retire.push({ instanceId: runner.instanceId, reason: 'surplus', action: 'terminate' });
    surplus--;
  }
  for (const runner of [...idle].sort(byNewest)) {
    if (surplus === 0) break;
    retire.push({ instanceId: runner.instanceId, reason: 'surplus', action: 'deregister-and-terminate' });
    surplus--;
  }
  // What is left of the surplus is pending launches: they are retired once they exist.
  return { launch: 0, retire, deferred: 0 };
}

function actionFor(runner: RunnerView): Retirement['action'] {
  if (runner.state === 'busy') return 'terminate-busy';
  if (runner.state === 'registered') return 'deregister-and-terminate';
  return 'terminate';
}

/**
 * The queued jobs that are still demand once the pool's in-progress jobs and its runners were
 * read after them. A job that starts between the reads shows up twice — queued in the first read,
 * in progress (or named by its now busy runner) in a later one — and counting it as demand while
 * its runner no longer counts as supply would launch an instance nobody needs. Jobs only move
 * forward, so the later read is the truth.
 */
export function stillQueued<T extends { readonly key: JobKey }>(
  queued: readonly T[], inProgress: readonly { readonly key: JobKey }[], runners: readonly { readonly job?: JobKey }[],
): T[] {
  const id = (key: JobKey) => `${key.githubHost}#${key.jobId}`;
  const started = new Set([...inProgress.map((j) => id(j.key)), ...runners.flatMap((r) => (r.job ? [id(r.job)] : []))]);
  return queued.filter((j) => !started.has(id(j.key)));
}
