// Drives a scenario through a running sandbox: queues its jobs on the simulated GHES as they
// arrive, cancels some, waits for every job to end and for the drain time, then counts.
import { buildReport, JobAttempt, PoolPeaks, poolOfJob, SandboxReport } from './report';
import { RunningSandbox } from './system';
import { TAG_POOL } from '../src/contracts/instance-tags';

export interface Progress {
  readonly simulatedMs: number;
  readonly arrived: number;
  readonly total: number;
  readonly queued: number;
  readonly booting: number;
  readonly running: number;
  readonly done: number;
}

export interface DriveOptions {
  readonly onProgress?: (progress: Progress) => void;
  /** Wall-clock ms between progress reports. */
  readonly progressEveryMs?: number;
  /** Give up waiting for jobs after this many simulated ms beyond the last arrival. */
  readonly timeoutMs?: number;
}

export async function driveScenario(sandbox: RunningSandbox, options: DriveOptions = {}): Promise<SandboxReport> {
  const { scenario, ghes, clock } = sandbox;
  const wallStart = Date.now();
  const simStart = clock.now();
  const random = sandbox.random.fork('jobs');
  const total = scenario.jobs.reduce((n, j) => n + j.count, 0);
  let arrived = 0;
  const arrivals: Promise<void>[] = [];
  for (const spec of scenario.jobs) {
    for (let i = 0; i < spec.count; i++) {
      const at = spec.arrival.spreadMs > 0 ? random.integer(0, spec.arrival.spreadMs) : 0;
      const cancel = random.chance(spec.cancelRate);
      const cancelAfter = random.integer(1_000, 20_000);
      arrivals.push(clock.sleep(at).then(() => {
        const { jobIds } = ghes.createWorkflowRun({ repo: spec.repo, jobs: [{ labels: spec.labels, durationMs: spec.durationMs, outcome: 'success' }] });
        arrived++;
        if (cancel) {
          clock.after(cancelAfter, () => {
            if (ghes.job(jobIds[0])?.status === 'queued') ghes.cancelJob(jobIds[0]);
          });
        }
      }));
    }
  }

  const progress = (): Progress => {
    const jobs = ghes.jobs();
    return {
      simulatedMs: clock.now() - simStart,
      arrived,
      total,
      queued: jobs.filter((j) => j.status === 'queued').length,
      booting: sandbox.host.booting,
      running: jobs.filter((j) => j.status === 'in_progress').length,
      done: jobs.filter((j) => j.status === 'completed').length,
    };
  };
  const ticker = setInterval(() => options.onProgress?.(progress()), options.progressEveryMs ?? 1000);
  const peaks = new Map<string, PoolPeaks>();
  let sampling = true;
  const sample = () => {
    if (!sampling) return;
    samplePools(sandbox, peaks);
    clock.after(POOL_SAMPLE_MS, sample);
  };
  sample();
  try {
    await Promise.all(arrivals);
    const deadline = clock.now() + (options.timeoutMs ?? 60 * 60_000);
    while (clock.now() < deadline) {
      const jobs = ghes.jobs();
      if (jobs.every((j) => j.status === 'completed' && (j.rerunAs === undefined || ghes.job(j.rerunAs)?.status === 'completed'))) break;
      await clock.sleep(2_000);
    }
    options.onProgress?.(progress());
    // Instances power off and terminate, registrations are removed: wait until nothing is left, for
    // at most drainMs of simulated time, or DRAIN_WALL_MS of wall time if that ends later (on a busy
    // machine the functions' work lags the scaled clock). The leaks the report counts are what is
    // still there then.
    const drainDeadline = clock.now() + scenario.drainMs;
    const wallDeadline = Date.now() + DRAIN_WALL_MS;
    while ((clock.now() < drainDeadline || Date.now() < wallDeadline) && hasLeaks(leaksOf(sandbox))) await clock.sleep(2_000);
  } finally {
    clearInterval(ticker);
    sampling = false;
  }
  options.onProgress?.(progress());
  return report(sandbox, Object.fromEntries([...peaks].sort(([a], [b]) => a.localeCompare(b))), Date.now() - wallStart);
}

/** The least wall time the drain waits for leaks to go before it counts them. */
const DRAIN_WALL_MS = 120_000;

/** Simulated ms between samples of the pools' instances and demand. */
const POOL_SAMPLE_MS = 5_000;

/**
 * Live instances per pool against the pool's demand (queued and running jobs), as GitHub and EC2 see
 * them. An instance whose runner has finished its one job is powering off, not spare capacity: it
 * counts toward the pool's instances but not its excess (how long it takes depends on the machine).
 */
