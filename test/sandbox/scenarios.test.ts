// The shipped scenarios (sandbox/scenarios/), each run end to end, held to the invariants every run
// must keep and to the bounds the scenario itself documents. SANDBOX_PROGRESS=1 prints progress.
import * as fs from 'fs';
import * as path from 'path';
import { driveScenario } from '../../sandbox/driver';
import type { SandboxReport } from '../../sandbox/report';
import { parseScenario, Scenario } from '../../sandbox/scenario';
import { startSandbox } from '../../sandbox/system';

jest.setTimeout(600_000);

const dir = path.join(__dirname, '..', '..', 'sandbox', 'scenarios');
const load = (name: string): Scenario => parseScenario(JSON.parse(fs.readFileSync(path.join(dir, `${name}.json`), 'utf8')));

async function run(scenario: Scenario): Promise<SandboxReport> {
  const sandbox = await startSandbox(scenario);
  try {
    return await driveScenario(sandbox, { onProgress: (p) => { if (process.env.SANDBOX_PROGRESS) process.stderr.write(`${JSON.stringify(p)}\n`); }, progressEveryMs: 5000 });
  } finally {
    await sandbox.stop();
  }
}

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
  // No pool ran more instances than its demand plus the slack the scenario documents, nor more than its maxRunners.
  const { bounds } = scenario;
  for (const [pool, peaks] of Object.entries(report.pools)) {
    const config = scenario.runnerConfigs.find((c) => pool.endsWith(`#${c.name}`))!;
    expect({ pool, peakInstances: Math.min(peaks.peakInstances, config.maxRunners) }).toEqual({ pool, peakInstances: peaks.peakInstances });
    if (bounds.poolExcess !== undefined) {
      expect({ pool, peakExcess: Math.min(peaks.peakExcess, bounds.poolExcess) }).toEqual({ pool, peakExcess: peaks.peakExcess });
    }
  }
  if (bounds.queuedToLaunchP95Ms !== undefined) expect(report.latencyMs.queuedToLaunch.p95).toBeLessThanOrEqual(bounds.queuedToLaunchP95Ms);
  if (bounds.queuedToStartedP95Ms !== undefined) expect(report.latencyMs.queuedToStarted.p95).toBeLessThanOrEqual(bounds.queuedToStartedP95Ms);
}

test('demo: jobs over three runner configs with a few faults all run, with the real bootstrap on every instance', async () => {
  const scenario = load('demo');
  const report = await run(scenario);

  expectInvariants(scenario, report);
  expect(report.boot.inProcess).toBe(0);
  expect(report.boot.bootstrap).toBeGreaterThanOrEqual(report.jobs.succeeded);
  // The arm64 config is ON_DEMAND_ONLY, the large one SPOT_ONLY: both markets were used.
  expect(report.launches.onDemand).toBeGreaterThanOrEqual(5);
  expect(report.launches.spot).toBeGreaterThanOrEqual(5);
});

test('burst: 500 jobs within 10 s all run, at about one GitHub call per job', async () => {
  const scenario = load('burst');
  const report = await run(scenario);

  expectInvariants(scenario, report);
  expect(report.jobs.total).toBe(500);
  // The hot path calls GitHub once per job (the JIT config); tokens, installation ids and the
  // sweeps stay within a fifth of a call per job on top (issue 4's budget).
  expect(report.api.github.byRoute['POST /orgs/{org}/actions/runners/generate-jitconfig']).toBe(500);
  expect(report.api.github.total / report.jobs.total).toBeLessThanOrEqual(1.2);
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
  const report = await run(scenario);

  expectInvariants(scenario, report);
  // The faults did happen.
  expect(report.faults.webhookDeliveriesFailed).toBeGreaterThan(0);
  expect(report.faults.functionCrashes).toBeGreaterThan(0);
  expect(report.faults.ec2Throttled).toBeGreaterThan(0);
  expect(report.launches.capacityErrors).toBeGreaterThan(0);
  expect(report.faults.spotInterruptions).toBeGreaterThan(0);
});
