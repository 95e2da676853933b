// The sandbox report: job outcomes, latencies (simulated ms), launches, leaks, API calls, faults,
// and the summary `npm run sandbox` prints of it.
import type { EmfSummary } from './aws/emf';
import type { FunctionCounts } from './aws/lambda-runtime';
import type { JobView } from './ghes';
import type { LaunchTimingSummary } from './launch-timing';
import type { Scenario } from './scenario';
import { rankedConfigs } from '../src/private/routing-ties';
import { matchLabels } from '../src/runner-labels';

type Counts = Readonly<Record<string, number>>;

/** What a run counted, from which {@link buildReport} derives the rest. */
export interface ReportInputs {
  readonly scenario: Scenario;
  readonly org: string;
  readonly attempts: readonly JobAttempt[];
  readonly instances: readonly LaunchedInstance[];
  /** Starts of stopped warm pool instances claimed for jobs. */
  readonly starts: readonly LaunchedInstance[];
  /** Per config with a warm pool, its instances parked (stopped) at the end: intentional supply, not leaks. */
  readonly warmPool: Record<string, number>;
  /** Per runner config, the job attempts that ran on one of its instances. */
  readonly ranOn: Record<string, number>;
  /**
   * Cost allocation: the job attempts that ran on one of our instances, those whose instance and root volume both carry the
   * attempt's repository, workflow and config tags, and the ids of the others.
   */
  readonly costTags: { readonly jobsRun: number; readonly tagged: number; readonly untagged: readonly number[] };
  readonly capacityErrors: number;
  readonly leaks: { readonly instances: number; readonly runners: number; readonly queuedJobs: number };
  readonly github: { readonly total: number; readonly byRoute: Counts };
  readonly ec2: { readonly total: number; readonly byAction: Counts };
  /** Per pool, the most instances alive at once and their largest excess over the pool's queued and running jobs (sampled every 5 s). */
  readonly pools: Record<string, PoolPeaks>;
  /** Instances booted by the real bootstrap or its wire calls in-process, in-process boots that failed unexpectedly, and how many shipped their boot log (the script does). */
  readonly boot: { readonly bootstrap: number; readonly inProcess: number; readonly failed: number; readonly logStreams: number };
  /** Job hooks the instances downloaded from S3 (assets), and the downloads S3 refused, by error code. */
  readonly hookDownloads?: { readonly ok: number; readonly refused: Counts };
  /** Per function: invocations, cold starts (environments started), the most invocations in flight at once, throttles, waits for the sandbox's cap. */
  readonly functions: Readonly<Record<string, FunctionCounts>>;
  /** The functions' own metrics, as CloudWatch would extract them from their EMF lines; invalid documents counted. */
  readonly metrics?: EmfSummary;
  /** What reached the webhook and the register endpoint (`public`: HTTP API and Function URL; `private`: the private REST API), and what their front doors refused before any function ran, by error type. */
  readonly endpoints: { readonly network: 'public' | 'private'; readonly webhook: number; readonly register: number; readonly refused: Counts };
  /** IAM decisions made by the engine, and the calls it denied by action (with the first message for each). */
  /** The control plane's latency (wall ms) and the phases of queued → started, cold and warm (./launch-timing.ts). */
  readonly timing?: LaunchTimingSummary;
  /** DynamoDB operations and SQS actions of the run (by name), which a cost per job is made of with `functions`' invocations. */
  readonly usage?: { readonly dynamodb: Counts; readonly sqs: Counts };
  readonly iam: { readonly decisions: number; readonly denied: Counts; readonly messages: Readonly<Record<string, string>> };
  readonly faults: Counts;
  readonly wallMs: number;
  /** The EC2 simulator's own count: the most instances live at once (pending, running, stopping or stopped). */
  readonly peakLiveInstances?: number;
}

/** The report: job outcomes and latencies (simulated ms) derived from the attempts and launches, and what the run counted. */
export type SandboxReport = ReturnType<typeof buildReport>;

export interface PoolPeaks { readonly peakInstances: number; readonly peakExcess: number }

/** A job attempt as GitHub recorded it (simulated epoch ms). */
export type JobAttempt = Pick<JobView, 'id' | 'repo' | 'labels' | 'status' | 'conclusion' | 'createdAt' | 'startedAt' | 'runnerName' | 'rerunAs' | 'hookSteps'>
  & Partial<Pick<JobView, 'runnerGroup'>>;

/** An instance launched, at simulated epoch ms; `launchedWith`: what EC2 launched it with. */
export interface LaunchedInstance { readonly poolId?: string; readonly market: 'spot' | 'on-demand'; readonly launchTime: number; readonly launchedWith?: LaunchSettings }

/** What EC2 launched an instance with (its launch template and the CreateFleet overrides). */
export interface LaunchSettings {
  readonly config?: string;
  readonly imageId: string;
  readonly securityGroupIds: readonly string[];
  /** The role of its instance profile (physical name). */
  readonly role?: string;
  readonly rootVolume?: { readonly sizeGiB?: number; readonly volumeType?: string; readonly iops?: number; readonly throughput?: number };
}

