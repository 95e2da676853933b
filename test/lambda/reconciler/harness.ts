// Shared set-up of the lifecycle and reconciler tests: the real adapters (DynamoDB on dynalite,
// Ec2Fleet on the EC2 simulator, GitHubApi on the GHES simulator) and small recorders for the
// ports that are not under test (the pool queue, metrics). Given a function's role, the functions'
// EC2 calls sign as it and are decided by IAM; the tests' own launches sign with an unchecked key.
import { EC2Client } from '@aws-sdk/client-ec2';
import { CountMetrics, MetricDimensions } from '../../../lambda/common/count-metrics';
import { Ec2Fleet } from '../../../lambda/compute/ec2-fleet';
import { GitHubPort } from '../../../lambda/core/github';
import { JobKey, JobRecord, JobState, JOB_STATE_RANK, JobTransition } from '../../../lambda/core/job';
import { Clock, JobStore, PoolQueue, RunnerStore } from '../../../lambda/core/ports';
import { ReconcilerStateStore } from '../../../lambda/core/reconciler-state';
import { Pool } from '../../../lambda/core/routing';
import { Market, RunnerRecord, RunnerState } from '../../../lambda/core/runner';
import { GitHubApi } from '../../../lambda/github/github-api';
import { ReconcilerLimits } from '../../../lambda/reconciler/reconciler-limits';
import type { ReconcilerDeps } from '../../../lambda/reconciler/run-reconciler';
import { listenOnLoopback, LoopbackServer, readBody } from '../../../sandbox/common/http';
import { ScaledClock } from '../../../sandbox/common/time';
import { Ec2FaultOptions, Ec2InstanceEvent, Ec2Simulator } from '../../../sandbox/ec2';
import { GhesSimulator, GhesSimulatorOptions } from '../../../sandbox/ghes';
import { ReconcilerMetricName } from '../../../src/contracts/metrics';
import { RUNNER_TEMPLATE } from '../../sandbox/ec2/helpers';
import { client as octokitClient } from '../../sandbox/ghes/octokit';
import type { FunctionRole } from '../support/function-role';
import { InMemoryPoolQueue, silentLogger } from '../support/in-memory-ports';

export const PREFIX = 'er-';
export const GITHUB_HOST = 'ghes.test';
export const MANAGED_BY = 'test-runners';
export const ORG = 'octo-org';
export const LABELS = ['self-hosted', 'linux', 'x64'];
export const POOL: Pool = { poolId: `${ORG}#linux-x64`, configName: 'linux-x64', scope: { kind: 'org', org: ORG } };

export class RecordingMetrics<Name extends string> implements CountMetrics<Name> {
  readonly counts: { name: Name; value: number; dimensions: MetricDimensions }[] = [];

  count(name: Name, value = 1, dimensions: MetricDimensions = {}): void {
    if (value !== 0) this.counts.push({ name, value, dimensions });
  }

  /** Sum of a counter, over the counts whose dimensions include `dimensions`. */
  total(name: Name, dimensions: MetricDimensions = {}): number {
    return this.counts
      .filter((c) => c.name === name && Object.entries(dimensions).every(([k, v]) => c.dimensions[k] === v))
      .reduce((sum, c) => sum + c.value, 0);
  }
}

export interface Ec2Harness {
  readonly sim: Ec2Simulator;
  /** The function's compute port (signing as the role, when there is one). */
  readonly fleet: Ec2Fleet;
  /** Every EventBridge event the simulator emitted, in order. */
  readonly events: Ec2InstanceEvent[];
  /** Launches one instance through the real CreateFleet adapter and waits until it runs. */
  launch(market?: Market, configName?: string): Promise<string>;
  /** The first event of `instanceId` matching `match`, waiting for it. */
  nextEvent(instanceId: string, match: (e: Ec2InstanceEvent) => boolean): Promise<Ec2InstanceEvent>;
  stop(): Promise<void>;
}

/**
 * The EC2 simulator at `timeScale` (0.001: a simulated minute is 60 ms), with short boot and shutdown
 * delays; with `role`, every call signed as the role is decided by IAM against its statements.
 */
