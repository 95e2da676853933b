// Drives a scenario through a running sandbox: queues its jobs on the simulated GHES as they
// arrive, cancels some, waits for every job to end and for the drain time, then counts.
import { EC2Client, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import type { JobView } from './ghes';
import { LaunchTiming } from './launch-timing';
import { buildReport, isWarmPoolId, PoolPeaks, poolOfJob, SandboxReport } from './report';
import { RunningSandbox } from './system';
import { costTagsOf } from '../lambda/core/cost-tags';
import { instanceIdOfRunner } from '../lambda/core/runner';
import { TAG_CONFIG, TAG_POOL } from '../src/contracts/instance-tags';

export type Progress = ReturnType<typeof progressOf>;

/** Simulated ms the driver waits for jobs to end after the last arrival. */
const JOBS_TIMEOUT_MS = 60 * 60_000;
/** Simulated ms a failed job is given to be re-run: its failure may reach the webhook only by the reconciler's redelivery. */
const RERUN_GRACE_MS = 20 * 60_000;
/** The least wall time the drain waits for leaks to go before it counts them. */
const DRAIN_WALL_MS = 120_000;
/** Simulated ms between samples of the pools' instances and demand. */
const POOL_SAMPLE_MS = 5_000;
/** The codes of EC2's capacity and quota refusals. */
const CAPACITY_CODES = ['InsufficientInstanceCapacity', 'UnfulfillableCapacity', 'MaxSpotInstanceCountExceeded', 'VcpuLimitExceeded'];

/** Runs the scenario's jobs; `onProgress` hears how far it is every wall second. */
export async function driveScenario(sandbox: RunningSandbox, onProgress: (progress: Progress) => void = () => undefined): Promise<SandboxReport> {
  const { scenario, ghes, clock } = sandbox;
  const wallStart = Date.now();
  const simStart = clock.now();
  const timing = new LaunchTiming(sandbox);
  const random = sandbox.random.fork('jobs');
  let arrived = 0;
  const arrivals = scenario.jobs.flatMap((spec) => Array.from({ length: spec.count }, () => {
    const at = spec.arrival.afterMs + (spec.arrival.spreadMs > 0 ? random.integer(0, spec.arrival.spreadMs) : 0);
    const cancel = random.chance(spec.cancelRate);
    const cancelAfter = random.integer(1_000, 20_000);
    return clock.sleep(at).then(() => {
      const run = { repo: spec.repo, workflowName: spec.workflow, jobs: [{ labels: spec.labels, durationMs: spec.durationMs, outcome: 'success' as const }] };
      const [jobId] = ghes.createWorkflowRun(run).jobIds;
      arrived++;
      if (cancel) clock.after(cancelAfter, () => { if (ghes.job(jobId)?.status === 'queued') ghes.cancelJob(jobId); });
    });
  }));

  const { terminateParked, atMs } = scenario.faults.warmPool;
  let parkedTerminated = 0;
  const terminations = terminateParked === 0 ? Promise.resolve() : clock.sleep(atMs).then(async () => {
    parkedTerminated = await terminateParkedInstances(sandbox, terminateParked);
  });

  const progress = () => progressOf(sandbox, clock.now() - simStart, arrived, arrivals.length);
  const ticker = setInterval(() => onProgress(progress()), 1000);
  const peaks = new Map<string, PoolPeaks>();
  let sampling = true;
  const sample = () => {
    if (!sampling) return;
    samplePools(sandbox, peaks);
    clock.after(POOL_SAMPLE_MS, sample);
  };
  sample();
  try {
    await Promise.all([...arrivals, terminations]);
    const deadline = clock.now() + JOBS_TIMEOUT_MS;
    // A job that failed may yet be re-run by the control plane (its runner was spot-interrupted):
    // its failure is final only once RERUN_GRACE_MS of simulated time has passed without a re-run.
    const settled = (job: JobView | undefined): boolean => job !== undefined && job.status === 'completed' && (job.rerunAs !== undefined
      ? settled(ghes.job(job.rerunAs))
      : job.conclusion !== 'failure' || clock.now() - job.completedAt! >= RERUN_GRACE_MS);
    while (clock.now() < deadline && !ghes.jobs().every(settled)) await clock.sleep(2_000);
    onProgress(progress());
    // Wait until nothing is left, for at most drainMs simulated, or DRAIN_WALL_MS wall if later (on a busy machine
    // the functions lag the scaled clock); what is still there then is leaked.
    const drainDeadline = clock.now() + scenario.drainMs;
    const wallDeadline = Date.now() + DRAIN_WALL_MS;
    const leaking = () => Object.values(leaksOf(sandbox)).some((n) => n > 0);
    while ((clock.now() < drainDeadline || Date.now() < wallDeadline) && leaking()) await clock.sleep(2_000);
  } finally {
    clearInterval(ticker);
    sampling = false;
    timing.stop();
  }
  onProgress(progress());
  return report(sandbox, Object.fromEntries([...peaks].sort(([a], [b]) => a.localeCompare(b))), timing, Date.now() - wallStart, parkedTerminated);
}

/**
 * Terminates up to `count` parked warm pool instances through EC2's API, as a person (or an EC2
 * retirement) would, behind the control plane's back; its key is no role's, so IAM does not decide it.
 */
async function terminateParkedInstances(sandbox: RunningSandbox, count: number): Promise<number> {
  const parked = sandbox.ec2.instances().filter((i) => i.state === 'stopped' && isWarmPoolId(i.tags[TAG_POOL])).slice(0, count);
  if (parked.length === 0) return 0;
  const client = new EC2Client({ endpoint: sandbox.ec2.url, region: sandbox.ec2.region, credentials: { accessKeyId: 'AKIDOPERATOR', secretAccessKey: 'operator' } });
  try {
    await client.send(new TerminateInstancesCommand({ InstanceIds: parked.map((i) => i.instanceId) }));
  } finally {
    client.destroy();
  }
  return parked.length;
}

function progressOf(sandbox: RunningSandbox, simulatedMs: number, arrived: number, total: number) {
  const count = (status: string) => sandbox.ghes.jobs().filter((j) => j.status === status).length;
  return { simulatedMs, arrived, total, queued: count('queued'), booting: sandbox.host.booting, running: count('in_progress'), done: count('completed') };
}

/**
 * Live instances per pool against its demand (queued and running jobs). An instance whose runner finished
 * its job is powering off, not spare: it counts toward the pool's instances but not its excess.
 */
function samplePools(sandbox: RunningSandbox, peaks: Map<string, PoolPeaks>): void {
  const jobs = sandbox.ghes.jobs();
  const finished = new Set(jobs.filter((j) => j.status === 'completed' && j.runnerName).map((j) => j.runnerName));
  const add = (counts: Map<string, number>, pool: string) => counts.set(pool, (counts.get(pool) ?? 0) + 1);
  const live = new Map<string, number>();
  const spare = new Map<string, number>();
  for (const instance of sandbox.ec2.instances()) {
    const pool = instance.tags[TAG_POOL];
    if (!pool || (instance.state !== 'pending' && instance.state !== 'running')) continue;
    add(live, pool);
    if (!finished.has(`${sandbox.runnerNamePrefix}${instance.instanceId}`)) add(spare, pool);
  }
  const demand = new Map<string, number>();
  for (const job of jobs) {
    const pool = job.status === 'completed' ? undefined : poolOfJob(job.labels, sandbox.scenario, sandbox.org);
    if (pool) add(demand, pool);
  }
  for (const [pool, instances] of live) {
    const known = peaks.get(pool) ?? { peakInstances: 0, peakExcess: 0 };
    peaks.set(pool, {
      peakInstances: Math.max(known.peakInstances, instances),
      peakExcess: Math.max(known.peakExcess, (spare.get(pool) ?? 0) - (demand.get(pool) ?? 0)),
    });
  }
}

/**
 * A config's warm pool instances parked (stopped) at the end, up to its size: intentional supply, kept
 * ahead of the next jobs, not a leak.
 */
function parkedWarm(sandbox: RunningSandbox): { byConfig: Record<string, number>; instanceIds: Set<string> } {
  const byConfig: Record<string, number> = {};
  const instanceIds = new Set<string>();
  for (const config of sandbox.scenario.runnerConfigs.filter((c) => c.warmPool)) {
    const parked = sandbox.ec2.instances()
      .filter((i) => i.state === 'stopped' && isWarmPoolId(i.tags[TAG_POOL]) && i.tags[TAG_POOL].endsWith(`#${config.name}`))
      .slice(0, config.warmPool!.size);
    byConfig[config.name] = parked.length;
    for (const i of parked) instanceIds.add(i.instanceId);
  }
  return { byConfig, instanceIds };
}

/** Per runner config, the job attempts a runner of one of its instances ran (the instance's pool tag names the config). */
function jobsByConfig(sandbox: RunningSandbox): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const job of sandbox.ghes.jobs()) {
    const instanceId = instanceIdOfRunner(sandbox.runnerNamePrefix, job.runnerName);
    const pool = instanceId === undefined ? undefined : sandbox.ec2.instance(instanceId)?.tags[TAG_POOL];
    if (pool !== undefined) {
      const config = pool.slice(pool.lastIndexOf('#') + 1);
      counts[config] = (counts[config] ?? 0) + 1;
    }
  }
  return counts;
}

