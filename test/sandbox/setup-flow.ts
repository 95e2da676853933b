// Drives the setup page and the status command of a running sandbox the way an operator does: HTTP
// with a cookie jar (a browser's part of the manifest flow), and the command's shipped bundle.
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseScenario } from '../../sandbox/scenario';
import type { RunningSandbox } from '../../sandbox/system';

const CLI = path.join(__dirname, '..', '..', 'assets', 'cli', 'cdk-ephemeral-runners', 'index.js');

/**
 * A quiet scenario with one config, for a sandbox the test drives itself (its job only names the repository the test queues in).
 * Time scale 0.25: a function's timeout runs on the simulated clock while the function takes real time, so at 0.05 the setup
 * page's 29 s were 1.45 s of wall time, which a cold start on a loaded machine (the whole suite, a browser) could exceed.
 */
export function setupScenario(name: string, seed: number) {
  return parseScenario({
    name,
    seed,
    timeScale: 0.25,
    runnerConfigs: [{ name: 'linux-x64', labels: ['linux', 'x64'], instanceTypes: ['m7i.large'], spot: 'ON_DEMAND_ONLY', maxRunners: 2 }],
    faults: {
      github: { errorRate: 0, latencyMs: [0, 0] },
      webhooks: { dropRate: 0, duplicateRate: 0, reorderRate: 0 },
      ec2: { capacityErrorRate: 0, throttleRate: 0, bootMs: [5_000, 10_000] },
    },
    jobs: [{ repo: 'app', labels: ['self-hosted', 'linux', 'x64'], count: 1, durationMs: 10_000 }],
  });
}

/** A browser's memory of one site's cookies, enough for the setup page's state cookie. */
export class CookieJar {
  private readonly cookies = new Map<string, string>();

  async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const header = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const response = await fetch(url, { ...init, redirect: 'manual', headers: { ...(header ? { cookie: header } : {}), ...init.headers } });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const [name, value] = [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)];
      if (value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return response;
  }
}

/** A form's hidden and text fields (name → value) and its action, from a page of the flow. */
export function formOf(html: string): { action: string; fields: Record<string, string> } {
  const unescape = (s: string) => s.replace(/&#(\d+);/g, (_, c: string) => String.fromCharCode(Number(c)));
  const action = unescape(/<form method="post" action="([^"]*)"/.exec(html)?.[1] ?? '');
  const fields = Object.fromEntries([...html.matchAll(/<input type="(?:hidden|text)"[^>]*>/g)]
    .map(([tag]) => [/name="([^"]+)"/.exec(tag)![1], unescape(/value="([^"]*)"/.exec(tag)?.[1] ?? '')]));
  return { action, fields };
}

const form = (fields: Record<string, string>) => ({
  method: 'POST', body: new URLSearchParams(fields).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' },
});

/** The setup page up to GitHub's redirect: the form, the owner, the manifest posted to the GHES, "Create GitHub App". */
export async function startSetup(jar: CookieJar, setupUrl: string, owner: string): Promise<{ callback: string; pages: string[] }> {
  const pages: string[] = [];
  const first = await (await jar.fetch(setupUrl)).text();
  pages.push(first);
  const start = formOf(first);
  const confirm = await (await jar.fetch(start.action, form({ ...start.fields, owner, ownerType: 'organization' }))).text();
  pages.push(confirm);
  const toGhes = formOf(confirm);
  const ghesPage = await (await jar.fetch(toGhes.action, form(toGhes.fields))).text();
  pages.push(ghesPage);
  const create = formOf(ghesPage);
  const redirect = await jar.fetch(new URL(create.action, toGhes.action).toString(), form(create.fields));
  if (redirect.status !== 302) throw new Error(`GHES answered ${redirect.status} to "Create GitHub App": ${await redirect.text()}`);
  return { callback: redirect.headers.get('location')!, pages };
}

/** The whole setup: the App created, its credentials stored, and the App installed on `owner`. */
export async function completeSetup(sandbox: RunningSandbox, owner = sandbox.org): Promise<string> {
  const jar = new CookieJar();
  const { callback } = await startSetup(jar, sandbox.setupUrl!, owner);
  const done = await (await jar.fetch(callback)).text();
  const install = /<a id="install" href="([^"]+)"/.exec(done)?.[1];
  if (!install) throw new Error(`the setup page did not finish: ${done}`);
  const installPage = formOf(await (await jar.fetch(install)).text());
  await jar.fetch(new URL(installPage.action, install).toString(), form(installPage.fields));
  return done;
}

export interface StatusResult {
  readonly exitCode: number;
  readonly output: string;
  readonly json?: { ok: boolean; checks: Array<{ check: string; ok: boolean; detail: string; fix?: string }> };
}

/** Runs the shipped `cdk-ephemeral-runners` command against the sandbox, as an operator with its AWS environment would. */
export async function runCommand(sandbox: RunningSandbox, args: readonly string[]): Promise<StatusResult> {
  // An empty home: no AWS profile of the machine's user can leak in.
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'status-home-'));
  try {
    return await new Promise((resolve) => {
      const env = { PATH: process.env.PATH, HOME: home, ...sandbox.operatorEnvironment };
      execFile(process.execPath, [CLI, ...args], { env }, (error, stdout, stderr) => {
        const exitCode = error ? Number((error as { code?: number }).code ?? 1) : 0;
        const output = `${stdout}${stderr}`;
        let json;
        try {
          json = args.includes('--json') ? JSON.parse(stdout) : undefined;
        } catch {
          json = undefined;
        }
        resolve({ exitCode, output, json });
      });
    });
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
}

/** `status --json` of the sandbox's stack, with the simulated GHES as the GitHub API. */
export function status(sandbox: RunningSandbox): Promise<StatusResult> {
  return runCommand(sandbox, ['status', '--stack', sandbox.stackName, '--json', '--github-api-url', sandbox.ghes.apiUrl]);
}