export async function startEc2(timeScale: number, faults: Ec2FaultOptions = {}, role?: FunctionRole): Promise<Ec2Harness> {
  const sim = new Ec2Simulator({
    clock: new ScaledClock(timeScale),
    faults: { bootDelayMs: 1_000, shutdownDelayMs: 1_000, ...faults },
    onListenerError: () => undefined,
    authorize: role?.ec2Authorizer(),
  });
  await sim.start();
  const clientAs = (credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }) =>
    new EC2Client({ endpoint: sim.url, region: sim.region, credentials, maxAttempts: 1 });
  const operator = clientAs({ accessKeyId: 'AKIDTEST', secretAccessKey: 'test' });
  const client = role ? clientAs(role.credentials) : operator;
  const templates: Record<string, string> = {
    'linux-x64': sim.registerLaunchTemplate(RUNNER_TEMPLATE).launchTemplateId,
    'stops': sim.registerLaunchTemplate({ ...RUNNER_TEMPLATE, launchTemplateName: 'stops', instanceInitiatedShutdownBehavior: 'stop' }).launchTemplateId,
  };
  const fleetOf = (c: EC2Client) => new Ec2Fleet({
    client: c, managedBy: MANAGED_BY, subnetIds: sim.subnets.map((s) => s.subnetId), launchTemplateFor: (name) => templates[name],
  });
  const fleet = fleetOf(client);
  // The tests launch as the provisioner would; the lifecycle and reconciler functions never launch.
  const launcher = fleetOf(operator);
  const events: Ec2InstanceEvent[] = [];
  sim.onEvent((e) => {
    events.push(e);
  });
  let launches = 0;
  return {
    sim,
    fleet,
    events,
    async launch(market = 'spot', configName = POOL.configName) {
      const result = await launcher.launch({
        poolId: POOL.poolId, configName, market, count: 1, clientToken: `launch-${++launches}-${Date.now()}`, instanceTypes: ['m7i.large'],
      });
      const instanceId = result.instances[0].instanceId;
      await waitFor(() => sim.instance(instanceId)?.state === 'running');
      return instanceId;
    },
    nextEvent: (instanceId, match) => waitFor(() => events.find((e) => e.detail['instance-id'] === instanceId && match(e))),
    async stop() {
      client.destroy();
      operator.destroy();
      await sim.stop();
    },
  };
}

export interface GhesHarness {
  readonly sim: GhesSimulator;
  readonly api: GitHubApi;
  /** The lazy GitHub factory the functions get; counts its calls. */
  readonly github: () => Promise<GitHubPort>;
  factoryCalls(): number;
  /** Calls by route, without App authentication (token and installation look-ups). */
  portCalls(): Record<string, number>;
  /** Registers a JIT runner named for `instanceId` (or `name`), as the register endpoint would. */
  register(instanceId: string, name?: string): Promise<{ runnerId: number; runnerName: string; encodedJitConfig: string }>;
  stop(): Promise<void>;
}

const AUTH_ROUTES = ['POST /app/installations/{installation_id}/access_tokens', 'GET /orgs/{org}/installation', 'GET /repos/{owner}/{repo}/installation'];

export async function startGhes(options: GhesSimulatorOptions = {}): Promise<GhesHarness> {
  const sim = new GhesSimulator({ org: ORG, repos: ['app'], ...options });
  await sim.start();
  // Writes spaced 20 ms apart rather than GitHub's second: the behaviour is the same, the tests faster.
  const api = new GitHubApi({ baseUrl: sim.apiUrl, appId: String(sim.appId), privateKeyPem: sim.privateKey, retryBaseMs: 1, writeSpacingMs: 20 });
  const setup = octokitClient(sim, { installationId: sim.installationId(ORG) });
  let calls = 0;
  return {
    sim,
    api,
    github: () => {
      calls++;
      return Promise.resolve(api);
    },
    factoryCalls: () => calls,
    portCalls: () => Object.fromEntries(Object.entries(sim.apiCalls().byRoute).filter(([route]) => !AUTH_ROUTES.includes(route))),
    async register(instanceId, name = `${PREFIX}${instanceId}`) {
      // A plain client of its own: the functions' client spaces writes a second apart (plugin-throttling),
      // which set-up need not wait for.
      const { data } = await setup.request('POST /orgs/{org}/actions/runners/generate-jitconfig', {
        org: ORG, name, labels: LABELS, runner_group_id: 1,
      });
      const jit = data as { runner: { id: number; name: string }; encoded_jit_config: string };
      return { runnerId: jit.runner.id, runnerName: jit.runner.name, encodedJitConfig: jit.encoded_jit_config };
    },
    stop: () => sim.stop(),
  };
}

