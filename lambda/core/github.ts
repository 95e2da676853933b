// The GitHub port: what the control plane asks of GitHub, in domain words, and the errors its
// callers handle. The adapter over Octokit lives in lambda/github/ and translates Octokit's errors
// into these; the sandbox points it at the GHES simulator.
import { RunnerScope } from './routing';
import { RunnerDownload } from './runner-version';

/** The GitHub App is not installed where a job's runners must register. */
export class GitHubAppNotInstalledError extends Error {
  public readonly name = 'GitHubAppNotInstalledError';

  constructor(readonly scope: string, options?: ErrorOptions) {
    super(`the GitHub App is not installed on ${scope}: install it there, or route its jobs to another runner system`, options);
  }
}

/**
 * GitHub asked the App to wait (a primary or secondary rate limit) for longer than the client sits
 * out inside one call. Callers stop calling GitHub and leave the work to their next run.
 */
export class GitHubRateLimitedError extends Error {
  public readonly name = 'GitHubRateLimitedError';

  constructor(message: string, options?: ErrorOptions) {
    super(`GitHub rate limit: ${message}; calls resume at the next run`, options);
  }
}

/** GitHub did not answer a call in the time the client waits: the call was abandoned, not retried. */
export class GitHubTimeoutError extends Error {
  public readonly name = 'GitHubTimeoutError';

  constructor(readonly route: string, readonly timeoutMs: number, options?: ErrorOptions) {
    super(`GitHub did not answer ${route} within ${timeoutMs / 1000} s; the call was abandoned and the caller's next attempt makes it again`, options);
  }
}

/**
 * The enterprise credential (a personal access token (classic) with the `manage_runners:enterprise`
 * scope, kept in an SSM SecureString) is missing, or GitHub refused it. Enterprise runners cannot
 * register until it is fixed; `fix` says how.
 */
export class EnterpriseCredentialError extends Error {
  public readonly name = 'EnterpriseCredentialError';

  constructor(readonly enterprise: string, problem: string, readonly fix: string, options?: ErrorOptions) {
    super(`the enterprise credential for ${enterprise} ${problem}: ${fix}`, options);
  }
}

/** A config names a runner group (by name) that its organization or enterprise does not have. */
export class RunnerGroupNotFoundError extends Error {
  public readonly name = 'RunnerGroupNotFoundError';

  constructor(readonly group: string, readonly scope: string, options?: ErrorOptions) {
    super(`there is no runner group named '${group}' at ${scope}: create it there (Settings > Actions > Runner groups), `
      + 'or correct the runner config\'s runnerGroup', options);
  }
}

/** The runner group a runner joins: by id, or by name (looked up in the scope's runner groups). */
export type RunnerGroupRef = { readonly id: number } | { readonly name: string };

export interface JitRunner {
  readonly runnerId: number;
  readonly runnerName: string;
  /** The encoded JIT config. Handed to the instance, never stored or logged. */
  readonly encodedJitConfig: string;
}

export interface RegisteredRunner {
  readonly id: number;
  readonly name: string;
  readonly status: 'online' | 'offline';
  readonly busy: boolean;
}

export interface GitHubJob {
  readonly id: number;
  readonly runId: number;
  readonly runAttempt: number;
  readonly status: string;
  readonly conclusion: string | null;
  readonly runnerName: string | null;
}

export interface WebhookDelivery {
  readonly id: number;
  readonly guid: string;
  readonly deliveredAt: string;
  readonly redelivery: boolean;
  readonly statusCode: number;
  readonly event: string;
  readonly action: string | null;
}

/** One read of the App's delivery log, newest first. */
export interface DeliveryListing {
  readonly deliveries: readonly WebhookDelivery[];
  /** Pages read (each one call). */
  readonly pages: number;
  /** Whether the read reached `sinceMs` or the log's end; false when the page cap stopped it first. */
  readonly complete: boolean;
}

/** One read of a scope's runner registrations. */
export interface RunnerListing {
  readonly runners: readonly RegisteredRunner[];
  /** Pages read (each one call). */
  readonly pages: number;
  /** Whether every page was read; false when the page cap stopped the read first. */
  readonly complete: boolean;
}

export type DeleteRunnerResult = 'deleted' | 'busy' | 'not-found';

/**
 * What GitHub answered a re-run: done; refused for now because another job of the workflow run is
 * still queued or running (GitHub re-runs only a run that has finished); or refused for good (the
 * attempt was re-run already, the run is too old, the App may not re-run). `reason` is GitHub's message.
 */
export type RerunResult =
  | { readonly outcome: 'rerun' }
  | { readonly outcome: 'run-in-progress' | 'refused'; readonly reason: string };

export interface GitHubPort {
  /**
   * Gets the scope's installation token ahead of its first use, into the cache the functions'
   * containers share, while the instances that will need it boot. `installationId`, when known
   * from a signed delivery, saves looking it up.
   */
  prepare(scope: RunnerScope, installationId?: number): Promise<void>;
  /**
   * Registers a JIT runner. If the name exists (a retried call that had succeeded), replaces it. A
   * group named that does not exist throws {@link RunnerGroupNotFoundError} before anything is registered.
   */
  generateJitConfig(scope: RunnerScope, request: { name: string; labels: readonly string[]; runnerGroup: RunnerGroupRef }): Promise<JitRunner>;
  deleteRunner(scope: RunnerScope, runnerId: number): Promise<DeleteRunnerResult>;
  /** Runners of the scope whose name starts with `prefix`, reading at most `maxPages` pages of 100. */
  listRunners(scope: RunnerScope, prefix: string, maxPages: number): Promise<RunnerListing>;
  getJob(owner: string, repo: string, jobId: number): Promise<GitHubJob | undefined>;
  /** Re-runs a failed job (and the jobs that depend on it). A rate limit or an outage throws. */
  rerunJob(owner: string, repo: string, jobId: number): Promise<RerunResult>;
  /** The App's deliveries from `sinceMs` on, newest first, reading at most `maxPages` pages of 100. */
  listDeliveries(sinceMs: number, maxPages: number): Promise<DeliveryListing>;
  redeliver(deliveryId: number): Promise<void>;
  /** The runner archives the server offers the scope: on GHES, the runner version it ships. */
  listRunnerDownloads(scope: RunnerScope): Promise<RunnerDownload[]>;
  /**
   * The server's release as its latest answer named it (GHES's `X-GitHub-Enterprise-Version`, e.g.
   * `3.19.2`); undefined before any answer, and on a server that names none (github.com).
   */
  serverRelease(): string | undefined;
}
