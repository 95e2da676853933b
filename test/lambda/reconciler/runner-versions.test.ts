// The reconciler's runner version step on the real adapters: GitHub's runner downloads from the GHES
// simulator through GitHubApi, the versions in the SSM simulator through SsmRunnerVersions, every
// SSM call signed as the reconciler's role and decided by IAM on what the construct grants it.
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { Ec2Harness, GhesHarness, MANAGED_BY, PREFIX, RecordingMetrics, runnerRecord, startEc2, startGhes } from './harness';
import { SsmRunnerVersions } from '../../../lambda/config/ssm-runner-versions';
import { GitHubApi } from '../../../lambda/github/github-api';
import { ReconcilerDeps, runReconciler } from '../../../lambda/reconciler/run-reconciler';
import { DynamoReconcilerStore } from '../../../lambda/state/dynamo-reconciler-store';
import { DynamoRunnerStore } from '../../../lambda/state/dynamo-runner-store';
import { DynamoStateStore } from '../../../lambda/state/dynamo-state-store';
import { GHES_VERSION } from '../../../sandbox/ghes/webhooks';
import { SsmSimulator } from '../../../sandbox/ssm';
import { MetricDimension, ReconcilerMetric, ReconcilerMetricName } from '../../../src/contracts/metrics';
import { grantedRole } from '../support/construct-grants';
import { DynamoTestEngine, startDynalite } from '../support/dynalite';
import { REGION } from '../support/function-role';
import { InMemoryPoolQueue, ManualClock, silentLogger } from '../support/in-memory-ports';

const MINUTE = 60_000;
const SERVER = '/runners/image/runner-version/github-server';
const X64 = '/runners/image/runner-version/x64';
const ARM64 = '/runners/image/runner-version/arm64';
const DOWNLOADS_ROUTE = 'GET /orgs/{org}/actions/runners/downloads';

const role = grantedRole('reconciler', { managedBy: MANAGED_BY, runnerVersions: { server: SERVER, images: [X64, ARM64] } });
let engine: DynamoTestEngine;
let ghes: GhesHarness;
let ec2: Ec2Harness;
let ssm: SsmSimulator;
let ssmClient: SSMClient;
let runners: DynamoRunnerStore;
let tableName: string;
let metrics: RecordingMetrics<ReconcilerMetricName>;
let clock: ManualClock;
let versions: SsmRunnerVersions;

beforeAll(async () => {
  engine = await startDynalite({ asRole: role });
  ghes = await startGhes({ runnerVersion: '2.330.0' });
  ssm = new SsmSimulator({ region: REGION, authorize: role.serviceAuthorizer('ssm') });
  await ssm.start();
  ssmClient = new SSMClient({ endpoint: ssm.url, region: REGION, credentials: role.credentials, maxAttempts: 1 });
});
afterAll(async () => {
  ssmClient.destroy();
  await Promise.all([ghes.stop(), ssm.stop()]);
  await engine.stop();
});
beforeEach(async () => {
  ec2 = await startEc2(0.001, {}, role);
  tableName = await engine.createStateTable();
  runners = new DynamoRunnerStore(engine.client, tableName);
  metrics = new RecordingMetrics();
  clock = new ManualClock(Date.now());
  versions = new SsmRunnerVersions(ssmClient, { server: SERVER, images: { x64: X64, arm64: ARM64 } });
  ghes.sim.upgrade(GHES_VERSION, '2.330.0');
  ghes.sim.resetApiCalls();
  // As the construct creates them: nothing known yet.
  for (const name of [SERVER, X64, ARM64]) ssm.seedParameter({ name, value: '0.0.0', type: 'String' });
});
afterEach(async () => {
  await ec2.stop();
});

function deps(withVersions = true): ReconcilerDeps {
  return {
    settings: { runnerNamePrefix: PREFIX, bootTimeoutMs: 10 * MINUTE, maxLifetimeMs: 60 * MINUTE },
    runners,
    jobs: new DynamoStateStore(engine.client, tableName),
    queue: new InMemoryPoolQueue(),
    compute: ec2.fleet,
    github: ghes.github,
    state: new DynamoReconcilerStore(engine.client, tableName),
    runnerVersions: withVersions ? versions : undefined,
    clock,
    logger: silentLogger(),
    metrics,
  };
}

