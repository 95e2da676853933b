// The install-runner script of the image build, run for real by bash: the newest release read from a
// stand-in for GitHub's releases API and downloads (serving a runner archive made here), the
// server's version read from and the image's version written to the SSM simulator, signed by curl
// --aws-sigv4 with a simulated build instance's role credentials from IMDSv2 and decided by the IAM
// engine on the policy the construct gives the build role.
import { execFile, spawn, spawnSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { promisify } from 'util';
import { EC2Client } from '@aws-sdk/client-ec2';
import { identityFrom, runningInstance } from './boot-harness';
import { shellcheckTest } from './shellcheck';
import { listenOnLoopback, LoopbackServer } from '../../sandbox/common/http';
import { Ec2Simulator } from '../../sandbox/ec2';
import { IamAuthorizer } from '../../sandbox/iam/authorizer';
import { rolesWithPolicies, serviceAuthorizer } from '../../sandbox/iam/services';
import { SsmSimulator } from '../../sandbox/ssm';
import { synthRunners } from '../src/support/synth';

const run = promisify(execFile);
const SCRIPT = path.join(__dirname, '..', '..', 'image-builder', 'install-runner.sh');
const BUILD_ROLE = 'image-build-role';
const NOT_GRANTED = '/ephemeral-runners/Test/Runners/image/other';
const REGION = 'us-east-1';
const ACCOUNT = '123456789012';

/**
 * The statements the construct puts in the build role's own policy (Image Builder's managed
 * policies aside), its Refs resolved for this test's account, and the parameters the recipe names.
 */
function synthesizedBuild(): { statements: unknown[]; floor: string; version: string } {
  const template = synthRunners([{ name: 'linux-x64', labels: ['linux', 'x64'] }]);
  const resources = template.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>;
  const resolve = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(resolve);
    if (typeof value !== 'object' || value === null) return value;
    const v = value as Record<string, unknown>;
    if ('Ref' in v) {
      const pseudo: Record<string, string> = { 'AWS::Partition': 'aws', 'AWS::Region': REGION, 'AWS::AccountId': ACCOUNT };
      const ref = String(v.Ref);
      if (pseudo[ref]) return pseudo[ref];
      if (resources[ref]?.Type === 'AWS::SSM::Parameter') return resources[ref].Properties.Name;
      throw new Error(`the build role's policy names ${ref}, which this test cannot resolve`);
    }
    if ('Fn::Join' in v) {
      const [separator, parts] = v['Fn::Join'] as [string, unknown[]];
      return parts.map((part) => String(resolve(part))).join(separator);
    }
    return Object.fromEntries(Object.entries(v).map(([k, inner]) => [k, resolve(inner)]));
  };
  const statements = Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((p) => JSON.stringify(p.Properties.Roles).includes('BuildRole'))
    .flatMap((p) => [p.Properties.PolicyDocument.Statement].flat());
  const [recipe] = Object.values(template.findResources('AWS::ImageBuilder::ImageRecipe'));
  const runner = (recipe.Properties.Components as Array<{ Parameters?: Array<{ Name: string; Value: string[] }> }>).find((c) => c.Parameters)!;
  const parameter = (name: string) => runner.Parameters!.find((p) => p.Name === name)!.Value[0];
  return { statements: resolve(statements) as unknown[], floor: parameter('FloorParameter'), version: parameter('VersionParameter') };
}

const BUILD = synthesizedBuild();
const FLOOR = BUILD.floor;
const VERSION_X64 = BUILD.version;

