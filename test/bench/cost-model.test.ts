// The cost model against a small deployment priced by hand: round prices chosen so every line can be
// worked out on paper (an instance at $0.36 an hour is $0.0001 a second; 36 GB of gp3 at $0.073 a
// GB-month, and a public IPv4 at $0.0036 an hour, are $0.000001 a second each).
import { runsPerMonth } from '../../bench/cost';
import { Assumptions, BillableResources, billedInstanceSeconds, costModel, UsagePerJob } from '../../bench/cost-model';
import { Price, PriceTable, PRICES } from '../../bench/prices';

const at = (usd: number): Price => ({ usd, unit: 'test', source: 'hand-picked for the test', readOn: '2026-12-07' });

const prices: PriceTable = {
  ...PRICES,
  lambdaRequest: at(1e-6),
  lambdaArmGbSecond: at(1e-5),
  lambdaX86GbSecond: at(2e-5),
  httpApiRequest: at(1e-6),
  restApiRequest: at(4e-6),
  dynamoWriteRequestUnit: at(1e-6),
  dynamoReadRequestUnit: at(1e-7),
  dynamoStorageGbMonth: at(0.25),
  dynamoPitrGbMonth: at(0.2),
  sqsStandardRequest: at(4e-7),
  sqsFifoRequest: at(5e-7),
  cloudwatchAlarm: at(0.1),
  cloudwatchDashboard: at(3),
  logsIngestionGb: at(0.5),
  ebsGp3GbMonth: at(0.073),
  ebsSnapshotGbMonth: at(0.05),
  publicIpv4Hour: at(0.0036),
  ec2OnDemandHour: { 'm7i.large': at(0.36) },
};

const resources: BillableResources = {
  functions: { webhook: { memoryMb: 512, architecture: 'arm64' }, reconciler: { memoryMb: 1024, architecture: 'arm64' } },
  scheduledInvocationsPerMonth: { reconciler: 1000 },
  alarms: 3,
  dashboards: 1,
  webhookFrontDoor: 'http-api',
  polledQueues: [{ fifo: true }],
  table: { pointInTimeRecovery: true },
  imagePipelines: [{ buildsPerMonth: 4, buildInstanceType: 'm7i.large', amisKept: 2 }],
  runners: { instanceType: 'm7i.large', rootVolumeGb: 36, publicIpv4: true },
};

const assumptions: Assumptions = {
  durationMs: { webhook: 100, reconciler: 200 },
  logBytesPerInvocation: 1000,
  logBytesPerInstance: 1_000_000,
  idleReadUnitsPerScheduledRun: 2,
  writeUnitsPerWrite: 2,
  readUnitsPerRead: 1,
  queueRequestsPerSend: 3,
  idleReceivesPerQueueMinute: 1,
  tableGb: 1,
  imageBuildMinutes: 30,
  amiSnapshotGb: 10,
  coldBootSeconds: 20,
  coldRunnerSeconds: 10,
  poweroffSeconds: 5,
  warmupRunningSeconds: 30,
  warmBootSeconds: 10,
  warmRunnerSeconds: 5,
};

const usage: UsagePerJob = { invocations: { webhook: 3 }, webhookRequests: 3, dynamoWrites: 5, dynamoReads: 4, queueSends: 2, instances: 1 };

