// The shipped scenarios (sandbox/scenarios/), each run end to end by `npm run sandbox`'s own CLI in
// a process of its own (as a user runs them), held to the invariants every run must keep, on any
// machine however busy: outcomes and counts. Latencies and surplus instances depend on the
// machine's speed; `npm run bench` holds them to the scenarios' bounds. These runs take minutes, so
// they are a task of their own (`npx projen test:scenarios`), which CI runs after `npm test`.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { SandboxReport } from '../../sandbox/report';
import { parseScenario, Scenario } from '../../sandbox/scenario';
import { runScenarioProcess } from '../../sandbox/scenario-process';

jest.setTimeout(1_200_000);

const root = path.join(__dirname, '..', '..');
const scenarioFile = (name: string) => path.join(root, 'sandbox', 'scenarios', `${name}.json`);
const load = (name: string): Scenario => parseScenario(JSON.parse(fs.readFileSync(scenarioFile(name), 'utf8')));
const run = (name: string): Promise<SandboxReport> => runScenarioProcess(scenarioFile(name));

/** What every run promises, whatever its faults. */
function expectInvariants(scenario: Scenario, report: SandboxReport): void {
  const jobs = scenario.jobs.reduce((n, j) => n + j.count, 0);
  // Every job not cancelled succeeded (an interrupted one after its re-run); none was stranded.
  expect(report.jobs.total).toBe(jobs);
  expect(report.jobs.succeeded + report.jobs.cancelled).toBe(jobs);
  expect(report.jobs.failed).toBe(0);
  expect(report.jobs.neverStarted).toBe(0);
  // Nothing left behind.
  expect(report.leaks).toEqual({ instances: 0, runners: 0, queuedJobs: 0 });
  // No pool ran more instances than its maxRunners.
  for (const [pool, peaks] of Object.entries(report.pools)) {
    const config = scenario.runnerConfigs.find((c) => pool.endsWith(`#${c.name}`))!;
    expect({ pool, peakInstances: Math.min(peaks.peakInstances, config.maxRunners) }).toEqual({ pool, peakInstances: peaks.peakInstances });
  }
  // Every metric line the functions wrote is one CloudWatch can extract.
  expect({ invalid: report.metrics?.invalid, first: report.metrics?.firstInvalid }).toEqual({ invalid: 0, first: undefined });
  expect(report.metrics?.documents).toBeGreaterThan(0);
}

test('demo: jobs over three runner configs with a few faults all run, with the real bootstrap on every instance', async () => {
  const scenario = load('demo');
  const report = await run('demo');

  expectInvariants(scenario, report);
  // The demo cancels nothing: every one of its jobs succeeds.
  expect(report.jobs.succeeded).toBe(report.jobs.total);
  expect(report.boot.inProcess).toBe(0);
  expect(report.boot.bootstrap).toBeGreaterThanOrEqual(report.jobs.succeeded);
  // Each instance whose runner ran its job shipped its boot log as it powered off.
  expect(report.boot.logStreams).toBeGreaterThanOrEqual(report.jobs.succeeded);
  expect(report.boot.logStreams).toBeLessThanOrEqual(report.boot.bootstrap);
  // The arm64 config is ON_DEMAND_ONLY, the large one SPOT_ONLY: both markets were used.
  expect(report.launches.onDemand).toBeGreaterThanOrEqual(5);
  expect(report.launches.spot).toBeGreaterThanOrEqual(5);
  // IAM decided every AWS call of the functions and the instances, and denied none.
  expect(report.iam.decisions).toBeGreaterThan(0);
  expect(report.iam.denied).toEqual({});
});

