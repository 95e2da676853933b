// `npm run sandbox`: the whole control plane offline, doing its main job on one machine.
//   --scenario FILE   a scenario JSON (see sandbox/scenario.ts); default: the demo
//   --report FILE     write the JSON report there
//   --serve           keep everything running and print how to reach it; stop with SIGINT/SIGTERM
//   --no-app          (with --serve) the GHES has no App: open the printed setup URL to create it, as after a deploy
//   --github-url URL  the GitHub API base the functions call instead of the simulator's
//   --seed N, --time-scale X   override the scenario's
//   --verbose         the functions' logs (INFO) on stderr
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseArgs } from 'util';
import { driveScenario, Progress } from './driver';
import { summary } from './report';
import { parseScenario, Scenario, ScenarioError } from './scenario';
import { startSandbox } from './system';

class UsageError extends Error {}

/** The scenario `npm run sandbox` runs without --scenario. */
const DEMO_SCENARIO_FILE = path.join(__dirname, 'scenarios', 'demo.json');
const OPTIONS = {
  'scenario': { type: 'string', default: DEMO_SCENARIO_FILE },
  'report': { type: 'string' },
  'serve': { type: 'boolean' },
  'no-app': { type: 'boolean' },
  'github-url': { type: 'string' },
  'seed': { type: 'string' },
  'time-scale': { type: 'string' },
  'verbose': { type: 'boolean' },
} as const;

/** What `fn` answers, or a UsageError saying `problem`. */
function usage<T>(problem: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw new UsageError(`${problem}: ${(e as Error).message}`);
  }
}

function loadScenario(args: { 'scenario': string; 'seed'?: string; 'time-scale'?: string }): Scenario {
  const file = args.scenario;
  const doc = usage(`cannot read the scenario ${file}`, () => JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>);
  for (const [flag, field] of [['seed', 'seed'], ['time-scale', 'timeScale']] as const) {
    const raw = args[flag];
    if (raw === undefined) continue;
    if (!Number.isFinite(Number(raw))) throw new UsageError(`--${flag} needs a number, found ${JSON.stringify(raw)}`);
    doc[field] = Number(raw);
  }
  return parseScenario(doc);
}

function progressLine(p: Progress): string {
  const n = (value: number) => String(value).padStart(3);
  return `t=${(p.simulatedMs / 60_000).toFixed(1).padStart(5)} min  jobs ${n(p.arrived)}/${p.total}  queued ${n(p.queued)}  booting ${n(p.booting)}  running ${n(p.running)}  done ${n(p.done)}`;
}

async function main(): Promise<void> {
  const args = usage('options are --scenario FILE, --report FILE, --serve, --no-app, --github-url URL, --seed N, --time-scale X, --verbose',
    () => parseArgs({ args: process.argv.slice(2), options: OPTIONS, strict: true }).values);
  if (args['no-app'] && !args.serve) throw new UsageError('--no-app needs --serve: without an App no job reaches the runners until someone runs the setup page');
  const scenario = loadScenario(args);
  const sandbox = await startSandbox(scenario, { githubUrl: args['github-url'], logLevel: args.verbose ? 'INFO' : 'ERROR', withApp: !args['no-app'] });

  if (args['no-app']) {
    const status = Object.entries(sandbox.operatorEnvironment).map(([name, value]) => `${name}=${value}`).join(' ');
    process.stdout.write(`${JSON.stringify({ setupUrl: sandbox.setupUrl, githubUrl: sandbox.ghes.url, org: sandbox.org })}
`);
    process.stderr.write(`Open the setup URL in a browser to create the GitHub App on the simulated GHES:
  ${sandbox.setupUrl}
`
      + `Then check the deployment:
  ${status} node assets/cli/cdk-ephemeral-runners/index.js status --stack ${sandbox.stackName}
`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    return sandbox.stop();
  }
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
    await sandbox.stop();
    return fs.rmSync(path.dirname(keyFile), { recursive: true, force: true });
  }

  const tty = process.stderr.isTTY;
  process.stderr.write(`sandbox: scenario '${scenario.name}', seed ${scenario.seed}, time scale ${scenario.timeScale} (1 simulated minute = ${(60 * scenario.timeScale).toFixed(1)} s)\n`);
  let lastLine = 0;
  const onProgress = (p: Progress) => {
    if (!tty && Date.now() - lastLine <= 5000) return;
    lastLine = Date.now();
    process.stderr.write(tty ? `\r${progressLine(p)}` : `${progressLine(p)}\n`);
  };
  const report = await driveScenario(sandbox, onProgress).finally(async () => {
    if (tty) process.stderr.write('\n');
    await sandbox.stop();
  });
  process.stdout.write(`\n${summary(report)}\n`);
  if (args.report) {
    fs.writeFileSync(args.report, `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(`\nreport written to ${args.report}\n`);
  }
}

main().then(() => process.exit(0), (error: unknown) => {
  if (error instanceof UsageError || error instanceof ScenarioError) {
    process.stderr.write(`sandbox: ${error.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`sandbox failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