/** The pool a job with these labels goes to, as the control plane routes it (ties by priority, then order); undefined when none fits. */
export function poolOfJob(labels: readonly string[], scenario: Scenario, org: string): string | undefined {
  const configs = scenario.runnerConfigs.map(({ name, labels: offered, priority }) => ({ name, labels: offered, priority }));
  const match = matchLabels(labels, rankedConfigs(configs));
  if (match.kind !== 'matched') return undefined;
  // An enterprise config has one pool for every organization's jobs.
  const enterprise = scenario.runnerConfigs.find((c) => c.name === match.config.name)?.scope === 'enterprise' ? scenario.enterprise?.slug : undefined;
  return `${enterprise !== undefined ? `enterprise:${enterprise.toLowerCase()}` : org.toLowerCase()}#${match.config.name}`;
}

export function percentiles(values: readonly number[]) {
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
export function buildReport(inputs: ReportInputs) {
  const byId = new Map(inputs.attempts.map((a) => [a.id, a]));
  const reruns = new Set(inputs.attempts.filter((a) => a.rerunAs !== undefined).map((a) => a.rerunAs!));
  const last = (a: JobAttempt): JobAttempt => (a.rerunAs !== undefined && byId.has(a.rerunAs) ? last(byId.get(a.rerunAs)!) : a);
  const jobs = { total: 0, completed: 0, succeeded: 0, failed: 0, cancelled: 0, rerun: 0, neverStarted: 0 };
  const toStarted: number[] = [];
  for (const first of inputs.attempts.filter((a) => !reruns.has(a.id))) {
    const final = last(first);
    jobs.total++;
    if (final !== first) jobs.rerun++;
    if (final.status === 'completed') jobs.completed++;
    if (final.conclusion === 'success') jobs.succeeded++;
    else if (final.conclusion === 'failure') jobs.failed++;
    else if (final.conclusion === 'cancelled') jobs.cancelled++;
    if (!final.runnerName && final.conclusion !== 'cancelled') jobs.neverStarted++;
    else toStarted.push(final.startedAt - first.createdAt);
  }
  const {
    scenario, org, attempts, instances, starts, warmPool, capacityErrors, leaks, github, ec2, wallMs, hookDownloads, peakLiveInstances, ...counted
  } = inputs;
  const launched = (market: LaunchedInstance['market']) => instances.filter((i) => i.market === market).length;
  const intoWarmPools = instances.filter((i) => isWarmPoolId(i.poolId)).length;
  return {
    scenario: scenario.name,
    seed: scenario.seed,
    jobs,
    latencyMs: { queuedToLaunch: percentiles(queuedToLaunch(inputs)), queuedToStarted: percentiles(toStarted) },
    launches: { instances: instances.length, spot: launched('spot'), onDemand: launched('on-demand'), capacityErrors },
    // How jobs got their instance: a stopped warm pool instance started, or a cold launch; and the
    // launches that filled warm pools (ahead of demand), and what the pools held at the end.
    jobStarts: { warm: starts.length, cold: instances.length - intoWarmPools },
    warmPools: { launched: intoWarmPools, parkedAtEnd: warmPool },
    /** Per runner config, each distinct set of launch settings its instances had, with how many instances had it. */
    launchedWith: launchSettingsByConfig(instances),
    hooks: { ...hookCounts(attempts), downloads: { ok: hookDownloads?.ok ?? 0, refused: { ...hookDownloads?.refused } } },
    /** Job attempts that ran, by repository owner and the runner group of the runner that ran them (`owner: group`). */
    ranBy: countBy(attempts.filter((a) => a.runnerName).map((a) => `${a.repo.split('/')[0]}: ${a.runnerGroup?.name ?? 'Default'}`)),
    leaks,
    // Under maxInstances: the simulator's peak of live instances, and each job's pool, queue time and
    // start (its last attempt's), for the order jobs got their instances in across pools.
    fleet: {
      maxInstances: scenario.maxInstances,
      peakLiveInstances: peakLiveInstances ?? 0,
      jobs: inputs.attempts.filter((a) => !reruns.has(a.id)).map((first) => ({
        id: first.id, pool: poolOfJob(first.labels, scenario, org) ?? '', queuedAt: first.createdAt, startedAt: last(first).startedAt,
      })),
    },
    api: { github, ec2 },
    ...counted,
    wallMs: Math.round(wallMs),
  };
}

function launchSettingsByConfig(instances: readonly LaunchedInstance[]) {
  const byConfig: Record<string, Array<LaunchSettings & { instances: number }>> = {};
  for (const { launchedWith } of instances) {
    if (!launchedWith?.config) continue;
    const { config, ...settings } = launchedWith;
    const seen = (byConfig[config] ??= []).find((s) => JSON.stringify({ ...s, instances: 0 }) === JSON.stringify({ ...settings, instances: 0 }));
    if (seen) seen.instances++;
    else byConfig[config].push({ ...settings, instances: 1 });
  }
  return byConfig;
}

function countBy(keys: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const key of keys) counts[key] = (counts[key] ?? 0) + 1;
  return counts;
}