/** A runner archive of `version`: Runner.Listener answers the version, installdependencies.sh leaves a mark. */
function makeArchive(version: string): Buffer {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runner-archive-'));
  try {
    fs.mkdirSync(path.join(dir, 'bin'));
    fs.writeFileSync(path.join(dir, 'run.sh'), '#!/usr/bin/env bash\n', { mode: 0o755 });
    fs.writeFileSync(path.join(dir, 'bin', 'Runner.Listener'), `#!/usr/bin/env bash\necho ${version}\n`, { mode: 0o755 });
    fs.writeFileSync(path.join(dir, 'bin', 'installdependencies.sh'), '#!/usr/bin/env bash\ntouch "$(dirname "$0")/../dependencies-installed"\n', { mode: 0o755 });
    const tarball = path.join(dir, 'archive.tar.gz');
    const result = spawnSync('tar', ['-czf', tarball, '-C', dir, 'run.sh', 'bin']);
    if (result.status !== 0) throw new Error(`tar failed: ${result.stderr}`);
    return fs.readFileSync(tarball);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** The release JSON of GitHub's "Get the latest release", with the parts the script reads. */
function release(version: string, sums: { digest?: string; noted?: string }, arch = 'x64') {
  const name = `actions-runner-linux-${arch}-${version}.tar.gz`;
  return {
    tag_name: `v${version}`,
    body: sums.noted === undefined ? '## Changes\n'
      : `## SHA-256 Checksums\n- ${name} <!-- BEGIN SHA linux-${arch} -->${sums.noted}<!-- END SHA linux-${arch} -->\n`,
    assets: [
      { name: `actions-runner-osx-x64-${version}.tar.gz`, digest: `sha256:${'0'.repeat(64)}` },
      { name, ...(sums.digest === undefined ? { digest: null } : { digest: `sha256:${sums.digest}` }) },
    ],
  };
}

/** Stands in for api.github.com (the latest release) and github.com (release downloads). */
class GitHubReleases {
  latest: unknown;
  readonly archives = new Map<string, Buffer>();
  readonly downloads: string[] = [];
  private server?: LoopbackServer;

  get url(): string {
    return this.server!.url;
  }

  async start(): Promise<void> {
    this.server = await listenOnLoopback((req, res) => {
      const url = req.url ?? '';
      const download = /^\/actions\/runner\/releases\/download\/v[^/]+\/([^/]+)$/.exec(url);
      if (url === '/repos/actions/runner/releases/latest' && this.latest !== undefined) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(this.latest));
      } else if (download && this.archives.has(download[1])) {
        this.downloads.push(download[1]);
        res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(this.archives.get(download[1]));
      } else {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"message":"Not Found"}');
      }
    });
  }

  async stop(): Promise<void> {
    await this.server?.close();
  }
}

let ec2: Ec2Simulator;
let client: EC2Client;
let ssm: SsmSimulator;
let github: GitHubReleases;
let instanceId: string;
const dirs: string[] = [];
const ARCHIVE = { '2.330.0': makeArchive('2.330.0'), '2.331.0': makeArchive('2.331.0') };

beforeAll(async () => {
  ec2 = new Ec2Simulator({
    seed: 5, region: REGION, accountId: ACCOUNT, faults: { bootDelayMs: 0, shutdownDelayMs: 0 }, onListenerError: () => undefined,
  });
  ssm = new SsmSimulator({
    region: ec2.region,
    accountId: ec2.accountId,
    // What the construct grants the build role: a grant taken out of it fails these tests.
    authorize: serviceAuthorizer('ssm', {
      authorizer: () => new IamAuthorizer({ accountId: ec2.accountId, roles: rolesWithPolicies({ [BUILD_ROLE]: BUILD.statements }) }),
      context: { region: ec2.region, accountId: ec2.accountId },
      identityFor: identityFrom(ec2),
    }),
  });
  github = new GitHubReleases();
  await Promise.all([ec2.start(), ssm.start(), github.start()]);
  client = new EC2Client({ endpoint: ec2.url, region: ec2.region, credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test' }, maxAttempts: 1 });
  const template = ec2.registerLaunchTemplate({
    launchTemplateName: 'image-build',
    imageId: 'ami-0123456789abcdef0',
    instanceInitiatedShutdownBehavior: 'terminate',
    iamInstanceProfile: { arn: `arn:aws:iam::${ec2.accountId}:instance-profile/image-build`, roleName: BUILD_ROLE },
    metadataOptions: { httpTokens: 'required' },
  }).launchTemplateId;
  instanceId = await runningInstance(ec2, client, template);
  for (const [version, archive] of Object.entries(ARCHIVE)) {
    github.archives.set(`actions-runner-linux-x64-${version}.tar.gz`, archive);
  }
});

afterAll(async () => {
  client.destroy();
  await Promise.all([ec2.stop(), ssm.stop(), github.stop()]);
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  github.latest = undefined;
  github.downloads.length = 0;
  ssm.seedParameter({ name: FLOOR, value: '0.0.0', type: 'String' });
});

interface Outcome { code: number; output: string; runnerDir: string }

/** Runs the script with only these settings (and PATH): like the component, pointed at the stand-ins. */
async function installRunner(command: 'install' | 'report', settings: Record<string, string>, runnerDir?: string): Promise<Outcome> {
  const dir = runnerDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'install-runner-'));
  if (!runnerDir) dirs.push(dir);
  const target = path.join(dir, 'actions-runner');
  const child = spawn('bash', [SCRIPT, command], {
    env: {
      PATH: process.env.PATH,
      HOME: dir,
      LANG: 'C.UTF-8',
      GITHUB_API: github.url,
      GITHUB_DOWNLOADS: github.url,
      IMDS_ENDPOINT: `${ec2.imds.url}/${instanceId}`,
      SSM_ENDPOINT: ssm.url,
      RUNNER_DIR: target,
      RUNNER_USER: os.userInfo().username,
      MACHINE: 'x86_64',
      MINIMUM_VERSION: '2.329.0',
      FLOOR_PARAMETER: FLOOR,
      ...settings,
    },
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? -1)));
  return { code, output, runnerDir: target };
}

