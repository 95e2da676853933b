// The done-when scenario: JIT runners registered through Octokit, simulated runners started with their
// configs, and GitHub's routing that hands a queued job to ANY idle runner whose labels fit.
import { client, OctokitClient, testKey } from './octokit';
import { ScaledClock } from '../../../sandbox/common/time';
import { GhesSimulator } from '../../../sandbox/ghes';

const ORG = 'octo-org';

describe('JIT runners take whichever job is queued', () => {
  let sim: GhesSimulator;
  let octokit: OctokitClient;

  beforeEach(async () => {
    // 1 simulated second = 1 ms.
    sim = new GhesSimulator({ privateKey: testKey(), clock: new ScaledClock(0.001), seed: 7, org: ORG, repos: ['app'] });
    await sim.start();
    octokit = client(sim, { installationId: sim.installationId(ORG) });
  });

  afterEach(() => sim.stop());

  async function registerRunner(name: string): Promise<{ id: number; config: string }> {
    const { status, data } = await octokit.request('POST /orgs/{org}/actions/runners/generate-jitconfig', {
      org: ORG,
      name,
      runner_group_id: 1,
      labels: ['self-hosted', 'linux', 'x64'],
    });
    expect(status).toBe(201);
    return { id: data.runner.id, config: data.encoded_jit_config };
  }

  test('a runner launched for job B runs job A, queued first, and the runner launched for A then runs B', async () => {
    // Arrange: two jobs queued, A first; each would make an autoscaler launch "a runner for it".
    const jobA = sim.queueJob('app', ['self-hosted', 'Linux'], 120_000);
    const jobB = sim.queueJob('app', ['self-hosted', 'linux', 'X64'], 30_000);
    const forB = await registerRunner('runner-for-job-b');

    // Act: the runner launched for B comes up first.
    const runnerForB = sim.startRunner(forB.config);
    const a = await sim.waitForJob(jobA, 'in_progress');

    // Assert: GitHub handed it the oldest queued job that fits, which is A, not B.
    expect(a.runnerName).toBe('runner-for-job-b');
    expect(sim.job(jobB)?.status).toBe('queued');
    const { data: viaApi } = await octokit.request('GET /repos/{owner}/{repo}/actions/jobs/{job_id}', {
      owner: ORG, repo: 'app', job_id: jobA,
    });
    expect(viaApi).toMatchObject({ status: 'in_progress', runner_id: forB.id, runner_name: 'runner-for-job-b' });

    // Act: the runner launched for A comes up and takes what is left: B.
    const forA = await registerRunner('runner-for-job-a');
    const runnerForA = sim.startRunner(forA.config);
    const [exitB, exitA] = await Promise.all([runnerForB.exit, runnerForA.exit]);

    // Assert: each runner ran exactly one job, the "other" one, and was deregistered after it.
    expect(exitB).toMatchObject({ reason: 'completed', jobId: jobA, conclusion: 'success' });
    expect(exitA).toMatchObject({ reason: 'completed', jobId: jobB, conclusion: 'success' });
    expect(sim.job(jobB)).toMatchObject({ status: 'completed', conclusion: 'success', runnerName: 'runner-for-job-a' });
    const { data: left } = await octokit.request('GET /orgs/{org}/actions/runners', { org: ORG });
    expect(left.total_count).toBe(0);
  });
});
