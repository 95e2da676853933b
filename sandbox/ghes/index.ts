// The GHES simulator: a loopback HTTP server speaking the REST subset the control plane uses (App JWT
// and installation tokens, JIT runners, jobs, webhook deliveries API, rate limits), sending signed
// `workflow_job` webhooks, and a runner service for simulated runners. Driven programmatically by
// tests and the sandbox: create workflow runs, cancel jobs, inject faults, read call counts.
import { EventEmitter } from 'events';
import { AppAuth, appKeys, AppKeys } from './auth';
import { DeliveryLog, DeliveryRecord } from './deliveries';
import { Directory } from './directory';
import { GhesSimulatorError } from './errors';
import { FaultInjector, FaultOptions } from './faults';
import { encodeJitConfig } from './jit-config';
import { JobBoard, WorkflowRunSpec } from './jobs';
import { JobRecord } from './model';
import { GhesSimulatorOptions, MINUTE } from './options';
import { AppInfo, Urls, workflowJobPayload } from './payloads';
import { RateLimiter, SecondaryWindow } from './rate-limit';
import { routeKey, SimContext } from './routes';
import { actionsRoutes } from './routes-actions';
import { appRoutes } from './routes-app';
import { RunnerExit, SimulatedRunner, SimulatedRunnerOptions } from './runner-agent';
import { RUNNER_SERVICE_PATH, RunnerService } from './runner-service';
import { RunnerEvent, RunnerRegistry } from './runners';
import { API_PREFIX, ApiCallCounts, ApiServer, RequestEvent } from './server';
import { SimTime } from './sim-time';
import { JobView, jobView, RunnerView, runnerView } from './views';
import { WebhookSender } from './webhooks';
import { listenOnLoopback, LoopbackServer } from '../common/http';
import { SeededRandom } from '../common/random';
import { ScaledClock, SimClock } from '../common/time';

export * from './errors';
export type { GhesSimulatorOptions } from './options';
export type { InstallationSpec } from './directory';
export type { DeliveryRecord } from './deliveries';
export type { FaultOptions } from './faults';
export type { JobSpec, WorkflowRunSpec } from './jobs';
export type { RateLimitOptions, SecondaryWindow } from './rate-limit';
export type { ApiCallCounts, RequestEvent } from './server';
export type { JobView, RunnerView } from './views';
export { SimulatedRunner, startSimulatedRunner } from './runner-agent';
export type { RunnerExit, SimulatedRunnerOptions } from './runner-agent';
export { decodeJitConfig } from './jit-config';

export interface GhesSimulatorEvents {
  job: [{ action: 'queued' | 'in_progress' | 'completed'; job: JobView }];
  runner: [{ action: 'registered' | 'connected' | 'removed'; runner: RunnerView; reason?: string }];
  delivery: [DeliveryRecord];
  request: [RequestEvent];
}

export class GhesSimulator extends EventEmitter<GhesSimulatorEvents> {
  readonly clock: SimClock;
  readonly webhookSecret?: string;
  private readonly time: SimTime;
  private readonly keys: AppKeys;
  private readonly app: AppInfo;
  private readonly directory: Directory;
  private readonly faults: FaultInjector;
  private readonly rateLimits: RateLimiter;
  private readonly runnerRegistry: RunnerRegistry;
  private readonly board: JobBoard;
  private readonly log = new DeliveryLog();
  private readonly webhooks: WebhookSender;
  private readonly server: ApiServer;
  private readonly agents = new Set<SimulatedRunner>();
  private loopback?: LoopbackServer;
  private started = 0;
  private stopped = false;