describe('cost model', () => {
  test('the monthly fixed cost of a deployment with no job running, worked by hand', () => {
    const costs = costModel(resources, usage, assumptions, { jobMinutes: 1, warmPool: 0, warmPoolShareOfMonth: 1 }, prices);

    // Reconciler: 1000 × ($1e-6 + 1 GB × 0.2 s × $1e-5) = $0.003; its reads 1000 × 2 × $1e-7 = $0.0002;
    // its logs 1e6 B = 0.001 GB × $0.5 = $0.0005. Queue: 1 receive a minute × 43,800 minutes × $5e-7 = $0.0219.
    // Alarms 3 × $0.1 = $0.3; dashboard $3; table 1 GB × ($0.25 + $0.2) = $0.45.
    // Image: 4 builds × 30 min = 2 h × $0.36 = $0.72; snapshots 2 × 10 GB × $0.05 = $1.
    expect(costs.monthlyFixedUsd).toBeCloseTo(0.003 + 0.0002 + 0.0005 + 0.0219 + 0.3 + 3 + 0.45 + 0.72 + 1, 9);
    expect(costs.monthlyFixed.find((l) => l.item === 'CloudWatch alarms')?.usd).toBeCloseTo(0.3, 9);
  });

  test('the cost of one cold job, worked by hand', () => {
    const costs = costModel(resources, usage, assumptions, { jobMinutes: 1, warmPool: 0, warmPoolShareOfMonth: 1 }, prices);

    // Webhook: 3 × ($1e-6 + 0.5 GB × 0.1 s × $1e-5) = $4.5e-6; 3 requests × $1e-6 = $3e-6.
    // DynamoDB: 5 writes × 2 WRU × $1e-6 + 4 reads × $1e-7 = $1.04e-5. SQS: 2 × 3 × $5e-7 = $3e-6.
    // Logs: (3 × 1000 B + 1e6 B) = 0.001003 GB × $0.5 = $5.015e-4.
    // Instance: 10 s runner + 60 s job + 5 s power-off = 75 s × $1e-4 = $0.0075;
    // its volume and address from pending: 95 s × ($1e-6 + $1e-6) = $1.9e-4.
    expect(costs.perJobUsd).toBeCloseTo(4.5e-6 + 3e-6 + 1.04e-5 + 3e-6 + 5.015e-4 + 0.0075 + 1.9e-4, 9);
  });

  test('a warm pool adds its stopped volumes to the fixed cost and a refill boot to each job', () => {
    const costs = costModel(resources, usage, assumptions, { jobMinutes: 1, warmPool: 2, warmPoolShareOfMonth: 0.5 }, prices);

    // Pool: 2 × 36 GB × half a month = 36 GB-months × $0.073 = $2.628 on top of the $5.4956 above.
    expect(costs.monthlyFixedUsd).toBeCloseTo(5.4956 + 2.628, 9);
    // Job: control plane $5.224e-4 as above; started from stopped: 5 + 60 + 5 = 70 s × $1e-4 = $0.007, volume and
    // address 10 + 70 = 80 s × $2e-6 = $1.6e-4; the refill's first boot: 30 s running bills the 60 s minimum
    // = $0.006, volume and address for 20 + 30 = 50 s × $2e-6 = $1e-4.
    expect(costs.perJobUsd).toBeCloseTo(5.224e-4 + 0.007 + 1.6e-4 + 0.006 + 1e-4, 9);
  });

  test('an instance start bills a minute at least, then by the second', () => {
    expect(billedInstanceSeconds(5)).toBe(60);
    expect(billedInstanceSeconds(61)).toBe(61);
  });

  test('an instance type without a price is an error that names the table', () => {
    const other = { ...resources, runners: { ...resources.runners, instanceType: 'c7i.large' } };
    expect(() => costModel(other, usage, assumptions, { jobMinutes: 1, warmPool: 0, warmPoolShareOfMonth: 1 }, prices)).toThrow(/c7i\.large.*bench\/prices\.ts/);
  });

  test('schedules: a rate, a weekly and a daily cron, and what the model cannot read', () => {
    expect(runsPerMonth('rate(1 minute)', 'r')).toBe(43_800);
    expect(runsPerMonth('rate(5 minutes)', 'r')).toBe(8_760);
    expect(runsPerMonth('cron(0 4 ? * sun *)', 'p')).toBeCloseTo(52 / 12, 9);
    expect(runsPerMonth('cron(0 4 * * ? *)', 'p')).toBeCloseTo(730 / 24, 9);
    expect(() => runsPerMonth('cron(0 4 1 * ? *)', 'p')).toThrow(/p: .*cron\(0 4 1 \* \? \*\)/);
  });
});
