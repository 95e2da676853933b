// `npm run sandbox`: the whole control plane offline, doing its main job on one machine.
//   --scenario FILE   a scenario JSON (see sandbox/scenario.ts); default: the demo
//   --report FILE     write the JSON report there
//   --serve           keep everything running and print how to reach it; stop with SIGINT/SIGTERM
//   --github-url URL  the GitHub API base the functions call instead of the simulator's
//   --seed N, --time-scale X   override the scenario's
//   --verbose         the functions' logs (INFO) on stderr
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { driveScenario, Progress } from './driver';
import type { SandboxReport } from './report';
import { parseScenario, Scenario, ScenarioError } from './scenario';
import { startSandbox } from './system';

interface Arguments {
  scenarioFile?: string;
  reportFile?: string;
  serve: boolean;
  githubUrl?: string;
  seed?: number;
  timeScale?: number;
  verbose: boolean;
}

class UsageError extends Error {}

function parseArguments(argv: string[]): Arguments {
  const args: Arguments = { serve: false, verbose: false };
  const value = (i: number, flag: string) => {
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new UsageError(`${flag} needs a value`);
    return v;
  };
  const number = (raw: string, flag: string) => {
    const n = Number(raw);
    if (!Number.isFinite(n)) throw new UsageError(`${flag} needs a number, found ${JSON.stringify(raw)}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    switch (flag) {
      case '--scenario': args.scenarioFile = value(i++, flag); break;
      case '--report': args.reportFile = value(i++, flag); break;
      case '--github-url': args.githubUrl = value(i++, flag); break;
      case '--seed': args.seed = number(value(i++, flag), flag); break;
      case '--time-scale': args.timeScale = number(value(i++, flag), flag); break;
      case '--serve': args.serve = true; break;
      case '--verbose': args.verbose = true; break;
      default: throw new UsageError(`unknown option ${JSON.stringify(flag)}; options are --scenario FILE, --report FILE, --serve, --github-url URL, --seed N, --time-scale X, --verbose`);
    }
  }
  return args;
}

/** The scenario `npm run sandbox` runs without --scenario. */
export const DEMO_SCENARIO_FILE = path.join(__dirname, 'scenarios', 'demo.json');

function loadScenario(args: Arguments): Scenario {
  const file = args.scenarioFile ?? DEMO_SCENARIO_FILE;
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read the scenario ${file}: ${(e as Error).message}`);
  }
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw new UsageError(`the scenario ${file} is not JSON: ${(e as Error).message}`);
  }
  if (args.seed !== undefined) doc.seed = args.seed;
  if (args.timeScale !== undefined) doc.timeScale = args.timeScale;
  return parseScenario(doc);
}

function progressLine(p: Progress): string {
  const minutes = (p.simulatedMs / 60_000).toFixed(1).padStart(5);
  return `t=${minutes} min  jobs ${String(p.arrived).padStart(3)}/${p.total}  queued ${String(p.queued).padStart(3)}  booting ${String(p.booting).padStart(3)}  running ${String(p.running).padStart(3)}  done ${String(p.done).padStart(3)}`;
}

function summary(report: SandboxReport): string {
  const rows: Array<[string, string]> = [
    ['jobs', `${report.jobs.total} total, ${report.jobs.succeeded} succeeded, ${report.jobs.failed} failed, ${report.jobs.cancelled} cancelled, ${report.jobs.rerun} re-run, ${report.jobs.neverStarted} never started`],
    ['queued → launch', `p50 ${seconds(report.latencyMs.queuedToLaunch.p50)}, p95 ${seconds(report.latencyMs.queuedToLaunch.p95)}, max ${seconds(report.latencyMs.queuedToLaunch.max)}`],
    ['queued → started', `p50 ${seconds(report.latencyMs.queuedToStarted.p50)}, p95 ${seconds(report.latencyMs.queuedToStarted.p95)}, max ${seconds(report.latencyMs.queuedToStarted.max)}`],
    ['launches', `${report.launches.instances} instances (${report.launches.spot} spot, ${report.launches.onDemand} on-demand), ${report.launches.capacityErrors} capacity errors`],
    ['leaks', `${report.leaks.instances} instances, ${report.leaks.runners} runner registrations, ${report.leaks.queuedJobs} queued jobs`],
    ['GitHub API calls', `${report.api.github.total} (${(report.api.github.total / Math.max(1, report.jobs.total)).toFixed(2)} per job)`],
    ['EC2 API calls', `${report.api.ec2.total}`],
    ['faults', Object.entries(report.faults).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(', ') || 'none'],
    ['wall time', `${(report.wallMs / 1000).toFixed(1)} s`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join('\n');
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

async function main(): Promise<number> {
  const args = parseArguments(process.argv.slice(2));
  const scenario = loadScenario(args);
  const sandbox = await startSandbox(scenario, { githubUrl: args.githubUrl, logLevel: args.verbose ? 'INFO' : 'ERROR' });
  const stop = async () => {
    await sandbox.stop();
  };

  if (args.serve) {
    const keyFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ephemeral-runners-')), 'app.private-key.pem');
    fs.writeFileSync(keyFile, sandbox.ghes.privateKey, { mode: 0o600 });
    process.stdout.write(`${JSON.stringify({
      webhookUrl: sandbox.webhookUrl,
      webhookSecret: sandbox.webhookSecret,
      githubUrl: sandbox.ghes.apiUrl,
      appId: sandbox.ghes.appId,
      installationId: sandbox.ghes.installationId(sandbox.org),
      privateKeyFile: keyFile,
      org: sandbox.org,
      repos: sandbox.repos.map((r) => (r.includes('/') ? r : `${sandbox.org}/${r}`)),
    })}\n`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await stop();
    fs.rmSync(path.dirname(keyFile), { recursive: true, force: true });
    return 0;
  }

  const tty = process.stderr.isTTY;
  process.stderr.write(`sandbox: scenario '${scenario.name}', seed ${scenario.seed}, time scale ${scenario.timeScale} (1 simulated minute = ${(60 * scenario.timeScale).toFixed(1)} s)\n`);
  let lastLine = 0;
  let report: SandboxReport;
  try {
    report = await driveScenario(sandbox, {
      onProgress: (p) => {
        if (tty) {process.stderr.write(`\r${progressLine(p)}`);} else if (Date.now() - lastLine > 5000) {
          lastLine = Date.now();
          process.stderr.write(`${progressLine(p)}\n`);
        }
      },
    });
  } finally {
    if (tty) process.stderr.write('\n');
    await stop();
  }
  process.stdout.write(`\n${summary(report)}\n`);
  if (args.reportFile) {
    fs.writeFileSync(args.reportFile, `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(`\nreport written to ${args.reportFile}\n`);
  }
  return 0;
}

main().then((code) => process.exit(code), (error: unknown) => {
  if (error instanceof UsageError || error instanceof ScenarioError) {
    process.stderr.write(`sandbox: ${error.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`sandbox failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