test('private: webhooks and registrations go through the private REST API only, the bootstrap signing for execute-api', async () => {
  const scenario = load('private');
  const report = await run('private');

  expectInvariants(scenario, report);
  expect(report.jobs.succeeded).toBe(report.jobs.total);
  // Every instance that booted ran the real bootstrap (curl --aws-sigv4 ...:execute-api against the
  // private route); an instance retired before it booted runs none, so there may be fewer boots than launches.
  expect(report.boot.inProcess).toBe(0);
  expect(report.boot.bootstrap).toBeGreaterThanOrEqual(report.jobs.succeeded);
  expect(report.endpoints.network).toBe('private');
  // Each delivery reached the webhook route; each job's runner got its config through the register route.
  expect(report.endpoints.webhook).toBe(report.faults.webhookDeliveries);
  expect(report.endpoints.register).toBeGreaterThanOrEqual(report.jobs.succeeded);
  // The resource policy, SigV4 and IAM refused nothing the product sent.
  expect(report.endpoints.refused).toEqual({});
  expect(report.iam.denied).toEqual({});
});

test('no-spot-role: in an account without the Spot service-linked role, spot jobs all run (the provisioner may create the role)', async () => {
  const scenario = load('no-spot-role');
  const report = await run('no-spot-role');

  expectInvariants(scenario, report);
  expect(report.jobs.succeeded).toBe(report.jobs.total);
  expect(report.launches.spot).toBeGreaterThanOrEqual(report.jobs.total);
  // IAM decided every call and denied none: the first spot launch created the role.
  expect(report.iam.decisions).toBeGreaterThan(0);
  expect(report.iam.denied).toEqual({});
});

test('image-wait: jobs queued before the first runner image exists wait for it, launch nothing meanwhile, then all run', async () => {
  const scenario = load('image-wait');
  const report = await run('image-wait');

  expectInvariants(scenario, report);
  expect(report.jobs.succeeded).toBe(report.jobs.total);
  // Every job arrived within 5 s of the start and none launched before the image parameter was written.
  expect(report.latencyMs.queuedToLaunch.p50).toBeGreaterThanOrEqual(scenario.imageReadyAfterMs - 5_000);
  // One instance per job: the register endpoint re-reads idle runners after counting queued jobs, so a
  // job starting meanwhile does not make it refuse a runner the pool needs (and launch again).
  expect(report.launches.instances).toBe(report.jobs.total);
});

describe('config-overrides: a config with its own AMI, io2 volume, security group and instance role runs its jobs', () => {
  let report: SandboxReport;
  beforeAll(async () => {
    report = await run('config-overrides');
  });

  test('every job runs, on an instance of its own config, and nothing leaks or is denied', () => {
    expectInvariants(load('config-overrides'), report);
    expect(report.ranOn).toEqual({ 'linux-x64': 3, 'big-disk': 3 });
    expect(report.iam.denied).toEqual({});
  });

  test('EC2 launched the config\'s instances with its AMI, its io2 volume, the shared and its own security group, and its own role', () => {
    const [shared] = report.launchedWith['linux-x64'];
    const own = report.launchedWith['big-disk'];
    expect(own).toHaveLength(1);
    // At least one per job (a surplus instance, retired unused, is launched alike).
    expect(own[0]).toMatchObject({ imageId: 'ami-0b16b16b16b16b16b', rootVolume: { sizeGiB: 200, volumeType: 'io2', iops: 8000 } });
    expect(own[0].instances).toBeGreaterThanOrEqual(3);
    expect(own[0].securityGroupIds).toHaveLength(2);
    expect(own[0].securityGroupIds).toEqual(expect.arrayContaining(shared.securityGroupIds));
    expect(own[0].role).toMatch(/FleetRolebigdisk/);
    expect(own[0].role).not.toBe(shared.role);
    // The config without overrides: the pipeline's image, the shared role and group, the deployment's gp3 volume.
    expect(report.launchedWith['linux-x64']).toHaveLength(1);
    expect(shared).toMatchObject({ rootVolume: { sizeGiB: 30, volumeType: 'gp3' } });
    expect(shared.securityGroupIds).toHaveLength(1);
    expect(shared.imageId).not.toBe(own[0].imageId);
  });

  test('the register endpoint let in the instances of both roles: the Function URL refused no caller', () => {
    // Each job ran on a runner registered with the JIT config the endpoint handed its instance.
    expect(report.endpoints).toMatchObject({ network: 'public', refused: {} });
    expect(report.endpoints.register).toBeGreaterThanOrEqual(6);
  });
});

