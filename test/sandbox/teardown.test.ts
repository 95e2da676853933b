// The stack's deletion in the sandbox: the launchers go first (the template's DependsOn), then the
// teardown custom resource terminates every instance of the deployment, warm pool included.
import { parseScenario } from '../../sandbox/scenario';
import { startSandbox } from '../../sandbox/system';
import { CONTROL_PLANE_ENVIRONMENT } from '../../src/contracts/environment';
import { TAG_MANAGED_BY } from '../../src/contracts/instance-tags';

jest.setTimeout(300_000);

async function waitFor(probe: () => boolean, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > until) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test('deleting the stack leaves no instance of the deployment: the parked warm pool is terminated and nothing refills it', async () => {
  // Arrange: a warm pool of three, parked (stopped) after its warm-up.
  const scenario = parseScenario({
    name: 'teardown',
    seed: 21,
    timeScale: 0.02,
    runnerConfigs: [{ name: 'linux-x64', labels: ['linux', 'x64'], instanceTypes: ['m7i.large'], spot: 'SPOT_PREFERRED', maxRunners: 5, warmPool: { size: 3 } }],
    jobs: [{ repo: 'app', labels: ['self-hosted', 'linux', 'x64'], count: 1, durationMs: 60_000, arrival: { afterMs: 0, spreadMs: 0 } }],
    faults: {
      github: { errorRate: 0, latencyMs: [0, 0] },
      webhooks: { dropRate: 0, duplicateRate: 0, reorderRate: 0 },
      ec2: { capacityErrorRate: 0, throttleRate: 0, bootMs: [5_000, 10_000] },
    },
  });
  const sandbox = await startSandbox(scenario, { logLevel: 'ERROR' });
  try {
    const managedBy = sandbox.stack.environment[CONTROL_PLANE_ENVIRONMENT.managedBy.name];
    const ours = () => sandbox.ec2.instances().filter((i) => i.tags[TAG_MANAGED_BY] === managedBy);
    const live = () => ours().filter((i) => !['shutting-down', 'terminated'].includes(i.state));
    await waitFor(() => ours().filter((i) => i.state === 'stopped').length === 3, 120_000);

    // Act
    await sandbox.deleteCustomResources(true);

    // Assert
    expect(live()).toEqual([]);
    // The launchers were deleted first: five simulated minutes later (five reconciler ticks), nothing refilled the pool.
    await sandbox.clock.sleep(5 * 60_000);
    expect(live()).toEqual([]);
    expect(ours().length).toBeGreaterThanOrEqual(3);
  } finally {
    await sandbox.stop();
  }
});