function samplePools(sandbox: RunningSandbox, peaks: Map<string, PoolPeaks>): void {
  const prefix = sandbox.runnerNamePrefix;
  const finished = new Set(sandbox.ghes.jobs().filter((j) => j.status === 'completed' && j.runnerName).map((j) => j.runnerName));
  const live = new Map<string, number>();
  const spare = new Map<string, number>();
  for (const instance of sandbox.ec2.instances()) {
    const pool = instance.tags[TAG_POOL];
    if (!pool || (instance.state !== 'pending' && instance.state !== 'running')) continue;
    live.set(pool, (live.get(pool) ?? 0) + 1);
    if (!finished.has(`${prefix}${instance.instanceId}`)) spare.set(pool, (spare.get(pool) ?? 0) + 1);
  }
  const demand = new Map<string, number>();
  for (const job of sandbox.ghes.jobs()) {
    if (job.status === 'completed') continue;
    const pool = poolOfJob(job.labels, sandbox.scenario, sandbox.org);
    if (pool) demand.set(pool, (demand.get(pool) ?? 0) + 1);
  }
  for (const [pool, instances] of live) {
    const known = peaks.get(pool) ?? { peakInstances: 0, peakExcess: 0 };
    peaks.set(pool, {
      peakInstances: Math.max(known.peakInstances, instances),
      peakExcess: Math.max(known.peakExcess, (spare.get(pool) ?? 0) - (demand.get(pool) ?? 0)),
    });
  }
}

/** What is left that should not be: instances not terminated, our runner registrations, queued jobs. */
function leaksOf(sandbox: RunningSandbox): SandboxReport['leaks'] {
  const prefix = sandbox.runnerNamePrefix;
  return {
    instances: sandbox.ec2.instances().filter((i) => i.state !== 'terminated').length,
    runners: sandbox.ghes.runners().filter((r) => r.name.startsWith(prefix)).length,
    queuedJobs: sandbox.ghes.jobs().filter((j) => j.status === 'queued').length,
  };
}

function hasLeaks(leaks: SandboxReport['leaks']): boolean {
  return leaks.instances + leaks.runners + leaks.queuedJobs > 0;
}

function report(sandbox: RunningSandbox, pools: Record<string, PoolPeaks>, wallMs: number): SandboxReport {
  const { ghes, ec2, scenario } = sandbox;
  const attempts: JobAttempt[] = ghes.jobs().map((j) => ({
    id: j.id,
    repo: j.repo,
    labels: j.labels,
    status: j.status,
    conclusion: j.conclusion,
    createdAt: j.createdAt,
    startedAt: j.startedAt,
    runnerName: j.runnerName,
    rerunAs: j.rerunAs,
  }));
  const ec2Calls = ec2.apiCalls();
  const capacityCodes = ['InsufficientInstanceCapacity', 'UnfulfillableCapacity', 'MaxSpotInstanceCountExceeded', 'VcpuLimitExceeded'];
  // Request-level refusals and per-override errors inside a 200 CreateFleet answer, by code.
  const launchErrors = ec2.launchErrorCodes();
  const capacityErrorsOf = (code: string) => (ec2Calls.errorsByCode[code] ?? 0) + (launchErrors[code] ?? 0);
  const github = ghes.apiCalls();
  return buildReport({
    scenario,
    iam: { decisions: sandbox.iam.decisions, denied: { ...sandbox.iam.denials }, messages: { ...sandbox.iam.denialMessages } },
    org: sandbox.org,
    attempts,
    instances: sandbox.launches,
    capacityErrors: capacityCodes.reduce((n, code) => n + capacityErrorsOf(code), 0),
    leaks: leaksOf(sandbox),
    github: { total: github.total, byRoute: github.byRoute },
    ec2: { total: ec2Calls.total, byAction: ec2Calls.byAction },
    pools,
    boot: { ...sandbox.host.boots, logStreams: sandbox.logs.logStreams(sandbox.stack.runnerLogGroup).size },
    endpoints: sandbox.privateApi
      ? {
        network: 'private',
        webhook: sandbox.privateApi.counts.byPath['/webhook'] ?? 0,
        register: sandbox.privateApi.counts.byPath['/register'] ?? 0,
        refused: { ...sandbox.privateApi.counts.refused },
      }
      : {
        network: 'public',
        webhook: sandbox.httpApi!.counts.invocations,
        register: sandbox.registerUrl!.invocations,
        refused: { ...sandbox.registerUrl!.refused },
      },
    faults: {
      ec2Throttled: ec2Calls.throttled,
      ...Object.fromEntries(capacityCodes.map((c) => [`ec2${c}`, capacityErrorsOf(c)])),
      webhookDeliveriesFailed: ghes.deliveries().filter((d) => d.statusCode < 200 || d.statusCode >= 300).length,
      webhookDeliveries: ghes.deliveries().length,
      functionCrashes: Object.values(sandbox.crashes).reduce((a, b) => a + b, 0),
      spotInterruptions: ec2.events().filter((e) => (e as { 'detail-type'?: string })['detail-type'] === 'EC2 Spot Instance Interruption Warning').length,
    },
    wallMs,
  });
}
