// `npm run bench`: runs scenarios end to end and measures what depends on the machine's speed —
// latencies (simulated time, which a busy machine stretches), each pool's surplus instances, calls
// and launches per job, wall time — and holds each run to the `bounds` its scenario documents.
// Results go to bench/out/ (one report per scenario and results.json); run it on an idle machine.
//
//   npm run bench                      every scenario with bounds, and bench/scenarios/*
//   npm run bench -- demo burst        only these (names or files)
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { SandboxReport, seconds } from '../sandbox/report';
import { parseScenario, Scenario } from '../sandbox/scenario';
import { runScenarioProcess } from '../sandbox/scenario-process';

const root = path.join(__dirname, '..');
const out = path.join(root, 'bench', 'out');

interface BoundCheck { readonly bound: string; readonly limit: number; readonly value: number; readonly ok: boolean }
type BenchRun = ReturnType<typeof benchRun>;

function scenarioFiles(args: string[]): string[] {
  const shipped = fs.readdirSync(path.join(root, 'sandbox', 'scenarios')).map((f) => path.join(root, 'sandbox', 'scenarios', f));
  const bench = fs.readdirSync(path.join(root, 'bench', 'scenarios')).map((f) => path.join(root, 'bench', 'scenarios', f));
  const all = [...shipped, ...bench].filter((f) => f.endsWith('.json')).sort();
  if (args.length === 0) return all.filter((f) => f.includes(`${path.sep}bench${path.sep}`) || Object.keys(load(f).bounds).length > 0);
  return args.map((a) => {
    if (fs.existsSync(a)) return path.resolve(a);
    const found = all.find((f) => path.basename(f, '.json') === a);
    if (!found) throw new Error(`no scenario named ${JSON.stringify(a)}; known: ${all.map((f) => path.basename(f, '.json')).join(', ')}`);
    return found;
  });
}

function load(file: string): Scenario {
  return parseScenario(JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>);
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

async function main(): Promise<number> {
  const files = scenarioFiles(process.argv.slice(2));
  fs.mkdirSync(out, { recursive: true });
  const runs: BenchRun[] = [];
  for (const file of files) {
    const scenario = load(file);
    process.stderr.write(`bench: ${scenario.name} (${path.relative(root, file)}) ...\n`);
    const run = benchRun(scenario, file, await runScenarioProcess(file, path.join(out, `${scenario.name}.json`)));
    runs.push(run);
    process.stderr.write(`${line(run)}\n`);
  }
  const results = {
    date: new Date().toISOString(),
    machine: {
      cpus: os.cpus().length,
      model: os.cpus()[0]?.model,
      memoryGiB: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
      loadAverage: os.loadavg(),
    },
    runs,
  };
  fs.writeFileSync(path.join(out, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  const broken = runs.flatMap((r) => r.checks.filter((c) => !c.ok).map((c) => `${r.scenario}: ${c.bound} ${c.value} > ${c.limit}`));
  const written = path.relative(root, path.join(out, 'results.json'));
  process.stdout.write(`\n${runs.map(line).join('\n')}\n\nresults written to ${written}\n`);
  if (broken.length > 0) {
    process.stdout.write(`\nover a bound (on a busy machine, simulated latencies stretch; rerun on an idle one):\n${broken.map((b) => `  ${b}`).join('\n')}\n`);
    return 1;
  }
  return 0;
}

/** A run's machine-dependent measures and its checks. */
function benchRun(scenario: Scenario, file: string, report: SandboxReport) {
  const jobs = Math.max(1, report.jobs.total);
  const round = (n: number) => Math.round(n * 100) / 100;
  return {
    scenario: scenario.name,
    file: path.relative(root, file),
    timeScale: scenario.timeScale,
    jobs: report.jobs.total,
    succeeded: report.jobs.succeeded,
    wallMs: report.wallMs,
    latencyMs: report.latencyMs,
    githubCallsPerJob: round(report.api.github.total / jobs),
    instancesPerJob: round(report.launches.instances / jobs),
    leaks: report.leaks,
    checks: checks(scenario, report),
  };
}

function line(r: BenchRun): string {
  return `  ${r.scenario.padEnd(14)} ${`${r.succeeded}/${r.jobs} jobs`.padEnd(14)} queued→launch p50 ${seconds(r.latencyMs.queuedToLaunch.p50)} p95 ${seconds(r.latencyMs.queuedToLaunch.p95)}`
    + `  queued→started p50 ${seconds(r.latencyMs.queuedToStarted.p50)} p95 ${seconds(r.latencyMs.queuedToStarted.p95)}`
    + `  GitHub calls/job ${r.githubCallsPerJob}  instances/job ${r.instancesPerJob}  wall ${seconds(r.wallMs)}`
    + `${r.checks.every((c) => c.ok) ? '' : '  OVER A BOUND'}`;
}

main().then((code) => process.exit(code), (error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
