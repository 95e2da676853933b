// The sandbox report: job outcomes, latencies (simulated ms), launches, leaks, API calls, faults.
import type { Scenario } from './scenario';
import { matchLabels, routingLabels } from '../src/runner-labels';

export interface Percentiles {
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
}

export interface SandboxReport {
  readonly scenario: string;
  readonly seed: number;
  readonly jobs: {
    readonly total: number;
    readonly completed: number;
    readonly succeeded: number;
    readonly failed: number;
    readonly cancelled: number;
    readonly rerun: number;
    readonly neverStarted: number;
  };
  readonly latencyMs: { readonly queuedToLaunch: Percentiles; readonly queuedToStarted: Percentiles };
  readonly launches: { readonly instances: number; readonly spot: number; readonly onDemand: number; readonly capacityErrors: number };
  readonly leaks: { readonly instances: number; readonly runners: number; readonly queuedJobs: number };
  readonly api: {
    readonly github: { readonly total: number; readonly byRoute: Record<string, number> };
    readonly ec2: { readonly total: number; readonly byAction: Record<string, number> };
  };
  /**
   * Per pool, the most instances alive at once and the largest excess of live instances over the
   * pool's demand (its queued and running jobs), sampled every simulated 5 s.
   */
  readonly pools: Record<string, PoolPeaks>;
  /**
   * How the instances booted: the real bootstrap script, or its wire calls made in-process; and how
   * many instances shipped their boot log to the runners' log group (the script does, as it powers off).
   */
  readonly boot: BootCounts;
  readonly endpoints: EndpointCalls;
  /** IAM decisions made by the engine, and the calls it denied by action (with the first message for each). */
  readonly iam: IamCounts;
  readonly faults: Record<string, number>;
  readonly wallMs: number;
}

export interface IamCounts {
  readonly decisions: number;
  readonly denied: Record<string, number>;
  readonly messages: Record<string, string>;
}

/** What reached the webhook and the register endpoint, and what their front doors refused. */
export interface EndpointCalls {
  /** `public`: HTTP API and Function URL; `private`: the private REST API. */
  readonly network: 'public' | 'private';
  /** Invocations of the webhook function through its endpoint. */
  readonly webhook: number;
  /** Invocations of the register function through its endpoint. */
  readonly register: number;
  /** Requests refused before any function ran, by error type. */
  readonly refused: Record<string, number>;
}

export interface BootCounts {
  readonly bootstrap: number;
  readonly inProcess: number;
  readonly logStreams: number;
}

export interface PoolPeaks {
  readonly peakInstances: number;
  readonly peakExcess: number;
}

/** A job attempt as GitHub recorded it (simulated epoch ms). */
export interface JobAttempt {
  readonly id: number;
  readonly repo: string;
  readonly labels: readonly string[];
  readonly status: string;
  readonly conclusion: string | null;
  readonly createdAt: number;
  readonly startedAt: number;
  readonly runnerName?: string;
  readonly rerunAs?: number;
}

export interface LaunchedInstance {
  readonly poolId?: string;
  readonly market: 'spot' | 'on-demand';
  /** Simulated epoch ms. */
  readonly launchTime: number;
}

export interface ReportInputs {
  readonly scenario: Scenario;
  readonly org: string;
  readonly attempts: readonly JobAttempt[];
  readonly instances: readonly LaunchedInstance[];
  readonly capacityErrors: number;
  readonly leaks: { readonly instances: number; readonly runners: number; readonly queuedJobs: number };
  readonly github: { readonly total: number; readonly byRoute: Record<string, number> };
  readonly ec2: { readonly total: number; readonly byAction: Record<string, number> };
  readonly pools: Record<string, PoolPeaks>;
  readonly boot: BootCounts;
  readonly endpoints: EndpointCalls;
  readonly iam: IamCounts;
  readonly faults: Record<string, number>;
  readonly wallMs: number;
}

/** The pool a job with these labels goes to, as the control plane routes it; undefined when none fits. */
export function poolOfJob(labels: readonly string[], scenario: Scenario, org: string): string | undefined {
  const configs = scenario.runnerConfigs.map((c) => ({ name: c.name, labels: routingLabels(c.labels) }));
  const match = matchLabels(labels, configs);
  return match.kind === 'matched' ? `${org.toLowerCase()}#${match.config.name}` : undefined;
}