/** The job attempts that ran on our instances, and whether the instance and its root volume carry the attempt's cost tags. */
function costTagsOfJobs(sandbox: RunningSandbox): SandboxReport['costTags'] {
  let jobsRun = 0;
  const untagged: number[] = [];
  for (const job of sandbox.ghes.jobs()) {
    const instanceId = instanceIdOfRunner(sandbox.runnerNamePrefix, job.runnerName);
    const instance = instanceId === undefined ? undefined : sandbox.ec2.instance(instanceId);
    if (!instance) continue;
    jobsRun++;
    const pool = instance.tags[TAG_POOL] ?? '';
    const expected = { ...costTagsOf({ repo: job.repo, workflowName: job.workflowName }), [TAG_CONFIG]: pool.slice(pool.lastIndexOf('#') + 1) };
    const carries = (tags: Readonly<Record<string, string>>) => Object.entries(expected).every(([key, value]) => tags[key] === value);
    if (!carries(instance.tags) || !carries(instance.rootVolume.tags)) untagged.push(job.id);
  }
  return { jobsRun, tagged: jobsRun - untagged.length, untagged };
}

/** What is left that should not be: instances not terminated (but a warm pool's parked ones), our runner registrations, queued jobs. */
function leaksOf(sandbox: RunningSandbox): SandboxReport['leaks'] {
  const { instanceIds: parked } = parkedWarm(sandbox);
  return {
    instances: sandbox.ec2.instances().filter((i) => i.state !== 'terminated' && !parked.has(i.instanceId)).length,
    runners: sandbox.ghes.runners().filter((r) => r.name.startsWith(sandbox.runnerNamePrefix)).length,
    queuedJobs: sandbox.ghes.jobs().filter((j) => j.status === 'queued').length,
  };
}

