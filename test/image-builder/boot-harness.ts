// What a simulated instance boots into: the EC2 simulator's IMDSv2, the register endpoint as the
// Function URL simulator (SigV4 checked against the instance's role credentials) in front of the
// real register logic (dynalite + GHES simulator), a host endpoint standing in for the instance's
// power button and for the runner binary (it runs the GHES simulator's simulated runner), and the
// real bootstrap script, run by bash as its own process group.
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import { request } from 'http';
import * as os from 'os';
import * as path from 'path';
import { EC2Client } from '@aws-sdk/client-ec2';
import { FunctionUrlHandler, FunctionUrlSimulator } from '../../sandbox/aws/function-url';
import { listenOnLoopback, LoopbackServer, readBody } from '../../sandbox/common/http';
import { Ec2Simulator } from '../../sandbox/ec2';
import { GhesSimulator } from '../../sandbox/ghes';
import { callerIdentityFrom } from '../../sandbox/instances';
import { withoutComments } from '../../src/private/bootstrap-install';
import { createFleet, fleetInput, waitFor } from '../sandbox/ec2/helpers';

export const BOOTSTRAP = path.join(__dirname, '..', '..', 'image-builder', 'bootstrap.sh');

/** The bootstrap as the user data installs it (its comment lines left out): what an instance runs. */
const INSTALLED_BOOTSTRAP = (() => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bootstrap-installed-'));
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, 'bootstrap.sh'), withoutComments(fs.readFileSync(BOOTSTRAP, 'utf8')), { mode: 0o755 });
  return path.join(dir, 'bootstrap.sh');
})();

/** The role session's identity behind an access key IMDS handed out, as STS would name it. */
export const identityFrom = callerIdentityFrom;

/** A running instance of `launchTemplateId`. */
export async function runningInstance(ec2: Ec2Simulator, client: EC2Client, launchTemplateId: string): Promise<string> {
  const result = await createFleet(client, fleetInput(launchTemplateId, 1));
  const instanceId = result.Instances![0].InstanceIds![0];
  await waitFor(() => ec2.instance(instanceId)?.state === 'running');
  return instanceId;
}

/**
 * The test's side of the instance: `POST /run` runs the body (a JIT config) as a simulated runner
 * and answers its exit code; `POST /poweroff/<id>` powers the instance off.
 */
export class InstanceHost {
  readonly powerOffs: string[] = [];
  /** JIT configs handed to run.sh, to look for in the script's output. */
  readonly configs: string[] = [];
  private server?: LoopbackServer;

  constructor(private readonly ghes: GhesSimulator, private readonly ec2: Ec2Simulator) {}

  get url(): string {
    return this.server!.url;
  }

  async start(): Promise<void> {
    this.server = await listenOnLoopback(async (req, res) => {
      const body = (await readBody(req)).toString('utf8');
      const poweroff = /^\/poweroff\/(i-[0-9a-f]+)$/.exec(req.url ?? '');
      if (req.method === 'POST' && poweroff) {
        this.powerOffs.push(poweroff[1]);
        this.ec2.poweroff(poweroff[1]);
        res.writeHead(204).end();
      } else if (req.method === 'POST' && req.url === '/run') {
        this.configs.push(body);
        const exit = await this.ghes.startRunner(body).exit;
        res.writeHead(200, { 'content-type': 'text/plain' }).end(String(exit.exitCode));
      } else {
        res.writeHead(404).end();
      }
    });
  }

  async stop(): Promise<void> {
    await this.server?.close();
  }
}

/**
 * A reverse proxy on a port of its own that forwards requests verbatim to `target` — the Host
 * header too, so a SigV4 signature made for the proxy's address still verifies — and can drop
 * connections, refuse IMDSv2 token requests, or let IMDSv2 tokens run out. It records every request.
 */
