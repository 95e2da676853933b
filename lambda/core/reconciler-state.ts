// What the reconciler remembers between runs, in one small item: the scopes it must keep sweeping
// for ghost registrations, how far it has read the App's webhook deliveries, how often it has
// redelivered each failed one, and when it last asked GitHub about each long-queued job.
// Pure: the DynamoDB adapter is lambda/state/dynamo-reconciler-store.ts.
import { JobKey } from './job';
import { RunnerScope } from './routing';

export interface ScopeActivity {
  readonly scope: RunnerScope;
  /** Epoch ms of the last time the scope had an active pool or a registration left behind. */
  readonly lastActiveAt: number;
  /**
   * Epoch ms of the last time a registration may have been left behind in the scope: a runner
   * ended registered but idle, or a retired runner's registration may not have been deleted.
   */
  readonly ghostsLeftAt?: number;
  /**
   * Epoch ms of the scope's last complete ghost sweep, or of its first activity (nothing of ours
   * was registered there before). Absent in items written before it was kept: swept once.
   */
  readonly sweptAt?: number;
}

export interface RedeliveryRecord {
  /** The delivery GUID (`X-GitHub-Delivery`), shared by every attempt of one event. */
  readonly guid: string;
  /** Redeliveries asked for so far. */
  readonly attempts: number;
  /** Epoch ms of the last one. */
  readonly lastAttemptAt: number;
}

export interface JobCheck {
  readonly key: JobKey;
  /** Epoch ms of the last time GitHub was asked about the job. */
  readonly checkedAt: number;
}

/** The reconciler's last read of the server's runner downloads. */
export interface RunnerVersionRead {
  /** Epoch ms of the read. */
  readonly at: number;
  /** The server's release then (`X-GitHub-Enterprise-Version`); absent on a server that names none. */
  readonly serverRelease?: string;
}

export interface ReconcilerState {
  readonly scopes: readonly ScopeActivity[];
  /**
   * Epoch ms (GitHub's `delivered_at`) up to which deliveries have been examined; undefined until
   * the first look.
   */
  readonly deliveriesCursor?: number;
  /** Epoch ms of the last sweep of GitHub's deliveries and runner registrations. */
  readonly lastSweepAt?: number;
  /** Epoch ms of the last read of the App's delivery log, active or idle. */
  readonly deliveriesReadAt?: number;
  /** The last read of the server's runner version: read again when the server's release changes. */
  readonly runnerVersionRead?: RunnerVersionRead;
  readonly redeliveries: readonly RedeliveryRecord[];
  readonly jobChecks: readonly JobCheck[];
}

export interface VersionedReconcilerState {
  readonly state: ReconcilerState;
  /** Optimistic lock; 0 while the item does not exist. */
  readonly version: number;
}

/** The singleton state item. Every save is conditional on the version read. */
export interface ReconcilerStateStore {
  load(): Promise<VersionedReconcilerState>;
  /** Saves `state` as version `expectedVersion + 1`; `false` when another writer saved first. */
  save(state: ReconcilerState, expectedVersion: number, at: number): Promise<boolean>;
}

export const EMPTY_RECONCILER_STATE: ReconcilerState = { scopes: [], redeliveries: [], jobChecks: [] };

export interface RetentionLimits {
  /** Scopes are swept this long after their last activity. */
  readonly scopeSweepMs: number;
  /** Redelivery counts are kept this long after the last attempt (GHES keeps deliveries 7 days). */
  readonly redeliveryMemoryMs: number;
  /** Job checks are kept this long (longer than the interval between checks of one job). */
  readonly jobCheckMemoryMs: number;
  /** Cap on remembered redeliveries and job checks, so the item stays far below DynamoDB's 400 KB. */
  readonly maxEntries: number;
}

export function scopeKey(scope: RunnerScope): string {
  if (scope.kind === 'enterprise') return `enterprise:${scope.enterprise}`;
  return scope.kind === 'org' ? `org:${scope.org}` : `repo:${scope.owner}/${scope.repo}`;
}

export function jobCheckKey(key: JobKey): string {
  return `${key.githubHost}#${key.jobId}`;
}

/** Records that `scope` is active at `at` (never moves a timestamp back). */
export function touchScopes(state: ReconcilerState, scopes: readonly RunnerScope[], at: number): ReconcilerState {
  return changeScopes(state, scopes, (known, scope) => (known
    ? (known.lastActiveAt < at ? { ...known, lastActiveAt: at } : known)
    : { scope, lastActiveAt: at, sweptAt: at }));
}

