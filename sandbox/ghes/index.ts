// The GHES simulator: a loopback server speaking the REST subset the control plane uses, sending signed `workflow_job` webhooks and
// running simulated runners in-process; tests and the sandbox create runs, cancel jobs, inject faults and read call counts through it.
import { EventEmitter } from 'events';
import { Actions, JobRecord, JobStatus, WorkflowRunSpec } from './actions';
import { API_PREFIX, ApiServer, RequestEvent } from './api';
import { AppAuth } from './auth';
import { Directory } from './directory';
import { GhesSimulatorError } from './errors';
import { FaultInjector, FaultOptions } from './faults';
import type { RunnerHooks } from './job-hooks';
import { CreatedApp, ManifestFlow } from './manifests';
import { APP, AppInfo, Instance, workflowJobPayload } from './payloads';
import { RunnerExit, SimulatedRunner } from './runner';
import { SimTime } from './sim-time';
import { DeliveryRecord, GHES_VERSION, WebhookSender } from './webhooks';
import { listenOnLoopback, LoopbackServer } from '../common/http';
import { SeededRandom } from '../common/random';
import { ScaledClock, SimClock } from '../common/time';

export * from './errors';
export { decodeJitConfig } from './runner';
export type { DeliveryRecord } from './webhooks';
export type { HookStep, RunnerHooks } from './job-hooks';

const MINUTE = 60_000;

/** Options of the GHES simulator. Durations are simulated ms; defaults follow GHES 3.19 where GitHub documents a value (reference/github.md). */
export interface GhesSimulatorOptions {
  /** @default a ScaledClock at real time */
  readonly clock?: SimClock;
  /** Seeds ids, tokens, GUIDs and every fault draw. @default 1 */
  readonly seed?: number;
  /** @default 'octo-org' */
  readonly org?: string;
  /** More organizations, each a member of the enterprise. @default none */
  readonly organizations?: readonly string[];
  /** `name` (in the org) or `owner/name` (an owner among `organizations` is one, another is a user); the App is installed on every owner. @default ['app'] */
  readonly repos?: readonly string[];
  /** The instance's enterprise account: its slug, and the users who own it (site administrators). @default 'octo-enterprise', owned by 'ghes-admin' */
  readonly enterprise?: { readonly slug: string; readonly owners: readonly string[] };
  /** PKCS#1 or PKCS#8 PEM. @default a fresh 2048-bit key */
  readonly privateKey?: string;
  /** The instance has its App, installed on every repository owner; false: none until a manifest creates it (manifests.ts). @default true */
  readonly withApp?: boolean;
  /** The user a browser is signed in as: the owner of an App registered at /settings/apps/new. @default 'ghes-admin' */
  readonly signedInUser?: string;
  /** The network's name resolution, for the webhook URL a manifest names (the sandbox's DNS). @default the URL as it is */
  readonly resolveUrl?: (url: string) => string;
  /** Where workflow_job deliveries go; none are sent (or recorded) while unset. */
  readonly webhookUrl?: string;
  /** @default no secret: no signature headers */
  readonly webhookSecret?: string;
  /** @default 30 s (GHES) */
  readonly webhookTimeoutMs?: number;
  /** `X-GitHub-Enterprise-Host`. @default the loopback host name */
  readonly hostname?: string;
  readonly faults?: FaultOptions;
  /** A JIT runner that never connects is removed after this. @default 5 min */
  readonly jitRunnerTimeoutMs?: number;
  /** A busy runner silent this long is lost and its job fails. @default 10 min */
  readonly lostRunnerTimeoutMs?: number;
  /** @default 24 h */
  readonly queuedJobTimeoutMs?: number;
  /** @default 1 h */
  readonly installationTokenTtlMs?: number;
  /** The clock clients mint App JWTs with, which judges `iat`/`exp` (sim-time.ts). @default Date.now */
  readonly jwtClock?: () => number;
  /** The runner version the instance ships, which its runner downloads list; `shipsRunnerVersion` changes it (an upgrade). @default '2.329.0' */
  readonly runnerVersion?: string;
}

