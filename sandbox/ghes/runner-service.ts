// The private side of the simulated instance that runners talk to (the real runner talks to the
// Actions service, not the REST API): create a session with the secret from the JIT config, long-poll
// for a job, acquire it, renew it while running it, report its result. Served under /_runner, never
// counted as API calls, never faulted.
import { IncomingMessage, ServerResponse } from 'http';
import { ConflictError, GhesApiError, NotFoundError, UnauthorizedError, ValidationError } from './errors';
import { JobBoard } from './jobs';
import { JobRecord, RunnerRecord } from './model';
import { readJsonBody, sendJson } from './respond';
import { RunnerRegistry, Waiter } from './runners';
import { SimTime } from './sim-time';
import { SeededRandom } from '../common/random';

export const RUNNER_SERVICE_PATH = '/_runner';

/** What the runner receives for a job: enough to run it for its duration and report its outcome. */
export interface JobMessage {
  readonly jobId: number;
  readonly runId: number;
  readonly name: string;
  readonly repository: string;
  readonly labels: readonly string[];
  readonly durationMs: number;
  readonly outcome: 'success' | 'failure';
}

export interface RunnerServiceDeps {
  readonly time: SimTime;
  readonly rng: SeededRandom;
  readonly runners: RunnerRegistry;
  readonly jobs: JobBoard;
  /** The runner's long poll lasts this long before it is answered with "no job" (GitHub: 50 s). */
  readonly pollTimeoutMs: number;
}

export class RunnerService {
  constructor(private readonly deps: RunnerServiceDeps) {}

  async handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const parts = path.slice(RUNNER_SERVICE_PATH.length).split('/').filter(Boolean);
    const body = await readJsonBody(req);
    try {
      if (req.method === 'POST' && parts.length === 1 && parts[0] === 'sessions') {
        return this.createSession(req, res, body.parse());
      }
      if (parts[0] !== 'sessions' || parts.length < 2) throw new NotFoundError();
      const runner = this.authenticate(req, parts[1]);
      const rest = parts.slice(2).join('/');
      if (req.method === 'GET' && rest === 'message') return this.poll(runner, req, res);
      const job = /^jobs\/(\d+)\/(acquire|renew|complete)$/.exec(rest);
      if (req.method === 'POST' && job) {
        const record = this.deps.jobs.get(Number(job[1]));
        if (!record) throw new NotFoundError('no such job');
        if (job[2] === 'acquire') {
          if (!this.deps.jobs.acquire(record, runner)) throw new ConflictError('The job is no longer offered to this runner.');
          return sendJson(res, 200, { acquired: true });
        }
        if (job[2] === 'renew') return sendJson(res, 200, this.deps.jobs.renew(record, runner));
        return this.complete(record, runner, body.parse(), res);
      }
      throw new NotFoundError();
    } catch (err) {
      const e = err instanceof GhesApiError ? err : new GhesApiError(500, String(err));
      sendJson(res, e.status, e.body());
    }
  }

  private createSession(req: IncomingMessage, res: ServerResponse, body: Record<string, unknown>): void {
    const agentId = body.agentId;
    if (typeof agentId !== 'number') throw new ValidationError('agentId is required');
    const sessionId = `${agentId}-${this.deps.rng.integer(0, 0xffffff).toString(16)}`;
    this.deps.runners.connect(agentId, bearer(req), sessionId);
    sendJson(res, 201, { sessionId });
  }

  /** The session's runner, proving again the secret of its JIT config. */
  private authenticate(req: IncomingMessage, sessionId: string): RunnerRecord {
    const runner = this.deps.runners.bySession(sessionId);
    if (!runner) throw new NotFoundError('The runner registration has been deleted from the server.');
    if (bearer(req) !== runner.secret) throw new UnauthorizedError('Bad credentials');
    this.deps.runners.touch(runner);
    return runner;
  }

  /** Long poll: answered with a job as soon as one is assigned, with 204 after the poll timeout. */
  private poll(runner: RunnerRecord, req: IncomingMessage, res: ServerResponse): void {
    if (runner.jobId !== undefined) return sendJson(res, 204, undefined);
    let cancelTimeout = (): void => undefined;
    const waiter: Waiter = {
      since: this.deps.time.now(),
      alive: () => !res.destroyed && !req.socket.destroyed,
      deliver: (job: JobRecord | 'removed') => {
        cancelTimeout();
        if (job === 'removed') sendJson(res, 404, new NotFoundError('The runner registration has been deleted from the server.').body());
        else sendJson(res, 200, jobMessage(job));
      },
    };
    cancelTimeout = this.deps.time.after(this.deps.pollTimeoutMs, () => {
      this.deps.runners.stopWaiting(runner, waiter);
      sendJson(res, 204, undefined);
    });
    // A killed runner's connection closes: it is no longer listening, so it must not get a job.
    res.on('close', () => {
      cancelTimeout();
      this.deps.runners.stopWaiting(runner, waiter);
    });
    this.deps.runners.wait(runner, waiter);
    this.deps.jobs.schedule();
  }

  private complete(job: JobRecord, runner: RunnerRecord, body: Record<string, unknown>, res: ServerResponse): void {
    const conclusion = body.conclusion;
    if (conclusion !== 'success' && conclusion !== 'failure' && conclusion !== 'cancelled') {
      throw new ValidationError('conclusion must be success, failure or cancelled');
    }
    this.deps.jobs.finish(job, runner, conclusion);
    sendJson(res, 204, undefined);
  }
}

function bearer(req: IncomingMessage): string {
  return /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1] ?? '';
}

function jobMessage(job: JobRecord): JobMessage {
  return {
    jobId: job.id,
    runId: job.run.id,
    name: job.name,
    repository: job.run.repo.fullName,
    labels: job.labels,
    durationMs: job.durationMs,
    outcome: job.outcome,
  };
}