/** Records that a registration may have been left behind in `scope` at `at`: its next ghost sweep is due. */
export function markGhostsLeft(state: ReconcilerState, scope: RunnerScope, at: number): ReconcilerState {
  return changeScopes(state, [scope], (known) => ({
    ...(known ?? { scope }),
    lastActiveAt: Math.max(known?.lastActiveAt ?? at, at),
    ghostsLeftAt: Math.max(known?.ghostsLeftAt ?? at, at),
  }));
}

/** Records a complete ghost sweep of `scope` at `at`. */
export function markSwept(state: ReconcilerState, scope: RunnerScope, at: number): ReconcilerState {
  return changeScopes(state, [scope], (known) => ({ ...(known ?? { scope, lastActiveAt: at }), sweptAt: Math.max(known?.sweptAt ?? at, at) }));
}

/** Whether the scope was marked active at or after `since`. */
export function scopeMarkedSince(state: ReconcilerState, scope: RunnerScope, since: number): boolean {
  return state.scopes.some((s) => scopeKey(s.scope) === scopeKey(scope) && s.lastActiveAt >= since);
}

/** Whether the scope has a mark of registrations left at or after `since` that no sweep has covered yet. */
export function ghostsMarkedSince(state: ReconcilerState, scope: RunnerScope, since: number): boolean {
  return state.scopes.some((s) => scopeKey(s.scope) === scopeKey(scope) && (s.ghostsLeftAt ?? -Infinity) >= since && ghostsPending(s));
}

/**
 * The recent scopes whose ghost sweep is due: registrations may have been left there since the
 * last sweep, or it was last swept `backstopMs` ago (a registration can be left without anyone
 * noticing: a function that died between registering and recording it).
 */
export function scopesDueForGhostSweep(state: ReconcilerState, now: number, scopeSweepMs: number, backstopMs: number): ScopeActivity[] {
  return recentScopes(state, now, scopeSweepMs).filter((s) => ghostsPending(s) || s.sweptAt === undefined || now - s.sweptAt >= backstopMs);
}

function ghostsPending(s: ScopeActivity): boolean {
  return s.ghostsLeftAt !== undefined && (s.sweptAt === undefined || s.ghostsLeftAt > s.sweptAt);
}

/** Applies `change` to each scope's entry (undefined when new); the same state when nothing changed. */
function changeScopes(
  state: ReconcilerState, scopes: readonly RunnerScope[], change: (known: ScopeActivity | undefined, scope: RunnerScope) => ScopeActivity,
): ReconcilerState {
  const byKey = new Map(state.scopes.map((s) => [scopeKey(s.scope), s]));
  let changed = false;
  for (const scope of scopes) {
    const known = byKey.get(scopeKey(scope));
    const next = change(known, scope);
    if (next !== known) {
      byKey.set(scopeKey(scope), next);
      changed = true;
    }
  }
  return changed ? { ...state, scopes: sortScopes([...byKey.values()]) } : state;
}

/** Scopes active within the sweep window before `now`. */
export function recentScopes(state: ReconcilerState, now: number, scopeSweepMs: number): ScopeActivity[] {
  return state.scopes.filter((s) => s.lastActiveAt >= now - scopeSweepMs);
}

/**
 * Two runs (or the lifecycle function) that saved concurrently: keep the later of every
 * timestamp and the higher of every count, so no activity or redelivery attempt is forgotten.
 */
