// Re-runs of jobs a spot interruption failed, through the real GitHub adapter (Octokit) against the
// GHES simulator and the provisioner on dynalite. GitHub refuses to re-run a job while another job
// of its workflow run is still queued or running (403 "This workflow is already running"): such a
// re-run waits on the pool item and is asked again once the run lets it.
import { Harness, POOL, PREFIX, provisionerRole, startHarness } from './harness';
import { emptyPool } from '../../../lambda/core/pool';
import { GitHubApi } from '../../../lambda/github/github-api';
import { reconcilePool } from '../../../lambda/provisioner/reconcile-pool';
import { DynamoRunnerStore } from '../../../lambda/state/dynamo-runner-store';
import { ScaledClock } from '../../../sandbox/common/time';
import { GhesSimulator } from '../../../sandbox/ghes';
import { testKey } from '../../sandbox/ghes/octokit';
import { DynamoTestEngine, startDynalite } from '../support/dynalite';

const ORG = { kind: 'org' as const, org: 'octo-org' };
const RUNS_ON = ['self-hosted', 'linux', 'x64'];
const GPU = ['self-hosted', 'linux', 'gpu'];
const HOUR = 3600_000;
const YEAR = 365 * 24 * HOUR;

let engine: DynamoTestEngine;
let h: Harness;
let ghes: GhesSimulator;
let github: GitHubApi;

beforeAll(async () => { engine = await startDynalite({ asRole: provisionerRole() }); });
afterAll(async () => { await engine.stop(); });
afterEach(async () => {
  await ghes?.stop();
  await h?.stop();
});

async function start(): Promise<void> {
  // 1 simulated second = 1 ms of wall time. A killed runner's job fails 2 simulated minutes later;
  // a job no runner can take stays queued, and a JIT runner slow to connect stays registered (for a
  // simulated year, hours of wall time: longer than any test runs).
  const clock = new ScaledClock(0.001);
  ghes = new GhesSimulator({
    clock, jwtClock: () => clock.now(), privateKey: testKey(), repos: ['app'], lostRunnerTimeoutMs: 2 * 60_000, queuedJobTimeoutMs: YEAR, jitRunnerTimeoutMs: YEAR,
  });
  await ghes.start();
  github = new GitHubApi({
    baseUrl: ghes.apiUrl, appId: String(ghes.appId), privateKeyPem: testKey(), now: () => clock.now(), writeSpacingMs: 0, retryBaseMs: 10,
  });
  h = await startHarness(engine, { github });
}

/** Starts a simulated runner under our naming on a registered JIT config; resolves once it runs a job. */
async function runnerTakingAJob(instanceId: string, labels = RUNS_ON): Promise<{ kill: () => void; jobId: number; runnerName: string }> {
  const runnerName = `${PREFIX}${instanceId}`;
  const jit = await github.generateJitConfig(ORG, { name: runnerName, labels, runnerGroup: { id: 1 } });
  const started = ghes.startRunner(jit.encodedJitConfig);
  while (started.runner.state !== 'busy') await ghes.clock.sleep(1000);
  return { kill: () => started.runner.kill(), jobId: started.runner.job!, runnerName };
}

/**
 * A two-job workflow run: `test` on our runner, whose instance is reclaimed (the runner killed) so
 * that GitHub fails the job; `build` asks for a GPU runner and stays queued until the test starts
 * one (`finishOther`), so the run is in progress for as long as the test needs, however slow the
 * machine. The state store saw the interrupted job through webhooks, and the lifecycle function
 * marked it on the pool.
 */
async function twoJobRunWithOneInterrupted(): Promise<{ interrupted: number; other: number; finishOther: () => Promise<void> }> {
  const run = ghes.createWorkflowRun({
    repo: 'app',
    jobs: [{ name: 'build', labels: GPU, durationMs: 60_000 }, { name: 'test', labels: RUNS_ON, durationMs: 10 * HOUR }],
  });
  const other = run.jobIds.find((id) => ghes.job(id)!.name === 'build')!;
  const reclaimed = await runnerTakingAJob('i-0aaaaaaaaaaaaaaa1');
  await h.queueJob(reclaimed.jobId);
  await h.moveJob(reclaimed.jobId, 'in_progress', { runnerName: reclaimed.runnerName });
  const pool = (await h.runners.getPool(POOL.poolId)) ?? emptyPoolRecord();
  await h.runners.savePool({ ...pool, interruptedJobs: [{ githubHost: 'ghes.example.com', jobId: reclaimed.jobId }] }, h.clock.now());
  reclaimed.kill();
  await ghes.waitForJob(reclaimed.jobId);
  await h.moveJob(reclaimed.jobId, 'completed', { runnerName: reclaimed.runnerName, conclusion: 'failure' });
  const finishOther = async () => {
    // Another runner system's GPU runner takes the job and completes it a simulated minute later.
    const jit = await github.generateJitConfig(ORG, { name: 'gpu-runner', labels: GPU, runnerGroup: { id: 1 } });
    ghes.startRunner(jit.encodedJitConfig);
    await ghes.waitForJob(other);
  };
  return { interrupted: reclaimed.jobId, other, finishOther };
}

