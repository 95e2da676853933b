// The GitHub port over Octokit: App authentication (@octokit/auth-app), retries of 5xx and 429
// (@octokit/plugin-retry) and GitHub's rate-limit rules (@octokit/plugin-throttling).
import { createAppAuth } from '@octokit/auth-app';
import { Octokit } from '@octokit/core';
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import Bottleneck from 'bottleneck';
import { appJwtFactory } from './app-jwt';
import { enterpriseCredentialProblem, enterpriseNotFound, enterpriseTokenUnreadable } from './enterprise-credential';
import { isRateLimited } from './errors';
import { RUNNER_GROUPS_PAGE_SIZE, RunnerGroupIds } from './runner-groups';
import { SharedTokenCache } from './shared-token-cache';
import { AuthAppCache, ExpiringTokenCache } from './token-cache';
import {
  DeleteRunnerResult, DeliveryListing, EnterpriseCredentialError, GitHubAppNotInstalledError, GitHubJob, GitHubPort, GitHubRateLimitedError,
  GitHubTimeoutError, JitRunner, RegisteredRunner, RerunResult, RunnerListing, RunnerGroupRef, WebhookDelivery,
} from '../core/github';
import { SharedCache } from '../core/ports';
import { RunnerScope } from '../core/routing';
import { RunnerDownload } from '../core/runner-version';

const ControlPlaneOctokit = Octokit.plugin(retry, throttling);
type ControlPlaneOctokit = InstanceType<typeof ControlPlaneOctokit>;

export interface GitHubApiOptions {
  /** REST API base: `https://HOST/api/v3` for GHES, `https://api.github.com` for github.com. */
  readonly baseUrl: string;
  readonly appId: string;
  readonly privateKeyPem: string;
  /** Epoch milliseconds; the sandbox passes its scaled clock. */
  readonly now?: () => number;
  /**
   * Longest rate-limit wait to sit out inside one call, in seconds. A longer wait fails the call
   * with GitHub's 403/429, and the caller's retry (SQS, the schedule) takes over.
   */
  readonly maxRateLimitWaitSeconds?: number;
  /** Base of plugin-retry's quadratic backoff, in ms (1000 in production). */
  readonly retryBaseMs?: number;
  /**
   * Least time between two writes (POST, DELETE) of this client, in ms. GitHub asks integrators
   * to space writes by a second, and plugin-throttling does; one Lambda container makes few
   * writes in a row. The sandbox, which runs every function in one process, sets it lower.
   *
   * @default 1000
   */
  readonly writeSpacingMs?: number;
  /** ms a rate limit's `retry-after` second stands for (1000 in production; the sandbox scales it). */
  readonly retryAfterBaseMs?: number;
  /**
   * Where containers share what they learnt from GitHub: installation ids, and installation tokens
   * sealed under the App's private key. Without it each container looks up and mints its own.
   */
  readonly sharedCache?: SharedCache;
  /** A failure of the shared cache (the call goes on without it). */
  readonly onSharedCacheError?: (error: unknown) => void;
  /**
   * How long one request waits for GitHub's answer, in ms. A request that takes longer is abandoned
   * and fails with GitHubTimeoutError, without the retries a 5xx gets: a call that hangs must not
   * hold a function until its own timeout (the reconciler's 120 s would go with all its steps).
   *
   * @default 20000
   */
  readonly requestTimeoutMs?: number;
  /** Hook for counting calls (tests, the sandbox report). */
  readonly onRequest?: (route: string) => void;
  /**
   * Reads the enterprise credential: a personal access token (classic) with the
   * `manage_runners:enterprise` scope, used for enterprise scopes only (GitHub Apps cannot call the
   * enterprise runner endpoints). Read at the first enterprise call, so a function that serves no
   * enterprise runner never reads it.
   *
   * @default - no enterprise credential: an enterprise scope fails with EnterpriseCredentialError
   */
  readonly enterpriseToken?: () => Promise<string>;
}

/** The base URL of the REST API of a GitHub server given by its web URL. */
export function apiBaseUrl(serverUrl: string): string {
  const url = new URL(serverUrl);
  return url.hostname === 'github.com' ? 'https://api.github.com' : `${url.origin}/api/v3`;
}

