// The consumer test: the packed library installed into a new CDK app outside the repository, as a
// stranger would install it from npm, with the README's "Use it" sample as the app. The sample must
// compile against the published types and synthesize with the aws-cdk CLI, and the template must
// hold the control plane (template-checks.ts).
//
// Usage: tsx test/consumer/run.ts <tarball>   (npx projen test:consumer packs the tarball first)
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { extractReadmeSample, ReadmeSampleError } from './readme-sample';
import { checkConsumerTemplate, Template } from './template-checks';

const REPO = path.resolve(__dirname, '..', '..');
const PACKAGE = 'cdk-ephemeral-runners';

/** An expected failure of the consumer test, reported without a stack trace. */
class ConsumerTestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConsumerTestError';
  }
}

/** The version package-lock.json installs for `name`: the app gets what the library is tested with. */
function lockedVersion(name: string): string {
  const lock = JSON.parse(fs.readFileSync(path.join(REPO, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string }> };
  const version = lock.packages[`node_modules/${name}`]?.version;
  if (!version) throw new ConsumerTestError(`package-lock.json has no version of ${name}: run npm install`);
  return version;
}

/** Runs a command in `cwd`; on failure, the error carries its output. */
function run(cwd: string, command: string, args: string[], what: string): string {
  const started = Date.now();
  try {
    const output = execFileSync(command, args, {
      cwd,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true' },
    });
    console.log(`  ${what} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    return output;
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; status?: number };
    const output = `${e.stdout ?? ''}${e.stderr ?? ''}`.trim();
    throw new ConsumerTestError(`${what} failed (${command} ${args.join(' ')}, exit ${e.status}):\n${output}`);
  }
}

function tarballFromArgs(args: string[]): string {
  if (args.length !== 1) {
    throw new ConsumerTestError(`expected one tarball, got ${args.length} (${args.join(' ')}): run npx projen test:consumer, or remove old tarballs from dist/js`);
  }
  const tarball = path.resolve(args[0]);
  if (!fs.existsSync(tarball)) throw new ConsumerTestError(`no tarball at ${tarball}: run npx projen package:js first`);
  return tarball;
}

/** The installed package as npm unpacked it: no dependency of its own, no source maps. */
function checkInstalledPackage(appDir: string): void {
  const dir = path.join(appDir, 'node_modules', PACKAGE);
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
  const ownDeps = ['dependencies', 'optionalDependencies', 'bundleDependencies', 'bundledDependencies']
    .flatMap((field) => Object.keys(manifest[field] ?? {}).map((name) => `${field}.${name}`));
  if (ownDeps.length > 0) throw new ConsumerTestError(`the package declares dependencies of its own (its functions are bundled): ${ownDeps.join(', ')}`);
  const peers = Object.keys(manifest.peerDependencies ?? {}).sort();
  if (JSON.stringify(peers) !== JSON.stringify(['aws-cdk-lib', 'constructs'])) {
    throw new ConsumerTestError(`expected peer dependencies aws-cdk-lib and constructs, found: ${peers.join(', ') || 'none'}`);
  }
  const maps = fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.map'));
  if (maps.length > 0) throw new ConsumerTestError(`the package holds source maps: ${maps.join(', ')}`);
}

function main(): void {
  const started = Date.now();
  const tarball = tarballFromArgs(process.argv.slice(2));
  const sample = extractReadmeSample(fs.readFileSync(path.join(REPO, 'README.md'), 'utf8'));
  const cdk = path.join(REPO, 'node_modules', '.bin', 'cdk');
  if (!fs.existsSync(cdk)) throw new ConsumerTestError(`no aws-cdk CLI at ${cdk}: run npm ci`);

  const appDir = fs.mkdtempSync(path.join(os.tmpdir(), `${PACKAGE}-consumer-`));
  if (!path.relative(REPO, appDir).startsWith('..')) throw new ConsumerTestError(`the app must be outside the repository, but ${appDir} is inside (TMPDIR?)`);
  console.log(`consumer test: ${path.basename(tarball)} into a new app in ${appDir}`);
  let passed = false;
  try {
    fs.writeFileSync(path.join(appDir, 'package.json'), `${JSON.stringify({ name: 'consumer-app', version: '0.0.0', private: true }, null, 2)}\n`);
    fs.writeFileSync(path.join(appDir, 'tsconfig.json'), `${JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'commonjs', lib: ['es2022'], strict: true, skipLibCheck: true },
      files: ['app.ts'],
    }, null, 2)}\n`);
    fs.writeFileSync(path.join(appDir, 'cdk.json'), `${JSON.stringify({ app: 'node app.js' }, null, 2)}\n`);
    fs.writeFileSync(path.join(appDir, 'app.ts'), sample);

    // What a new CDK app has, at the versions the library is built and tested with.
    const appDeps = ['aws-cdk-lib', 'constructs', 'typescript', '@types/node'].map((name) => `${name}@${lockedVersion(name)}`);
    run(appDir, 'npm', ['install', '--no-audit', '--no-fund', '--save-exact', tarball, ...appDeps], `npm install of the tarball and ${appDeps.join(', ')}`);
    checkInstalledPackage(appDir);

    try {
      run(appDir, path.join('node_modules', '.bin', 'tsc'), ['-p', '.'], 'tsc of the README sample');
    } catch (error) {
      throw new ConsumerTestError(`the README's "Use it" sample does not compile against the packed library:\n${(error as Error).message}\n--- app.ts ---\n${sample}`);
    }
    run(appDir, cdk, ['synth', '--quiet', '--no-notices', '--no-version-reporting', '--output', 'cdk.out'], 'cdk synth');

    const assemblyDir = path.join(appDir, 'cdk.out');
    const manifest = JSON.parse(fs.readFileSync(path.join(assemblyDir, 'manifest.json'), 'utf8')) as {
      artifacts?: Record<string, { type: string; properties?: { templateFile?: string } }>;
    };
    const stacks = Object.entries(manifest.artifacts ?? {}).filter(([, a]) => a.type === 'aws:cloudformation:stack');
    if (stacks.length === 0) throw new ConsumerTestError('the README sample synthesized no stack');
    const resources = Object.assign({}, ...stacks.map(([, a]) => (JSON.parse(fs.readFileSync(path.join(assemblyDir, a.properties!.templateFile!), 'utf8')) as Template).Resources));
    const problems = checkConsumerTemplate({ Resources: resources }, assemblyDir);
    if (problems.length > 0) throw new ConsumerTestError(`the synthesized template of the README sample is not what the construct makes:\n- ${problems.join('\n- ')}`);

    console.log(`consumer test: passed in ${((Date.now() - started) / 1000).toFixed(0)} s (${stacks.map(([name]) => name).join(', ')}: ${Object.keys(resources).length} resources)`);
    passed = true;
  } finally {
    if (passed) fs.rmSync(appDir, { recursive: true, force: true });
    else console.error(`consumer test: the app is kept for a look in ${appDir}`);
  }
}

try {
  main();
} catch (error) {
  if (!(error instanceof ConsumerTestError || error instanceof ReadmeSampleError)) throw error;
  console.error(`consumer test FAILED: ${(error as Error).message}`);
  process.exitCode = 1;
}