export function mergeReconcilerStates(a: ReconcilerState, b: ReconcilerState): ReconcilerState {
  const scopes = new Map<string, ScopeActivity>();
  for (const s of [...a.scopes, ...b.scopes]) {
    const known = scopes.get(scopeKey(s.scope));
    scopes.set(scopeKey(s.scope), known ? {
      scope: s.scope,
      lastActiveAt: Math.max(known.lastActiveAt, s.lastActiveAt),
      ...latest('ghostsLeftAt', known.ghostsLeftAt, s.ghostsLeftAt),
      ...latest('sweptAt', known.sweptAt, s.sweptAt),
    } : s);
  }
  const redeliveries = new Map<string, RedeliveryRecord>();
  for (const r of [...a.redeliveries, ...b.redeliveries]) {
    const known = redeliveries.get(r.guid);
    redeliveries.set(r.guid, known
      ? { guid: r.guid, attempts: Math.max(known.attempts, r.attempts), lastAttemptAt: Math.max(known.lastAttemptAt, r.lastAttemptAt) }
      : r);
  }
  const checks = new Map<string, JobCheck>();
  for (const c of [...a.jobChecks, ...b.jobChecks]) {
    const known = checks.get(jobCheckKey(c.key));
    if (!known || known.checkedAt < c.checkedAt) checks.set(jobCheckKey(c.key), c);
  }
  const cursors = [a.deliveriesCursor, b.deliveriesCursor].filter((c): c is number => c !== undefined);
  const sweeps = [a.lastSweepAt, b.lastSweepAt].filter((c): c is number => c !== undefined);
  const reads = [a.deliveriesReadAt, b.deliveriesReadAt].filter((c): c is number => c !== undefined);
  const versionReads = [a.runnerVersionRead, b.runnerVersionRead].filter((r): r is RunnerVersionRead => r !== undefined);
  return withCursor({
    scopes: sortScopes([...scopes.values()]),
    redeliveries: [...redeliveries.values()],
    jobChecks: [...checks.values()],
    ...(sweeps.length > 0 ? { lastSweepAt: Math.max(...sweeps) } : {}),
    ...(reads.length > 0 ? { deliveriesReadAt: Math.max(...reads) } : {}),
    ...(versionReads.length > 0 ? { runnerVersionRead: versionReads.reduce(laterRead) } : {}),
  }, cursors.length > 0 ? Math.max(...cursors) : undefined);
}

/** Forgets what no longer matters at `now`, newest kept first when a list is over the cap. */
export function pruneReconcilerState(state: ReconcilerState, now: number, limits: RetentionLimits): ReconcilerState {
  const redeliveries = state.redeliveries
    .filter((r) => r.lastAttemptAt >= now - limits.redeliveryMemoryMs)
    .sort((x, y) => y.lastAttemptAt - x.lastAttemptAt)
    .slice(0, limits.maxEntries);
  const jobChecks = state.jobChecks
    .filter((c) => c.checkedAt >= now - limits.jobCheckMemoryMs)
    .sort((x, y) => y.checkedAt - x.checkedAt)
    .slice(0, limits.maxEntries);
  // Only the lists are pruned; everything else the state holds is kept as it is.
  return { ...state, scopes: state.scopes.filter((s) => s.lastActiveAt >= now - limits.scopeSweepMs), redeliveries, jobChecks };
}

/**
 * Loads the state, applies `change` and saves it on the version read; on a lost race, loads again
 * and re-applies. `change` must be a function of the state it is given (it may run more than once).
 */
export async function updateReconcilerState(
  store: ReconcilerStateStore,
  change: (state: ReconcilerState) => ReconcilerState,
  at: number,
  maxAttempts = 5,
): Promise<ReconcilerState> {
  for (let attempt = 1; ; attempt++) {
    const { state, version } = await store.load();
    const next = change(state);
    // A change that changes nothing is not written.
    if (next === state) return state;
    if (await store.save(next, version, at)) return next;
    if (attempt >= maxAttempts) throw new ReconcilerStateConflictError(maxAttempts);
  }
}

/** Other writers kept saving the reconciler state between this writer's read and write. */
export class ReconcilerStateConflictError extends Error {
  public readonly name = 'ReconcilerStateConflictError';

  constructor(readonly attempts: number) {
    super(`the reconciler state item changed under every one of ${attempts} attempts to save it; the next run retries`);
  }
}

/** The later of two reads; of two at the same time, either, the same whichever comes first. */
function laterRead(x: RunnerVersionRead, y: RunnerVersionRead): RunnerVersionRead {
  if (x.at !== y.at) return y.at > x.at ? y : x;
  return (y.serverRelease ?? '') > (x.serverRelease ?? '') ? y : x;
}

function latest<K extends string>(name: K, x: number | undefined, y: number | undefined): Partial<Record<K, number>> {
  const values = [x, y].filter((v): v is number => v !== undefined);
  return (values.length === 0 ? {} : { [name]: Math.max(...values) }) as Partial<Record<K, number>>;
}

function withCursor(state: Omit<ReconcilerState, 'deliveriesCursor'>, cursor: number | undefined): ReconcilerState {
  return cursor === undefined ? state : { ...state, deliveriesCursor: cursor };
}

function sortScopes(scopes: ScopeActivity[]): ScopeActivity[] {
  return scopes.sort((x, y) => scopeKey(x.scope).localeCompare(scopeKey(y.scope)));
}
