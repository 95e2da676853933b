// Self-hosted runner registrations: JIT registration, the runner's connection state (online while it
// long-polls for a job), and removal — by the API, after its one job, or when a JIT runner never
// connects (reference/github.md 4 and 8).
import { ConflictError, NotFoundError, RunnerBusyError, UnauthorizedError } from './errors';
import { JobRecord, RunnerLabel, RunnerRecord, Scope, scopeName } from './model';
import { SimTime } from './sim-time';
import { SeededRandom } from '../common/random';

/** Labels GitHub types `read-only`: the ones a runner applies to itself. Compared case-insensitively. */
const BUILT_IN_LABELS = new Set(['self-hosted', 'linux', 'windows', 'macos', 'x64', 'arm', 'arm64']);
const DEFAULT_LABELS = ['self-hosted', 'Linux', 'X64'];
export const DEFAULT_RUNNER_GROUP_ID = 1;
/** The runner software version a simulated runner reports on connect. */
export const RUNNER_VERSION = '2.328.0';

export interface RegisterRequest {
  readonly name: string;
  readonly labels: readonly string[];
  readonly groupId: number;
  readonly workFolder: string;
}

/** A runner's open long poll: the registry hands it a job, or tells it the registration is gone. */
export interface Waiter {
  readonly since: number;
  /** False once the runner's connection is gone (killed), so no job is handed to it. */
  alive(): boolean;
  deliver(job: JobRecord | 'removed'): void;
}

export type RunnerEvent =
  | { readonly action: 'registered' | 'connected'; readonly runner: RunnerRecord }
  | { readonly action: 'removed'; readonly runner: RunnerRecord; readonly reason: string };

export interface RunnerRegistryDeps {
  readonly time: SimTime;
  readonly rng: SeededRandom;
  /** A JIT runner that has not connected within this time is removed. */
  readonly jitTimeoutMs: number;
  /** A connected runner not heard from for this long shows `offline`. */
  readonly offlineAfterMs: number;
  /** Whether JIT registration adds self-hosted/Linux/X64 to the labels given (disputed; default no). */
  readonly addDefaultLabels: boolean;
  readonly onEvent: (event: RunnerEvent) => void;
}

export class RunnerRegistry {
  private readonly runners = new Map<number, RunnerRecord>();
  private readonly labelIds = new Map<string, number>();
  private readonly waiters = new Map<number, Waiter>();
  private readonly jitTimers = new Map<number, () => void>();
  private nextId = 1;

  constructor(private readonly deps: RunnerRegistryDeps) {}

  register(scope: Scope, request: RegisterRequest): RunnerRecord {
    const taken = this.list(scope).some((r) => r.name.toLowerCase() === request.name.toLowerCase());
    if (taken) throw new ConflictError(`Already exists - A runner with the name ${request.name} already exists.`);
    const names = this.deps.addDefaultLabels ? withDefaults(request.labels) : request.labels;
    const runner: RunnerRecord = {
      id: this.nextId++,
      name: request.name,
      scope,
      labels: dedupe(names).map((name) => this.label(name)),
      groupId: request.groupId,
      workFolder: request.workFolder,
      secret: this.secret(),
      createdAt: this.deps.time.now(),
      os: 'unknown',
      version: null,
      removed: false,
    };
    this.runners.set(runner.id, runner);
    this.jitTimers.set(
      runner.id,
      this.deps.time.after(this.deps.jitTimeoutMs, () => this.remove(runner, 'JIT runner never connected')),
    );
    this.deps.onEvent({ action: 'registered', runner });
    return runner;
  }

  /** Runners of one scope in registration order, optionally filtered by exact name. */
  list(scope: Scope, name?: string): RunnerRecord[] {
    const key = scopeName(scope);
    return [...this.runners.values()].filter((r) => scopeName(r.scope) === key && (name === undefined || r.name === name));
  }

  all(): RunnerRecord[] {
    return [...this.runners.values()];
  }

  byId(id: number): RunnerRecord | undefined {
    return this.runners.get(id);
  }

  /** A runner of this scope, or GitHub's 404. */
  find(scope: Scope, id: number): RunnerRecord {
    const runner = this.runners.get(id);
    if (!runner || scopeName(runner.scope) !== scopeName(scope)) throw new NotFoundError();
    return runner;
  }