export class FrontProxy {
  readonly requests: { method: string; path: string; token: boolean }[] = [];
  /** Connections to close without an answer: the endpoint is unreachable. */
  dropNext = 0;
  refuseTokenRequests = false;
  /** Requests with an IMDSv2 token this long after its first use are refused with 401, as IMDS refuses a token past its TTL. @default never */
  tokenLifetimeMs?: number;
  /** Requests refused because their token had run out. */
  expiredTokenRequests = 0;
  private readonly tokensFirstUsed = new Map<string, number>();
  private server?: LoopbackServer;

  constructor(private readonly target: () => string) {}

  get url(): string {
    return this.server!.url;
  }

  async start(): Promise<void> {
    this.server = await listenOnLoopback(async (req, res) => {
      const method = req.method ?? 'GET';
      this.requests.push({ method, path: req.url ?? '/', token: req.headers['x-aws-ec2-metadata-token'] !== undefined });
      if (this.dropNext > 0) {
        this.dropNext--;
        req.socket.destroy();
        return;
      }
      if (this.refuseTokenRequests && method === 'PUT') {
        res.writeHead(403).end();
        return;
      }
      const token = req.headers['x-aws-ec2-metadata-token'];
      if (typeof token === 'string' && this.tokenLifetimeMs !== undefined) {
        if (!this.tokensFirstUsed.has(token)) this.tokensFirstUsed.set(token, Date.now());
        if (Date.now() - this.tokensFirstUsed.get(token)! > this.tokenLifetimeMs) {
          this.expiredTokenRequests++;
          res.writeHead(401).end();
          return;
        }
      }
      const body = await readBody(req);
      await new Promise<void>((resolve, reject) => {
        const upstream = request(new URL(req.url ?? '/', this.target()), { method, headers: req.headers }, (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res).on('finish', resolve).on('error', reject);
        });
        upstream.on('error', reject);
        upstream.end(body);
      });
    });
  }

  async stop(): Promise<void> {
    await this.server?.close();
  }
}

/** The register endpoint: AWS_IAM auth over the real handler, with a hook to see or replace answers. */
export function registerEndpoint(ec2: Ec2Simulator, handler: FunctionUrlHandler): FunctionUrlSimulator {
  return new FunctionUrlSimulator({ region: ec2.region, accountId: ec2.accountId, identityFor: identityFrom(ec2), handler });
}

export interface BootRun {
  readonly child: ChildProcess;
  /** Resolves with the exit code when bash exits (the watchdog it leaves behind may live on). */
  readonly exited: Promise<number | null>;
  output(): string;
}

/** Runs the real bootstrap with only these settings (and PATH) in its environment. */
export function runBootstrap(dir: string, settings: Record<string, string>): BootRun {
  const outFile = path.join(dir, 'bootstrap.out');
  const errFile = path.join(dir, 'bootstrap.err');
  // Files rather than pipes: everything bash wrote is in them once it exits, whatever its
  // leftover watchdog still holds open.
  const out = fs.openSync(outFile, 'w');
  const err = fs.openSync(errFile, 'w');
  const child = spawn('bash', [INSTALLED_BOOTSTRAP], {
    detached: true,
    stdio: ['ignore', out, err],
    env: { PATH: process.env.PATH, HOME: dir, LANG: 'C.UTF-8', ...settings },
  });
  fs.closeSync(out);
  fs.closeSync(err);
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => resolve(code));
  });
  return { child, exited, output: () => fs.readFileSync(outFile, 'utf8') + fs.readFileSync(errFile, 'utf8') };
}

/** Kills the script's whole process group: bash, its watchdog, run.sh and whatever they started. */
export function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
  }
}

/** A temp RUNNER_DIR with a run.sh made of `body` (bash). */
export function runnerDir(body: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bootstrap-test-'));
  fs.writeFileSync(path.join(dir, 'run.sh'), `#!/usr/bin/env bash\nset -euo pipefail\n${body}\n`, { mode: 0o755 });
  return dir;
}
