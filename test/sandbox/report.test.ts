import { buildReport, JobAttempt, percentiles, ReportInputs, summary } from '../../sandbox/report';
import { DEFAULT_SCENARIO } from '../../sandbox/scenario';

const T0 = 1_000_000;
const attempt = (id: number, extra: Partial<JobAttempt> = {}): JobAttempt => ({
  id,
  repo: 'octo-org/app',
  labels: ['self-hosted', 'linux', 'x64'],
  status: 'completed',
  conclusion: 'success',
  createdAt: T0,
  startedAt: T0 + 20_000,
  runnerName: `er-x-i-${id}`,
  ...extra,
});

function inputs(attempts: JobAttempt[]): ReportInputs {
  return {
    scenario: DEFAULT_SCENARIO,
    org: 'octo-org',
    attempts,
    instances: [{ poolId: 'octo-org#linux-x64', market: 'spot', launchTime: T0 + 2_000 }, { poolId: 'octo-org#linux-x64', market: 'on-demand', launchTime: T0 + 4_000 }],
    starts: [],
    warmPool: {},
    ranOn: { 'linux-x64': 2 },
    costTags: { jobsRun: 2, tagged: 1, untagged: [2] },
    capacityErrors: 1,
    leaks: { instances: 0, runners: 0, queuedJobs: 0 },
    github: { total: 3, byRoute: {} },
    ec2: { total: 2, byAction: {} },
    pools: { 'octo-org#linux-x64': { peakInstances: 2, peakExcess: 0 } },
    boot: { bootstrap: 1, inProcess: 1, failed: 0, logStreams: 1 },
    functions: {},
    endpoints: { network: 'public', webhook: 3, register: 2, refused: {} },
    iam: { decisions: 10, denied: {}, messages: {} },
    faults: {},
    wallMs: 1234.4,
  };
}

describe('sandbox report', () => {
  test('jobs\' instances are counted as warm starts or cold launches; launches into warm pools are apart', () => {
    const report = buildReport({
      ...inputs([attempt(1), attempt(2), attempt(3)]),
      instances: [
        { poolId: '@warm#linux-x64', market: 'on-demand', launchTime: T0 - 60_000 },
        { poolId: '@warm#linux-x64', market: 'on-demand', launchTime: T0 - 60_000 },
        { poolId: 'octo-org#linux-x64', market: 'spot', launchTime: T0 + 2_000 },
      ],
      starts: [{ poolId: '@warm#linux-x64', market: 'on-demand', launchTime: T0 + 1_000 }, { poolId: '@warm#linux-x64', market: 'on-demand', launchTime: T0 + 1_000 }],
      warmPool: { 'linux-x64': 2 },
    });
    expect(report.jobStarts).toEqual({ warm: 2, cold: 1 });
    expect(report.warmPools).toEqual({ launched: 2, parkedAtEnd: { 'linux-x64': 2 } });
    expect(summary(report)).toMatch(/job instances\s+2 warm starts, 1 cold launches; 2 launched into warm pools, parked at the end: linux-x64 2/);
  });

  test('a job re-run after an interruption counts once, with its final outcome, and once in rerun', () => {
    const report = buildReport(inputs([
      attempt(1, { conclusion: 'failure', rerunAs: 3 }),
      attempt(2),
      attempt(3, { createdAt: T0 + 60_000, startedAt: T0 + 90_000 }),
    ]));
    expect(report.jobs).toEqual({ total: 2, completed: 2, succeeded: 2, failed: 0, cancelled: 0, rerun: 1, neverStarted: 0 });
    // Queued to started runs from the first attempt's queueing to the last attempt's start.
    expect(report.latencyMs.queuedToStarted.max).toBe(90_000);
  });

  test('a job cancelled while queued is cancelled, not stranded; one that never got a runner otherwise is never started', () => {
    const report = buildReport(inputs([
      attempt(1, { conclusion: 'cancelled', runnerName: '' }),
      attempt(2, { status: 'queued', conclusion: null, runnerName: undefined }),
      attempt(3, { conclusion: 'failure', runnerName: '' }),
    ]));
    expect(report.jobs).toMatchObject({ total: 3, cancelled: 1, failed: 1, neverStarted: 2 });
  });

  test('queued to launch pairs the k-th queued job of a pool with its k-th launch', () => {
    const report = buildReport(inputs([attempt(1), attempt(2, { createdAt: T0 + 1_000 })]));
    expect(report.latencyMs.queuedToLaunch).toEqual({ p50: 2_000, p95: 3_000, p99: 3_000, max: 3_000 });
    expect(report.launches).toEqual({ instances: 2, spot: 1, onDemand: 1, capacityErrors: 1 });
  });

  test('percentiles are nearest-rank', () => {
    expect(percentiles([])).toEqual({ p50: 0, p95: 0, p99: 0, max: 0 });
    expect(percentiles(Array.from({ length: 100 }, (_, i) => i + 1))).toEqual({ p50: 50, p95: 95, p99: 99, max: 100 });
  });
});
