// The instance bootstrap, run for real by bash: IMDSv2 of a simulated instance, the register call
// signed by curl --aws-sigv4 and checked like AWS_IAM auth, the real register logic on dynalite and
// the GHES simulator, and a run.sh that hands its JIT config to a simulated runner which takes the
// job. The script's power-off command powers the simulated instance off.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { EC2Client } from '@aws-sdk/client-ec2';
import { BOOTSTRAP, BootRun, FrontProxy, identityFrom, InstanceHost, killGroup, registerEndpoint, runBootstrap, runnerDir, runningInstance } from './boot-harness';
import { shellcheckTest } from './shellcheck';
import { emptyPool } from '../../lambda/core/pool';
import { CloudWatchLogsSimulator } from '../../sandbox/aws/cloudwatch-logs';
import { FunctionUrlSimulator } from '../../sandbox/aws/function-url';
import { S3Simulator } from '../../sandbox/aws/s3';
import { Ec2Simulator } from '../../sandbox/ec2';
import { GhesSimulator } from '../../sandbox/ghes';
import { IamAuthorizer } from '../../sandbox/iam/authorizer';
import { rolesWithPolicies, serviceAuthorizer } from '../../sandbox/iam/services';
import { ORG, POOL, PREFIX, registerWorld, RegisterWorld, RUNNER_ROLE } from '../lambda/register/register-harness';
import { DynamoTestEngine, startDynalite } from '../lambda/support/dynalite';
import { waitFor } from '../sandbox/ec2/helpers';

/** run.sh: records how it was called and who runs it (never the config), then runs the simulated runner. */
const RUN_SH = (hostUrl: string) => [
  'here="$(dirname "$0")"',
  'printf \'%s\\n\' "$1" >"$here/run.args"',
  'id -un >"$here/run.user"',
  `code="$(curl -sS --fail --max-time 20 --data-binary "$2" ${hostUrl}/run)"`,
  'exit "$code"',
].join('\n');

let engine: DynamoTestEngine;
let ghes: GhesSimulator;
let ec2: Ec2Simulator;
let client: EC2Client;
let host: InstanceHost;
let endpoint: FunctionUrlSimulator;
let logs: CloudWatchLogsSimulator;
const LOG_GROUP = '/ephemeral-runners/instances';
let registerFront: FrontProxy;
let s3: S3Simulator;
let s3Dir: string;
const HOOK_BUCKET = 'cdk-hnb659fds-assets-123456789012-us-east-1';
const ASSET_HOOK = 'echo "from the asset"\n';
let imdsFront: FrontProxy;
let world: RegisterWorld;
let templates: { required: string; optional: string };
/** Replaces the register handler for one test; default: the real one. */
let intercept: ((event: Parameters<RegisterWorld['handler']>[0]) => ReturnType<RegisterWorld['handler']>) | undefined;
const runs: BootRun[] = [];
const dirs: string[] = [];

