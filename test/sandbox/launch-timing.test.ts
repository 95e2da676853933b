import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { HttpApiRequest } from '../../sandbox/aws/api-gateway';
import type { InstanceStateName } from '../../sandbox/ec2';
import type { JobView } from '../../sandbox/ghes';
import { LaunchTiming } from '../../sandbox/launch-timing';
import { parseScenario } from '../../sandbox/scenario';
import { TAG_POOL } from '../../src/contracts/instance-tags';

const POOL = 'octo-org#linux-x64';
const PREFIX = 'er-';

/** The simulators' hooks, driven by hand, and both clocks set by the test. */
function harness() {
  let stateListener: (change: { instance: never; previousState?: InstanceStateName; state: InstanceStateName }) => void = () => undefined;
  let requestListener: (request: HttpApiRequest) => void = () => undefined;
  const clocks = { wall: 0, simulated: 0 };
  const timing = new LaunchTiming({
    ec2: { onInstanceStateChange: (l) => { stateListener = l as typeof stateListener; return () => true; } },
    httpApi: { onRequest: (l) => { requestListener = l; return () => true; } },
    scenario: parseScenario({ runnerConfigs: [{ name: 'linux-x64', labels: ['linux', 'x64'] }] }),
    org: 'octo-org',
    clock: { now: () => clocks.simulated },
  }, () => clocks.wall);
  return {
    timing,
    state(instanceId: string, state: InstanceStateName, previousState: InstanceStateName | undefined, at: { wall?: number; simulated: number }) {
      Object.assign(clocks, at);
      stateListener({ instance: { instanceId, tags: { [TAG_POOL]: POOL } } as never, previousState, state });
    },
    delivery(action: string, jobId: number, receivedAt: number) {
      const body = JSON.stringify({ action, workflow_job: { id: jobId, labels: ['self-hosted', 'linux', 'x64'] } });
      requestListener({ event: { headers: { 'x-github-event': 'workflow_job' }, body, isBase64Encoded: false } as unknown as APIGatewayProxyEventV2, receivedAt });
    },
  };
}

const job = (id: number, createdAt: number, startedAt: number, instanceId: string) =>
  ({ id, createdAt, startedAt, runnerName: `${PREFIX}${instanceId}`, status: 'in_progress' } as unknown as JobView);

describe('launch timing', () => {
  test('each queued job goes with its pool\'s first launch after it that no earlier job took; earlier launches and repeated deliveries are skipped', () => {
    const h = harness();
    h.state('i-warm', 'pending', undefined, { wall: 40, simulated: 500 });
    h.state('i-surplus', 'pending', undefined, { wall: 50, simulated: 600 });
    h.delivery('queued', 1, 100);
    h.delivery('queued', 1, 120);
    h.delivery('in_progress', 1, 125);
    h.delivery('queued', 2, 130);
    h.state('i-cold', 'pending', undefined, { wall: 300, simulated: 2000 });
    h.state('i-warm', 'pending', 'stopped', { wall: 310, simulated: 2100 });

    const { controlPlaneWallMs } = h.timing.summary([], PREFIX);

    // Job 1 (received at 100) takes the launch at 300, job 2 (130) the start at 310.
    expect(controlPlaneWallMs.webhookToLaunch).toMatchObject({ samples: 2, p50: 180, p99: 200 });
  });

  test('a job\'s wait splits into queued → launch, launch → running and running → started, apart for cold launches and starts from stopped', () => {
    const h = harness();
    h.state('i-warm', 'pending', undefined, { simulated: 500 });
    h.state('i-warm', 'running', 'pending', { simulated: 800 });
    h.state('i-warm', 'stopped', 'stopping', { simulated: 1200 });
    h.state('i-cold', 'pending', undefined, { simulated: 2000 });
    h.state('i-warm', 'pending', 'stopped', { simulated: 2100 });
    h.state('i-warm', 'running', 'pending', { simulated: 12_100 });
    h.state('i-cold', 'running', 'pending', { simulated: 20_000 });

    const summary = h.timing.summary([job(1, 1500, 25_000, 'i-cold'), job(2, 1600, 15_000, 'i-warm'), job(3, 1700, 9000, 'i-unknown')], PREFIX);

    // Cold: 1500 → 2000 → 20000 → 25000. Warm: 1600 → 2100 (its start from stopped, not its first launch) → 12100 → 15000.
    expect(summary.queuedToStartedMs.cold).toMatchObject({ jobs: 1, p50: 23_500 });
    expect(summary.queuedToStartedMs.warm).toMatchObject({ jobs: 1, p50: 13_400 });
    expect(summary.phases.cold).toMatchObject({ jobs: 1, toLaunchMs: 500, bootMs: 18_000, runnerMs: 5000 });
    expect(summary.phases.warm).toMatchObject({ jobs: 1, toLaunchMs: 500, bootMs: 10_000, runnerMs: 2900 });
    expect(summary.phases.cold!.shares).toEqual({ toLaunch: 0.021, boot: 0.766, runner: 0.213 });
  });

  test('an instance launched before its job was queued counts as no wait for a launch', () => {
    const h = harness();
    h.state('i-early', 'pending', undefined, { simulated: 1000 });
    h.state('i-early', 'running', 'pending', { simulated: 3000 });

    const summary = h.timing.summary([job(1, 2000, 6000, 'i-early')], PREFIX);

    expect(summary.phases.cold).toMatchObject({ toLaunchMs: 0, bootMs: 1000, runnerMs: 3000 });
    expect(summary.phases.warm).toBeUndefined();
  });
});