/** A read-only snapshot of a job (simulated epoch ms); `repo` is `owner/name`. */
export type JobView = Readonly<Omit<JobRecord, 'run'> & { runId: number; repo: string; workflowName: string }>;

export class GhesSimulator extends EventEmitter<{ job: [{ action: JobStatus; job: JobView }]; request: [RequestEvent] }> {
  readonly clock: SimClock;
  readonly appId = 1;
  /** The runner version the instance ships; `upgrade` changes it with the release. */
  shipsRunnerVersion: string;
  /**
   * The release every answer and delivery names (`X-GitHub-Enterprise-Version`); `upgrade` changes
   * it. Undefined: none is named, as github.com answers.
   */
  release: string | undefined = GHES_VERSION;
  private readonly createdAt: number;
  private app?: AppInfo;
  private readonly auth: AppAuth;
  private readonly manifests: ManifestFlow;
  private readonly time: SimTime;
  private readonly directory: Directory;
  private readonly faults: FaultInjector;
  private readonly actions: Actions;
  private readonly webhooks: WebhookSender;
  private readonly server: ApiServer;
  private readonly agents = new Set<SimulatedRunner>();
  private loopback?: LoopbackServer;
  private stopped = false;

  constructor(options: GhesSimulatorOptions = {}) {
    super();
    this.clock = options.clock ?? new ScaledClock(1);
    this.createdAt = this.clock.now();
    const rng = new SeededRandom(options.seed ?? 1);
    const withApp = options.withApp ?? true;
    this.faults = new FaultInjector(options.faults ?? {}, rng);
    this.time = new SimTime(this.clock, options.jwtClock ?? Date.now);
    const auth = new AppAuth(this.appId, options.privateKey, this.time, rng.fork('tokens'), options.installationTokenTtlMs ?? 60 * MINUTE, withApp);
    this.auth = auth;
    this.directory = new Directory(options.org ?? 'octo-org', options.repos ?? ['app'], withApp, options.organizations, options.enterprise);
    if (withApp) this.app = { ...APP, owner: this.directory.org };
    this.actions = new Actions(this.time, { runners: rng.fork('runners'), jobs: rng.fork('jobs') }, {
      jitMs: options.jitRunnerTimeoutMs ?? 5 * MINUTE,
      lostRunnerMs: options.lostRunnerTimeoutMs ?? 10 * MINUTE,
      queuedMs: options.queuedJobTimeoutMs ?? 24 * 60 * MINUTE,
    }, (action, job) => this.onJob(action, job));
    const hostname = (): string => options.hostname ?? (this.loopback ? new URL(this.loopback.url).hostname : 'localhost');
    const timeoutMs = options.webhookTimeoutMs ?? 30_000;
    const release = (): string | undefined => this.release;
    const webhookConfig = { url: options.webhookUrl, secret: options.webhookSecret, appId: this.appId, hostname, release, timeoutMs };
    this.webhooks = new WebhookSender(webhookConfig, this.time, rng.fork('guids'), this.faults);
    this.manifests = new ManifestFlow(this.directory, this.time, rng.fork('manifests'), () => this.app, (created) => this.createApp(created, options),
      options.signedInUser ?? 'ghes-admin');
    this.server = new ApiServer({
      instance: () => this.instance(),
      directory: this.directory,
      auth,
      actions: this.actions,
      webhooks: this.webhooks,
      manifests: this.manifests,
      faults: this.faults,
      time: this.time,
      rng: rng.fork('request-ids'),
      onRequest: (e) => this.emit('request', e),
      runnerVersion: () => this.shipsRunnerVersion,
      release,
    });
    this.shipsRunnerVersion = options.runnerVersion ?? '2.329.0';
  }

  /** An upgrade of the server: a new release, which ships the runner version given. */
  upgrade(release: string | undefined, runnerVersion: string): void {
    this.release = release;
    this.shipsRunnerVersion = runnerVersion;
  }