export function percentiles(values: readonly number[]): Percentiles {
  if (values.length === 0) return { p50: 0, p95: 0, p99: 0, max: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
  return { p50: Math.round(at(0.5)), p95: Math.round(at(0.95)), p99: Math.round(at(0.99)), max: Math.round(sorted[sorted.length - 1]) };
}

/**
 * Logical jobs: a job re-run after a spot interruption is one job, with the outcome of its last
 * attempt, counted once in `rerun`. `neverStarted` counts the stranded: jobs that never got a
 * runner although nobody cancelled them (still queued, or failed by GitHub's queue timeout). A job
 * cancelled while queued is counted in `cancelled` only.
 */
export function buildReport(inputs: ReportInputs): SandboxReport {
  const byId = new Map(inputs.attempts.map((a) => [a.id, a]));
  const reruns = new Set(inputs.attempts.filter((a) => a.rerunAs !== undefined).map((a) => a.rerunAs!));
  const firsts = inputs.attempts.filter((a) => !reruns.has(a.id));
  const last = (a: JobAttempt): JobAttempt => (a.rerunAs !== undefined && byId.has(a.rerunAs) ? last(byId.get(a.rerunAs)!) : a);

  let completed = 0; let succeeded = 0; let failed = 0; let cancelled = 0; let rerun = 0; let neverStarted = 0;
  const toStarted: number[] = [];
  for (const first of firsts) {
    const final = last(first);
    if (final !== first) rerun++;
    if (final.status === 'completed') completed++;
    if (final.conclusion === 'success') succeeded++;
    else if (final.conclusion === 'failure') failed++;
    else if (final.conclusion === 'cancelled') cancelled++;
    const started = final.runnerName !== undefined && final.runnerName !== '';
    if (!started && final.conclusion !== 'cancelled') neverStarted++;
    else toStarted.push(final.startedAt - first.createdAt);
  }

  return {
    scenario: inputs.scenario.name,
    seed: inputs.scenario.seed,
    jobs: { total: firsts.length, completed, succeeded, failed, cancelled, rerun, neverStarted },
    latencyMs: { queuedToLaunch: percentiles(queuedToLaunch(inputs)), queuedToStarted: percentiles(toStarted) },
    launches: {
      instances: inputs.instances.length,
      spot: inputs.instances.filter((i) => i.market === 'spot').length,
      onDemand: inputs.instances.filter((i) => i.market === 'on-demand').length,
      capacityErrors: inputs.capacityErrors,
    },
    leaks: inputs.leaks,
    api: { github: inputs.github, ec2: inputs.ec2 },
    pools: inputs.pools,
    boot: inputs.boot,
    endpoints: inputs.endpoints,
    iam: inputs.iam,
    faults: inputs.faults,
    wallMs: Math.round(inputs.wallMs),
  };
}

/**
 * Runners are not bound to jobs (GitHub hands a job to any fitting runner), so the latency is per
 * pool: the k-th attempt queued in a pool is paired with the k-th instance launched for it.
 */
function queuedToLaunch(inputs: ReportInputs): number[] {
  const queued = new Map<string, number[]>();
  for (const attempt of inputs.attempts) {
    const pool = poolOfJob(attempt.labels, inputs.scenario, inputs.org);
    if (pool === undefined) continue;
    queued.set(pool, [...(queued.get(pool) ?? []), attempt.createdAt]);
  }
  const launched = new Map<string, number[]>();
  for (const instance of inputs.instances) {
    if (!instance.poolId) continue;
    launched.set(instance.poolId, [...(launched.get(instance.poolId) ?? []), instance.launchTime]);
  }
  const latencies: number[] = [];
  for (const [pool, times] of queued) {
    const launches = (launched.get(pool) ?? []).sort((a, b) => a - b);
    times.sort((a, b) => a - b).forEach((q, k) => {
      if (k < launches.length) latencies.push(Math.max(0, launches[k] - q));
    });
  }
  return latencies;
}
