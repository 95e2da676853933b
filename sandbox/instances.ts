// The simulated instances' operating system: when the EC2 simulator says an instance runs, the
// real bootstrap script boots it — bash, curl and all — against the instance's IMDS and the
// register endpoint. run.sh and the power button are small HTTP calls back into this host: one
// runs the GHES simulator's simulated runner with the JIT config, the other powers the instance off.
// A stopped instance's processes die and a restart boots it again (the bootstrap runs per boot, as a
// cloud-init per-boot script); a hibernated instance's processes are frozen and carry on when it resumes.
import { ChildProcess, spawn } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { SignatureV4 } from '@smithy/signature-v4';
import type { CallerIdentity } from './aws/function-url';
import { NodeSha256 } from './aws/sigv4-verifier';
import { listenOnLoopback, LoopbackServer, readBody } from './common/http';
import { Ec2Simulator, InstanceRunning } from './ec2';
import { GhesSimulator, RunnerHooks } from './ghes';
import { unpackBootstrap } from '../src/private/bootstrap-install';

/** An instance role session's credentials, as IMDS hands them out. */
type RoleCredentials = { readonly accessKeyId: string; readonly secretAccessKey: string; readonly sessionToken?: string };

/** The role session behind an access key IMDS handed out, as STS names it to a Function URL. */
export function callerIdentityFrom(ec2: Ec2Simulator): (accessKeyId: string) => CallerIdentity | undefined {
  return (accessKeyId) => {
    const c = ec2.credentialsFor(accessKeyId);
    return c && { ...c, sessionName: c.instanceId, expiresAt: c.expiration };
  };
}

const BOOTSTRAP_SCRIPT = path.join(__dirname, '..', 'image-builder', 'bootstrap.sh');

export class InstanceHost {
  private server?: LoopbackServer;
  private readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ephemeral-runners-sandbox-'));
  private readonly bootProcesses = new Map<string, ChildProcess>();
  private readonly runners = new Map<string, { kill(): void }>();
  /** The boot each instance's OS is on: an in-process boot of an earlier one stops there and leaves the power button alone. */
  private readonly bootGenerations = new Map<string, number>();
  /** Instances booted, by how; `failed`: in-process boots that ended on an unexpected error (an instance that ended is not one). */
  readonly boots = { bootstrap: 0, inProcess: 0, failed: 0 };

  constructor(
    private readonly ec2: Ec2Simulator,
    private readonly ghes: GhesSimulator,
    /** Whether the next instance boots with the real bootstrap.sh; if not, this process makes its wire calls (IMDSv2, register, run, power-off). */
    private readonly withBootstrap: () => boolean,
    /** Where the bootstrap ships its log lines (CloudWatch Logs). */
    private readonly logsEndpoint: string,
    /** The sandbox's DNS: a URL of the deployment (the register endpoint's) to the simulator serving it. */
    private readonly resolveUrl: (url: string) => string,
    /** Whether an AMI holds the runner (`run.sh`); one that does not boots with an empty runner directory. */
    private readonly imageHoldsRunner: (imageId: string) => boolean = () => true,
  ) {}