beforeAll(async () => {
  engine = await startDynalite();
  ghes = new GhesSimulator({ seed: 11, org: ORG, repos: ['app'] });
  ec2 = new Ec2Simulator({ seed: 11, faults: { bootDelayMs: 0, shutdownDelayMs: 0 }, onListenerError: () => undefined });
  host = new InstanceHost(ghes, ec2);
  endpoint = registerEndpoint(ec2, (event) => (intercept ?? world.handler)(event));
  logs = new CloudWatchLogsSimulator({
    region: ec2.region,
    accountId: ec2.accountId,
    logGroups: [LOG_GROUP],
    identityFor: identityFrom(ec2),
    // What the runner role's policy allows: its own log group, nothing else (decided by the IAM engine).
    authorize: serviceAuthorizer('logs', {
      authorizer: () => new IamAuthorizer({
        accountId: ec2.accountId,
        roles: rolesWithPolicies({
          [RUNNER_ROLE]: [{
            Effect: 'Allow',
            Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
            Resource: `arn:aws:logs:${ec2.region}:${ec2.accountId}:log-group:${LOG_GROUP}:*`,
          }],
        }),
      }),
      context: { region: ec2.region, accountId: ec2.accountId },
      identityFor: identityFrom(ec2),
    }),
  });
  // The bootstrap bucket with two hook objects; the runner role may read the first only.
  s3Dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bootstrap-s3-'));
  const object = (name: string) => {
    fs.writeFileSync(path.join(s3Dir, name), ASSET_HOOK);
    return [`${HOOK_BUCKET}/${name}`, path.join(s3Dir, name)] as const;
  };
  s3 = new S3Simulator({
    region: ec2.region,
    objects: new Map([object('allowed.sh'), object('not-granted.sh')]),
    identityFor: identityFrom(ec2),
    authorize: serviceAuthorizer('s3', {
      authorizer: () => new IamAuthorizer({
        accountId: ec2.accountId,
        roles: rolesWithPolicies({ [RUNNER_ROLE]: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${HOOK_BUCKET}/allowed.sh` }] }),
      }),
      context: { region: ec2.region, accountId: ec2.accountId },
      identityFor: identityFrom(ec2),
    }),
  });
  await Promise.all([ghes.start(), ec2.start(), host.start(), endpoint.start(), logs.start(), s3.start()]);
  registerFront = new FrontProxy(() => endpoint.url);
  imdsFront = new FrontProxy(() => ec2.imds.url);
  await Promise.all([registerFront.start(), imdsFront.start()]);
  client = new EC2Client({ endpoint: ec2.url, region: ec2.region, credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test' }, maxAttempts: 1 });
  const template = (name: string, httpTokens: 'required' | 'optional') => ec2.registerLaunchTemplate({
    launchTemplateName: name,
    imageId: 'ami-0123456789abcdef0',
    instanceInitiatedShutdownBehavior: 'terminate',
    iamInstanceProfile: { arn: `arn:aws:iam::${ec2.accountId}:instance-profile/runner`, roleName: RUNNER_ROLE },
    metadataOptions: { httpTokens },
  }).launchTemplateId;
  templates = { required: template('runners', 'required'), optional: template('runners-imdsv1-allowed', 'optional') };
});

afterAll(async () => {
  client.destroy();
  await Promise.all([registerFront.stop(), imdsFront.stop(), endpoint.stop(), host.stop(), ghes.stop(), ec2.stop(), logs.stop(), s3.stop()]);
  fs.rmSync(s3Dir, { recursive: true, force: true });
  await engine.stop();
});

beforeEach(async () => {
  world = await registerWorld(engine, ghes);
  intercept = undefined;
  registerFront.dropNext = 0;
  registerFront.requests.length = 0;
  host.powerOffs.length = 0;
  host.configs.length = 0;
  imdsFront.refuseTokenRequests = false;
  imdsFront.tokenLifetimeMs = undefined;
  imdsFront.expiredTokenRequests = 0;
});

afterEach(() => {
  for (const r of runs.splice(0)) killGroup(r.child);
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** Boots `instanceId` with the real bootstrap; settings override the defaults. */
function boot(instanceId: string, dir: string, settings: Record<string, string> = {}): BootRun {
  const bootRun = runBootstrap(dir, {
    REGISTER_URL: `${endpoint.url}`,
    REGISTER_SERVICE: 'lambda',
    IMDS_ENDPOINT: `${ec2.imds.url}/${instanceId}`,
    RUNNER_DIR: dir,
    RUNNER_USER: os.userInfo().username,
    CONFIG_TIMEOUT_SECONDS: '20',
    MAX_LIFETIME_SECONDS: '3600',
    POWEROFF_COMMAND: `curl -sS -X POST ${host.url}/poweroff/${instanceId}`,
    ...settings,
  });
  runs.push(bootRun);
  dirs.push(dir);
  return bootRun;
}

/** The script's exit code, failing the test if it runs longer than `ms`. */
async function exitOf(bootRun: BootRun, ms = 45_000): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`bootstrap still running after ${ms} ms:\n${bootRun.output()}`)), ms);
  });
  try {
    return await Promise.race([bootRun.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const ranRunner = (dir: string) => fs.existsSync(path.join(dir, 'run.args'));

test('a booting instance gets its JIT config, its runner takes the job, and the instance powers off', async () => {
  // Arrange: a queued job at GitHub and in the table; a runner recorded for the instance.
  const instanceId = await runningInstance(ec2, client, templates.required);
  await world.launch(instanceId);
  const jobId = ghes.queueJob('app', ['self-hosted', 'linux', 'x64'], 200);
  await world.queueJob(jobId);
  const dir = runnerDir(RUN_SH(host.url));
  const imdsBefore = ec2.imds.stats();

  // Act
  const bootRun = boot(instanceId, dir);
  const code = await exitOf(bootRun);

  // Assert
  expect(code).toBe(0);
  expect(ghes.job(jobId)).toMatchObject({ status: 'completed', conclusion: 'success', runnerName: `${PREFIX}${instanceId}` });
  expect(fs.readFileSync(path.join(dir, 'run.args'), 'utf8')).toBe('--jitconfig\n');
  expect(fs.readFileSync(path.join(dir, 'run.user'), 'utf8').trim()).toBe(os.userInfo().username);
  expect(host.powerOffs).toEqual([instanceId]);
  expect(['shutting-down', 'terminated']).toContain(ec2.instance(instanceId)?.state);
  // Every IMDS request carried a valid token: IMDSv2 only.
  expect(ec2.imds.stats().byStatus['401'] ?? 0).toBe(imdsBefore.byStatus['401'] ?? 0);
  // The log is JSON lines, and the JIT config is in none of the script's output.
  const output = bootRun.output();
  expect(host.configs).toHaveLength(1);
  expect(output).not.toContain(host.configs[0]);
  const logLines = output.split('\n').filter((l) => l.startsWith('{'));
  expect(logLines.map((l) => (JSON.parse(l) as { message: string }).message)).toEqual(expect.arrayContaining(['asking for a runner config', 'starting the runner']));
});

test('as it powers off, the script ships its own log lines to the log group, one stream per instance, never the config', async () => {
  const instanceId = await runningInstance(ec2, client, templates.required);
  await world.launch(instanceId);
  const jobId = ghes.queueJob('app', ['self-hosted', 'linux', 'x64'], 100);
  await world.queueJob(jobId);
  const dir = runnerDir(RUN_SH(host.url));

  const bootRun = boot(instanceId, dir, { LOG_GROUP_NAME: LOG_GROUP, LOGS_ENDPOINT: logs.url, LOG_BUFFER: path.join(dir, 'bootstrap.log') });
  expect(await exitOf(bootRun)).toBe(0);

  const events = logs.logStreams(LOG_GROUP).get(instanceId)!;
  const printed = bootRun.output().split('\n').filter((l) => l.startsWith('{'));
  // Every line the script printed, as the message of one event, in order, with its time.
  expect(events.map((e) => e.message)).toEqual(printed);
  expect(events.map((e) => (JSON.parse(e.message) as { message: string }).message))
    .toEqual(expect.arrayContaining(['asking for a runner config', 'starting the runner', 'powering off: the runner exited with status 0']));
  for (const [i, e] of events.entries()) expect(e.timestamp).toBeGreaterThanOrEqual(events[Math.max(0, i - 1)].timestamp);
  expect(JSON.stringify(events)).not.toContain(host.configs[0]);
  expect(host.powerOffs).toEqual([instanceId]);
});

/** run.sh as a runner that logs to its _diag folder, as the real one does: the config handed to it too (a careless runner), then `running`; it holds the job until the file `release` exists. */
const DIAG_RUN_SH = (hostUrl: string) => [
  'here="$(dirname "$0")"',
  'mkdir -p "$here/_diag"',
  'printf \'[2026-12-07 10:00:00Z INFO Runner] config %s\\n\' "$2" >>"$here/_diag/Runner_20261207-100000-utc.log"',
  'touch "$here/running"',
  'until [[ -e "$here/release" ]]; do sleep 0.1; done',
  'printf \'[2026-12-07 10:00:05Z INFO Worker] job completed\\n\' >>"$here/_diag/Worker_20261207-100001-utc.log"',
  RUN_SH(hostUrl),
].join('\n');

test('with the runner\'s logs on, its diagnostic lines reach the log group while the job runs, cleaned and with credentials redacted', async () => {
  const instanceId = await runningInstance(ec2, client, templates.required);
  await world.launch(instanceId);
  const jobId = ghes.queueJob('app', ['self-hosted', 'linux', 'x64'], 100);
  await world.queueJob(jobId);
  const dir = runnerDir(DIAG_RUN_SH(host.url));
  const runnerLog = path.join(dir, '_diag', 'Runner_20261207-100000-utc.log');

  const bootRun = boot(instanceId, dir, {
    LOG_GROUP_NAME: LOG_GROUP, LOGS_ENDPOINT: logs.url, LOG_BUFFER: path.join(dir, 'bootstrap.log'), LOG_SHIP_SECONDS: '1', RUNNER_DIAGNOSTIC_LOGS: '1',
  });
  await waitFor(() => fs.existsSync(path.join(dir, 'running')));
  // More of the runner's lines: JSON's special characters, a control character, bytes that are not
  // UTF-8, an empty line, an installation token and a JWT.
  fs.appendFileSync(runnerLog, Buffer.concat([
    Buffer.from('quote " backslash \\ tab\tend\u0007\n\n'),
    Buffer.from([0x62, 0x61, 0x64, 0x20, 0xff, 0xfe, 0x0a]),
    Buffer.from('token ghs_0123456789abcdefghijABCDEFGHIJ and eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiIxMjMifQ.c2lnbmF0dXJl\n'),
  ]));
  const stream = `${instanceId}/Runner_20261207-100000-utc.log`;
  const shipped = await waitFor(() => (logs.logStreams(LOG_GROUP).get(stream)?.length ?? 0) >= 4 && logs.logStreams(LOG_GROUP).get(stream)!);

  // The job is still held: these lines came while the instance lived, not at power-off.
  expect(ghes.job(jobId)?.status).not.toBe('completed');
  expect(host.powerOffs).toEqual([]);
  expect(shipped.map((e) => e.message)).toEqual([
    '[2026-12-07 10:00:00Z INFO Runner] config [redacted]',
    'quote " backslash \\ tab\tend',
    'bad ',
    'token [redacted] and [redacted]',
  ]);
  fs.writeFileSync(path.join(dir, 'release'), '');
  expect(await exitOf(bootRun)).toBe(0);

  expect(ghes.job(jobId)).toMatchObject({ status: 'completed', conclusion: 'success' });
  // The worker's log, written as the job ended, went with the last round.
  expect(logs.logStreams(LOG_GROUP).get(`${instanceId}/Worker_20261207-100001-utc.log`)?.map((e) => e.message))
    .toEqual(['[2026-12-07 10:00:05Z INFO Worker] job completed']);
  expect(logs.logStreams(LOG_GROUP).get(stream)).toHaveLength(4);
  expect(JSON.stringify([...logs.logStreams(LOG_GROUP).entries()])).not.toContain(host.configs[0]);
});

test('a batch of PutLogEvents larger than one command-line argument may be (128 KiB) still ships: 250 runner lines of 1000 bytes', async () => {
  // Arrange: a runner log of 250 lines of about 1000 bytes: the first batch of 200 is some 200 KB of JSON.
  const instanceId = await runningInstance(ec2, client, templates.required);
  await world.launch(instanceId);
  const jobId = ghes.queueJob('app', ['self-hosted', 'linux', 'x64'], 100);
  await world.queueJob(jobId);
  const dir = runnerDir(DIAG_RUN_SH(host.url));
  const lines = Array.from({ length: 250 }, (_, i) => `step ${i}: ${'lorem "ipsum" dolor sit amet '.repeat(34)}`);
  expect(Buffer.byteLength(lines.slice(0, 200).join('\n'))).toBeGreaterThan(128 * 1024);
  const bootRun = boot(instanceId, dir, {
    LOG_GROUP_NAME: LOG_GROUP, LOGS_ENDPOINT: logs.url, LOG_BUFFER: path.join(dir, 'bootstrap.log'), LOG_SHIP_SECONDS: '1', RUNNER_DIAGNOSTIC_LOGS: '1',
  });
  await waitFor(() => fs.existsSync(path.join(dir, 'running')));

  // Act
  fs.writeFileSync(path.join(dir, '_diag', 'Worker_20261207-100002-utc.log'), lines.map((l) => `${l}\n`).join(''));
  fs.writeFileSync(path.join(dir, 'release'), '');
  expect(await exitOf(bootRun)).toBe(0);

  // Assert
  expect(logs.logStreams(LOG_GROUP).get(`${instanceId}/Worker_20261207-100002-utc.log`)?.map((e) => e.message)).toEqual(lines);
  expect(bootRun.output()).not.toContain('Argument list too long');
});

test('an instance that outlives its IMDSv2 token asks for a new one in time and keeps shipping its lines', async () => {
  // Arrange: IMDSv2 tokens that run out 5 s after their first use (as the 6-hour TTL does on an instance
  // that lives longer), and a script that renews its token after 2 s (in production after 5 hours).
  const instanceId = await runningInstance(ec2, client, templates.required);
  await world.launch(instanceId);
  const jobId = ghes.queueJob('app', ['self-hosted', 'linux', 'x64'], 100);
  await world.queueJob(jobId);
  const dir = runnerDir(DIAG_RUN_SH(host.url));
  const stream = `${instanceId}/Runner_20261207-100000-utc.log`;
  imdsFront.requests.length = 0;
  imdsFront.tokenLifetimeMs = 5_000;
  const started = Date.now();
  const shipping = { LOG_GROUP_NAME: LOG_GROUP, LOGS_ENDPOINT: logs.url, LOG_BUFFER: path.join(dir, 'bootstrap.log'), LOG_SHIP_SECONDS: '1', RUNNER_DIAGNOSTIC_LOGS: '1' };
  const bootRun = boot(instanceId, dir, { ...shipping, IMDS_ENDPOINT: `${imdsFront.url}/${instanceId}`, IMDS_TOKEN_REFRESH_SECONDS: '2' });
  await waitFor(() => fs.existsSync(path.join(dir, 'running')));

  // Act: the runner writes a line once the first token has run out.
  await waitFor(() => Date.now() - started > 7_000 || undefined, 10_000);
  fs.appendFileSync(path.join(dir, '_diag', 'Runner_20261207-100000-utc.log'), 'step 1, after the first token ran out\n');

  // Assert: shipped while the job runs, with tokens renewed before any ran out.
  await waitFor(() => logs.logStreams(LOG_GROUP).get(stream)?.some((e) => e.message.startsWith('step 1')), 10_000);
  expect(imdsFront.requests.filter((r) => r.method === 'PUT').length).toBeGreaterThanOrEqual(2);
  expect(imdsFront.expiredTokenRequests).toBe(0);
  fs.writeFileSync(path.join(dir, 'release'), '');
  expect(await exitOf(bootRun)).toBe(0);
  expect(ghes.job(jobId)).toMatchObject({ status: 'completed', conclusion: 'success' });
});

test('a spot instance\'s lines up to its interruption notice are in the log group when it is reclaimed', async () => {
  const instanceId = await runningInstance(ec2, client, templates.required);
  await world.launch(instanceId);
  const jobId = ghes.queueJob('app', ['self-hosted', 'linux', 'x64'], 100);
  await world.queueJob(jobId);
  const dir = runnerDir(DIAG_RUN_SH(host.url));
  const bootRun = boot(instanceId, dir, {
    LOG_GROUP_NAME: LOG_GROUP, LOGS_ENDPOINT: logs.url, LOG_BUFFER: path.join(dir, 'bootstrap.log'), LOG_SHIP_SECONDS: '1', RUNNER_DIAGNOSTIC_LOGS: '1',
  });
  await waitFor(() => fs.existsSync(path.join(dir, 'running')));
  fs.appendFileSync(path.join(dir, '_diag', 'Runner_20261207-100000-utc.log'), 'step 1 of the job\n');

  ec2.interrupt(instanceId);
  const notice = (e: { message: string }) => (JSON.parse(e.message) as { message: string }).message.startsWith('spot interruption notice: {\'action\':\'terminate\'');
  await waitFor(() => logs.logStreams(LOG_GROUP).get(instanceId)?.some(notice));
  await waitFor(() => (logs.logStreams(LOG_GROUP).get(`${instanceId}/Runner_20261207-100000-utc.log`)?.length ?? 0) >= 2);
  // The reclaim: the instance's processes end without a shutdown of their own.
  killGroup(bootRun.child);
  await bootRun.exited;
  // Its job never reached a runner; GitHub would hand it to the next one (the later tests' runners).
  ghes.cancelJob(jobId);

  expect(logs.logStreams(LOG_GROUP).get(`${instanceId}/Runner_20261207-100000-utc.log`)?.map((e) => e.message))
    .toEqual(['[2026-12-07 10:00:00Z INFO Runner] config [redacted]', 'step 1 of the job']);
  const bootstrapLines = logs.logStreams(LOG_GROUP).get(instanceId)!.map((e) => (JSON.parse(e.message) as { message: string }).message);
  expect(bootstrapLines).toEqual(expect.arrayContaining(['asking for a runner config', 'starting the runner']));
  expect(bootstrapLines.filter((m) => m.startsWith('spot interruption notice'))).toHaveLength(1);
  expect(host.powerOffs).toEqual([]);
});

test('a config\'s job hooks are installed outside the runner\'s directory and named to the runner in its environment', async () => {
  const instanceId = await runningInstance(ec2, client, templates.required);
  await world.launch(instanceId);
  const jobId = ghes.queueJob('app', ['self-hosted', 'linux', 'x64'], 100);
  await world.queueJob(jobId);
  // run.sh records the hook variables it was started with, as the runner reads them.
  const dir = runnerDir(['env | grep \'^ACTIONS_RUNNER_HOOK_\' | sort >"$(dirname "$0")/run.env" || true', RUN_SH(host.url)].join('\n'));
  const hookDir = path.join(dir, 'hooks');
  const started = 'echo "job $GITHUB_JOB starts"\n';
  const completed = 'echo \'done\'; exit 0\n';

  const bootRun = boot(instanceId, dir, {
    HOOK_DIR: hookDir,
    JOB_STARTED_HOOK_BASE64: Buffer.from(started).toString('base64'),
    JOB_COMPLETED_HOOK_BASE64: Buffer.from(completed).toString('base64'),
  });

  expect(await exitOf(bootRun)).toBe(0);
  expect(fs.readFileSync(path.join(dir, 'run.env'), 'utf8')).toBe(
    `ACTIONS_RUNNER_HOOK_JOB_COMPLETED=${hookDir}/job-completed.sh\nACTIONS_RUNNER_HOOK_JOB_STARTED=${hookDir}/job-started.sh\n`);
  expect(fs.readFileSync(path.join(hookDir, 'job-started.sh'), 'utf8')).toBe(started);
  expect(fs.readFileSync(path.join(hookDir, 'job-completed.sh'), 'utf8')).toBe(completed);
  expect((fs.statSync(path.join(hookDir, 'job-started.sh')).mode % 0o1000).toString(8)).toBe('755');
  expect(bootRun.output()).toContain(`installed the job-started hook (${started.length} bytes)`);
  expect(ghes.job(jobId)).toMatchObject({ status: 'completed', conclusion: 'success' });
});

test('without job hooks the runner is started with no hook variables', async () => {
  const instanceId = await runningInstance(ec2, client, templates.required);
  await world.launch(instanceId);
  const jobId = ghes.queueJob('app', ['self-hosted', 'linux', 'x64'], 100);
  await world.queueJob(jobId);
  const dir = runnerDir(['env | grep \'^ACTIONS_RUNNER_HOOK_\' >"$(dirname "$0")/run.env" || true', RUN_SH(host.url)].join('\n'));

  const bootRun = boot(instanceId, dir, { HOOK_DIR: path.join(dir, 'hooks') });

  expect(await exitOf(bootRun)).toBe(0);
  expect(fs.readFileSync(path.join(dir, 'run.env'), 'utf8')).toBe('');
  expect(fs.existsSync(path.join(dir, 'hooks'))).toBe(false);
});

test('a job hook given as an S3 object is downloaded with SigV4 as the instance role and named to the runner', async () => {
  const instanceId = await runningInstance(ec2, client, templates.required);
  await world.launch(instanceId);
  const jobId = ghes.queueJob('app', ['self-hosted', 'linux', 'x64'], 100);
  await world.queueJob(jobId);
  const dir = runnerDir(['env | grep \'^ACTIONS_RUNNER_HOOK_\' >"$(dirname "$0")/run.env" || true', RUN_SH(host.url)].join('\n'));
  const hookDir = path.join(dir, 'hooks');
  const before = s3.gets.ok;

  const bootRun = boot(instanceId, dir, { HOOK_DIR: hookDir, JOB_STARTED_HOOK_URL: `${s3.url}/${HOOK_BUCKET}/allowed.sh` });

  expect(await exitOf(bootRun)).toBe(0);
  expect(s3.gets.ok).toBe(before + 1);
  expect(fs.readFileSync(path.join(dir, 'run.env'), 'utf8')).toBe(`ACTIONS_RUNNER_HOOK_JOB_STARTED=${hookDir}/job-started.sh\n`);
  expect(fs.readFileSync(path.join(hookDir, 'job-started.sh'), 'utf8')).toBe(ASSET_HOOK);
  expect(ghes.job(jobId)).toMatchObject({ status: 'completed', conclusion: 'success' });
});

test('a job hook S3 will not hand over becomes one that fails every job, saying so, and the instance still serves its job', async () => {
  const instanceId = await runningInstance(ec2, client, templates.required);
  await world.launch(instanceId);
  const jobId = ghes.queueJob('app', ['self-hosted', 'linux', 'x64'], 100);
  await world.queueJob(jobId);
  const dir = runnerDir(RUN_SH(host.url));
  const hookDir = path.join(dir, 'hooks');
  const url = `${s3.url}/${HOOK_BUCKET}/not-granted.sh`;
  const refused = s3.gets.refused.AccessDenied ?? 0;

  const bootRun = boot(instanceId, dir, { HOOK_DIR: hookDir, JOB_COMPLETED_HOOK_URL: url });

  expect(await exitOf(bootRun)).toBe(0);
  // Four attempts, each refused by IAM (the role may read allowed.sh only).
  expect(s3.gets.refused.AccessDenied).toBe(refused + 4);
  const hook = path.join(hookDir, 'job-completed.sh');
  const ran = spawnSync('bash', ['-e', hook], { encoding: 'utf8' });
  expect(ran.status).toBe(1);
  expect(ran.stderr).toBe(`the job-completed hook could not be downloaded from ${url}\n`);
  expect(ghes.job(jobId)?.runnerName).toBe(`${PREFIX}${instanceId}`);
}, 60_000);

test('a job hook that is not base64 powers the instance off before it asks for a runner config', async () => {
  const instanceId = await runningInstance(ec2, client, templates.required);
  await world.launch(instanceId);
  const dir = runnerDir(RUN_SH(host.url));

  const bootRun = boot(instanceId, dir, { REGISTER_URL: registerFront.url, HOOK_DIR: path.join(dir, 'hooks'), JOB_STARTED_HOOK_BASE64: 'not base64!' });

  expect(await exitOf(bootRun)).toBe(0);
  expect(ranRunner(dir)).toBe(false);
  expect(registerFront.requests).toEqual([]);
  expect(host.powerOffs).toEqual([instanceId]);
  expect(bootRun.output()).toContain('powering off: the job-started hook in the user data is not valid base64');
});

test.each([
  ['CreateLogStream', 400, 'ThrottlingException'],
  ['CreateLogStream', 500, 'ServiceUnavailableException'],
  ['PutLogEvents', 400, 'ThrottlingException'],
  ['PutLogEvents', 400, 'ResourceNotFoundException'],
] as const)('a %s refused with %d %s loses no line: it is tried again, and every line reaches the log group', async (operation, status, type) => {
  // Arrange: no queued job, so the endpoint declines (410) and the script powers off within its first
  // LOG_SHIP_SECONDS: the refused call is in the last round, the one that ships as it powers off.
  const instanceId = await runningInstance(ec2, client, templates.required);
  await world.launch(instanceId);
  const dir = runnerDir(RUN_SH(host.url));
  logs.refuseNext(operation, status, type);

  // Act
  const bootRun = boot(instanceId, dir, { LOG_GROUP_NAME: LOG_GROUP, LOGS_ENDPOINT: logs.url, LOG_BUFFER: path.join(dir, 'bootstrap.log') });
  expect(await exitOf(bootRun)).toBe(0);

  // Assert: every line the script printed, once, in order.
  const printed = bootRun.output().split('\n').filter((l) => l.startsWith('{'));
  expect(printed.map((l) => (JSON.parse(l) as { message: string }).message)).toContain('powering off: the register endpoint declined this instance');
  expect(logs.logStreams(LOG_GROUP).get(instanceId)?.map((e) => e.message)).toEqual(printed);
  expect(host.powerOffs).toEqual([instanceId]);
});

test('a CreateLogStream refused for good (a log group the role may not write) is asked once, not every round, and the instance still powers off', async () => {
  const instanceId = await runningInstance(ec2, client, templates.required);
  await world.launch(instanceId);
  const dir = runnerDir(RUN_SH(host.url));
  const before = logs.calls('CreateLogStream');

  const bootRun = boot(instanceId, dir, { LOG_GROUP_NAME: '/not/granted', LOGS_ENDPOINT: logs.url, LOG_BUFFER: path.join(dir, 'bootstrap.log') });

  expect(await exitOf(bootRun)).toBe(0);
  expect(host.powerOffs).toEqual([instanceId]);
  expect(logs.calls('CreateLogStream') - before).toBe(1);
});

test('a stream left by an earlier boot (a warm pool instance started again) takes the new boot\'s lines', async () => {
  // Arrange: the same instance boots twice; the power-off command does nothing, so it stays running.
  const instanceId = await runningInstance(ec2, client, templates.required);
  await world.launch(instanceId);
  const settings = (dir: string) => ({ LOG_GROUP_NAME: LOG_GROUP, LOGS_ENDPOINT: logs.url, LOG_BUFFER: path.join(dir, 'bootstrap.log'), POWEROFF_COMMAND: 'true' });
  const first = runnerDir(RUN_SH(host.url));
  const firstRun = boot(instanceId, first, settings(first));
  expect(await exitOf(firstRun)).toBe(0);
  const second = runnerDir(RUN_SH(host.url));

  // Act: its CreateLogStream finds the stream (400 ResourceAlreadyExistsException).
  const secondRun = boot(instanceId, second, settings(second));
  expect(await exitOf(secondRun)).toBe(0);

  // Assert
  const printed = (run: BootRun) => run.output().split('\n').filter((l) => l.startsWith('{'));
  expect(logs.logStreams(LOG_GROUP).get(instanceId)?.map((e) => e.message)).toEqual([...printed(firstRun), ...printed(secondRun)]);
});

test('a log endpoint that cannot be reached does not keep the instance from powering off', async () => {
  // No queued job: the endpoint declines (410) and the script powers off at once.
  const instanceId = await runningInstance(ec2, client, templates.required);
  await world.launch(instanceId);
  const dir = runnerDir(RUN_SH(host.url));

  // Nothing listens on port 9 of loopback: every log call is refused at once.
  const bootRun = boot(instanceId, dir, { LOG_GROUP_NAME: LOG_GROUP, LOGS_ENDPOINT: 'http://127.0.0.1:9', LOG_BUFFER: path.join(dir, 'bootstrap.log') });

  expect(await exitOf(bootRun)).toBe(0);
  expect(host.powerOffs).toEqual([instanceId]);
  expect(logs.logStreams(LOG_GROUP).has(instanceId)).toBe(false);
});

test('an instance the endpoint declines (410: no demand left) powers off without running the runner', async () => {
  const instanceId = await runningInstance(ec2, client, templates.required);
  await world.launch(instanceId);
  const dir = runnerDir(RUN_SH(host.url));

  const bootRun = boot(instanceId, dir);
  const code = await exitOf(bootRun);

  expect(code).toBe(0);
  expect(ranRunner(dir)).toBe(false);
  expect(host.powerOffs).toEqual([instanceId]);
  expect(bootRun.output()).toContain('register endpoint answered 410');
  expect(bootRun.output()).not.toContain('ahead of parking'); // it is gone, not parked: nothing to ready
  expect((await world.runners.getRunner(instanceId))?.state).toBe('retiring');
});

/** A runner directory with the files a read-ahead should fetch: `bin` and `externals`, `bytes` in all. */
function runnerDirWithFiles(): { dir: string; readAhead: string; bytes: number } {
  const dir = runnerDir(RUN_SH(host.url));
  const files = { 'bin/Runner.Listener.dll': 200_000, 'bin/lib/System.Private.CoreLib.dll': 150_000, 'externals/node20/bin/node': 50_000 };
  for (const [name, size] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), Buffer.alloc(size, 7));
  }
  return { dir, readAhead: `${dir}/bin ${dir}/externals`, bytes: Object.values(files).reduce((a, b) => a + b, 0) };
}

test('a warm pool instance\'s first boot reads the runner\'s files once, then parks: powered off, asking nothing more', async () => {
  // Arrange: a warm pool instance on its first boot, with jobs queued (it still gets no config).
  const instanceId = await runningInstance(ec2, client, templates.required);
  await world.launch(instanceId, { state: 'warming' });
  await world.queueJob(9_000_002);
  const { dir, readAhead, bytes } = runnerDirWithFiles();
  ghes.resetApiCalls();

  // Act
  const bootRun = boot(instanceId, dir, { READ_AHEAD_PATHS: readAhead });
  const code = await exitOf(bootRun);

  // Assert: every byte of the two directories went through the read, and nothing else happened.
  expect(code).toBe(0);
  expect(host.powerOffs).toEqual([instanceId]);
  expect(bootRun.output()).toContain(`read ${bytes} bytes of ${readAhead} ahead of parking`);
  expect(bootRun.output()).toContain('powering off: parking');
  expect(ranRunner(dir)).toBe(false);
  expect(world.metrics.refused).toEqual(['warm-pool']); // asked once
  expect((await world.runners.getRunner(instanceId))?.state).toBe('warming');
  expect(ghes.apiCalls().total).toBe(0);
});

test('a read-ahead that outlasts READ_AHEAD_SECONDS is cut short, and the instance parks anyway', async () => {
  // Arrange: a `cat` that never finishes, first on the PATH (find runs it for the files).
  const instanceId = await runningInstance(ec2, client, templates.required);
  await world.launch(instanceId, { state: 'warming' });
  const { dir, readAhead } = runnerDirWithFiles();
  const slow = fs.mkdtempSync(path.join(os.tmpdir(), 'bootstrap-slow-cat-'));
  dirs.push(slow);
  fs.writeFileSync(path.join(slow, 'cat'), '#!/bin/sh\nexec sleep 600\n', { mode: 0o755 });

  // Act
  const bootRun = boot(instanceId, dir, { READ_AHEAD_PATHS: readAhead, READ_AHEAD_SECONDS: '1', PATH: `${slow}:${process.env.PATH}` });
  const code = await exitOf(bootRun);

  // Assert: the script ended although the read would take ten minutes, and parked all the same.
  expect(code).toBe(0);
  expect(host.powerOffs).toEqual([instanceId]);
  expect(bootRun.output()).toMatch(/read 0 bytes of .* ahead of parking/);
  expect(bootRun.output()).toContain('powering off: parking');
});

test('an image without the runner reports it instead of asking for a config: retired, its pool held, powered off, nothing registered', async () => {
  // Arrange: demand, and the pool item the provisioner saved; the runner directory holds no run.sh.
  const instanceId = await runningInstance(ec2, client, templates.required);
  await world.runners.savePool(emptyPool(POOL.poolId, POOL.configName, POOL.scope), world.clock.now());
  await world.launch(instanceId);
  // Demand in the table only: a job queued at the GHES simulator would stay for the next test's runner.
  await world.queueJob(9_000_001);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bootstrap-no-runner-'));
  ghes.resetApiCalls();

  // Act
  const bootRun = boot(instanceId, dir);
  const code = await exitOf(bootRun);

  // Assert
  expect(code).toBe(0);
  expect(host.powerOffs).toEqual([instanceId]);
  expect(bootRun.output()).toContain('register endpoint answered 410 to the report');
  expect(bootRun.output()).not.toContain('asking for a runner config');
  expect(await world.runners.getRunner(instanceId)).toMatchObject({ state: 'retiring', retireReason: 'runner-missing' });
  expect((await world.runners.getPool(POOL.poolId))?.launchHold).toMatchObject({ reason: 'runner-missing', refusals: 1 });
  expect(ghes.apiCalls().total).toBe(0);
});

test('a report answered with a runner config (200, never sent to a report) is retried, and the config never reaches the log', async () => {
  // Arrange: the first answer to the report is a 200 with a config in its body; then the real endpoint.
  const instanceId = await runningInstance(ec2, client, templates.required);
  await world.launch(instanceId);
  const config = Buffer.from('{"credentials":"never-logged"}').toString('base64');
  let calls = 0;
  intercept = async (event) => (++calls === 1
    ? { statusCode: 200, headers: { 'content-type': 'text/plain' }, body: config }
    : world.handler(event));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bootstrap-no-runner-'));

  // Act
  const bootRun = boot(instanceId, dir, { LOG_GROUP_NAME: LOG_GROUP, LOGS_ENDPOINT: logs.url, LOG_BUFFER: path.join(dir, 'bootstrap.log') });
  const code = await exitOf(bootRun);

  // Assert: asked again, settled by the endpoint's 410, and the config is nowhere: not printed, not shipped.
  expect(code).toBe(0);
  expect(calls).toBe(2);
  expect(bootRun.output()).toContain('register endpoint answered 200: (a runner config, not logged); retrying');
  expect(bootRun.output()).toContain('register endpoint answered 410 to the report');
  expect(bootRun.output()).not.toContain(config);
  const shipped = logs.logStreams(LOG_GROUP).get(instanceId)!;
  expect(shipped.map((e) => e.message).join('\n')).toContain('to the report');
  expect(JSON.stringify(shipped)).not.toContain(config);
});

test('an unreachable endpoint, then an instance not recorded yet (503), are retried until the config comes', async () => {
  // Arrange: the first connection is dropped; the first answer finds no runner item, which the
  // provisioner writes right after.
  const instanceId = await runningInstance(ec2, client, templates.required);
  const jobId = ghes.queueJob('app', ['self-hosted', 'linux', 'x64'], 100);
  await world.queueJob(jobId);
  registerFront.dropNext = 1;
  const statuses: number[] = [];
  intercept = async (event) => {
    const result = await world.handler(event);
    statuses.push(result.statusCode);
    if (statuses.length === 1) await world.launch(instanceId);
    return result;
  };
  const dir = runnerDir(RUN_SH(host.url));

  // Act
  const code = await exitOf(boot(instanceId, dir, { REGISTER_URL: `${registerFront.url}/` }));

  // Assert
  expect(code).toBe(0);
  expect(registerFront.requests).toHaveLength(3);
  expect(statuses).toEqual([503, 200]);
  expect(ghes.job(jobId)).toMatchObject({ status: 'completed', runnerName: `${PREFIX}${instanceId}` });
  expect(host.powerOffs).toEqual([instanceId]);
});

test('an instance that gets no config within CONFIG_TIMEOUT_SECONDS powers off', async () => {
  // Never recorded as a runner: every answer is 503. (The script counts whole seconds: 3 s leaves room for two calls.)
  const instanceId = await runningInstance(ec2, client, templates.required);
  const dir = runnerDir(RUN_SH(host.url));
  const invocations = endpoint.invocations;

  const bootRun = boot(instanceId, dir, { CONFIG_TIMEOUT_SECONDS: '3' });
  const code = await exitOf(bootRun);

  expect(code).toBe(0);
  expect(ranRunner(dir)).toBe(false);
  expect(endpoint.invocations - invocations).toBeGreaterThanOrEqual(2);
  expect(host.powerOffs).toEqual([instanceId]);
  expect(bootRun.output()).toContain('no runner config within 3s');
});

test('without an IMDSv2 token the script powers off and never falls back to IMDSv1', async () => {
  // Arrange: this instance's IMDS would answer tokenless (v1) requests; token requests are refused.
  const instanceId = await runningInstance(ec2, client, templates.optional);
  await world.launch(instanceId);
  await world.queueJob(1);
  imdsFront.refuseTokenRequests = true;
  imdsFront.requests.length = 0;
  const dir = runnerDir(RUN_SH(host.url));
  const invocations = endpoint.invocations;

  // Act
  const bootRun = boot(instanceId, dir, { IMDS_ENDPOINT: `${imdsFront.url}/${instanceId}` });
  const code = await exitOf(bootRun);

  // Assert
  expect(code).toBe(0);
  expect(imdsFront.requests.length).toBeGreaterThan(0);
  expect(imdsFront.requests.filter((r) => r.method !== 'PUT')).toEqual([]);
  expect(endpoint.invocations).toBe(invocations);
  expect(host.powerOffs).toEqual([instanceId]);
  expect(bootRun.output()).toContain('IMDSv2 unreachable');
});

test('the lifetime watchdog powers the instance off while the runner still runs', async () => {
  // Arrange: a runner that hangs.
  const instanceId = await runningInstance(ec2, client, templates.required);
  await world.launch(instanceId);
  await world.queueJob(1);
  const dir = runnerDir('touch "$(dirname "$0")/run.args"; sleep 60');

  // Act
  const bootRun = boot(instanceId, dir, { MAX_LIFETIME_SECONDS: '2' });
  await waitFor(() => host.powerOffs.includes(instanceId));

  // Assert
  expect(bootRun.child.exitCode).toBeNull();
  expect(bootRun.output()).toContain('maximum lifetime of 2s reached');
});

shellcheckTest('the bootstrap', BOOTSTRAP);
