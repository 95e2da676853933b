// The reconciler's bounds and windows, with their defaults. Every number here caps work done once a
// minute; the GitHub numbers keep the sweep well inside GitHub's secondary limits (reference/github.md 7).
import { RedeliveryLimits } from './deliveries';
import { RetentionLimits } from '../core/reconciler-state';

const MINUTE = 60_000;

export interface ReconcilerLimits extends RetentionLimits, RedeliveryLimits {
  /** GitHub calls one run may make (port calls; token and installation look-ups come on top, cached). */
  readonly maxGitHubCallsPerRun: number;
  /** A queued job older than this is asked about. */
  readonly stuckQueuedJobMs: number;
  /** An in-progress job is asked about once it is older than the runners' maximum lifetime plus this. */
  readonly stuckInProgressGraceMs: number;
  /** The same job is asked about at most once in this interval. */
  readonly jobRecheckMs: number;
  readonly maxStuckJobChecksPerRun: number;
  readonly maxGhostDeletesPerRun: number;
  /** Pages of a scope's runner list (100 registrations each, one call each) one ghost sweep reads. */
  readonly maxRunnerPagesPerScope: number;
  /**
   * Pages of the delivery log (100 deliveries each, one call each) one run may read to reach its
   * cursor. A backlog larger than this is read on by the next runs from the same cursor.
   */
  readonly maxDeliveryPagesPerRun: number;
  /** Concurrent SQS sends of pool messages. */
  readonly poolMessageConcurrency: number;
  /**
   * How often the GitHub-side sweeps (failed deliveries, ghost registrations) run while anything
   * is active. Each costs a call or two however many jobs ran; every two minutes keeps them a
   * small share of the calls per job, and a missed webhook is still recovered within minutes.
   */
  readonly githubSweepEveryMs: number;
  /**
   * How often the delivery log is read while nothing is active: GitHub never retries a failed
   * delivery, so the queued event of the first job after a quiet spell is looked for too. One call
   * when nothing failed.
   */
  readonly idleDeliveriesEveryMs: number;
  /**
   * A scope's ghost sweep runs when a registration may have been left there (a runner ended idle,
   * a retirement), and otherwise at most this often while the scope is recent: a registration can
   * also be left unnoticed (a function that died between registering a runner and recording it).
   * Ghosts hold nothing but a line in the runner list, so they can wait.
   */
  readonly ghostSweepBackstopMs: number;
  /**
   * On a server whose answers name no release (github.com), the server's runner version is asked
   * for again after this. A GHES server is asked again only when its release changes. The images
   * are compared with the version kept at every GitHub sweep.
   */
  readonly runnerVersionCheckEveryMs: number;
}

export const DEFAULT_RECONCILER_LIMITS: ReconcilerLimits = {
  maxGitHubCallsPerRun: 60,
  stuckQueuedJobMs: 10 * MINUTE,
  stuckInProgressGraceMs: 10 * MINUTE,
  jobRecheckMs: 10 * MINUTE,
  maxStuckJobChecksPerRun: 10,
  maxGhostDeletesPerRun: 20,
  maxRunnerPagesPerScope: 10,
  maxDeliveryPagesPerRun: 30,
  poolMessageConcurrency: 10,
  githubSweepEveryMs: 2 * MINUTE,
  idleDeliveriesEveryMs: 15 * MINUTE,
  ghostSweepBackstopMs: 30 * MINUTE,
  runnerVersionCheckEveryMs: 30 * MINUTE,
  // Registrations left by a pool's last instances are swept for an hour after its last activity.
  scopeSweepMs: 60 * MINUTE,
  redeliveryMemoryMs: 7 * 24 * 60 * MINUTE,
  jobCheckMemoryMs: 60 * MINUTE,
  maxEntries: 500,
  // Five redeliveries, the last about 5 h 20 min after the first: an outage of the webhook of up to
  // a few hours still leaves one for after it. A queued job waits 24 h for a runner.
  maxAttemptsPerGuid: 5,
  maxPerRun: 10,
  redeliverySpacingMs: [3 * MINUTE, 15 * MINUTE, 60 * MINUTE, 240 * MINUTE],
  overlapMs: 5 * MINUTE,
  initialLookbackMs: 60 * MINUTE,
  // The redeliveries of an event span about 5 h 20 min.
  maxLookbackMs: 6 * 60 * MINUTE,
};