  async start(): Promise<void> {
    this.server = await listenOnLoopback(async (req, res) => {
      const url = new URL(req.url ?? '/', 'http://host');
      const body = (await readBody(req)).toString('utf8');
      const poweroff = /^\/poweroff\/(i-[0-9a-f]+)$/.exec(url.pathname);
      if (req.method === 'POST' && poweroff) {
        this.powerOff(poweroff[1]);
        res.writeHead(204).end();
      } else if (req.method === 'POST' && url.pathname === '/run') {
        const header = (name: string) => (typeof req.headers[name] === 'string' && req.headers[name] !== '' ? req.headers[name] as string : undefined);
        const hooks = { started: header('x-hook-started'), completed: header('x-hook-completed') };
        const exitCode = await this.runJob(url.searchParams.get('instance') ?? 'unknown', body, hooks);
        res.writeHead(200, { 'content-type': 'text/plain' }).end(String(exitCode));
      } else {
        res.writeHead(404).end();
      }
    });
    const runSh = path.join(this.dir, 'run.sh');
    // What the runner image's run.sh is to the bootstrap: `run.sh --jitconfig <config>`. The runner
    // takes its job hooks from its environment (ACTIONS_RUNNER_HOOK_JOB_STARTED / _COMPLETED), as
    // the real one does; this one hands them to the simulated runner, which runs them around the job.
    fs.writeFileSync(runSh, [
      '#!/usr/bin/env bash',
      'set -euo pipefail',
      '[[ "$1" == "--jitconfig" ]] || { echo "usage: run.sh --jitconfig CONFIG" >&2; exit 2; }',
      'exit "$(curl -sS --fail -X POST --data-binary "$2" -H "x-hook-started: ${ACTIONS_RUNNER_HOOK_JOB_STARTED:-}" \\',
      `  -H "x-hook-completed: \${ACTIONS_RUNNER_HOOK_JOB_COMPLETED:-}" "${this.server.url}/run?instance=$SANDBOX_INSTANCE_ID")"`,
      '',
    ].join('\n'), { mode: 0o755 });
    this.ec2.onInstanceRunning((info) => {
      if (info.resumed) this.thaw(info.instanceId);
      else this.boot(info);
    });
    this.ec2.onInstanceStateChange(({ instance, state }) => {
      const hibernating = instance.hibernated === true && (state === 'stopping' || state === 'stopped');
      if (hibernating) this.freeze(instance.instanceId);
      else if (['stopping', 'stopped', 'shutting-down', 'terminated'].includes(state)) this.halt(instance.instanceId);
    });
  }

  /** Instances whose bootstrap is still running. */
  get booting(): number {
    return this.bootProcesses.size;
  }