const installed = (outcome: Outcome) => fs.existsSync(path.join(outcome.runnerDir, 'bin', 'Runner.Listener'));

describe('the newest release', () => {
  test('is installed when the asset digest and the release notes publish its SHA-256 and the archive has it', async () => {
    // Arrange
    const sum = sha256(ARCHIVE['2.331.0']);
    github.latest = release('2.331.0', { digest: sum, noted: sum.toUpperCase() });

    // Act
    const outcome = await installRunner('install', { RUNNER_VERSION: 'latest' });

    // Assert
    expect(outcome).toMatchObject({ code: 0 });
    expect(outcome.output).toContain(`runner 2.331.0 linux-x64 installed (SHA-256 ${sum})`);
    expect((await run(path.join(outcome.runnerDir, 'bin', 'Runner.Listener'), ['--version'])).stdout.trim()).toBe('2.331.0');
    expect(fs.existsSync(path.join(outcome.runnerDir, 'dependencies-installed'))).toBe(true);
  });

  test('is installed on either published sum alone: the digest (releases since June 2025) or the notes', async () => {
    const sum = sha256(ARCHIVE['2.331.0']);

    github.latest = release('2.331.0', { digest: sum });
    const byDigest = await installRunner('install', { RUNNER_VERSION: 'latest' });
    github.latest = release('2.331.0', { noted: sum });
    const byNotes = await installRunner('install', { RUNNER_VERSION: 'latest' });

    expect([byDigest.code, installed(byDigest), byNotes.code, installed(byNotes)]).toEqual([0, true, 0, true]);
  });

  test('an archive that does not have the published SHA-256 is refused and nothing is unpacked', async () => {
    github.latest = release('2.331.0', { digest: 'e'.repeat(64) });

    const outcome = await installRunner('install', { RUNNER_VERSION: 'latest' });

    expect(outcome.code).not.toBe(0);
    expect(outcome.output).toContain(`does not have the SHA-256 GitHub publishes (${'e'.repeat(64)})`);
    expect(github.downloads).toEqual(['actions-runner-linux-x64-2.331.0.tar.gz']);
    expect(installed(outcome)).toBe(false);
  });

  test('a digest and release notes that disagree, or no sum at all, refuse the release before any download', async () => {
    github.latest = release('2.331.0', { digest: 'a'.repeat(64), noted: 'b'.repeat(64) });
    const disagree = await installRunner('install', { RUNNER_VERSION: 'latest' });
    github.latest = release('2.331.0', {});
    const none = await installRunner('install', { RUNNER_VERSION: 'latest' });

    expect([disagree.code === 0, none.code === 0]).toEqual([false, false]);
    expect(disagree.output).toContain('the asset digest (' + 'a'.repeat(64) + ') and the release notes (' + 'b'.repeat(64) + ') disagree');
    expect(none.output).toContain('runner 2.331.0 publishes no SHA-256 for linux-x64');
    expect(github.downloads).toEqual([]);
  });

  test('an answer that is no release, or a release older than the minimum, is refused before any download', async () => {
    github.latest = { message: 'API rate limit exceeded' };
    const noTag = await installRunner('install', { RUNNER_VERSION: 'latest' });
    const sum = sha256(ARCHIVE['2.330.0']);
    github.latest = release('2.330.0', { digest: sum });
    const old = await installRunner('install', { RUNNER_VERSION: 'latest', MINIMUM_VERSION: '2.330.1' });

    expect(noTag.output).toContain("the newest runner release has the tag '', not a version like 2.329.0");
    expect(old.output).toContain('runner 2.330.0 is older than the minimum 2.330.1');
    expect([noTag.code === 0, old.code === 0, github.downloads]).toEqual([false, false, []]);
  });
});

