// Drives a scenario through a running sandbox: queues its jobs on the simulated GHES as they
// arrive, cancels some, waits for every job to end and for the drain time, then counts.
import { buildReport, JobAttempt, SandboxReport } from './report';
import { RunningSandbox } from './system';

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
  try {
    await Promise.all(arrivals);
    const deadline = clock.now() + (options.timeoutMs ?? 60 * 60_000);
    while (clock.now() < deadline) {
      const jobs = ghes.jobs();
      if (jobs.every((j) => j.status === 'completed' && (j.rerunAs === undefined || ghes.job(j.rerunAs)?.status === 'completed'))) break;
      await clock.sleep(2_000);
    }
    options.onProgress?.(progress());
    await clock.sleep(scenario.drainMs);
  } finally {
    clearInterval(ticker);
  }
  options.onProgress?.(progress());
  return report(sandbox, Date.now() - wallStart);
}

function report(sandbox: RunningSandbox, wallMs: number): SandboxReport {
  const { ghes, ec2, scenario } = sandbox;
  const prefix = process.env.RUNNER_NAME_PREFIX ?? '';
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
  const instances = ec2.instances();
  const ec2Calls = ec2.apiCalls();
  const capacityCodes = ['InsufficientInstanceCapacity', 'UnfulfillableCapacity', 'MaxSpotInstanceCountExceeded', 'VcpuLimitExceeded'];
  const github = ghes.apiCalls();
  return buildReport({
    scenario,
    org: sandbox.org,
    attempts,
    instances: sandbox.launches,
    capacityErrors: capacityCodes.reduce((n, code) => n + (ec2Calls.errorsByCode[code] ?? 0) + (ec2.launchErrorCodes()[code] ?? 0), 0),
    leaks: {
      instances: instances.filter((i) => i.state !== 'terminated').length,
      runners: ghes.runners().filter((r) => r.name.startsWith(prefix)).length,
      queuedJobs: attempts.filter((a) => a.status === 'queued').length,
    },
    github: { total: github.total, byRoute: github.byRoute },
    ec2: { total: ec2Calls.total, byAction: ec2Calls.byAction },
    faults: {
      ec2Throttled: ec2Calls.throttled,
      ...Object.fromEntries(capacityCodes.map((c) => [`ec2${c}`, (ec2Calls.errorsByCode[c] ?? 0) + (ec2.launchErrorCodes()[c] ?? 0)])),
      webhookDeliveriesFailed: ghes.deliveries().filter((d) => d.statusCode < 200 || d.statusCode >= 300).length,
      webhookDeliveries: ghes.deliveries().length,
      functionCrashes: Object.values(sandbox.crashes).reduce((a, b) => a + b, 0),
      spotInterruptions: ec2.events().filter((e) => (e as { 'detail-type'?: string })['detail-type'] === 'EC2 Spot Instance Interruption Warning').length,
    },
    wallMs,
  });
}