  async stop(): Promise<void> {
    for (const id of [...this.bootProcesses.keys()]) this.halt(id);
    await this.server?.close();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  /** A runner directory without run.sh: an image without the runner. */
  private emptyRunnerDir(): string {
    const dir = path.join(this.dir, 'image-without-runner');
    fs.mkdirSync(dir, { recursive: true });
    return dir;
  }

  /** The bootstrap the instance's user data installs, as a file (one per distinct script); the repository's when it installs none. */
  private bootstrapOf(userData: string): string {
    const script = unpackBootstrap(userData);
    if (script === undefined) return BOOTSTRAP_SCRIPT;
    const file = path.join(this.dir, `bootstrap-${createHash('sha256').update(script).digest('hex').slice(0, 12)}.sh`);
    if (!fs.existsSync(file)) fs.writeFileSync(file, script, { mode: 0o755 });
    return file;
  }

  private boot(info: InstanceRunning): void {
    this.bootGenerations.set(info.instanceId, (this.bootGenerations.get(info.instanceId) ?? 0) + 1);
    // The settings the launch template's user data exports for the bootstrap.
    const settings = Object.fromEntries([...this.resolveUrl(info.userData ?? '').matchAll(/^export ([A-Z_][A-Z0-9_]*)='([^']*)'$/gm)].map((m) => [m[1], m[2]]));
    if (!this.withBootstrap()) {
      this.boots.inProcess++;
      this.bootInProcess(info, settings).catch((err) => {
        // An instance that went away mid-boot (reclaimed, stopped) fails its calls; only a live instance's failure is news.
        if (this.ec2.instance(info.instanceId)?.state === 'running') console.error(`sandbox: the in-process boot of ${info.instanceId} failed`, err);
      });
      return;
    }
    this.boots.bootstrap++;
    const child = spawn('bash', [this.bootstrapOf(info.userData ?? '')], {
      detached: true,
      stdio: 'ignore',
      env: {
        PATH: process.env.PATH,
        HOME: this.dir,
        ...settings,
        IMDS_ENDPOINT: info.imdsUrl,
        RUNNER_DIR: this.imageHoldsRunner(info.imageId) ? this.dir : this.emptyRunnerDir(),
        RUNNER_USER: os.userInfo().username,
        POWEROFF_COMMAND: `curl -sS -X POST ${this.server!.url}/poweroff/${info.instanceId}`,
        SANDBOX_INSTANCE_ID: info.instanceId,
        LOG_BUFFER: path.join(this.dir, `${info.instanceId}.log`),
        // Each instance is a machine of its own: its hooks go to a directory of its own.
        HOOK_DIR: path.join(this.dir, 'hooks', info.instanceId),
        LOGS_ENDPOINT: this.logsEndpoint,
      },
    });
    this.bootProcesses.set(info.instanceId, child);
    child.on('exit', () => {
      if (this.bootProcesses.get(info.instanceId) === child) this.bootProcesses.delete(info.instanceId);
      killGroup(child);
    });
  }

  private async bootInProcess(info: InstanceRunning, settings: Record<string, string>): Promise<void> {
    const id = info.instanceId;
    const generation = this.bootGenerations.get(id);
    const current = () => this.bootGenerations.get(id) === generation;
    // A hibernated instance's OS is frozen, not gone: this boot waits, then carries on where it was.
    const frozen = () => this.ec2.instance(id)?.hibernated === true && current();
    const alive = () => current() && (frozen() || ['pending', 'running'].includes(this.ec2.instance(id)?.state ?? ''));
    const thawed = async () => {
      while (frozen()) await new Promise((resolve) => setTimeout(resolve, 50));
    };
    this.bootProcesses.set(id, { pid: undefined } as unknown as ChildProcess);
    // An instance that ended (interrupted, retired) answers IMDS with 404 Not Found: its boot stops there, as the script's curl --fail does.
    const text = async (response: Response) => {
      if (!response.ok) throw alive() ? new Error(`IMDS answered ${response.status} ${await response.text()}`) : new InstanceEnded();
      return response.text();
    };
    try {
      const token = await text(await fetch(`${info.imdsUrl}/latest/api/token`, { method: 'PUT', headers: { 'x-aws-ec2-metadata-token-ttl-seconds': '21600' } }));
      const get = async (p: string) => text(await fetch(`${info.imdsUrl}/latest/${p}`, { headers: { 'x-aws-ec2-metadata-token': token } }));
      const region = await get('meta-data/placement/region');
      const role = (await get('meta-data/iam/security-credentials/')).split('\n')[0];
      const deadline = Date.now() + Number(settings.CONFIG_TIMEOUT_SECONDS ?? 600) * 1000;
      const url = new URL(settings.REGISTER_URL);
      // What the bootstrap sends: an ask for a config, or (no run.sh on the image) the report that asks for none.
      const holdsRunner = this.imageHoldsRunner(info.imageId);
      const body = holdsRunner ? '{}' : '{"problem":"runner-missing"}';
      const request = { method: 'POST', protocol: url.protocol, hostname: url.hostname, port: Number(url.port), path: url.pathname, query: {}, body };
      for (let delay = 50; alive() && Date.now() < deadline; delay = Math.min(delay * 2, 2000)) {
        await thawed();
        if (!alive()) break;
        const c = JSON.parse(await get(`meta-data/iam/security-credentials/${role}`)) as { AccessKeyId: string; SecretAccessKey: string; Token: string };
        const credentials = { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.Token };
        const signer = new SignatureV4({ credentials, region, service: settings.REGISTER_SERVICE ?? 'lambda', sha256: NodeSha256 });
        const signed = await signer.sign({ ...request, headers: { 'host': url.host, 'content-type': 'application/json' } });
        const response = await fetch(url, { method: 'POST', headers: signed.headers as Record<string, string>, body }).catch(() => undefined);
        if (!holdsRunner && [400, 409, 410].includes(response?.status ?? 0)) break;
        if (response?.status === 200) {
          const jitConfig = await response.text();
          await this.runJob(id, jitConfig, await this.installHooks(id, settings, { credentials, region }));
          break;
        }
        if (response?.status === 410) break;
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    } catch (error) {
      // One instance's failure is recorded, never the run's end; an instance that ended meanwhile stops quietly.
      if (!(error instanceof InstanceEnded) && alive()) this.boots.failed++;
    } finally {
      if (current()) {
        this.runners.delete(id);
        this.bootProcesses.delete(id);
        this.powerOff(id);
      }
    }
  }

  /**
   * What the bootstrap's add_hook does, for an in-process boot: the config's hooks as files (from the
   * user data's base64, or downloaded from S3 signed as the instance role; one that cannot be downloaded
   * fails every job), by the runner's variable.
   */
  private async installHooks(
    instanceId: string,
    settings: Record<string, string>,
    signing: { credentials: RoleCredentials; region: string },
  ): Promise<RunnerHooks> {
    const install = async (name: string, base64?: string, url?: string) => {
      if (!base64 && !url) return undefined;
      const file = path.join(this.dir, 'hooks', instanceId, `${name}.sh`);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      const text = base64 ? Buffer.from(base64, 'base64') : await getSigned(url!, signing)
        ?? `echo "the ${name} hook could not be downloaded from ${url}" >&2\nexit 1\n`;
      fs.writeFileSync(file, text, { mode: 0o755 });
      return file;
    };
    return {
      started: await install('job-started', settings.JOB_STARTED_HOOK_BASE64, settings.JOB_STARTED_HOOK_URL),
      completed: await install('job-completed', settings.JOB_COMPLETED_HOOK_BASE64, settings.JOB_COMPLETED_HOOK_URL),
    };
  }

  /** The runner image's run.sh: the simulated runner runs one job with the JIT config (and its job hooks); answers its exit code. */
  private async runJob(instanceId: string, jitConfig: string, hooks: RunnerHooks = {}): Promise<number> {
    const started = this.ghes.startRunner(jitConfig, hooks);
    this.runners.set(instanceId, started.runner);
    const { exitCode } = await started.exit;
    this.runners.delete(instanceId);
    return exitCode;
  }

  private powerOff(instanceId: string): void {
    try { this.ec2.poweroff(instanceId); } catch { /* already going down: an interruption, a retirement */ }
  }

  /** Hibernation: the boot process group is suspended with the instance's RAM. */
  private freeze(instanceId: string): void {
    signalGroup(this.bootProcesses.get(instanceId), 'SIGSTOP');
  }

  /** The instance resumed from hibernation: its processes carry on. */
  private thaw(instanceId: string): void {
    signalGroup(this.bootProcesses.get(instanceId), 'SIGCONT');
  }

  /** The instance stops: its processes and its runner die with it. */
  private halt(instanceId: string): void {
    this.runners.get(instanceId)?.kill();
    this.runners.delete(instanceId);
    killGroup(this.bootProcesses.get(instanceId));
    this.bootProcesses.delete(instanceId);
  }
}

/** An instance's boot met the instance's end. */
class InstanceEnded extends Error {}

/** Kills a boot process with its process group (the lifetime watchdog outlives the script by design). */
function killGroup(child: ChildProcess | undefined): void {
  signalGroup(child, 'SIGKILL');
}

function signalGroup(child: ChildProcess | undefined, signal: NodeJS.Signals): void {
  if (child?.pid) try { process.kill(-child.pid, signal); } catch { /* already gone */ }
}

/** An S3 GET signed with SigV4 as the bootstrap's curl signs it; the object's bytes, or undefined when S3 refused. */
async function getSigned(url: string, { credentials, region }: { credentials: RoleCredentials; region: string }): Promise<Buffer | undefined> {
  const target = new URL(url);
  const signer = new SignatureV4({ credentials, region, service: 's3', sha256: NodeSha256, uriEscapePath: false });
  const emptyHash = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
  const signed = await signer.sign({
    method: 'GET',
    protocol: target.protocol,
    hostname: target.hostname,
    port: Number(target.port) || undefined,
    path: target.pathname,
    query: {},
    headers: { 'host': target.host, 'x-amz-content-sha256': emptyHash },
  });
  const response = await fetch(target, { headers: signed.headers as Record<string, string> }).catch(() => undefined);
  return response?.ok ? Buffer.from(await response.arrayBuffer()) : undefined;
}
