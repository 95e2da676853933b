// The simulated runner (`run.sh --jitconfig`): it decodes its config, proves the config's secret to the
// simulator, and exits the way a real runner does when its registration goes away or its instance is
// terminated.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { client, OctokitClient, testKey } from './octokit';
import { ScaledClock } from '../../../sandbox/common/time';
import { GhesSimulator, GhesSimulatorError } from '../../../sandbox/ghes';

const ORG = 'octo-org';

describe('simulated runner', () => {
  let sim: GhesSimulator;
  let octokit: OctokitClient;

  beforeEach(async () => {
    // 1 simulated second = 1 ms.
    sim = new GhesSimulator({ privateKey: testKey(), clock: new ScaledClock(0.001), seed: 17, org: ORG });
    await sim.start();
    octokit = client(sim, { installationId: sim.installationId(ORG) });
  });

  afterEach(() => sim.stop());

  async function register(name: string): Promise<{ id: number; config: string }> {
    const { data } = await octokit.request('POST /orgs/{org}/actions/runners/generate-jitconfig', {
      org: ORG, name, runner_group_id: 1, labels: ['self-hosted'],
    });
    return { id: data.runner.id, config: data.encoded_jit_config };
  }

  const runnerStatus = async (id: number): Promise<string | undefined> =>
    (await octokit.request('GET /orgs/{org}/actions/runners', { org: ORG })).data.runners.find((r) => r.id === id)?.status;

  test('a config that is not a JIT config is refused at once', () => {
    expect(() => sim.startRunner('bm90IGEgY29uZmln')).toThrow(GhesSimulatorError);
    expect(() => sim.startRunner('!!!')).toThrow(GhesSimulatorError);
  });

  test('a runner whose config carries the wrong secret cannot connect, and the registration stays offline', async () => {
    const { id, config } = await register('tampered');
    const files = JSON.parse(Buffer.from(config, 'base64').toString()) as Record<string, string>;
    files['.credentials_rsaparams'] = Buffer.from(JSON.stringify({ simulatedSecret: 'guessed' })).toString('base64');

    const exit = await sim.startRunner(Buffer.from(JSON.stringify(files)).toString('base64')).exit;

    expect(exit).toMatchObject({ reason: 'error', exitCode: 1, error: { status: 401 } });
    expect(await runnerStatus(id)).toBe('offline');
  });

  test('a runner whose registration was deleted before it booted exits as removed', async () => {
    const { id, config } = await register('deleted-early');
    await octokit.request('DELETE /orgs/{org}/actions/runners/{runner_id}', { org: ORG, runner_id: id });

    const exit = await sim.startRunner(config).exit;

    expect(exit).toMatchObject({ reason: 'removed', exitCode: 1 });
  });

  test('an idle runner deleted through the API stops listening and exits as removed', async () => {
    const { id, config } = await register('deleted-idle');
    const started = sim.startRunner(config);
    while (started.runner.state !== 'idle') await sim.clock.sleep(1000);

    await octokit.request('DELETE /orgs/{org}/actions/runners/{runner_id}', { org: ORG, runner_id: id });

    expect(await started.exit).toMatchObject({ reason: 'removed' });
  });

  test('a killed idle runner gets no job and goes offline; the job goes to a runner that is listening', async () => {
    const killed = await register('killed-idle');
    const first = sim.startRunner(killed.config);
    while (first.runner.state !== 'idle') await sim.clock.sleep(1000);
    first.runner.kill();
    await first.exit;

    const job = sim.queueJob('app', ['self-hosted'], 1000);
    await sim.clock.sleep(150_000); // offline two minutes after its last contact
    const stillQueued = sim.job(job)?.status;
    const offline = await runnerStatus(killed.id);
    const other = await register('listening');
    const exit = await sim.startRunner(other.config).exit;

    expect(stillQueued).toBe('queued');
    expect(offline).toBe('offline');
    expect(exit).toMatchObject({ reason: 'completed', jobId: job });
  });

  test('a second runner with the same config is refused: one session per registration', async () => {
    const { config } = await register('twice');
    const first = sim.startRunner(config);
    while (first.runner.state !== 'idle') await sim.clock.sleep(1000);

    const second = await sim.startRunner(config).exit;

    expect(second).toMatchObject({ reason: 'error', error: { status: 409 } });
    first.runner.kill();
  });

  test('a runner\'s own calls are not API calls', async () => {
    const { config } = await register('quiet');
    sim.resetApiCalls();
    const job = sim.queueJob('app', ['self-hosted'], 5 * 60_000);

    await sim.startRunner(config).exit;

    expect(sim.job(job)?.status).toBe('completed');
    expect(sim.apiCalls()).toEqual({ total: 0, byRoute: {} });
  });
  describe('job hooks, as the runner runs ACTIONS_RUNNER_HOOK_JOB_STARTED and _COMPLETED', () => {
    let dir: string;
    beforeEach(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runner-hooks-'));
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    const hook = (name: string, text: string) => {
      const file = path.join(dir, name);
      fs.writeFileSync(file, text, { mode: 0o755 });
      return file;
    };

    test('the started hook runs before the job\'s steps and the completed hook after, with the job\'s variables', async () => {
      // The started hook leaves a marker the completed hook reads: the same machine, in that order.
      const started = hook('job-started.sh', `echo "started $GITHUB_JOB of $GITHUB_REPOSITORY on $RUNNER_NAME"\necho mark > "${dir}/marker"\n`);
      const completed = hook('job-completed.sh', `echo "completed after $(cat "${dir}/marker")"\n`);
      const { config } = await register('hooked');
      const job = sim.queueJob('app', ['self-hosted'], 1000);

      const exit = await sim.startRunner(config, { started, completed }).exit;

      expect(exit).toMatchObject({ reason: 'completed', exitCode: 0, conclusion: 'success' });
      expect(sim.job(job)?.conclusion).toBe('success');
      expect(sim.job(job)?.hookSteps).toEqual([
        { name: 'Set up runner', file: started, exitCode: 0, output: `started ${sim.job(job)!.name} of ${ORG}/app on hooked\n` },
        { name: 'Complete runner', file: completed, exitCode: 0, output: 'completed after mark\n' },
      ]);
    });

    test('a started hook that exits non-zero fails the job with its output, its steps never run, and the completed hook still runs', async () => {
      const started = hook('job-started.sh', 'echo "no cache volume" >&2\nexit 3\n');
      const completed = hook('job-completed.sh', 'echo cleaned up\n');
      const { config } = await register('refusing');
      // A job whose steps would take an hour of simulated time: a failed started hook ends it at once.
      const job = sim.queueJob('app', ['self-hosted'], 3_600_000);
      const before = sim.clock.now();

      const exit = await sim.startRunner(config, { started, completed }).exit;

      expect(exit).toMatchObject({ reason: 'completed', exitCode: 0, conclusion: 'failure' });
      expect(sim.job(job)).toMatchObject({ status: 'completed', conclusion: 'failure' });
      expect(sim.clock.now() - before).toBeLessThan(3_600_000);
      expect(sim.job(job)?.hookSteps?.map((s) => [s.name, s.exitCode, s.output])).toEqual([
        ['Set up runner', 3, 'no cache volume\n'],
        ['Complete runner', 0, 'cleaned up\n'],
      ]);
    });

    test('a completed hook that exits non-zero fails a job whose steps succeeded', async () => {
      const completed = hook('job-completed.sh', 'false\necho never printed\n');
      const { config } = await register('failing-after');
      const job = sim.queueJob('app', ['self-hosted'], 1000);

      const exit = await sim.startRunner(config, { completed }).exit;

      expect(exit).toMatchObject({ conclusion: 'failure' });
      expect(sim.job(job)?.conclusion).toBe('failure');
      // bash -e: the script stops at the first failing command.
      expect(sim.job(job)?.hookSteps).toEqual([{ name: 'Complete runner', file: completed, exitCode: 1, output: '' }]);
    });

    test('a hook file that is missing or not .sh fails the job, as the runner cannot run it', async () => {
      const { config } = await register('missing-hook');
      const job = sim.queueJob('app', ['self-hosted'], 1000);

      await sim.startRunner(config, { started: path.join(dir, 'nowhere.sh'), completed: hook('job-completed.ps1', 'Write-Output hi') }).exit;

      expect(sim.job(job)?.conclusion).toBe('failure');
      const [setUp, complete] = sim.job(job)!.hookSteps!;
      expect(setUp).toMatchObject({ name: 'Set up runner', output: expect.stringContaining('nowhere.sh') });
      expect(setUp.exitCode).not.toBe(0);
      expect(complete).toMatchObject({ name: 'Complete runner', exitCode: 1, output: expect.stringContaining('runs .sh hooks only') });
    });

    test('a runner without hooks records none', async () => {
      const { config } = await register('plain');
      const job = sim.queueJob('app', ['self-hosted'], 1000);

      await sim.startRunner(config).exit;

      expect(sim.job(job)).toMatchObject({ conclusion: 'success' });
      expect(sim.job(job)?.hookSteps).toBeUndefined();
    });
  });
});