  constructor(options: GhesSimulatorOptions = {}) {
    super();
    this.clock = options.clock ?? new ScaledClock(1);
    const rng = new SeededRandom(options.seed ?? 1);
    this.faults = new FaultInjector(options.faults, rng);
    this.time = new SimTime(this.clock, options.jwtClock, () => this.faults.clockSkewMs());
    this.keys = appKeys(options.privateKey);
    this.webhookSecret = options.webhookSecret;
    const appId = options.appId ?? 1;
    this.app = {
      id: appId,
      clientId: options.appClientId ?? `Iv23${rng.fork('client-id').integer(0, 2 ** 31).toString(16).padStart(8, '0')}`,
      slug: 'ephemeral-runners',
      name: 'Ephemeral Runners',
      permissions: { actions: 'write', administration: 'write', metadata: 'read', organization_self_hosted_runners: 'write' },
      events: ['workflow_job'],
      createdAt: this.clock.now(),
    };
    const org = options.org ?? 'octo-org';
    this.directory = new Directory(org, options.repos ?? ['app'], options.installations);
    this.rateLimits = new RateLimiter(options.rateLimit || undefined, this.time, () => this.faults.rateLimitWindows(), () => this.started);
    const auth = new AppAuth(this.app, this.keys, this.time, rng.fork('tokens'), options.installationTokenTtlMs ?? 60 * MINUTE);
    this.runnerRegistry = new RunnerRegistry({
      time: this.time,
      rng: rng.fork('runners'),
      jitTimeoutMs: options.jitRunnerTimeoutMs ?? 5 * MINUTE,
      offlineAfterMs: options.runnerOfflineAfterMs ?? 2 * MINUTE,
      addDefaultLabels: options.jitAddsDefaultLabels ?? false,
      onEvent: (e) => this.onRunnerEvent(e),
    });
    this.board = new JobBoard({
      time: this.time,
      rng: rng.fork('jobs'),
      directory: this.directory,
      runners: this.runnerRegistry,
      lostRunnerTimeoutMs: options.lostRunnerTimeoutMs ?? 10 * MINUTE,
      acquireTimeoutMs: options.runnerAcquireTimeoutMs ?? MINUTE,
      queuedTimeoutMs: options.queuedJobTimeoutMs ?? 24 * 60 * MINUTE,
      rerunWindowMs: 30 * 24 * 60 * MINUTE,
      onEvent: ({ action, job }) => this.onJobEvent(action, job),
    });
    this.webhooks = new WebhookSender(
      {
        url: options.webhookUrl,
        secret: options.webhookSecret,
        contentType: options.webhookContentType ?? 'json',
        hookId: 100_000 + appId,
        appId,
        hostname: () => options.hostname ?? (this.loopback ? new URL(this.loopback.url).hostname : 'localhost'),
        version: options.version ?? '3.19.0',
        timeoutMs: options.webhookTimeoutMs ?? 30_000,
      },
      this.time,
      rng.fork('guids'),
      this.faults,
      this.log,
      (record) => this.emit('delivery', record),
    );
    const ctx: SimContext = {
      app: this.app,
      urls: () => this.urls(),
      time: this.time,
      directory: this.directory,
      auth,
      runners: this.runnerRegistry,
      jobs: this.board,
      deliveries: this.log,
      webhooks: this.webhooks,
      rateLimits: this.rateLimits,
      encodeJitConfig: (runner) => encodeJitConfig(runner, this.runnerServiceUrl, `${this.urls().web}/${org}`),
    };
    this.server = new ApiServer({
      routes: [...appRoutes(ctx), ...actionsRoutes(ctx)],
      runnerService: new RunnerService({
        time: this.time,
        rng: rng.fork('sessions'),
        runners: this.runnerRegistry,
        jobs: this.board,
        pollTimeoutMs: options.runnerPollTimeoutMs ?? 50_000,
      }),
      auth,
      faults: this.faults,
      rateLimits: this.rateLimits,
      time: this.time,
      rng: rng.fork('request-ids'),
      appId,
      version: options.version ?? '3.19.0',
      apiUrl: () => this.apiUrl,
      onRequest: (e) => this.emit('request', e),
    });
  }

  async start(): Promise<void> {
    if (this.loopback) throw new GhesSimulatorError('the GHES simulator is already started');
    if (this.stopped) throw new GhesSimulatorError('a stopped GHES simulator cannot start again; create a new one');
    this.loopback = await listenOnLoopback((req, res) => this.server.handle(req, res));
    this.started = this.clock.now();
  }

  /** Stops timers, pending deliveries and runners started through `startRunner`, then the server. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.webhooks.stop();
    this.time.cancelAll();
    for (const agent of this.agents) agent.kill();
    await this.loopback?.close();
    this.loopback = undefined;
  }

  /** `http://127.0.0.1:PORT` */
  get url(): string {
    if (!this.loopback) throw new GhesSimulatorError('start() the GHES simulator first');
    return this.loopback.url;
  }

  /** Octokit's `baseUrl`: `http://127.0.0.1:PORT/api/v3` */
  get apiUrl(): string {
    return `${this.url}${API_PREFIX}`;
  }

  get runnerServiceUrl(): string {
    return `${this.url}${RUNNER_SERVICE_PATH}`;
  }

  /** Simulated epoch ms of start(); fault windows (`rateLimitWindows`) count from here. */
  get startedAt(): number {
    return this.started;
  }

  get appId(): number {
    return this.app.id;
  }

  get clientId(): string {
    return this.app.clientId;
  }

  /** The App's private key (PKCS#1 PEM), for `createAppAuth`. */
  get privateKey(): string {
    return this.keys.privateKeyPem;
  }

  /** Points deliveries at a receiver started after the simulator (e.g. the sandbox's API Gateway stand-in). */
  setWebhookUrl(url: string | undefined): void {
    this.webhooks.setUrl(url);
  }

