// The whole system on one machine: the real function bundles, the real bootstrap, the simulators.
import { driveScenario } from '../../sandbox/driver';
import { parseScenario } from '../../sandbox/scenario';
import { startSandbox } from '../../sandbox/system';

jest.setTimeout(600_000);

const configs = [
  { name: 'linux-x64', labels: ['linux', 'x64'], instanceTypes: ['m7i.large', 'm6i.large'], spot: 'SPOT_PREFERRED', maxRunners: 10 },
  { name: 'linux-arm64', labels: ['linux', 'arm64', 'graviton'], instanceTypes: ['m7g.large'], spot: 'ON_DEMAND_ONLY', maxRunners: 5 },
];
const quiet = {
  github: { errorRate: 0, latencyMs: [0, 0] },
  webhooks: { dropRate: 0, duplicateRate: 0, reorderRate: 0 },
  ec2: { capacityErrorRate: 0, throttleRate: 0, bootMs: [5_000, 10_000] },
};

test('jobs on two runner configs all run, each on a fresh instance booted by the real bootstrap, and nothing is left behind', async () => {
  const scenario = parseScenario({
    name: 'two-configs',
    seed: 7,
    timeScale: 0.05,
    // Instances still power off after their job; the drain ends as soon as nothing is left.
    drainMs: 300_000,
    runnerConfigs: configs,
    faults: quiet,
    jobs: [
      { repo: 'app', labels: ['self-hosted', 'linux', 'x64'], count: 3, durationMs: 20_000, arrival: { spreadMs: 20_000 } },
      { repo: 'app', labels: ['Linux', 'ARM64'], count: 2, durationMs: 20_000, arrival: { spreadMs: 20_000 } },
    ],
  });
  const sandbox = await startSandbox(scenario);
  try {
    const report = await driveScenario(sandbox);

    expect(report.jobs).toEqual({ total: 5, completed: 5, succeeded: 5, failed: 0, cancelled: 0, rerun: 0, neverStarted: 0 });
    expect(report.leaks).toEqual({ instances: 0, runners: 0, queuedJobs: 0 });
    // Every job ran on a runner of its own. Webhooks and launches race (that is the real world,
    // and this machine may be loaded), so a pool may launch one more instance than it needed; the
    // leak check above shows such a surplus instance and its registration were retired.
    const runnerNames = sandbox.ghes.jobs().map((j) => j.runnerName);
    expect(new Set(runnerNames).size).toBe(5);
    expect(report.launches.instances).toBeGreaterThanOrEqual(5);
    // The arm64 config is ON_DEMAND_ONLY: none of its instances is spot.
    expect(sandbox.launches.filter((l) => l.poolId === 'octo-org#linux-arm64').map((l) => l.market)).not.toContain('spot');
    expect(sandbox.launches.filter((l) => l.poolId === 'octo-org#linux-arm64').length).toBeGreaterThanOrEqual(2);
    expect(report.api.github.byRoute['POST /orgs/{org}/actions/runners/generate-jitconfig']).toBeGreaterThanOrEqual(5);
  } finally {
    await sandbox.stop();
  }
});