function scopePath(scope: RunnerScope): string {
  if (scope.kind === 'enterprise') return `/enterprises/${encodeURIComponent(scope.enterprise)}`;
  return scope.kind === 'org' ? `/orgs/${encodeURIComponent(scope.org)}` : `/repos/${encodeURIComponent(scope.owner)}/${encodeURIComponent(scope.repo)}`;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 20_000;

/** The most GET …/actions/runners returns in one page. */
const RUNNERS_PAGE_SIZE = 100;
/** Pages read for one runner by name: one, unless a server ignores the `name` filter. */
const NAMED_RUNNER_PAGES = 10;

/** The most GET /app/hook/deliveries returns in one page. */
const DELIVERIES_PAGE_SIZE = 100;

/** How long containers trust a shared installation id (an App removed and installed again gets a new one). */
const SHARED_INSTALLATION_TTL_MS = 15 * 60_000;

function scopeKey(scope: RunnerScope): string {
  if (scope.kind === 'enterprise') return `enterprise:${scope.enterprise}`;
  return scope.kind === 'org' ? `org:${scope.org}` : `repo:${scope.owner}/${scope.repo}`;
}

export class GitHubApi implements GitHubPort {
  private readonly app: ControlPlaneOctokit;
  /** Installation id by scope: the lookup's promise, so concurrent callers share one request. */
  private readonly installationIds = new Map<string, Promise<number>>();
  private readonly installations = new Map<number, ControlPlaneOctokit>();
  private readonly createJwt: ReturnType<typeof appJwtFactory>;
  private readonly cache: AuthAppCache;
  /** One write limiter for every Octokit of this client, as plugin-throttling shares its own. */
  private readonly writes?: Bottleneck.Group;
  /** The client of the enterprise credential, by enterprise; built at the first enterprise call. */
  private readonly enterprises = new Map<string, Promise<ControlPlaneOctokit>>();
  private readonly runnerGroups: RunnerGroupIds;
  /** `X-GitHub-Enterprise-Version` of the latest answer. */
  private release?: string;

  constructor(private readonly options: GitHubApiOptions) {
    const now = options.now ?? Date.now;
    this.createJwt = appJwtFactory(options.privateKeyPem, now);
    const local = new ExpiringTokenCache(now);
    this.cache = options.sharedCache
      ? new SharedTokenCache(local, options.sharedCache, options.privateKeyPem, (e) => this.sharedCacheFailed(e))
      : local;
    if (options.writeSpacingMs !== undefined) this.writes = new Bottleneck.Group({ maxConcurrent: 1, minTime: options.writeSpacingMs });
    this.app = this.octokit();
    this.runnerGroups = new RunnerGroupIds(now);
  }

  async prepare(scope: RunnerScope, installationId?: number): Promise<void> {
    if (scope.kind === 'enterprise') {
      // No token to mint: reading the credential is all there is to get ahead of.
      await this.forScope(scope);
      return;
    }
    const key = scopeKey(scope);
    if (installationId !== undefined && !this.installationIds.has(key)) {
      this.installationIds.set(key, this.adoptInstallation(key, installationId));
    }
    const octokit = await this.forScope(scope);
    // auth-app answers from the token cache (local, then shared) or mints one and caches it there.
    await octokit.auth({ type: 'installation' });
  }

  async generateJitConfig(scope: RunnerScope, request: { name: string; labels: readonly string[]; runnerGroup: RunnerGroupRef }): Promise<JitRunner> {
    const octokit = await this.forScope(scope);
    const runnerGroupId = 'id' in request.runnerGroup ? request.runnerGroup.id : await this.runnerGroupId(scope, request.runnerGroup.name);
    const body = { name: request.name, labels: [...request.labels], runner_group_id: runnerGroupId, work_folder: '_work' };
    const route = `POST ${scopePath(scope)}/actions/runners/generate-jitconfig`;
    try {
      const { data } = await octokit.request(route, body);
      return toJitRunner(data);
    } catch (error) {
      // With the scope, a 404 here is the enterprise itself: its slug, or a token of someone not its owner.
      if (scope.kind === 'enterprise' && status(error) === 404 && !(error instanceof EnterpriseCredentialError)) {
        throw enterpriseNotFound(scope.enterprise, error);
      }
      // plugin-retry retries a 5xx that may have registered the runner after all; the retry then
      // finds the name taken (409). The name is ours (one per instance): replace the registration.
      if (status(error) !== 409) throw error;
      // The list's `name` filter answers with that runner alone (every GHES schema since 3.17 has it).
      const { runners } = await this.runnerPages(scope, { name: request.name }, NAMED_RUNNER_PAGES, (name) => name === request.name);
      const [existing] = runners;
      if (existing) await this.deleteRunner(scope, existing.id);
      const { data } = await octokit.request(route, body);
      return toJitRunner(data);
    }
  }

  async deleteRunner(scope: RunnerScope, runnerId: number): Promise<DeleteRunnerResult> {
    const octokit = await this.forScope(scope);
    try {
      await octokit.request(`DELETE ${scopePath(scope)}/actions/runners/{runner_id}`, { runner_id: runnerId });
      return 'deleted';
    } catch (error) {
      if (status(error) === 422) return 'busy';
      if (status(error) === 404) return 'not-found';
      throw error;
    }
  }

  async listRunners(scope: RunnerScope, prefix: string, maxPages: number): Promise<RunnerListing> {
    return this.runnerPages(scope, {}, maxPages, (name) => name.startsWith(prefix));
  }

  /** The scope's runners that `keep` names, from at most `maxPages` pages of the list filtered by `query`. */
  private async runnerPages(
    scope: RunnerScope, query: { name?: string }, maxPages: number, keep: (name: string) => boolean,
  ): Promise<RunnerListing> {
    const octokit = await this.forScope(scope);
    const found: RegisteredRunner[] = [];
    for (let page = 1; page <= maxPages; page++) {
      const { data } = await octokit.request(`GET ${scopePath(scope)}/actions/runners`, { ...query, per_page: RUNNERS_PAGE_SIZE, page });
      const runners = (data as { runners: Array<{ id: number; name: string; status: string; busy: boolean }> }).runners;
      for (const r of runners) {
        if (keep(r.name)) found.push({ id: r.id, name: r.name, status: r.status === 'online' ? 'online' : 'offline', busy: r.busy });
      }
      if (runners.length < RUNNERS_PAGE_SIZE) return { runners: found, pages: page, complete: true };
    }
    return { runners: found, pages: maxPages, complete: false };
  }

  // GET /orgs/{org}/actions/runners/downloads (or the repository's): "List runner applications"
  // (https://docs.github.com/en/enterprise-server@3.19/rest/actions/self-hosted-runners); the App's
  // runner permission (organization self-hosted runners, or repository administration) reads it.
  async listRunnerDownloads(scope: RunnerScope): Promise<RunnerDownload[]> {
    const octokit = await this.forScope(scope);
    const { data } = await octokit.request(`GET ${scopePath(scope)}/actions/runners/downloads`);
    return (data as Array<{ os: string; architecture: string; filename: string; sha256_checksum?: string }>)
      .map((d) => ({ os: d.os, architecture: d.architecture, filename: d.filename, sha256Checksum: d.sha256_checksum }));
  }

  /** The id of the scope's runner group named `name` (kept a while; a name not found is looked up again next time). */
  private async runnerGroupId(scope: RunnerScope, name: string): Promise<number> {
    const octokit = await this.forScope(scope);
    return this.runnerGroups.idOf(scopeKey(scope), name, async (page) => {
      const { data } = await octokit.request(`GET ${scopePath(scope)}/actions/runner-groups`, { per_page: RUNNER_GROUPS_PAGE_SIZE, page });
      return (data as { runner_groups: Array<{ id: number; name: string }> }).runner_groups;
    });
  }

  async getJob(owner: string, repo: string, jobId: number): Promise<GitHubJob | undefined> {
    const octokit = await this.forScope({ kind: 'repo', owner, repo });
    try {
      const { data } = await octokit.request('GET /repos/{owner}/{repo}/actions/jobs/{job_id}', { owner, repo, job_id: jobId });
      const job = data as {
        id: number; run_id: number; run_attempt?: number; status: string; conclusion: string | null; runner_name: string | null;
      };
      return {
        id: job.id, runId: job.run_id, runAttempt: job.run_attempt ?? 1, status: job.status, conclusion: job.conclusion, runnerName: job.runner_name,
      };
    } catch (error) {
      if (status(error) === 404) return undefined;
      throw error;
    }
  }

  async rerunJob(owner: string, repo: string, jobId: number): Promise<RerunResult> {
    const octokit = await this.forScope({ kind: 'repo', owner, repo });
    try {
      await octokit.request('POST /repos/{owner}/{repo}/actions/jobs/{job_id}/rerun', { owner, repo, job_id: jobId });
      return { outcome: 'rerun' };
    } catch (error) {
      // A rate limit is a 403 too (translated by the error hook, see octokit() below): the caller
      // retries it like an outage.
      if ((status(error) !== 403 && status(error) !== 404) || error instanceof GitHubRateLimitedError) throw error;
      // The spec gives the 403 a Basic Error body and nothing else; only the message tells "the run
      // still has jobs running" (retry once it finishes) from a final refusal. Observed wording:
      // "This workflow is already running" (cli/cli#9221, for a run with a job still running;
      // reference/github.md 5). Anything else — "…cannot be retried", "Only jobs from the current
      // attempt…", "Resource not accessible by integration", a job gone (404) — is final.
      const reason = githubMessage(error);
      return { outcome: RUN_STILL_RUNNING.test(reason) ? 'run-in-progress' : 'refused', reason };
    }
  }

  serverRelease(): string | undefined {
    return this.release;
  }

  async listDeliveries(sinceMs: number, maxPages: number): Promise<DeliveryListing> {
    const deliveries: WebhookDelivery[] = [];
    let cursor: string | undefined;
    for (let pages = 1; pages <= maxPages; pages++) {
      const response = await this.app.request('GET /app/hook/deliveries', { per_page: DELIVERIES_PAGE_SIZE, ...(cursor ? { cursor } : {}) });
      const page = response.data as Array<{
        id: number; guid: string; delivered_at: string; redelivery: boolean; status_code: number; event: string; action: string | null;
      }>;
      for (const d of page) {
        if (Date.parse(d.delivered_at) < sinceMs) return { deliveries, pages, complete: true };
        deliveries.push({
          id: d.id, guid: d.guid, deliveredAt: d.delivered_at, redelivery: d.redelivery, statusCode: d.status_code, event: d.event, action: d.action,
        });
      }
      // Pages are reached by the opaque cursor of the Link header's rel="next"; there is no page number.
      cursor = nextCursor(response.headers.link);
      if (!cursor || page.length === 0) return { deliveries, pages, complete: true };
    }
    return { deliveries, pages: maxPages, complete: false };
  }

  async redeliver(deliveryId: number): Promise<void> {
    await this.app.request('POST /app/hook/deliveries/{delivery_id}/attempts', { delivery_id: deliveryId });
  }

  /**
   * The installation's client for a scope. The installation id is looked up once per process, and
   * once for all the calls that need it at the same time (a burst of registrations); a failed
   * lookup is forgotten, so the next call asks again.
   */
  private async forScope(scope: RunnerScope): Promise<ControlPlaneOctokit> {
    if (scope.kind === 'enterprise') return this.forEnterprise(scope.enterprise);
    const key = scopeKey(scope);
    let lookup = this.installationIds.get(key);
    if (!lookup) {
      lookup = this.lookUpInstallation(scope, key);
      this.installationIds.set(key, lookup);
      lookup.catch(() => this.installationIds.delete(key));
    }
    const installationId = await lookup;
    let octokit = this.installations.get(installationId);
    if (!octokit) {
      octokit = this.octokit({ installationId, scopeKey: key });
      this.installations.set(installationId, octokit);
    }
    return octokit;
  }

  /**
   * The client of the enterprise credential. The token is read once per client (the wiring rebuilds
   * the client now and then, so a replaced token is picked up); a failed read is forgotten.
   */
  private forEnterprise(enterprise: string): Promise<ControlPlaneOctokit> {
    let client = this.enterprises.get(enterprise);
    if (!client) {
      const read = this.options.enterpriseToken;
      client = (read ? read() : Promise.reject(new Error('this deployment has no enterprise token parameter (github.enterprise is not set)')))
        .then((token) => this.octokit(undefined, { enterprise, token }), (error: unknown) => {
          throw enterpriseTokenUnreadable(enterprise, error);
        });
      this.enterprises.set(enterprise, client);
      client.catch(() => this.enterprises.delete(enterprise));
    }
    return client;
  }

  /**
   * GitHub no longer knows the installation (the App was uninstalled, or installed again under a
   * new id): every container forgets it, this one at once and the others through the shared
   * entry, so the next call looks the scope up again instead of failing for the entry's lifetime.
   * A token kept for it is never used again: tokens are cached by installation id.
   */
  private async forgetInstallation(key: string, installationId: number): Promise<void> {
    this.installationIds.delete(key);
    this.installations.delete(installationId);
    const now = this.options.now ?? Date.now;
    await this.options.sharedCache?.put(this.installationEntry(key), '', now()).catch((e: unknown) => this.sharedCacheFailed(e));
  }

  private lookUpInstallation(scope: Exclude<RunnerScope, { kind: 'enterprise' }>, key: string): Promise<number> {
    return this.sharedInstallation(key, async () => {
      try {
        const { data } = scope.kind === 'org'
          ? await this.app.request('GET /orgs/{org}/installation', { org: scope.org })
          : await this.app.request('GET /repos/{owner}/{repo}/installation', { owner: scope.owner, repo: scope.repo });
        return (data as { id: number }).id;
      } catch (error) {
        if (status(error) === 404) throw new GitHubAppNotInstalledError(key, { cause: error });
        throw error;
      }
    });
  }

  /** The installation a signed delivery named, shared as a look-up would share it, unless one is shared already. */
  private adoptInstallation(key: string, installationId: number): Promise<number> {
    return this.sharedInstallation(key, async () => installationId);
  }

  /** The scope's installation id as the containers share it; else `find`s it and shares it. */
  private async sharedInstallation(key: string, find: () => Promise<number>): Promise<number> {
    const shared = this.options.sharedCache;
    const entry = this.installationEntry(key);
    const known = await shared?.get(entry).catch((e: unknown) => this.sharedCacheFailed(e));
    if (known !== undefined && /^[1-9][0-9]*$/.test(known)) return Number(known);
    const installationId = await find();
    const now = this.options.now ?? Date.now;
    await shared?.put(entry, String(installationId), now() + SHARED_INSTALLATION_TTL_MS).catch((e: unknown) => this.sharedCacheFailed(e));
    return installationId;
  }

  private installationEntry(key: string): string {
    return `github-installation#${this.options.appId}#${key}`;
  }

  private sharedCacheFailed(error: unknown): undefined {
    this.options.onSharedCacheError?.(error);
    return undefined;
  }

  /** The App's client, an installation's, or (`enterprise`) the enterprise credential's. */
  private octokit(
    installation?: { installationId: number; scopeKey: string },
    enterprise?: { enterprise: string; token: string },
  ): ControlPlaneOctokit {
    const installationId = installation?.installationId;
    const maxWait = this.options.maxRateLimitWaitSeconds ?? 20;
    const timeoutMs = this.options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    // Sit out short waits; a longer one fails the call with GitHub's own 403/429 error, and the
    // caller's retry (the queue's backoff, the next sweep) takes over. A handler that throws would
    // be swallowed by the plugin, so the answer is a plain yes or no.
    const onLimit = () => (retryAfter: number, _options: unknown, _octokit: unknown, retryCount: number) => retryCount < 2 && retryAfter <= maxWait;
    const octokit = new ControlPlaneOctokit({
      baseUrl: this.options.baseUrl,
      // The enterprise credential is a plain token (Octokit's default token strategy sends `token <t>`).
      ...(enterprise
        ? { auth: enterprise.token }
        : {
          authStrategy: createAppAuth,
          auth: { appId: this.options.appId, createJwt: this.createJwt, cache: this.cache, ...(installationId ? { installationId } : {}) },
        }),
      retry: { retryAfterBaseValue: this.options.retryBaseMs ?? 1000 },
      throttle: {
        onRateLimit: onLimit(),
        onSecondaryRateLimit: onLimit(),
        ...(this.options.retryAfterBaseMs !== undefined ? { retryAfterBaseValue: this.options.retryAfterBaseMs } : {}),
        ...(this.writes ? { write: this.writes } : {}),
      },
      request: { fetch: fetchWithTimeout(timeoutMs) },
      userAgent: 'cdk-ephemeral-runners',
      // Octokit's own warnings (deprecations, rate-limit notes) are not JSON; keep them out of the log stream.
      log: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
    });
    // Outermost hook, so it sees what is left once plugin-retry and plugin-throttling gave up: a
    // rate limit reaches the callers as the port's error, never as Octokit's 403/429.
    octokit.hook.error('request', async (error, options) => {
      if (isRateLimited(error)) throw new GitHubRateLimitedError((error as Error).message, { cause: error });
      // Only the timer of fetchWithTimeout aborts a request of this client.
      if ((error as Error).name === 'AbortError') throw new GitHubTimeoutError(`${options.method} ${options.url}`, timeoutMs, { cause: error });
      const refused = enterprise && enterpriseCredentialProblem(error, enterprise.enterprise);
      if (refused) throw refused;
      // GitHub no longer knows the installation (404 for its token), or revoked its token (401 on
      // a call made with it; auth-app has already retried one minted a moment ago).
      const token = installation && isTokenRequest(error, installation.installationId);
      if (installation && ((status(error) === 404 && token) || (status(error) === 401 && !token))) {
        await this.forgetInstallation(installation.scopeKey, installation.installationId);
      }
      throw error;
    });
    // Every GHES REST answer names the server's release ("Resources in the REST API",
    // https://docs.github.com/en/enterprise-server@3.6/rest/overview/resources-in-the-rest-api shows
    // `X-GitHub-Enterprise-Version: 3.6.0`); github.com sends none.
    octokit.hook.after('request', (response) => {
      const release = response.headers['x-github-enterprise-version'];
      this.release = typeof release === 'string' && release !== '' ? release : undefined;
    });
    if (this.options.onRequest) {
      const onRequest = this.options.onRequest;
      octokit.hook.before('request', (options) => onRequest(`${options.method} ${options.url}`));
    }
    return octokit;
  }
}

/**
 * A request fetchWithTimeout abandoned. Named AbortError: @octokit/request passes an Error of that
 * name on as it is, where it would wrap any other in a 500 that plugin-retry retries.
 */
class RequestAbandoned extends Error {
  public readonly name = 'AbortError';
}

/** `fetch` that gives up after `timeoutMs`, the body's reading included. */
function fetchWithTimeout(timeoutMs: number): typeof fetch {
  return (input, init) => {
    // Node's own timeout signal: it also covers reading the body, and its timer keeps nothing alive.
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = init?.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
    return fetch(input, { ...init, signal }).catch((error: unknown) => {
      // fetch's own DOMException is an Error of another realm where the code runs in a VM context (tests).
      throw timeout.aborted ? new RequestAbandoned(`no answer within ${timeoutMs} ms`, { cause: error }) : error;
    });
  };
}

function toJitRunner(data: unknown): JitRunner {
  const d = data as { runner: { id: number; name: string }; encoded_jit_config: string };
  return { runnerId: d.runner.id, runnerName: d.runner.name, encodedJitConfig: d.encoded_jit_config };
}

/** GitHub's 403 message for a re-run of a job whose workflow run has not finished. */
const RUN_STILL_RUNNING = /already running/i;

/** The `message` of GitHub's error body (Octokit's own message appends the documentation URL). */
function githubMessage(error: unknown): string {
  const e = error as { message?: string; response?: { data?: { message?: unknown } } };
  const message = e.response?.data?.message;
  return typeof message === 'string' ? message : e.message ?? '';
}

/** Whether the failed request was auth-app's minting of the installation's token. */
function isTokenRequest(error: unknown, installationId: number): boolean {
  const url = (error as { request?: { url?: unknown } }).request?.url;
  return typeof url === 'string' && url.endsWith(`/app/installations/${installationId}/access_tokens`);
}

function status(error: unknown): number | undefined {
  return typeof error === 'object' && error !== null && 'status' in error ? Number((error as { status: unknown }).status) : undefined;
}

function nextCursor(link: string | undefined): string | undefined {
  const next = link?.split(',').find((part) => /rel="next"/.test(part));
  const url = next?.match(/<([^>]+)>/)?.[1];
  return url ? new URL(url).searchParams.get('cursor') ?? undefined : undefined;
}