  /** The installation id for `owner/repo`, a repository name in the org, or an account login. */
  installationId(target: string): number {
    const account = this.directory.findAccount(target);
    const installation = account
      ? this.directory.installationForAccount(account.login)
      : this.directory.installationForRepo(this.directory.repoByFullName(target));
    if (!installation) throw new GhesSimulatorError(`the App is not installed for ${target}`);
    return installation.id;
  }

  /** Creates a workflow run whose jobs are queued at once (each fires a `queued` webhook). */
  createWorkflowRun(spec: WorkflowRunSpec): { runId: number; jobIds: number[] } {
    if (!this.loopback) throw new GhesSimulatorError('start() the GHES simulator before creating workflow runs');
    const { run, jobs } = this.board.createRun(spec);
    return { runId: run.id, jobIds: jobs.map((j) => j.id) };
  }

  /** One job in a run of its own. */
  queueJob(repo: string, labels: readonly string[], durationMs: number, outcome: 'success' | 'failure' = 'success'): number {
    return this.createWorkflowRun({ repo, jobs: [{ labels, durationMs, outcome }] }).jobIds[0];
  }

  /** Cancels a queued or running job; false when it had already completed. */
  cancelJob(jobId: number): boolean {
    return this.board.cancel(jobId);
  }

  job(jobId: number): JobView | undefined {
    const job = this.board.get(jobId);
    return job && jobView(job);
  }

  jobs(): JobView[] {
    return this.board.all().map(jobView);
  }

  runners(): RunnerView[] {
    return this.runnerRegistry.all().map((r) => runnerView(r, this.runnerRegistry.status(r), this.runnerRegistry.isListening(r)));
  }

  /** Resolves when the job reaches `status` (or at once if it already has). */
  waitForJob(jobId: number, status: JobView['status'] = 'completed'): Promise<JobView> {
    const reached = (v: JobView | undefined): boolean =>
      v !== undefined && (v.status === status || (status !== 'completed' && v.status === 'completed'));
    const now = this.job(jobId);
    if (reached(now)) return Promise.resolve(now!);
    return new Promise((resolve) => {
      const listener = (e: { job: JobView }): void => {
        if (e.job.id === jobId && reached(e.job)) {
          this.off('job', listener);
          resolve(e.job);
        }
      };
      this.on('job', listener);
    });
  }

  /** Every delivery attempt, oldest first. */
  deliveries(): readonly DeliveryRecord[] {
    return this.log.all();
  }

  /** Resolves once every delivery scheduled so far has been attempted and recorded. */
  deliveriesSettled(): Promise<void> {
    return this.webhooks.settled();
  }

  apiCalls(): ApiCallCounts {
    return this.server.callCounts();
  }

  resetApiCalls(): void {
    this.server.resetCallCounts();
  }

  /** The public API routes the simulator serves, as `{ method, template, auth, key }`. */
  routeTable(): { method: string; template: string; auth: string; key: string }[] {
    return this.server.routes().map((r) => ({ method: r.method, template: r.template, auth: r.auth, key: routeKey(r) }));
  }

  setFaults(changes: FaultOptions): void {
    this.faults.update(changes);
  }

  /** Every API call is secondary-rate-limited for `durationMs` from now. */
  triggerSecondaryRateLimit(durationMs: number, options: Omit<SecondaryWindow, 'startMs' | 'durationMs'> = {}): void {
    this.rateLimits.trigger({ ...options, durationMs });
  }

  /** Runs a simulated runner on this simulator's clock (killed on stop); `exit` resolves when it exits. */
  startRunner(encodedJitConfig: string, options: Omit<SimulatedRunnerOptions, 'clock'> = {}): {
    runner: SimulatedRunner; exit: Promise<RunnerExit>;
  } {
    const runner = new SimulatedRunner(encodedJitConfig, { ...options, clock: this.clock });
    this.agents.add(runner);
    const exit = runner.run().finally(() => this.agents.delete(runner));
    return { runner, exit };
  }

  private urls(): Urls {
    return { api: this.apiUrl, web: this.url };
  }

  private onJobEvent(action: 'queued' | 'in_progress' | 'completed', job: JobRecord): void {
    const installation = this.directory.installationForRepo(job.run.repo);
    if (installation) {
      const payload = workflowJobPayload(this.urls(), action, job, installation.id, this.app.createdAt);
      this.webhooks.send('workflow_job', action, payload, { installationId: installation.id, repositoryId: job.run.repo.id });
    }
    this.emit('job', { action, job: jobView(job) });
  }

  private onRunnerEvent(e: RunnerEvent): void {
    const registry = this.runnerRegistry;
    const view = runnerView(e.runner, e.runner.removed ? 'offline' : registry.status(e.runner), registry.isListening(e.runner));
    this.emit('runner', { action: e.action, runner: view, ...(e.action === 'removed' ? { reason: e.reason } : {}) });
  }
}
