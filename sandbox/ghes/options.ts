// Options of the GHES simulator. Durations are simulated milliseconds; defaults follow GHES 3.19 where
// GitHub documents a value (reference/github.md), and are noted where the simulator had to choose.
import { InstallationSpec } from './directory';
import { FaultOptions } from './faults';
import { RateLimitOptions } from './rate-limit';
import { SimClock } from '../common/time';

export const MINUTE = 60_000;

export interface GhesSimulatorOptions {
  /** @default a ScaledClock at real time */
  readonly clock?: SimClock;
  /** Seeds ids, tokens, GUIDs and every fault draw. @default 1 */
  readonly seed?: number;
  /** @default 'octo-org' */
  readonly org?: string;
  /** `name` (in the org) or `owner/name` (another owner is a user). @default ['app'] */
  readonly repos?: readonly string[];
  /** @default 1 */
  readonly appId?: number;
  /** Accepted as JWT `iss` too (GHES ≥ 3.18). @default `Iv23` + seeded hex */
  readonly appClientId?: string;
  /** PKCS#1 or PKCS#8 PEM. @default a fresh 2048-bit key */
  readonly privateKey?: string;
  /** @default the App installed on every account that owns a repository, with all its repositories */
  readonly installations?: readonly InstallationSpec[];
  /** Where workflow_job deliveries go; none are sent (or recorded) while unset. */
  readonly webhookUrl?: string;
  /** @default no secret: no signature headers */
  readonly webhookSecret?: string;
  /** @default 'json' */
  readonly webhookContentType?: 'json' | 'form';
  /** @default 30 s (GHES) */
  readonly webhookTimeoutMs?: number;
  /** `X-GitHub-Enterprise-Host`. @default the loopback host name */
  readonly hostname?: string;
  /** @default '3.19.0' */
  readonly version?: string;
  readonly faults?: FaultOptions;
  /** A JIT runner that never connects is removed after this. @default 5 min */
  readonly jitRunnerTimeoutMs?: number;
  /** A busy runner silent this long is lost and its job fails. @default 10 min */
  readonly lostRunnerTimeoutMs?: number;
  /** A job offered to a runner that does not acquire it within this is queued again. @default 60 s (GitHub) */
  readonly runnerAcquireTimeoutMs?: number;
  /** The runner long poll. @default 50 s */
  readonly runnerPollTimeoutMs?: number;
  /** A connected runner not heard from this long shows offline. @default 2 min */
  readonly runnerOfflineAfterMs?: number;
  /** @default 24 h */
  readonly queuedJobTimeoutMs?: number;
  /** @default 1 h */
  readonly installationTokenTtlMs?: number;
  /** Enables rate limiting; omitted or false is the GHES default: no limits, no headers, /rate_limit 404. */
  readonly rateLimit?: RateLimitOptions | false;
  /** Whether JIT registration adds self-hosted/Linux/X64 (disputed). @default false */
  readonly jitAddsDefaultLabels?: boolean;
  /**
   * The clock the clients mint App JWTs with, against which `iat`/`exp` are judged. Plain Octokit
   * uses Date.now; a GitHub adapter minting JWTs on the scenario's SimClock needs `() => clock.now()`.
   * (The `Date` header, `x-ratelimit-reset` and `retry-after` stay on the wall clock either way,
   * because auth-app and plugin-throttling read Date.now().) @default Date.now
   */
  readonly jwtClock?: () => number;
}