async function parameter(name: string): Promise<string | undefined> {
  return (await ssmClient.send(new GetParameterCommand({ Name: name }))).Parameter?.Value;
}

const behind = (architecture: string) => metrics.total(ReconcilerMetric.RUNNER_IMAGES_BEHIND, { [MetricDimension.ARCHITECTURE]: architecture });

test('an active run keeps the server\'s runner version in SSM for the builds, and counts each image older than it', async () => {
  // Arrange: a pool is active; the x64 image holds 2.329.0, the arm64 image 2.331.0.
  await runners.putRunner(runnerRecord('i-0000000000000000a', 'registered', clock.now()));
  ssm.seedParameter({ name: X64, value: '2.329.0', type: 'String' });
  ssm.seedParameter({ name: ARM64, value: '2.331.0', type: 'String' });

  // Act
  const summary = await runReconciler(deps(), 'run-1');

  // Assert
  expect(summary.failedSteps).toEqual([]);
  expect(await parameter(SERVER)).toBe('2.330.0');
  expect(ghes.sim.apiCalls().byRoute[DOWNLOADS_ROUTE]).toBe(1);
  expect([behind('x64'), behind('arm64')]).toEqual([1, 0]);
});

test('after the server is upgraded, the next sweep asks again, raises the floor and counts the image it left behind', async () => {
  // Arrange: both images are as new as the server.
  await runners.putRunner(runnerRecord('i-0000000000000000a', 'registered', clock.now()));
  ssm.seedParameter({ name: X64, value: '2.330.0', type: 'String' });
  await runReconciler(deps(), 'run-1');
  const before = behind('x64');

  // Act: GHES is upgraded to a release that ships 2.331.0; the next sweep comes three minutes later.
  ghes.sim.upgrade('3.19.1', '2.331.0');
  clock.advance(3 * MINUTE);
  await runReconciler(deps(), 'run-2');

  // Assert
  expect(before).toBe(0);
  expect(ghes.sim.apiCalls().byRoute[DOWNLOADS_ROUTE]).toBe(2);
  expect(await parameter(SERVER)).toBe('2.331.0');
  expect(behind('x64')).toBe(1);
  // An image not built yet (0.0.0) is nothing to compare.
  expect(behind('arm64')).toBe(0);
  expect((await new DynamoReconcilerStore(engine.client, tableName).load()).state.runnerVersionRead).toEqual({ at: clock.now(), serverRelease: '3.19.1' });
});

test('while the server names the same release it is not asked again, from any container, but every sweep compares the images with the version kept', async () => {
  // Arrange: a first sweep learned 2.330.0 from release 3.19.0; the x64 image is as new.
  await runners.putRunner(runnerRecord('i-0000000000000000a', 'registered', clock.now()));
  ssm.seedParameter({ name: X64, value: '2.330.0', type: 'String' });
  await runReconciler(deps(), 'run-1');

  // Act: the image's parameter now names an older runner; the next sweep is a day later, in a new
  // container (its own GitHub client and SSM adapter: nothing remembered in memory).
  ssm.seedParameter({ name: X64, value: '2.329.0', type: 'String' });
  clock.advance(24 * 60 * MINUTE);
  const fresh = new GitHubApi({ baseUrl: ghes.sim.apiUrl, appId: String(ghes.sim.appId), privateKeyPem: ghes.sim.privateKey, retryBaseMs: 1 });
  versions = new SsmRunnerVersions(ssmClient, { server: SERVER, images: { x64: X64, arm64: ARM64 } });
  ssm.resetApiCalls();
  const summary = await runReconciler({ ...deps(), github: () => Promise.resolve(fresh) }, 'run-2');

  // Assert
  expect(summary.failedSteps).toEqual([]);
  expect(ghes.sim.apiCalls().byRoute[DOWNLOADS_ROUTE]).toBe(1);
  // The server's and the images' versions in one SSM read.
  expect(ssm.apiCalls().byAction).toEqual({ GetParameters: 1 });
  expect(behind('x64')).toBe(1);
});

