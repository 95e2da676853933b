// A scenario run end to end as a user runs it (its own process, sandbox/scenario-process.ts), and the figures the
// benchmark keeps of its report: outcomes, GitHub calls and instances per job, failed deliveries, latencies
// (simulated ms), the control plane's own latency (wall ms) and the phases of queued → started, cold and warm.
import * as fs from 'fs';
import * as path from 'path';
import { BenchResult, Figure, machine, ms, ROOT, s } from './results';
import type { SandboxReport } from '../sandbox/report';
import { parseScenario, Scenario } from '../sandbox/scenario';
import { runScenarioProcess } from '../sandbox/scenario-process';

interface BoundCheck { readonly bound: string; readonly limit: number; readonly value: number; readonly ok: boolean }

/** Every scenario by name: the shipped ones (sandbox/scenarios/) and the benchmark's (bench/scenarios/); `bounded` if it has bounds. */
export function scenarioFiles(): Map<string, { file: string; bounded: boolean }> {
  const files = ['sandbox/scenarios', 'bench/scenarios'].flatMap((dir) => fs.readdirSync(path.join(ROOT, dir))
    .filter((f) => f.endsWith('.json')).map((f) => path.join(ROOT, dir, f)));
  return new Map(files.map((file) => [path.basename(file, '.json'), { file, bounded: Object.keys(load(file).bounds).length > 0 }]));
}

function load(file: string): Scenario {
  return parseScenario(JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>);
}

export async function benchScenario(file: string, outDir: string): Promise<BenchResult> {
  const started = Date.now();
  const scenario = load(file);
  const before = machine();
  const report = await runScenarioProcess(file, path.join(outDir, `${scenario.name}.json`));
  const relative = path.relative(ROOT, file);
  const shipped = relative.startsWith(`bench${path.sep}`) || relative.startsWith(`sandbox${path.sep}`);
  return {
    name: scenario.name,
    title: `Scenario ${scenario.name} (${relative}): ${describe(scenario)}`,
    command: `npm run bench -- ${shipped ? scenario.name : relative}`,
    date: new Date(started).toISOString(),
    machine: before,
    wallMs: Date.now() - started,
    figures: figures(report, scenario.timeScale),
    details: { scenario: relative, timeScale: scenario.timeScale, checks: checks(scenario, report), report },
  };
}

/** `50 POST /orgs/{org}/actions/runners/generate-jitconfig, 1 …`: the most called first. */
function byRoute(routes: Readonly<Record<string, number>>): string {
  const sorted = Object.entries(routes).sort(([a, x], [b, y]) => y - x || a.localeCompare(b));
  return sorted.length === 0 ? 'none' : sorted.map(([route, n]) => `${n} ${route}`).join(', ');
}

function describe(scenario: Scenario): string {
  const jobs = scenario.jobs.reduce((n, j) => n + j.count, 0);
  const spread = Math.max(...scenario.jobs.map((j) => j.arrival.spreadMs));
  const f = scenario.faults;
  const faultFree = f.github.errorRate === 0 && f.webhooks.dropRate === 0 && f.webhooks.duplicateRate === 0 && f.ec2.capacityErrorRate === 0
    && f.ec2.throttleRate === 0 && f.ec2.spotInterruptionRate === 0 && f.crash.rate === 0;
  return `${jobs} jobs arriving within ${s(spread)}, ${faultFree ? 'no faults' : 'faults injected'}, GitHub latency ${f.github.latencyMs.join('–')} ms, `
    + `boot ${f.ec2.bootMs.map((b) => b / 1000).join('–')} s, time scale ${scenario.timeScale}`;
}