export function runnerRecord(instanceId: string, state: RunnerState, at: number, changes: Partial<RunnerRecord> = {}): RunnerRecord {
  return {
    instanceId, state, market: 'spot', launchedAt: at, poolId: POOL.poolId, configName: POOL.configName, scope: POOL.scope, updatedAt: at, version: 1, ...changes,
  };
}

/** Writes a job into the store as the webhook would have, in `state` as of `at`. */
export async function recordJob(jobs: JobStore, jobId: number, state: JobState, at: number, runnerName?: string): Promise<JobRecord> {
  const key: JobKey = { githubHost: GITHUB_HOST, jobId };
  const transition: JobTransition = {
    key,
    to: state,
    rank: JOB_STATE_RANK[state],
    create: { runId: 1000 + jobId, runAttempt: 1, repo: `${ORG}/app`, org: ORG, labels: LABELS, pool: POOL },
    runnerName,
    at,
  };
  const { job } = await jobs.applyJobTransition(transition);
  return job!;
}

/** Polls until `probe` returns something other than undefined / false. */
export async function waitFor<T>(probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Receives the GHES simulator's webhook deliveries; `fail` decides which get a 502 (`nth`: this job's how-manyth delivery). */
export interface Receiver extends LoopbackServer {
  readonly jobIds: number[];
  fail: (jobId: number, nth: number) => boolean;
}

export async function startReceiver(): Promise<Receiver> {
  const jobIds: number[] = [];
  const receiver = {} as Receiver;
  const server = await listenOnLoopback(async (req, res) => {
    const payload = JSON.parse((await readBody(req)).toString('utf8')) as { workflow_job: { id: number } };
    const jobId = payload.workflow_job.id;
    jobIds.push(jobId);
    res.writeHead(receiver.fail(jobId, jobIds.filter((j) => j === jobId).length) ? 502 : 200).end();
  });
  return Object.assign(receiver, server, { jobIds, fail: () => false });
}

/** What a test's reconciler runs on: its stores and simulators; a queue and metrics of its own unless given. */
export interface ReconcilerWiring {
  readonly runners: RunnerStore;
  readonly jobs: JobStore;
  readonly state: ReconcilerStateStore;
  readonly ec2: Ec2Harness;
  readonly ghes: GhesHarness;
  readonly queue?: PoolQueue;
  readonly metrics?: CountMetrics<ReconcilerMetricName>;
}

/** A reconciler run's deps on `wiring` at `clock`: a 10-minute boot timeout, a 60-minute lifetime, `limits`, then `more`. */
export function reconcilerDeps(
  wiring: ReconcilerWiring, clock: Clock, limits: Partial<ReconcilerLimits> = {}, more: Partial<ReconcilerDeps> = {},
): ReconcilerDeps {
  return {
    settings: { runnerNamePrefix: PREFIX, bootTimeoutMs: 10 * 60_000, maxLifetimeMs: 60 * 60_000 },
    runners: wiring.runners,
    jobs: wiring.jobs,
    queue: wiring.queue ?? new InMemoryPoolQueue(),
    compute: wiring.ec2.fleet,
    github: wiring.ghes.github,
    state: wiring.state,
    clock,
    logger: silentLogger(),
    metrics: wiring.metrics ?? new RecordingMetrics<ReconcilerMetricName>(),
    limits,
    ...more,
  };
}
