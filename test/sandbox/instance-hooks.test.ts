// A simulated instance with job hooks in its user data, booted by the real bootstrap and in-process:
// either way the hooks are installed on the instance and the simulated runner runs them around its job.
import { IncomingMessage, ServerResponse } from 'http';
import { createFleet, ec2Client, fleetInput, RUNNER_TEMPLATE, startSimulator, waitFor } from './ec2/helpers';
import { client, testKey } from './ghes/octokit';
import { listenOnLoopback, LoopbackServer } from '../../sandbox/common/http';
import { ScaledClock } from '../../sandbox/common/time';
import { Ec2Simulator } from '../../sandbox/ec2';
import { GhesSimulator } from '../../sandbox/ghes';
import { InstanceHost } from '../../sandbox/instances';

jest.setTimeout(60_000);

const ORG = 'octo-org';
const STARTED = 'echo "started $GITHUB_JOB of $GITHUB_REPOSITORY"\n';
const COMPLETED = 'echo "completed on $RUNNER_NAME"\nexit 4\n';

let ec2: Ec2Simulator;
let ghes: GhesSimulator;
let register: LoopbackServer;
/** The JIT config the register stub hands out next. */
let nextConfig: string | undefined;

beforeAll(async () => {
  ec2 = await startSimulator({ seed: 5 });
  // GitHub time runs 1000 times faster than the machine's, so the job's second passes at once; a JIT
  // runner that never connects is removed after a week of it (10 wall minutes), not GitHub's 5 minutes
  // (300 wall ms, less than a real bootstrap's boot takes on a busy machine).
  ghes = new GhesSimulator({ privateKey: testKey(), clock: new ScaledClock(0.001), seed: 5, org: ORG, jitRunnerTimeoutMs: 7 * 24 * 3_600_000 });
  await ghes.start();
  // The register endpoint, reduced to its answer: the prepared JIT config, once.
  register = await listenOnLoopback(async (_req: IncomingMessage, res: ServerResponse) => {
    const config = nextConfig;
    nextConfig = undefined;
    if (config) res.writeHead(200, { 'content-type': 'text/plain' }).end(config);
    else res.writeHead(410).end('no demand');
  });
});
afterAll(async () => {
  await Promise.all([register.close(), ghes.stop(), ec2.stop()]);
});

test.each([
  ['the real bootstrap', true],
  ['an in-process boot', false],
])('with %s, the user data\'s hooks run around the job, and the completed hook\'s failure fails it', async (_how, withBootstrap) => {
  // Arrange: a registration and a queued job at GitHub; a template whose user data exports the hooks.
  const octokit = client(ghes, { installationId: ghes.installationId(ORG) });
  const name = `hooked-${withBootstrap}`;
  const { data } = await octokit.request('POST /orgs/{org}/actions/runners/generate-jitconfig', { org: ORG, name, runner_group_id: 1, labels: ['self-hosted'] });
  nextConfig = data.encoded_jit_config;
  const jobId = ghes.queueJob('app', ['self-hosted'], 1000);
  const b64 = (text: string) => Buffer.from(text).toString('base64');
  const userData = [
    '#!/bin/bash',
    `export REGISTER_URL='${register.url}/'`,
    "export CONFIG_TIMEOUT_SECONDS='30'",
    `export JOB_STARTED_HOOK_BASE64='${b64(STARTED)}'`,
    `export JOB_COMPLETED_HOOK_BASE64='${b64(COMPLETED)}'`,
  ].join('\n');
  const templateId = ec2.registerLaunchTemplate({ ...RUNNER_TEMPLATE, launchTemplateName: `hooks-${withBootstrap}`, userData }).launchTemplateId;
  const host = new InstanceHost(ec2, ghes, () => withBootstrap, 'http://127.0.0.1:1', (url) => url);
  await host.start();
  try {
    // Act
    const ec2client = ec2Client(ec2);
    await createFleet(ec2client, fleetInput(templateId, 1, { TargetCapacitySpecification: { TotalTargetCapacity: 1, DefaultTargetCapacityType: 'on-demand' } }));
    ec2client.destroy();
    await waitFor(() => ghes.job(jobId)?.status === 'completed', 45_000);

    // Assert
    const job = ghes.job(jobId)!;
    expect(job).toMatchObject({ conclusion: 'failure', runnerName: name });
    expect(job.hookSteps?.map((s) => [s.name, s.exitCode, s.output])).toEqual([
      ['Set up runner', 0, `started ${job.name} of ${ORG}/app\n`],
      ['Complete runner', 4, `completed on ${name}\n`],
    ]);
    expect(withBootstrap ? host.boots.bootstrap : host.boots.inProcess).toBe(1);
  } finally {
    await host.stop();
  }
});
