// Jobs: GitHub's routing of queued jobs to idle runners (labels, case, scope, precedence), the job
// lifecycle, cancellation, lost runners, and re-runs through the REST API.
import { client, failure, OctokitClient, testKey } from './octokit';
import { ScaledClock } from '../../../sandbox/common/time';
import { GhesSimulator, GhesSimulatorOptions, JobView } from '../../../sandbox/ghes';

const ORG = 'octo-org';
const JOB = 'GET /repos/{owner}/{repo}/actions/jobs/{job_id}';
const RERUN = 'POST /repos/{owner}/{repo}/actions/jobs/{job_id}/rerun';

describe('jobs', () => {
  let sim: GhesSimulator;
  let octokit: OctokitClient;

  async function startSim(options: GhesSimulatorOptions = {}): Promise<void> {
    // 1 simulated second = 1 ms.
    sim = new GhesSimulator({ privateKey: testKey(), clock: new ScaledClock(0.001), seed: 5, org: ORG, repos: ['app', 'api'], ...options });
    await sim.start();
    octokit = client(sim, { installationId: sim.installationId(ORG) });
  }

  afterEach(() => sim.stop());

  /** Registers a JIT runner through the API and starts a simulated runner with its config. */
  async function runner(name: string, labels: string[], repo?: string): Promise<ReturnType<GhesSimulator['startRunner']>> {
    const { data } = repo
      ? await octokit.request('POST /repos/{owner}/{repo}/actions/runners/generate-jitconfig', { owner: ORG, repo, name, runner_group_id: 1, labels })
      : await octokit.request('POST /orgs/{org}/actions/runners/generate-jitconfig', { org: ORG, name, runner_group_id: 1, labels });
    return sim.startRunner(data.encoded_jit_config);
  }

  test('a job goes queued → in_progress → completed, visible through the API with runner fields null until assigned', async () => {
    await startSim();
    const events: string[] = [];
    sim.on('job', (e) => events.push(e.action));
    const job = sim.queueJob('app', ['self-hosted', 'linux'], 30_000, 'failure');

    const { data: queued } = await octokit.request(JOB, { owner: ORG, repo: 'app', job_id: job });
    const started = await runner('r1', ['self-hosted', 'linux']);
    const exit = await started.exit;
    const { data: completed } = await octokit.request(JOB, { owner: ORG, repo: 'app', job_id: job });

    expect(queued).toMatchObject({ status: 'queued', conclusion: null, runner_id: null, runner_name: null, steps: [], run_attempt: 1 });
    expect(queued.started_at).toEqual(expect.any(String));
    expect(exit).toMatchObject({ reason: 'completed', conclusion: 'failure' });
    expect(completed).toMatchObject({ status: 'completed', conclusion: 'failure', runner_name: 'r1', runner_group_name: 'Default' });
    expect(events).toEqual(['queued', 'in_progress', 'completed']);
  });

  test('labels match case-insensitively and the runner must have all of the job\'s labels', async () => {
    await startSim();
    const needsGpu = sim.queueJob('app', ['self-hosted', 'GPU'], 1000);
    const plain = sim.queueJob('app', ['Self-Hosted', 'LINUX'], 1000);

    const started = await runner('linux-only', ['self-hosted', 'linux']);
    const exit = await started.exit;

    expect(exit.jobId).toBe(plain);
    expect(sim.job(needsGpu)?.status).toBe('queued');
  });

  test('a repository runner serves only its repository; an organization runner serves every org repository', async () => {
    await startSim();
    const forApi = sim.queueJob('api', ['self-hosted'], 1000);

    const repoRunner = await runner('app-runner', ['self-hosted'], 'app');
    await sim.clock.sleep(60_000);
    const stillQueued = sim.job(forApi)?.status;
    const orgRunner = await runner('org-runner', ['self-hosted']);
    const orgExit = await orgRunner.exit;

    expect(stillQueued).toBe('queued');
    expect(orgExit.jobId).toBe(forApi);
    expect(repoRunner.runner.state).toBe('idle');
    repoRunner.runner.kill();
  });

  test('with a repository and an organization runner both idle, the repository runner gets the job first', async () => {
    await startSim();
    const orgRunner = await runner('org-runner', ['self-hosted']);
    const repoRunner = await runner('repo-runner', ['self-hosted'], 'app');
    while (orgRunner.runner.state !== 'idle' || repoRunner.runner.state !== 'idle') await sim.clock.sleep(1000);

    const job = sim.queueJob('app', ['self-hosted'], 1000);
    const done = await sim.waitForJob(job);

    expect(done.runnerName).toBe('repo-runner');
    orgRunner.runner.kill();
    await repoRunner.exit;
  });

  test('a job cancelled while queued completes as cancelled with runner_id 0 and runner_name ""', async () => {
    await startSim();
    const job = sim.queueJob('app', ['self-hosted', 'nobody-has-this'], 1000);

    sim.cancelJob(job);
    const { data } = await octokit.request(JOB, { owner: ORG, repo: 'app', job_id: job });

    expect(data).toMatchObject({ status: 'completed', conclusion: 'cancelled', runner_id: 0, runner_name: '', runner_group_name: '', steps: [] });
  });

  test('a job cancelled while running stops its runner, which learns of it on its next renewal', async () => {
    await startSim();
    const job = sim.queueJob('app', ['self-hosted'], 60 * 60_000);
    const started = await runner('r', ['self-hosted']);
    await sim.waitForJob(job, 'in_progress');

    sim.cancelJob(job);
    const exit = await started.exit;

    expect(exit).toMatchObject({ reason: 'cancelled', jobId: job });
    expect(sim.job(job)).toMatchObject({ status: 'completed', conclusion: 'cancelled', runnerName: 'r' });
    expect(sim.runners()).toEqual([]);
  });

  test('a runner killed mid-job fails the job after lostRunnerTimeoutMs and is deregistered', async () => {
    await startSim({ lostRunnerTimeoutMs: 5 * 60_000 });
    const job = sim.queueJob('app', ['self-hosted'], 60 * 60_000);
    const started = await runner('spot', ['self-hosted']);
    const running = await sim.waitForJob(job, 'in_progress');

    started.runner.kill();
    const exit = await started.exit;
    const failed = await sim.waitForJob(job);

    expect(exit.reason).toBe('killed');
    expect(failed).toMatchObject({ status: 'completed', conclusion: 'failure', runnerName: 'spot' });
    // A timer may fire a wall millisecond early, which is a simulated second here.
    expect(failed.completedAt! - running.startedAt).toBeGreaterThanOrEqual(5 * 60_000 - 5_000);
    expect(sim.runners()).toEqual([]);
  });

  test('a re-run is a new job in attempt 2 with a new queued event; only the current attempt can be re-run', async () => {
    await startSim();
    const queuedEvents: JobView[] = [];
    sim.on('job', (e) => e.action === 'queued' && queuedEvents.push(e.job));
    const job = sim.queueJob('app', ['self-hosted'], 10 * 60_000);
    const first = await runner('first', ['self-hosted']);
    await sim.waitForJob(job, 'in_progress');

    const whileRunning = await failure(octokit.request(RERUN, { owner: ORG, repo: 'app', job_id: job }));
    first.runner.kill();
    await sim.waitForJob(job);
    const rerun = await octokit.request(RERUN, { owner: ORG, repo: 'app', job_id: job });
    const again = sim.job(job)!.rerunAs!;
    const oldAttempt = await failure(octokit.request(RERUN, { owner: ORG, repo: 'app', job_id: job }));
    const { data: newJob } = await octokit.request(JOB, { owner: ORG, repo: 'app', job_id: again });

    expect([whileRunning.status, whileRunning.message]).toEqual([403, expect.stringContaining('This workflow is already running')]);
    expect([rerun.status, rerun.data]).toEqual([201, {}]);
    expect([oldAttempt.status, oldAttempt.message]).toEqual([403, expect.stringContaining('Only jobs from the current attempt can be re-run')]);
    expect(newJob).toMatchObject({ status: 'queued', run_attempt: 2, run_id: sim.job(job)!.runId });
    expect(again).not.toBe(job);
    expect(queuedEvents.map((j) => [j.id, j.runAttempt])).toEqual([[job, 1], [again, 2]]);
    expect(sim.job(job)?.conclusion).toBe('failure'); // the original keeps its conclusion
  });

  test('a failed job cannot be re-run while another job of its run is queued or running, and can once the run has finished', async () => {
    await startSim();
    // GitHub re-runs jobs of a finished run only: 403 "This workflow is already running" (cli/cli#9221).
    const { jobIds: [failing, other] } = sim.createWorkflowRun({
      repo: 'app', jobs: [{ labels: ['self-hosted', 'fails'], durationMs: 1000, outcome: 'failure' }, { labels: ['self-hosted', 'slow'], durationMs: 5 * 60_000 }],
    });
    await (await runner('fails', ['self-hosted', 'fails'])).exit;
    const whileQueued = await failure(octokit.request(RERUN, { owner: ORG, repo: 'app', job_id: failing }));
    const slow = await runner('slow', ['self-hosted', 'slow']);
    await sim.waitForJob(other, 'in_progress');
    const whileRunning = await failure(octokit.request(RERUN, { owner: ORG, repo: 'app', job_id: failing }));
    await slow.exit;
    const rerun = await octokit.request(RERUN, { owner: ORG, repo: 'app', job_id: failing });

    expect(sim.job(failing)).toMatchObject({ status: 'completed', conclusion: 'failure' });
    expect([whileQueued.status, whileQueued.message]).toEqual([403, expect.stringContaining('This workflow is already running')]);
    expect([whileRunning.status, whileRunning.message]).toEqual([403, expect.stringContaining('This workflow is already running')]);
    expect(rerun.status).toBe(201);
  });

  test('an unknown job, or a job of another repository, is 404', async () => {
    await startSim();
    const job = sim.queueJob('api', ['x'], 1000);

    const unknown = await failure(octokit.request(JOB, { owner: ORG, repo: 'app', job_id: 12345 }));
    const elsewhere = await failure(octokit.request(JOB, { owner: ORG, repo: 'app', job_id: job }));

    expect([unknown.status, elsewhere.status]).toEqual([404, 404]);
  });

  test('a job nobody takes fails after queuedJobTimeoutMs', async () => {
    await startSim({ queuedJobTimeoutMs: 2 * 60_000 });
    const job = sim.queueJob('app', ['nobody-has-this'], 1000);

    const done = await sim.waitForJob(job);

    expect(done).toMatchObject({ status: 'completed', conclusion: 'failure' });
    expect(done.completedAt! - done.createdAt).toBeGreaterThanOrEqual(2 * 60_000 - 5_000); // timer jitter: see above
  });
});