function report(
  sandbox: RunningSandbox, pools: Record<string, PoolPeaks>, timing: LaunchTiming, wallMs: number, parkedTerminated: number,
): SandboxReport {
  const { ghes, ec2, iam, privateApi, httpApi, registerUrl } = sandbox;
  const ec2Calls = ec2.apiCalls();
  // Request-level refusals and per-override errors inside a 200 CreateFleet answer, by code.
  const launchErrors = ec2.launchErrorCodes();
  const capacityErrorsOf = (code: string) => (ec2Calls.errorsByCode[code] ?? 0) + (launchErrors[code] ?? 0);
  const deliveries = ghes.deliveries();
  const github = ghes.apiCalls();
  return buildReport({
    scenario: sandbox.scenario,
    org: sandbox.org,
    attempts: ghes.jobs(),
    instances: sandbox.launches,
    starts: sandbox.starts,
    warmPool: parkedWarm(sandbox).byConfig,
    ranOn: jobsByConfig(sandbox),
    costTags: costTagsOfJobs(sandbox),
    capacityErrors: CAPACITY_CODES.reduce((n, code) => n + capacityErrorsOf(code), 0),
    leaks: leaksOf(sandbox),
    github: { total: github.total, byRoute: github.byRoute },
    ec2: { total: ec2Calls.total, byAction: ec2Calls.byAction },
    pools,
    // An instance's own stream is named after it; the runner's logs (debug.runnerLogs) go to `<instance>/<file>` streams.
    boot: { ...sandbox.host.boots, logStreams: [...sandbox.logs.logStreams(sandbox.stack.runnerLogGroup).keys()].filter((name) => !name.includes('/')).length },
    hookDownloads: { ok: sandbox.s3.gets.ok, refused: { ...sandbox.s3.gets.refused } },
    functions: sandbox.functions(),
    metrics: sandbox.metrics(),
    endpoints: privateApi
      ? { network: 'private', webhook: privateApi.counts.byPath['/webhook'] ?? 0, register: privateApi.counts.byPath['/register'] ?? 0, refused: { ...privateApi.counts.refused } }
      : { network: 'public', webhook: httpApi!.counts.invocations, register: registerUrl!.invocations, refused: { ...registerUrl!.refused } },
    timing: timing.summary(ghes.jobs(), sandbox.runnerNamePrefix),
    usage: {
      dynamodb: { ...sandbox.dynamoProxy.operations },
      sqs: sandbox.sqs.apiCalls().byAction,
    },
    iam: { decisions: iam.decisions, denied: { ...iam.denials }, messages: { ...iam.denialMessages } },
    faults: {
      ec2Throttled: ec2Calls.throttled,
      ...Object.fromEntries(CAPACITY_CODES.map((c) => [`ec2${c}`, capacityErrorsOf(c)])),
      webhookDeliveriesFailed: deliveries.filter((d) => d.statusCode < 200 || d.statusCode >= 300).length,
      webhookDeliveries: deliveries.length,
      functionCrashes: Object.values(sandbox.crashes).reduce((a, b) => a + b, 0),
      warmInstancesTerminated: parkedTerminated,
      spotInterruptions: ec2.events().filter((e) => (e as { 'detail-type'?: string })['detail-type'] === 'EC2 Spot Instance Interruption Warning').length,
    },
    wallMs,
    peakLiveInstances: ec2.peakLiveInstances(),
  });
}