const emptyPoolRecord = () => emptyPool(POOL.poolId, POOL.configName, POOL.scope);

describe('re-runs of jobs a spot interruption failed', () => {
  test('a two-job run whose interrupted job fails while the other runs is re-run once the other completes', async () => {
    await start();
    const { interrupted, other, finishOther } = await twoJobRunWithOneInterrupted();

    await reconcilePool(h.deps, h.message()); // GitHub: 403 "This workflow is already running"
    const whileRunning = { github: ghes.job(other)!.status, rerunAs: ghes.job(interrupted)!.rerunAs, pool: await h.runners.getPool(POOL.poolId) };
    const activeWhileWaiting = await new DynamoRunnerStore(engine.operator, h.tableName).listActivePools();

    await finishOther();
    h.clock.advance(HOUR); // the periodic reconciler hands the pool over again
    await reconcilePool(h.deps, h.message());

    expect(whileRunning.github).toBe('queued'); // the first reconcile did meet a run in progress
    expect(whileRunning.rerunAs).toBeUndefined();
    expect(whileRunning.pool!.interruptedJobs).toEqual([expect.objectContaining({ jobId: interrupted })]);
    expect(activeWhileWaiting).toContain(POOL.poolId); // so the reconciler comes back for it
    const again = ghes.job(ghes.job(interrupted)!.rerunAs!);
    expect(again).toMatchObject({ status: 'queued', runAttempt: 2 });
    const { reruns, rerunsDeferred, rerunsRefused } = h.metrics;
    expect({ reruns, rerunsDeferred, rerunsRefused }).toEqual({ reruns: 1, rerunsDeferred: 1, rerunsRefused: 0 });
    const pool = await h.runners.getPool(POOL.poolId);
    expect(pool!.interruptedJobs).toEqual([]);
    expect(pool!.spot.onDemandCredits).toBe(1);
  });

  test('a re-run the run keeps refusing is asked again with backoff, and given up (counted) after a day', async () => {
    await start();
    const { interrupted, other } = await twoJobRunWithOneInterrupted();
    const rerunCalls = () => ghes.apiCalls().byRoute['POST /repos/{owner}/{repo}/actions/jobs/{job_id}/rerun'] ?? 0;

    await reconcilePool(h.deps, h.message());
    await reconcilePool(h.deps, h.message()); // at once: within the backoff, GitHub is not asked
    const callsWithinBackoff = rerunCalls();
    h.clock.advance(25 * HOUR);
    await reconcilePool(h.deps, h.message());

    expect(ghes.job(other)!.status).toBe('queued'); // the run was in progress all along
    expect(callsWithinBackoff).toBe(1);
    expect(rerunCalls()).toBe(2);
    expect(ghes.job(interrupted)!.rerunAs).toBeUndefined();
    const { rerunsDeferred, rerunsAbandoned, rerunsRefused } = h.metrics;
    expect({ rerunsDeferred, rerunsAbandoned, rerunsRefused }).toEqual({ rerunsDeferred: 1, rerunsAbandoned: 1, rerunsRefused: 0 });
    expect((await h.runners.getPool(POOL.poolId))!.interruptedJobs).toEqual([]);
  });

  test('a final refusal (the job was re-run by hand already) is counted and dropped at once', async () => {
    await start();
    // Long enough that it is still running when its runner is killed, however slow the set-up in between.
    const jobId = ghes.queueJob('app', RUNS_ON, 10 * HOUR);
    const runner = await runnerTakingAJob('i-0aaaaaaaaaaaaaaa3');
    await h.queueJob(jobId);
    await h.moveJob(jobId, 'in_progress', { runnerName: runner.runnerName });
    await h.runners.savePool({ ...emptyPoolRecord(), interruptedJobs: [{ githubHost: 'ghes.example.com', jobId }] }, h.clock.now());
    runner.kill();
    await ghes.waitForJob(jobId);
    await h.moveJob(jobId, 'completed', { runnerName: runner.runnerName, conclusion: 'failure' });
    // Someone re-runs it by hand: a client of its own, whose tokens keep the simulated clock as the
    // simulator does (a wall-clock client's token is stale after half a second of a busy machine).
    const person = new GitHubApi({
      baseUrl: ghes.apiUrl, appId: String(ghes.appId), privateKeyPem: testKey(), now: () => ghes.clock.now(), writeSpacingMs: 0,
    });
    expect(await person.rerunJob('octo-org', 'app', jobId)).toEqual({ outcome: 'rerun' });
    ghes.cancelJob(ghes.job(jobId)!.rerunAs!);

    await reconcilePool(h.deps, h.message()); // 403 "Only jobs from the current attempt can be re-run"

    const { reruns, rerunsDeferred, rerunsRefused } = h.metrics;
    expect({ reruns, rerunsDeferred, rerunsRefused }).toEqual({ reruns: 0, rerunsDeferred: 0, rerunsRefused: 1 });
    expect((await h.runners.getPool(POOL.poolId))!.interruptedJobs).toEqual([]);
  });
});
