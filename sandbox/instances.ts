// The simulated instances' operating system: when the EC2 simulator says an instance runs, the
// real bootstrap script boots it — bash, curl and all — against the instance's IMDS and the
// register endpoint. run.sh and the power button are small HTTP calls back into this host: one
// runs the GHES simulator's simulated runner with the JIT config, the other powers the instance off.
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { listenOnLoopback, LoopbackServer, readBody } from './common/http';
import { Ec2Simulator, InstanceRunning } from './ec2';
import { GhesSimulator } from './ghes';

export const BOOTSTRAP_SCRIPT = path.join(__dirname, '..', 'image-builder', 'bootstrap.sh');

/** The settings the launch template's user data exports for the bootstrap. */
export function userDataSettings(userData: string | undefined): Record<string, string> {
  const settings: Record<string, string> = {};
  for (const match of (userData ?? '').matchAll(/^export ([A-Z_]+)='([^']*)'$/gm)) settings[match[1]] = match[2];
  return settings;
}

export class InstanceHost {
  private server?: LoopbackServer;
  private readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ephemeral-runners-sandbox-'));
  private readonly boots = new Map<string, ChildProcess>();
  private readonly runners = new Map<string, { kill(): void }>();
  /** Bootstrap output per instance, for `--verbose` and failures. */
  readonly output = new Map<string, string>();
  bootsStarted = 0;

  constructor(private readonly ec2: Ec2Simulator, private readonly ghes: GhesSimulator) {}

  async start(): Promise<void> {
    this.server = await listenOnLoopback(async (req, res) => {
      const url = new URL(req.url ?? '/', 'http://host');
      const body = (await readBody(req)).toString('utf8');
      const poweroff = /^\/poweroff\/(i-[0-9a-f]+)$/.exec(url.pathname);
      if (req.method === 'POST' && poweroff) {
        try {
          this.ec2.poweroff(poweroff[1]);
        } catch {
          // Already going down (an interruption, a retirement): nothing left to power off.
        }
        res.writeHead(204).end();
      } else if (req.method === 'POST' && url.pathname === '/run') {
        const instanceId = url.searchParams.get('instance') ?? 'unknown';
        const started = this.ghes.startRunner(body);
        this.runners.set(instanceId, started.runner);
        const exit = await started.exit;
        this.runners.delete(instanceId);
        res.writeHead(200, { 'content-type': 'text/plain' }).end(String(exit.exitCode));
      } else {
        res.writeHead(404).end();
      }
    });
    const runSh = path.join(this.dir, 'run.sh');
    // What the runner image's run.sh is to the bootstrap: `run.sh --jitconfig <config>`.
    fs.writeFileSync(runSh, [
      '#!/usr/bin/env bash',
      'set -euo pipefail',
      '[[ "$1" == "--jitconfig" ]] || { echo "usage: run.sh --jitconfig CONFIG" >&2; exit 2; }',
      `exit "$(curl -sS --fail -X POST --data-binary "$2" "${this.server.url}/run?instance=$SANDBOX_INSTANCE_ID")"`,
      '',
    ].join('\n'), { mode: 0o755 });
    this.ec2.onInstanceRunning((info) => this.boot(info));
    this.ec2.onInstanceStateChange((change) => {
      if (change.instance.state === 'shutting-down' || change.instance.state === 'terminated') this.halt(change.instance.instanceId);
    });
  }

  /** Instances whose bootstrap is still running. */
  get booting(): number {
    return this.boots.size;
  }

  async stop(): Promise<void> {
    for (const id of [...this.boots.keys()]) this.halt(id);
    await this.server?.close();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  private boot(info: InstanceRunning): void {
    const settings = userDataSettings(info.userData);
    this.bootsStarted++;
    const child = spawn('bash', [BOOTSTRAP_SCRIPT], {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH,
        HOME: this.dir,
        ...settings,
        IMDS_ENDPOINT: info.imdsUrl,
        RUNNER_DIR: this.dir,
        RUNNER_USER: os.userInfo().username,
        POWEROFF_COMMAND: `curl -sS -X POST ${this.server!.url}/poweroff/${info.instanceId}`,
        SANDBOX_INSTANCE_ID: info.instanceId,
      },
    });
    this.boots.set(info.instanceId, child);
    let output = '';
    const keep = (chunk: Buffer) => { output = (output + chunk.toString()).slice(-4000); this.output.set(info.instanceId, output); };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    child.on('exit', () => {
      this.boots.delete(info.instanceId);
      // The lifetime watchdog outlives the script by design; on a simulated instance it goes with it.
      try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* already gone */ }
    });
  }

  /** The instance stops: its processes and its runner die with it. */
  private halt(instanceId: string): void {
    this.runners.get(instanceId)?.kill();
    this.runners.delete(instanceId);
    const child = this.boots.get(instanceId);
    if (child?.pid) {
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ }
    }
    this.boots.delete(instanceId);
  }
}
