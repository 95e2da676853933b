// A scenario run as a user runs it: `tsx sandbox/cli.ts --scenario FILE --report FILE` in a process
// of its own. The scenario tests and `npm run bench` both run scenarios this way.
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { SandboxReport } from './report';

const root = path.join(__dirname, '..');

/** Runs a scenario file to its end and returns its report; the functions' bundles must exist (`npx projen bundle`). */
export async function runScenarioProcess(scenarioFile: string, reportFile?: string): Promise<SandboxReport> {
  const dir = reportFile ? undefined : fs.mkdtempSync(path.join(os.tmpdir(), 'sandbox-report-'));
  const report = reportFile ?? path.join(dir!, 'report.json');
  try {
    const output: string[] = [];
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(path.join(root, 'node_modules', '.bin', 'tsx'), ['sandbox/cli.ts', '--scenario', scenarioFile, '--report', report], {
        cwd: root,
        env: { ...process.env, NODE_NO_WARNINGS: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout.on('data', (chunk: Buffer) => output.push(chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString()));
      child.on('error', reject);
      child.on('exit', resolve);
    });
    if (code !== 0) throw new Error(`the sandbox exited with ${code} on ${scenarioFile}:\n${output.join('').slice(-4000)}`);
    return JSON.parse(fs.readFileSync(report, 'utf8')) as SandboxReport;
  } finally {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  }
}