/** How many jobs' hooks ran and failed, and the first outputs, as the job logs' "Set up runner" and "Complete runner" show them. */
function hookCounts(attempts: readonly JobAttempt[]) {
  const steps = attempts.flatMap((a) => (a.hookSteps ?? []).map((step) => ({ ...step, runnerName: a.runnerName })));
  const of = (name: string) => {
    const ran = steps.filter((step) => step.name === name);
    return { ran: ran.length, failed: ran.filter((step) => step.exitCode !== 0).length };
  };
  return {
    started: of('Set up runner'),
    completed: of('Complete runner'),
    /** The first 20 hook runs: step, runner, exit code and output (up to 300 characters). */
    outputs: steps.slice(0, 20).map((step) => `${step.name} (${step.runnerName}) exit ${step.exitCode}: ${step.output.trim().slice(0, 300)}`),
  };
}

/**
 * Runners are not bound to jobs (GitHub hands a job to any fitting runner), so the latency is per
 * pool: the k-th attempt queued in a pool is paired with the k-th instance launched for it.
 */
function queuedToLaunch(inputs: ReportInputs): number[] {
  const timesByPool = (entries: Array<[string | undefined, number]>) => {
    const times = new Map<string, number[]>();
    for (const [pool, at] of entries) if (pool !== undefined) times.set(pool, [...(times.get(pool) ?? []), at]);
    return times;
  };
  const queued = timesByPool(inputs.attempts.map((a) => [poolOfJob(a.labels, inputs.scenario, inputs.org), a.createdAt]));
  const launched = timesByPool(inputs.instances.map((i) => [i.poolId || undefined, i.launchTime]));
  return [...queued].flatMap(([pool, times]) => {
    const launches = (launched.get(pool) ?? []).sort((a, b) => a - b);
    return times.sort((a, b) => a - b).flatMap((q, k) => (k < launches.length ? [Math.max(0, launches[k] - q)] : []));
  });
}

/** Warm pool instances carry their config's warm pool id as their pool tag (`@warm#config`, see lambda/core/warm-pool.ts). */
export function isWarmPoolId(poolId: string | undefined): boolean {
  return poolId?.startsWith('@warm#') ?? false;
}

/** Milliseconds as seconds with one decimal: `12.3 s`. */
export const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** The report as the lines `npm run sandbox` prints. */
export function summary(report: SandboxReport): string {
  const { jobs, latencyMs: { queuedToLaunch: launch, queuedToStarted: started }, launches, leaks, api } = report;
  const rows: Array<[string, string]> = [
    ['jobs', `${jobs.total} total, ${jobs.succeeded} succeeded, ${jobs.failed} failed, ${jobs.cancelled} cancelled, ${jobs.rerun} re-run, ${jobs.neverStarted} never started`],
    ['queued → launch', `p50 ${seconds(launch.p50)}, p95 ${seconds(launch.p95)}, max ${seconds(launch.max)}`],
    ['queued → started', `p50 ${seconds(started.p50)}, p95 ${seconds(started.p95)}, max ${seconds(started.max)}`],
    ['launches', `${launches.instances} instances (${launches.spot} spot, ${launches.onDemand} on-demand), ${launches.capacityErrors} capacity errors`],
    ['job instances', `${report.jobStarts.warm} warm starts, ${report.jobStarts.cold} cold launches; ${report.warmPools.launched} launched into warm pools`
      + `, parked at the end: ${Object.entries(report.warmPools.parkedAtEnd).map(([c, n]) => `${c} ${n}`).join(', ') || 'none'}`],
    ['jobs ran on', Object.entries(report.ranOn).map(([c, n]) => `${c} ${n}`).join(', ') || 'none'],
    ['cost tags', `${report.costTags.tagged} of ${report.costTags.jobsRun} jobs' instances and volumes carry their repository, workflow and config`],
    ['job hooks', `started ${report.hooks.started.ran} (${report.hooks.started.failed} failed), completed ${report.hooks.completed.ran} (${report.hooks.completed.failed} failed)`
      + `; ${report.hooks.downloads.ok} downloaded from S3`],
    ['leaks', `${leaks.instances} instances, ${leaks.runners} runner registrations, ${leaks.queuedJobs} queued jobs`],
    ['GitHub API calls', `${api.github.total} (${(api.github.total / Math.max(1, jobs.total)).toFixed(2)} per job)`],
    ['EC2 API calls', `${api.ec2.total}`],
    ['functions', Object.entries(report.functions).filter(([, c]) => c.invocations > 0)
      .map(([name, c]) => `${name} ${c.invocations} (${c.coldStarts} cold, peak ${c.peakConcurrency})`).join(', ')],
    ['faults', Object.entries(report.faults).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(', ') || 'none'],
    ['wall time', seconds(report.wallMs)],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join('\n');
}