test('cost-tags: every instance that ran a job, and its root volume, carries the job\'s repository, workflow and config; one CreateTags per job', async () => {
  const scenario = load('cost-tags');
  const report = await run('cost-tags');

  expectInvariants(scenario, report);
  expect(report.jobs.succeeded).toBe(report.jobs.total);
  expect(report.costTags).toEqual({ jobsRun: report.jobs.total, tagged: report.jobs.total, untagged: [] });
  expect(report.api.ec2.byAction.CreateTags).toBe(report.jobs.total);
  expect(report.iam.denied).toEqual({});
});

test('routing-tie: [self-hosted, linux] jobs, which configs [linux, x64] and [linux, arm64] match equally well, all run on linux-x64, listed first', async () => {
  const scenario = load('routing-tie');
  const report = await run('routing-tie');

  expectInvariants(scenario, report);
  expect(report.jobs.succeeded).toBe(report.jobs.total);
  // The SSM simulator lists the parameters by name, linux-arm64 first (AWS documents no order): the
  // functions route by the order the documents carry, not by the listing.
  expect(report.ranOn).toEqual({ 'linux-x64': report.jobs.total });
  expect(report.iam.denied).toEqual({});
});

test('routing-tie with priority 1 on linux-arm64, listed second: the same jobs all run on linux-arm64', async () => {
  const doc = JSON.parse(fs.readFileSync(scenarioFile('routing-tie'), 'utf8'));
  doc.runnerConfigs.find((c: { name: string }) => c.name === 'linux-arm64').priority = 1;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'routing-tie-'));
  try {
    const file = path.join(dir, 'routing-tie-priority.json');
    fs.writeFileSync(file, JSON.stringify(doc));
    const report = await runScenarioProcess(file);

    expectInvariants(parseScenario(doc), report);
    expect(report.jobs.succeeded).toBe(report.jobs.total);
    expect(report.ranOn).toEqual({ 'linux-arm64': report.jobs.total });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('burst: 500 jobs within 10 s all run, the hot path at about one GitHub call per job', async () => {
  const scenario = load('burst');
  const report = await run('burst');

  expectInvariants(scenario, report);
  expect(report.jobs.total).toBe(500);
  // The hot path calls GitHub about once per job: the JIT config, plus tokens and installation ids
  // within a fifth of a call per job. A runner may register and then lose its job to another runner
  // (the race the register function's demand check narrows but cannot close), so JIT configs can
  // exceed jobs by a few; the budget counts them. Recovery calls (deliveries listed and redelivered
  // after a webhook answered too late, surplus registrations removed) grow when the machine is
  // busy, since the functions' environments share its cores here: `npm run bench` reports the total.
  const calls = report.api.github.byRoute;
  const hotPath = (calls['POST /orgs/{org}/actions/runners/generate-jitconfig'] ?? 0)
    + (calls['POST /app/installations/{installation_id}/access_tokens'] ?? 0)
    + (calls['GET /orgs/{org}/installation'] ?? 0);
  expect(calls['POST /orgs/{org}/actions/runners/generate-jitconfig']).toBeGreaterThanOrEqual(500);
  expect(hotPath / report.jobs.total).toBeLessThanOrEqual(1.2);
  // A handful of CreateFleet calls launch hundreds of instances: several per call.
  expect(report.api.ec2.byAction.CreateFleet).toBeLessThan(report.launches.instances / 5);
  // A seeded sample booted with the real bootstrap script, the others in-process (a surplus
  // instance retired while pending never boots at all).
  expect(report.boot.bootstrap).toBeGreaterThan(0);
  expect(report.boot.inProcess).toBeGreaterThan(report.boot.bootstrap);
  expect(report.boot.bootstrap + report.boot.inProcess).toBeLessThanOrEqual(report.launches.instances);
  expect(report.boot.bootstrap + report.boot.inProcess).toBeGreaterThanOrEqual(report.jobs.succeeded);
});

test('chaos: with every fault on, every job not cancelled still succeeds and nothing is left behind', async () => {
  const scenario = load('chaos');
  const report = await run('chaos');

  expectInvariants(scenario, report);
  // The faults did happen.
  expect(report.faults.webhookDeliveriesFailed).toBeGreaterThan(0);
  expect(report.faults.functionCrashes).toBeGreaterThan(0);
  expect(report.faults.ec2Throttled).toBeGreaterThan(0);
  expect(report.launches.capacityErrors).toBeGreaterThan(0);
  expect(report.faults.spotInterruptions).toBeGreaterThan(0);
});

test('warm-pool: five jobs queued at once start the five stopped instances, the sixth launches cold, and the pool refills', async () => {
  const scenario = load('warm-pool');
  const report = await run('warm-pool');

  expectInvariants(scenario, report);
  expect(report.jobs.succeeded).toBe(6);
  // Every parked instance is claimed; the sixth job launches cold.
  expect(report.jobStarts).toEqual({ warm: 5, cold: 1 });
  // Five to fill the pool ahead of the jobs, five to refill it after them (more only if one failed to park in time).
  expect(report.warmPools.launched).toBeGreaterThanOrEqual(10);
  expect(report.warmPools.parkedAtEnd).toEqual({ 'linux-x64': 5 });
  expect(report.api.ec2.byAction.StartInstances).toBeGreaterThanOrEqual(1);
  // Warming up asks GitHub nothing: one JIT config per job, none for the ten warm-ups.
  expect(report.api.github.byRoute['POST /orgs/{org}/actions/runners/generate-jitconfig']).toBe(6);
  expect(report.iam.denied).toEqual({});
  // The product's own queued → started metrics (EMF): each started job counted once at most, warm and cold starts never more
  // than the sandbox saw of each (a job whose start the webhook saw before its runner was claimed is in JobWaitSeconds only).
  const samples = (name: string) => report.metrics?.metrics[name]?.samples ?? 0;
  expect(samples('JobWaitSeconds')).toBeLessThanOrEqual(6);
  expect(samples('JobWaitSecondsWarmStart')).toBeGreaterThan(0);
  expect(samples('JobWaitSecondsWarmStart')).toBeLessThanOrEqual(report.jobStarts.warm);
  expect(samples('JobWaitSecondsColdStart')).toBeLessThanOrEqual(report.jobStarts.cold);
  expect(samples('JobWaitSecondsWarmStart') + samples('JobWaitSecondsColdStart')).toBeLessThanOrEqual(samples('JobWaitSeconds'));
});

test('warm-pool-faults: parked instances terminated behind the pool\'s back and starts EC2 refuses are replaced, and every job runs', async () => {
  const scenario = load('warm-pool-faults');
  const report = await run('warm-pool-faults');

  expectInvariants(scenario, report);
  expect(report.jobs.succeeded).toBe(11);
  expect(report.faults.warmInstancesTerminated).toBe(2);
  expect(report.faults.ec2InsufficientInstanceCapacity).toBeGreaterThan(0);
  expect(report.jobStarts.warm).toBeGreaterThan(0);
  expect(report.jobStarts.cold).toBeGreaterThan(0);
  expect(report.jobStarts.warm + report.jobStarts.cold).toBeGreaterThanOrEqual(11);
  expect(report.warmPools.parkedAtEnd).toEqual({ 'linux-x64': 5 });
  expect(report.iam.denied).toEqual({});
});

describe('job-hooks: the real bootstrap installs each config\'s hooks (inline, or downloaded from S3), and the runner runs them around every job', () => {
  let report: SandboxReport;
  beforeAll(async () => {
    report = await run('job-hooks');
  });

  test('hooks run around each job: the started hook before, the completed hook after, on the same instance; the S3 asset ones downloaded by each instance', () => {
    // Four jobs of linux-hooked succeed; every instance booted with the real bootstrap.
    expect(report.jobs).toMatchObject({ total: 6, succeeded: 4, neverStarted: 0 });
    expect(report.boot.inProcess).toBe(0);
    const outputs = report.hooks.outputs;
    const hooked = outputs.filter((line) => line.includes('job-started hook: job'));
    expect(hooked).toHaveLength(4);
    for (const line of hooked) {
      // The started hook saw the job's variables; the completed hook found the marker it left on that runner.
      const [, runner, named] = /^Set up runner \((\S+)\) exit 0: job-started hook: job \S+ of octo-org\/app on (\S+)$/.exec(line)!;
      expect(named).toBe(runner);
      expect(outputs).toContain(`Complete runner (${runner}) exit 0: job-completed hook: the started hook left ${runner}`);
    }
    // linux-hooked's hooks are S3 assets: each of its four instances downloaded both, signed as the runner role, and S3 refused none.
    expect(report.hooks.downloads).toEqual({ ok: 8, refused: {} });
  });

  test('a failing started hook fails its job with the hook\'s output, and nothing leaks', () => {
    expect(report.jobs).toMatchObject({ failed: 2, cancelled: 0, rerun: 0 });
    expect(report.hooks).toMatchObject({ started: { ran: 6, failed: 2 }, completed: { ran: 6, failed: 0 } });
    const refused = report.hooks.outputs.filter((line) => line.includes('exit 3: job-started hook: the build cache is not mounted'));
    expect(refused).toHaveLength(2);
    expect(report.leaks).toEqual({ instances: 0, runners: 0, queuedJobs: 0 });
    expect(report.iam.denied).toEqual({});
  });
});

describe('fleet-cap: maxInstances 5 over four pools; 20 jobs, the last 15 arriving staggered while the first five hold every slot', () => {
  let scenario: Scenario;
  let report: SandboxReport;
  beforeAll(async () => {
    scenario = load('fleet-cap');
    report = await run('fleet-cap');
  });

  test('every job runs, nothing leaks, and the EC2 simulator never counted more than 5 instances live at once', () => {
    expectInvariants(scenario, report);
    expect(report.jobs.succeeded).toBe(20);
    // Live: pending, running, stopping or stopped, counted by the simulator at every transition.
    expect(report.fleet.maxInstances).toBe(5);
    expect(report.fleet.peakLiveInstances).toBeLessThanOrEqual(5);
    // The cap bound: the first five jobs took every slot.
    expect(report.fleet.peakLiveInstances).toBe(5);
    expect(report.iam.denied).toEqual({});
  });

  test('the jobs that waited on the cap start in the order they were queued, across pools', () => {
    // The rule: of two jobs of different pools that both waited for a slot, the one queued first
    // starts first, up to START_JITTER_MS — what two instances granted one after the other may
    // differ in boot and registration — far below the 60 s a slot takes to come round again.
    const START_JITTER_MS = 20_000;
    const byQueue = [...report.fleet.jobs].sort((a, b) => a.queuedAt - b.queuedAt);
    const [first, waited] = [byQueue.slice(0, 5), byQueue.slice(5)];
    // Those that waited: the 15 queued while the first five ran (each runs 180 s).
    const firstEnds = Math.min(...first.map((j) => j.startedAt)) + 180_000;
    expect(Math.max(...waited.map((j) => j.queuedAt))).toBeLessThan(firstEnds);
    expect(new Set(waited.map((j) => j.pool)).size).toBe(4);
    const inversions = waited.flatMap((x, i) => waited.slice(i + 1)
      .filter((y) => y.pool !== x.pool && y.startedAt + START_JITTER_MS < x.startedAt)
      .map((y) => `${x.pool} job ${x.id} (queued ${x.queuedAt}) started ${x.startedAt - y.startedAt} ms after ${y.pool} job ${y.id} (queued ${y.queuedAt})`));
    expect(inversions).toEqual([]);
  });
});

test('enterprise-scope: jobs of two organizations run on runners registered at the enterprise with its credential, one config in a group named', async () => {
  const scenario = load('enterprise-scope');
  const report = await run('enterprise-scope');

  expectInvariants(scenario, report);
  expect(report.jobs.succeeded).toBe(report.jobs.total);
  // One pool per config serves both organizations.
  expect(Object.keys(report.pools).sort()).toEqual(['enterprise:octo-enterprise#shared-default', 'enterprise:octo-enterprise#shared-linux']);
  // Every runner registered at the enterprise, which takes only a personal access token (classic) with manage_runners:enterprise
  // (the simulator refuses App tokens there); none at an organization.
  const calls = report.api.github.byRoute;
  expect(calls['POST /enterprises/{enterprise}/actions/runners/generate-jitconfig']).toBeGreaterThanOrEqual(report.jobs.total);
  expect(calls['POST /orgs/{org}/actions/runners/generate-jitconfig'] ?? 0).toBe(0);
  // The group named 'Linux Builders' was looked up by name; the other config's runners joined Default.
  expect(calls['GET /enterprises/{enterprise}/actions/runner-groups']).toBeGreaterThanOrEqual(1);
  expect(report.ranBy).toEqual({ 'octo-org: Linux Builders': 3, 'other-org: Linux Builders': 3, 'other-org: Default': 2 });
  expect(report.boot.bootstrap).toBeGreaterThanOrEqual(report.jobs.succeeded);
  expect(report.iam.denied).toEqual({});
});

test('image-without-runner: instances of an image without the runner report it; the pool and its warm pool are held until the fixed image is published, then every job runs', async () => {
  const scenario = load('image-without-runner');
  const report = await run('image-without-runner');

  expectInvariants(scenario, report);
  const [broken, fixed] = ['ami-00000000000000001', 'ami-00000000000000101'].map((imageId) => report.launchedWith['linux-x64']
    .filter((l) => l.imageId === imageId).reduce((n, l) => n + l.instances, 0));
  // Of the image without the runner: the four jobs' instances and the warm pool's two, all launched before the first report.
  // Held, the pool and the warm pool each send one probe after the fixed image is published (8 simulated minutes; the hold's
  // minute is real time, 10 simulated minutes at time scale 0.1). Without the hold: 302 instances in this run.
  expect(broken).toBeLessThanOrEqual(6);
  expect(broken + fixed).toBeLessThanOrEqual(12);
  expect(report.ranOn).toEqual({ 'linux-x64': 4 });
  expect(report.iam.denied).toEqual({});
});

test('launch-hold: runners turned away for a missing runner group hold their pool\'s launches; once the group exists, one probe registers and every job runs', async () => {
  const scenario = load('launch-hold');
  const report = await run('launch-hold');

  expectInvariants(scenario, report);
  // The four instances launched before the first refusal, one probe once the hold ran out (the functions keep real time, so at
  // time scale 0.1 the 1-minute hold spans 10 simulated minutes, past the group's creation at 8), then the other three jobs'
  // instances at once. Without the hold the pool relaunches for its four jobs every reconcile: dozens of instances.
  expect(report.launchedWith.gpu.reduce((n, s) => n + s.instances, 0)).toBeLessThanOrEqual(8);
  expect(report.ranOn).toEqual({ gpu: 4, plain: 2 });
  expect(report.iam.denied).toEqual({});
});