test('a server that names no release (as github.com) is asked again half an hour after the last read, not before', async () => {
  // Arrange
  ghes.sim.release = undefined;
  await runners.putRunner(runnerRecord('i-0000000000000000a', 'registered', clock.now()));
  await runReconciler(deps(), 'run-1');

  // Act: sweeps at 3 and at 31 minutes.
  clock.advance(3 * MINUTE);
  await runReconciler(deps(), 'run-2');
  const within = ghes.sim.apiCalls().byRoute[DOWNLOADS_ROUTE];
  clock.advance(28 * MINUTE);
  await runReconciler(deps(), 'run-3');

  // Assert
  expect(within).toBe(1);
  expect(ghes.sim.apiCalls().byRoute[DOWNLOADS_ROUTE]).toBe(2);
});

test('a version kept in SSM that is not a version (the construct\'s 0.0.0) is read again whatever the release', async () => {
  // Arrange: a read recorded for this release, but the parameter was put back to 0.0.0 (a stack
  // replaced its parameter and kept its table).
  await runners.putRunner(runnerRecord('i-0000000000000000a', 'registered', clock.now()));
  await runReconciler(deps(), 'run-1');
  ssm.seedParameter({ name: SERVER, value: '0.0.0', type: 'String' });

  // Act
  clock.advance(3 * MINUTE);
  await runReconciler(deps(), 'run-2');

  // Assert
  expect(ghes.sim.apiCalls().byRoute[DOWNLOADS_ROUTE]).toBe(2);
  expect(await parameter(SERVER)).toBe('2.330.0');
});

test('an idle run does not ask for the runner version; without an image pipeline the step does nothing', async () => {
  // Act: nothing active.
  const idle = await runReconciler(deps(), 'run-1');
  // An active pool in a deployment with its own AMI.
  await runners.putRunner(runnerRecord('i-0000000000000000b', 'registered', clock.now()));
  const noPipeline = await runReconciler(deps(false), 'run-2');

  // Assert
  expect(idle).toMatchObject({ idle: true, failedSteps: [] });
  expect(noPipeline.failedSteps).toEqual([]);
  expect(ghes.sim.apiCalls().byRoute[DOWNLOADS_ROUTE]).toBeUndefined();
  expect(await parameter(SERVER)).toBe('0.0.0');
  expect(metrics.counts.filter((c) => c.name === ReconcilerMetric.RUNNER_IMAGES_BEHIND)).toEqual([]);
});

test('a role without the write on the server\'s parameter fails the step alone, counted, and the run goes on', async () => {
  // Arrange: the reconciler's grant on the server's parameter taken away.
  await runners.putRunner(runnerRecord('i-0000000000000000a', 'registered', clock.now()));

  // Act
  const summary = await role.without(['ssm:PutParameter'], () => runReconciler(deps(), 'run-1'));

  // Assert
  expect(summary.failedSteps).toEqual(['runner-versions']);
  expect(metrics.total(ReconcilerMetric.RECONCILE_STEP_FAILED, { [MetricDimension.STEP]: 'runner-versions' })).toBe(1);
  expect(summary.poolsMessaged).toBe(1);
  expect(await parameter(SERVER)).toBe('0.0.0');
});

test('a new version whose write failed is read and written at the next sweep, though the release is the same', async () => {
  // Arrange: SSM holds the version of the release before; the write of the new one is refused once.
  ssm.seedParameter({ name: SERVER, value: '2.329.0', type: 'String' });
  await runners.putRunner(runnerRecord('i-0000000000000000a', 'registered', clock.now()));
  await role.without(['ssm:PutParameter'], () => runReconciler(deps(), 'run-1'));

  // Act
  clock.advance(3 * MINUTE);
  const summary = await runReconciler(deps(), 'run-2');

  // Assert
  expect(summary.failedSteps).toEqual([]);
  expect(ghes.sim.apiCalls().byRoute[DOWNLOADS_ROUTE]).toBe(2);
  expect(await parameter(SERVER)).toBe('2.330.0');
});
