// The webhook function's bundle beside the one @cloudsnorkel/cdk-github-runners publishes (a devDependency
// pinned in .projenrc.ts): size as deployed (raw and gzip -9, about what Lambda's zip holds) and module-init
// time — each bundle `require`d in a fresh Node.js process, as Lambda's Init phase loads the handler module,
// timed with process.hrtime around the require. The two are measured in one run, alternately, so a change in
// the machine's load falls on both. Neither handler is invoked: nothing here reaches a network.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import { BenchResult, Figure, kib, machine, ms, quantile, ROOT } from './results';
import { WEBHOOK_ENVIRONMENT } from '../src/contracts/environment';

const PEER_PACKAGE = '@cloudsnorkel/cdk-github-runners';
/** Where the peer's package keeps its webhook function's code (its WebhookHandlerFunction's asset). */
const PEER_ASSET = path.join('assets', 'webhook-handler.lambda', 'index.js');

/** What Lambda's runtime sets for every function, and dummies of what each handler module may read. */
const LAMBDA_ENVIRONMENT = {
  AWS_REGION: 'us-east-1',
  AWS_DEFAULT_REGION: 'us-east-1',
  AWS_LAMBDA_FUNCTION_NAME: 'bench-webhook',
  AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512',
  AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
  AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
  AWS_ACCESS_KEY_ID: 'bench',
  AWS_SECRET_ACCESS_KEY: 'bench',
  AWS_SESSION_TOKEN: 'bench',
  LAMBDA_TASK_ROOT: '/var/task',
  _HANDLER: 'index.handler',
  TZ: ':UTC',
};
const OURS_ENVIRONMENT = Object.fromEntries(Object.values(WEBHOOK_ENVIRONMENT).map((v) => [v.name, v.name === 'GITHUB_HOST' ? 'ghes.example.com' : `bench-${v.name.toLowerCase()}`]));
/** The variables the peer's bundle reads (grep of its `process.env.`): ARNs and its label settings. */
const PEER_ENVIRONMENT = {
  GITHUB_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:github',
  GITHUB_PRIVATE_KEY_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:key',
  WEBHOOK_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:webhook',
  STEP_FUNCTION_ARN: 'arn:aws:states:us-east-1:123456789012:stateMachine:runners',
  SUPPORTED_LABELS: '[]',
  REQUIRE_SELF_HOSTED_LABEL: '1',
};

/** The child: requires the bundle once and prints the milliseconds the require took. */
const PROBE = 'const t=process.hrtime.bigint();require(process.argv[1]);process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))';

interface Bundle { readonly name: string; readonly file: string; readonly env: Record<string, string> }

export function webhookBundles(): Bundle[] {
  const ours = path.join(ROOT, 'assets', 'lambda', 'handlers', 'webhook', 'index.js');
  if (!fs.existsSync(ours)) throw new Error(`${path.relative(ROOT, ours)} is missing: run \`npx projen bundle\` (npm run bench does) first`);
  const peerRoot = path.dirname(require.resolve(`${PEER_PACKAGE}/package.json`));
  const peer = path.join(peerRoot, PEER_ASSET);
  if (!fs.existsSync(peer)) throw new Error(`${PEER_PACKAGE} has no ${PEER_ASSET}: its layout changed; find its webhook handler asset and update PEER_ASSET`);
  const version = (JSON.parse(fs.readFileSync(path.join(peerRoot, 'package.json'), 'utf8')) as { version: string }).version;
  return [
    { name: 'cdk-ephemeral-runners', file: ours, env: OURS_ENVIRONMENT },
    { name: `${PEER_PACKAGE}@${version}`, file: peer, env: PEER_ENVIRONMENT },
  ];
}

function initMs(bundle: Bundle): number {
  const out = execFileSync(process.execPath, ['-e', PROBE, bundle.file], {
    cwd: path.dirname(bundle.file),
    // Only what Lambda would set: no NODE_OPTIONS (source maps, loaders) from the shell that ran the benchmark.
    env: { PATH: process.env.PATH ?? '', ...LAMBDA_ENVIRONMENT, ...bundle.env },
    encoding: 'utf8',
    // The bundles' warnings (a deprecated core module, the SDK's Node.js version notice) stay out of the benchmark's output.
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const value = Number(out.trim());
  if (!Number.isFinite(value)) throw new Error(`the init probe of ${bundle.file} printed ${JSON.stringify(out)}`);
  return value;
}

export function benchWebhookBundle(runs = 20): BenchResult {
  const started = Date.now();
  const bundles = webhookBundles();
  const sizes = bundles.map((b) => {
    const code = fs.readFileSync(b.file);
    return { raw: code.length, gzip: zlib.gzipSync(code, { level: 9 }).length };
  });
  // One unmeasured load each first: the file is then in the page cache for every measured run, as for both alike.
  bundles.forEach(initMs);
  const times: number[][] = bundles.map(() => []);
  for (let i = 0; i < runs; i++) bundles.forEach((b, k) => times[k].push(initMs(b)));
  const stats = bundles.map((b, k) => ({
    bundle: b.name,
    file: path.relative(ROOT, b.file),
    bytes: sizes[k].raw,
    gzipBytes: sizes[k].gzip,
    initMs: {
      runs, p50: quantile(times[k], 0.5), p90: quantile(times[k], 0.9), min: Math.min(...times[k]), max: Math.max(...times[k]), all: times[k],
    },
  }));
  const [ours, peer] = stats;
  const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
  const figures: Figure[] = [
    { figure: 'webhook bundle, raw (ours / peer)', value: `${kib(ours.bytes)} / ${kib(peer.bytes)} = ${ratio(ours.bytes, peer.bytes)}` },
    { figure: 'webhook bundle, gzip -9 (ours / peer)', value: `${kib(ours.gzipBytes)} / ${kib(peer.gzipBytes)} = ${ratio(ours.gzipBytes, peer.gzipBytes)}` },
    { figure: `module init p50, ${runs} fresh processes each (ours / peer)`, value: `${ms(ours.initMs.p50)} / ${ms(peer.initMs.p50)} = ${ratio(ours.initMs.p50, peer.initMs.p50)}` },
    { figure: 'module init p90 (ours / peer)', value: `${ms(ours.initMs.p90)} / ${ms(peer.initMs.p90)} = ${ratio(ours.initMs.p90, peer.initMs.p90)}` },
  ];
  return {
    name: 'webhook-bundle',
    title: `Webhook function: bundle size and module init, beside ${peer.bundle}`,
    command: 'npm run bench -- webhook-bundle',
    date: new Date(started).toISOString(),
    machine: machine(),
    wallMs: Date.now() - started,
    figures,
    details: {
      method: 'each bundle required in a fresh `node -e` process, timed with process.hrtime around require(); bundles alternate; one unmeasured load each first',
      ratios: {
        bytes: ours.bytes / peer.bytes,
        gzipBytes: ours.gzipBytes / peer.gzipBytes,
        initP50: ours.initMs.p50 / peer.initMs.p50,
        initP90: ours.initMs.p90 / peer.initMs.p90,
      },
      bundles: stats,
    },
  };
}