  /** DELETE …/runners/{id}: 422 while the runner runs a job. */
  deleteViaApi(scope: Scope, id: number): void {
    const runner = this.find(scope, id);
    if (runner.jobId !== undefined) throw new RunnerBusyError(runner.name);
    this.remove(runner, 'deleted through the API');
  }

  remove(runner: RunnerRecord, reason: string): void {
    if (runner.removed) return;
    runner.removed = true;
    this.runners.delete(runner.id);
    this.jitTimers.get(runner.id)?.();
    this.jitTimers.delete(runner.id);
    const waiter = this.waiters.get(runner.id);
    this.waiters.delete(runner.id);
    waiter?.deliver('removed');
    this.deps.onEvent({ action: 'removed', runner, reason });
  }

  status(runner: RunnerRecord): 'online' | 'offline' {
    if (this.waiters.has(runner.id)) return 'online';
    const seen = runner.lastSeenAt;
    return seen !== undefined && this.deps.time.now() - seen <= this.deps.offlineAfterMs ? 'online' : 'offline';
  }

  /** The runner's first contact with the runner service, proving the secret from its JIT config. */
  connect(runnerId: number, secret: string, sessionId: string): RunnerRecord {
    const runner = this.runners.get(runnerId);
    if (!runner) throw new NotFoundError('The runner registration has been deleted from the server.');
    if (secret !== runner.secret) throw new UnauthorizedError('Bad credentials');
    if (runner.sessionId !== undefined) {
      throw new ConflictError(`A session for this runner already exists: ${runner.name}`);
    }
    this.jitTimers.get(runner.id)?.();
    this.jitTimers.delete(runner.id);
    runner.sessionId = sessionId;
    runner.os = 'Linux';
    runner.version = RUNNER_VERSION;
    this.touch(runner);
    this.deps.onEvent({ action: 'connected', runner });
    return runner;
  }

  bySession(sessionId: string): RunnerRecord | undefined {
    return [...this.runners.values()].find((r) => r.sessionId === sessionId);
  }

  touch(runner: RunnerRecord): void {
    runner.lastSeenAt = this.deps.time.now();
  }

  /** The runner long-polls: it is online and, unless busy, idle and eligible for a job. */
  wait(runner: RunnerRecord, waiter: Waiter): void {
    this.touch(runner);
    this.waiters.set(runner.id, waiter);
  }

  /** The long poll ended (answered, timed out or the connection closed). */
  stopWaiting(runner: RunnerRecord, waiter: Waiter): void {
    if (this.waiters.get(runner.id) === waiter) this.waiters.delete(runner.id);
    this.touch(runner);
  }

  isListening(runner: RunnerRecord): boolean {
    return this.waiters.get(runner.id)?.alive() ?? false;
  }

  /** Online idle runners, the longest-waiting first. */
  idleWaiting(): RunnerRecord[] {
    return [...this.waiters.entries()]
      .filter(([, w]) => w.alive())
      .sort(([, a], [, b]) => a.since - b.since)
      .map(([id]) => this.runners.get(id))
      .filter((r): r is RunnerRecord => r !== undefined && r.jobId === undefined);
  }

  /** Hands a job to a waiting runner, which becomes busy. */
  assign(runner: RunnerRecord, job: JobRecord): void {
    const waiter = this.waiters.get(runner.id);
    this.waiters.delete(runner.id);
    runner.jobId = job.id;
    this.touch(runner);
    waiter?.deliver(job);
  }

  private label(name: string): RunnerLabel {
    const key = name.toLowerCase();
    let id = this.labelIds.get(key);
    if (id === undefined) {
      id = this.labelIds.size + 1;
      this.labelIds.set(key, id);
    }
    return { id, name, type: BUILT_IN_LABELS.has(key) ? 'read-only' : 'custom' };
  }

  private secret(): string {
    let s = '';
    for (let i = 0; i < 40; i++) s += this.deps.rng.integer(0, 15).toString(16);
    return s;
  }
}

function dedupe(labels: readonly string[]): string[] {
  const seen = new Set<string>();
  return labels.filter((l) => !seen.has(l.toLowerCase()) && seen.add(l.toLowerCase()));
}

function withDefaults(labels: readonly string[]): string[] {
  const have = new Set(labels.map((l) => l.toLowerCase()));
  return [...DEFAULT_LABELS.filter((l) => !have.has(l.toLowerCase())), ...labels];
}