  async start(): Promise<void> {
    if (this.loopback) throw new GhesSimulatorError('the GHES simulator is already started');
    if (this.stopped) throw new GhesSimulatorError('a stopped GHES simulator cannot start again; create a new one');
    this.loopback = await listenOnLoopback(async (req, res) => {
      if ((req.url ?? '').startsWith(`${API_PREFIX}/`) || !await this.manifests.handleWeb(req, res)) await this.server.handle(req, res);
    });
    this.faults.startedAt = this.clock.now();
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

  /** The App's private key (PKCS#1 PEM), for `createAppAuth`. */
  get privateKey(): string {
    if (!this.auth.privateKeyPem) throw new GhesSimulatorError('the instance has no App yet: create one from a manifest');
    return this.auth.privateKeyPem;
  }

  get webhookSecret(): string | undefined {
    return this.webhooks.config.secret;
  }

  /** The App's slug and page, once there is an App. */
  get appInfo(): { slug: string; htmlUrl: string } | undefined {
    return this.app && { slug: this.app.slug, htmlUrl: `${this.url}/github-apps/${this.app.slug}` };
  }

  /** Points deliveries at a receiver started after the simulator (e.g. the sandbox's API Gateway stand-in). */
  setWebhookUrl(url: string | undefined): void {
    this.webhooks.config.url = url;
  }

  /** The installation id for an account login, `owner/repo`, or a repository name in the org. */
  installationId(target: string): number {
    const { directory } = this;
    const installation = directory.installationOf(target) ?? directory.installationOf(directory.repoByFullName(target).owner.login);
    if (!installation) throw new GhesSimulatorError(`the App is not installed for ${target}`);
    return installation.id;
  }

  /**
   * The owner of `login` uninstalls the App and installs it again: the installation gets a new id
   * (`DELETE /app/installations/{id}` removes the old one), and the old one's tokens stop working
   * (assumed: no page says when they go; a removed installation's token can serve nothing). Its new id.
   */
  reinstallApp(login: string): number {
    const removed = this.directory.uninstall(login);
    if (removed) this.auth.revokeTokens(removed.id);
    const installation = this.directory.install(login);
    if (!installation) throw new GhesSimulatorError(`no account ${login} to install the App on`);
    return installation.id;
  }

  /** The enterprise account's slug. */
  get enterpriseSlug(): string {
    return this.directory.enterprise.slug;
  }

  /**
   * A personal access token (classic) of `login` (by default the enterprise's first owner) with `scopes`, as the user creates it on
   * the token settings page. It answers 401 once revoked.
   */
  createPersonalToken(scopes: readonly string[], login = [...this.directory.enterprise.owners][0]): string {
    return this.auth.issuePersonalToken(login, scopes);
  }

  revokePersonalToken(token: string): void {
    this.auth.revokePersonalToken(token);
  }

  /** Creates a runner group in an organization (`org:<login>`) or the enterprise (`enterprise`); its id. */
  createRunnerGroup(scope: `org:${string}` | 'enterprise', name: string): number {
    if (scope !== 'enterprise' && !this.directory.isOrg(scope.slice(4))) throw new GhesSimulatorError(`no organization ${scope.slice(4)}`);
    const account = scope === 'enterprise' ? undefined : this.directory.accountOf(scope.slice(4));
    return this.actions.createGroup(account ? `org:${account.login}` : `enterprise:${this.directory.enterprise.slug}`, name).id;
  }

  /** Creates a workflow run whose jobs are queued at once (each fires a `queued` webhook). */
  createWorkflowRun(spec: WorkflowRunSpec): { runId: number; jobIds: number[] } {
    if (!this.loopback) throw new GhesSimulatorError('start() the GHES simulator before creating workflow runs');
    const { run, jobs } = this.actions.createRun(this.directory.repoByFullName(spec.repo), spec);
    return { runId: run.id, jobIds: jobs.map((j) => j.id) };
  }

  /** One job in a run of its own. */
  queueJob(repo: string, labels: readonly string[], durationMs: number, outcome: 'success' | 'failure' = 'success'): number {
    return this.createWorkflowRun({ repo, jobs: [{ labels, durationMs, outcome }] }).jobIds[0];
  }

  /** Cancels a queued or running job; false when it had already completed. */
  cancelJob(jobId: number): boolean {
    return this.actions.cancel(jobId);
  }

  job(jobId: number): JobView | undefined {
    const job = this.actions.jobs.get(jobId);
    return job && jobView(job);
  }

  jobs(): JobView[] {
    return [...this.actions.jobs.values()].map(jobView);
  }

  /** Snapshots of the runner registrations; `scope` is `repo:owner/name`, `org:login` or `enterprise:slug`. */
  runners() {
    return this.actions.list().map((r) => ({
      id: r.id,
      name: r.name,
      scope: r.scope,
      groupId: r.groupId,
      labels: r.labels.map((l) => l.name),
      status: this.actions.status(r),
      busy: r.jobId !== undefined,
    }));
  }

  /** Resolves when the job reaches `status` (or at once if it already has; `completed` passes every status). */
  waitForJob(jobId: number, status: JobStatus = 'completed'): Promise<JobView> {
    return new Promise((resolve) => {
      const check = (): void => {
        const view = this.job(jobId);
        if (view?.status !== status && view?.status !== 'completed') return;
        this.off('job', check);
        resolve(view);
      };
      this.on('job', check);
      check();
    });
  }

  /** Every delivery attempt, oldest first. */
  deliveries(): readonly DeliveryRecord[] {
    return this.webhooks.all();
  }

  /** Resolves once every delivery scheduled so far has been attempted and recorded. */
  deliveriesSettled(): Promise<void> {
    return this.webhooks.settled();
  }

  /** Calls by `METHOD /template`; requests matching no route count under `METHOD (unmatched)`. */
  apiCalls() {
    const { counts } = this.server;
    return { total: Object.values(counts).reduce((a, b) => a + b, 0), byRoute: Object.fromEntries(Object.entries(counts).sort()) };
  }

  resetApiCalls(): void {
    this.server.counts = {};
  }

  /** The public API routes the simulator serves, as `{ method, template, key }`. */
  routeTable(): { method: string; template: string; key: string }[] {
    return this.server.routes.map((r) => ({ method: r.method, template: r.template, key: `${r.method} ${r.template}` }));
  }

  /** Changes fault settings from now on (e.g. stop dropping webhooks before a redelivery check). */
  setFaults(changes: FaultOptions): void {
    this.faults.options = { ...this.faults.options, ...changes };
  }

  /** Every API call is secondary-rate-limited for `durationMs` from now. */
  triggerSecondaryRateLimit(durationMs: number): void {
    this.faults.trigger(this.clock.now(), durationMs);
  }

  /** Runs a simulated runner with a JIT config, as `run.sh --jitconfig` (killed on stop); `exit` resolves when it exits. */
  startRunner(encodedJitConfig: string, hooks: RunnerHooks = {}): { runner: SimulatedRunner; exit: Promise<RunnerExit> } {
    const runner = new SimulatedRunner(encodedJitConfig, this.actions, this.clock, hooks);
    this.agents.add(runner);
    const exit = runner.run().finally(() => this.agents.delete(runner));
    return { runner, exit };
  }

  private instance(): Instance {
    return { api: this.apiUrl, web: this.url, appId: this.appId, createdAt: this.createdAt, app: this.app ?? { ...APP, owner: this.directory.org } };
  }

  private createApp(created: CreatedApp, options: GhesSimulatorOptions): void {
    this.app = created.app;
    this.auth.useKey(created.privateKey);
    this.webhooks.config.url = options.resolveUrl?.(created.webhookUrl) ?? created.webhookUrl;
    this.webhooks.config.secret = created.webhookSecret;
  }

  private onJob(action: JobStatus, job: JobRecord): void {
    const repo = job.run.repo;
    const installation = this.directory.installationOf(repo.owner.login);
    if (installation) {
      const payload = workflowJobPayload(this.instance(), action, job, installation.id);
      this.webhooks.send('workflow_job', action, payload, { installationId: installation.id, repositoryId: repo.id });
    }
    this.emit('job', { action, job: jobView(job) });
  }
}

function jobView(job: JobRecord): JobView {
  const { run, labels, ...rest } = job;
  return { ...rest, runId: run.id, repo: run.repo.fullName, workflowName: run.workflowName, labels: [...labels] };
}