function figures(report: SandboxReport, timeScale: number): Figure[] {
  const jobs = Math.max(1, report.jobs.total);
  const perJob = (n: number) => (n / jobs).toFixed(2);
  const { queuedToLaunch, queuedToStarted } = report.latencyMs;
  const deliveries = report.faults.webhookDeliveries ?? 0;
  const timing = report.timing;
  const rows: Figure[] = [
    { figure: 'jobs succeeded / total (never started)', value: `${report.jobs.succeeded} / ${report.jobs.total} (${report.jobs.neverStarted})` },
    { figure: 'GitHub API calls per job', value: `${perJob(report.api.github.total)} (${report.api.github.total} calls)` },
    { figure: 'GitHub API calls by route', value: byRoute(report.api.github.byRoute) },
    { figure: 'instances launched per job', value: perJob(report.launches.instances) },
    { figure: 'webhook deliveries failed / sent', value: `${report.faults.webhookDeliveriesFailed ?? 0} / ${deliveries}` },
    { figure: 'leaks: instances, runner registrations, queued jobs', value: `${report.leaks.instances}, ${report.leaks.runners}, ${report.leaks.queuedJobs}` },
    { figure: 'queued → launch p50 / p95 (simulated)', value: `${s(queuedToLaunch.p50)} / ${s(queuedToLaunch.p95)}` },
    { figure: 'queued → started p50 / p95 (simulated)', value: `${s(queuedToStarted.p50)} / ${s(queuedToStarted.p95)}` },
  ];
  if (!timing) return rows;
  const cp = timing.controlPlaneWallMs.webhookToLaunch;
  rows.push({ figure: 'control plane: webhook received → CreateFleet/StartInstances received, p50 / p99 (wall)', value: `${ms(cp.p50)} / ${ms(cp.p99)} (${cp.samples} jobs)` });
  const { cold, warm } = timing.queuedToStartedMs;
  rows.push({ figure: 'queued → started, cold launch, p50 / p95 (simulated)', value: cold.jobs > 0 ? `${s(cold.p50)} / ${s(cold.p95)} (${cold.jobs} jobs)` : undefined, pending: 'no cold launch in this run' });
  rows.push(warm.jobs > 0
    ? { figure: 'queued → started, warm (started from stopped), p50 / p95 (simulated)', value: `${s(warm.p50)} / ${s(warm.p95)} (${warm.jobs} jobs)` }
    : { figure: 'queued → started, warm (started from stopped), p50 / p95 (simulated)', pending: 'no instance started from stopped in this run: filled when a scenario with a warm pool runs' });
  for (const [kind, phases] of Object.entries(timing.phases)) {
    if (!phases) continue;
    const pct = (share: number) => `${Math.round(share * 100)}%`;
    rows.push({
      figure: `${kind} start phases (mean, simulated): queued → launch / launch → running / running → started`,
      value: `${s(phases.toLaunchMs)} (${pct(phases.shares.toLaunch)}) / ${s(phases.bootMs)} (${pct(phases.shares.boot)}) / ${s(phases.runnerMs)} (${pct(phases.shares.runner)})`,
    });
  }
  if (cold.jobs > 0 && warm.jobs > 0) rows.push({ figure: 'warm p50 / cold p50 queued → started', value: `${(warm.p50 / cold.p50).toFixed(2)}` });
  const own = (name: string) => report.metrics?.metrics[name];
  const [ownWarm, ownCold] = [own('JobWaitSecondsWarmStart'), own('JobWaitSecondsColdStart')];
  if (ownWarm || ownCold) {
    // The functions keep real time: at time scale 1 their seconds are the simulated ones, at another scale they are not.
    const p50 = (m: { p50: number; samples: number } | undefined) => (m ? `${m.p50} s (${m.samples} jobs)` : '—');
    rows.push({
      figure: `the product's own metrics (EMF): JobWaitSecondsWarmStart / ColdStart p50 (whole seconds, the functions' clock${timeScale === 1 ? '' : ': wall time'})`,
      value: `${p50(ownWarm)} / ${p50(ownCold)}`,
    });
  }
  rows.push({ figure: 'wall time of the run', value: s(report.wallMs) });
  return rows;
}

/** The scenario's bounds against its report, and the invariants every run keeps. */
function checks(scenario: Scenario, report: SandboxReport): BoundCheck[] {
  const result: BoundCheck[] = [];
  const check = (bound: string, limit: number, value: number) => result.push({ bound, limit, value, ok: value <= limit });
  const { bounds } = scenario;
  if (bounds.queuedToLaunchP95Ms !== undefined) check('queued → launch p95 (ms)', bounds.queuedToLaunchP95Ms, report.latencyMs.queuedToLaunch.p95);
  if (bounds.queuedToStartedP95Ms !== undefined) check('queued → started p95 (ms)', bounds.queuedToStartedP95Ms, report.latencyMs.queuedToStarted.p95);
  if (bounds.poolExcess !== undefined) {
    for (const [pool, peaks] of Object.entries(report.pools)) check(`${pool} surplus instances`, bounds.poolExcess, peaks.peakExcess);
  }
  check('jobs never started', 0, report.jobs.neverStarted);
  check('jobs failed', 0, report.jobs.failed);
  check('leaked instances, registrations, queued jobs', 0, report.leaks.instances + report.leaks.runners + report.leaks.queuedJobs);
  return result;
}