describe('the floor: the version the GitHub server ships', () => {
  test('a release older than the server\'s version in SSM is refused, newest or pinned; the same or newer is installed', async () => {
    // Arrange: the server ships 2.331.0; GitHub's newest answer is 2.330.0.
    ssm.seedParameter({ name: FLOOR, value: '2.331.0', type: 'String' });
    github.latest = release('2.330.0', { digest: sha256(ARCHIVE['2.330.0']) });
    const pin = (version: '2.330.0' | '2.331.0') => ({ RUNNER_VERSION: version, RUNNER_SHA256_X64: sha256(ARCHIVE[version]), RUNNER_SHA256_ARM64: 'none' });

    // Act
    const latest = await installRunner('install', { RUNNER_VERSION: 'latest' });
    const pinnedBelow = await installRunner('install', pin('2.330.0'));
    const downloadsWhileRefused = [...github.downloads];
    const pinnedAt = await installRunner('install', pin('2.331.0'));

    // Assert
    expect(latest.code).not.toBe(0);
    expect(latest.output).toContain(`runner 2.330.0 is older than 2.331.0, the version the GitHub server ships (${FLOOR})`);
    expect(pinnedBelow.code).not.toBe(0);
    expect(downloadsWhileRefused).toEqual([]);
    expect([pinnedAt.code, installed(pinnedAt)]).toEqual([0, true]);
  });

  test('a floor parameter that does not exist yet is no floor; one the role may not read fails the build', async () => {
    const pinned = { RUNNER_VERSION: '2.330.0', RUNNER_SHA256_X64: sha256(ARCHIVE['2.330.0']) };

    await ssmCall('DeleteParameter', { Name: FLOOR });
    const missing = await installRunner('install', pinned);
    ssm.seedParameter({ name: NOT_GRANTED, value: '2.300.0', type: 'String' });
    const denied = await installRunner('install', { ...pinned, FLOOR_PARAMETER: NOT_GRANTED });

    expect([missing.code, installed(missing)]).toEqual([0, true]);
    expect(denied.code).not.toBe(0);
    expect(denied.output).toContain(`reading ${NOT_GRANTED} failed (HTTP 400)`);
    expect(denied.output).toContain('AccessDeniedException');
    expect(installed(denied)).toBe(false);
  });

  test('a pinned sum that is not 64 hex digits is refused before any call', async () => {
    ssm.resetApiCalls();

    const outcome = await installRunner('install', { RUNNER_VERSION: '2.330.0', RUNNER_SHA256_X64: 'none' });

    expect(outcome.code).not.toBe(0);
    expect(outcome.output).toContain('the SHA-256 for runner 2.330.0 linux-x64 is not 64 hex digits');
    expect(ssm.apiCalls().byAction.GetParameter ?? 0).toBe(0);
  });
});

describe('the report of the test phase', () => {
  test('writes the installed runner\'s version to the image\'s parameter; a parameter the role may not write fails the test', async () => {
    // Arrange: an image with 2.331.0 installed.
    github.latest = release('2.331.0', { digest: sha256(ARCHIVE['2.331.0']) });
    const image = await installRunner('install', { RUNNER_VERSION: 'latest' });
    const root = path.dirname(image.runnerDir);

    // Act
    const reported = await installRunner('report', { VERSION_PARAMETER: VERSION_X64 }, root);
    const denied = await installRunner('report', { VERSION_PARAMETER: NOT_GRANTED }, root);

    // Assert
    expect(reported.code).toBe(0);
    expect(await parameterValue(VERSION_X64)).toBe('2.331.0');
    expect(denied.code).not.toBe(0);
    expect(denied.output).toContain(`writing ${NOT_GRANTED} failed`);
  });
});

shellcheckTest('the install script', SCRIPT);

/** A call as the sandbox operator (unsigned: IAM does not decide it). */
async function ssmCall(operation: string, input: unknown): Promise<unknown> {
  const answer = await fetch(`${ssm.url}/`, {
    method: 'POST',
    headers: { 'x-amz-target': `AmazonSSM.${operation}`, 'content-type': 'application/x-amz-json-1.1' },
    body: JSON.stringify(input),
  });
  return answer.json();
}

async function parameterValue(name: string): Promise<string | undefined> {
  return ((await ssmCall('GetParameter', { Name: name })) as { Parameter?: { Value: string } }).Parameter?.Value;
}
