// The cost model: what a deployment bills a month with no job running, what one job adds, and the same with a
// warm pool of stopped instances. Pure arithmetic over what the synthesized template holds (cost.ts reads it),
// the usage per job a sandbox run counted, the assumptions below (each documented) and the price table.
import type { Price, PriceTable } from './prices';

/** Hours in a month, as AWS's pricing examples count them (365 × 24 / 12). */
export const HOURS_PER_MONTH = 730;
const SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600;

/** What bills in the template, reduced to the numbers the model needs. */
export interface BillableResources {
  readonly functions: Readonly<Record<string, { readonly memoryMb: number; readonly architecture: 'arm64' | 'x86_64' }>>;
  /** Functions invoked on a schedule, whatever the load: invocations a month. */
  readonly scheduledInvocationsPerMonth: Readonly<Record<string, number>>;
  readonly alarms: number;
  readonly dashboards: number;
  readonly webhookFrontDoor: 'http-api' | 'rest-api';
  /** Queues read by a Lambda event source mapping (their pollers bill requests while idle), and whether FIFO. */
  readonly polledQueues: readonly { readonly fifo: boolean }[];
  readonly table: { readonly pointInTimeRecovery: boolean };
  readonly imagePipelines: readonly {
    readonly buildsPerMonth: number;
    readonly buildInstanceType: string;
    readonly amisKept: number;
  }[];
  /** A runner config's launch template: its root volume and the instance type priced (the config's first). */
  readonly runners: { readonly instanceType: string; readonly rootVolumeGb: number; readonly publicIpv4: boolean };
}

/** Per job, from a sandbox run's counts (or the defaults in cost.ts when a run has none). */
export interface UsagePerJob {
  readonly invocations: Readonly<Record<string, number>>;
  readonly webhookRequests: number;
  readonly dynamoWrites: number;
  readonly dynamoReads: number;
  readonly queueSends: number;
  readonly instances: number;
}

/** What no template or run tells: estimates, each documented where cost.ts sets it. */
export interface Assumptions {
  /** Billed duration of one invocation, per function (ms). */
  readonly durationMs: Readonly<Record<string, number>>;
  /** Log bytes one invocation writes (Lambda's START/END/REPORT lines and the function's own). */
  readonly logBytesPerInvocation: number;
  /** Boot log an instance ships as it powers off (bytes). */
  readonly logBytesPerInstance: number;
  /** Read request units an idle scheduled run uses (its queries of the table). */
  readonly idleReadUnitsPerScheduledRun: number;
  /** Write request units per write: the table's and its index's. */
  readonly writeUnitsPerWrite: number;
  /** Read request units per read or query. */
  readonly readUnitsPerRead: number;
  /** SQS requests per message sent: the send, the pollers' receive, the delete. */
  readonly queueRequestsPerSend: number;
  /** Receive requests the event source mapping's pollers make while the queue is empty, per queue-minute. */
  readonly idleReceivesPerQueueMinute: number;
  /** State kept in the table (GB). */
  readonly tableGb: number;
  /** Build and test instance time per image build (minutes). */
  readonly imageBuildMinutes: number;
  /** Blocks one AMI's snapshot holds (GB): what its volume used, not its size. */
  readonly amiSnapshotGb: number;
  /** Instance time a job's instance bills before its job starts: running → job started (s). */
  readonly coldRunnerSeconds: number;
  /** pending → running of a cold launch (s): the volume and the address bill, the instance does not. */
  readonly coldBootSeconds: number;
  /** After the job: the instance powering off until it stops billing (s). */
  readonly poweroffSeconds: number;
  /** A warm-pool instance's first boot: launched, booted to ready and stopped, running for this long (s). */
  readonly warmupRunningSeconds: number;
  /** A start from stopped: pending → running (s) and running → job started (s). */
  readonly warmBootSeconds: number;
  readonly warmRunnerSeconds: number;
}

export interface Scenario {
  /** Minutes a job runs once its runner has it. */
  readonly jobMinutes: number;
  /** Stopped instances kept in a warm pool; 0 for none. */
  readonly warmPool: number;
  /** The share of the month the warm pool is kept full (a schedule that empties it at night lowers it). */
  readonly warmPoolShareOfMonth: number;
}

export interface CostLine { readonly item: string; readonly usd: number; readonly basis: string }
export interface Costs {
  readonly monthlyFixed: readonly CostLine[];
  readonly perJob: readonly CostLine[];
  readonly monthlyFixedUsd: number;
  readonly perJobUsd: number;
}

const sum = (lines: readonly CostLine[]) => lines.reduce((total, l) => total + l.usd, 0);

/** Instance seconds billed for one start: per second with a 60-second minimum. */
export function billedInstanceSeconds(runningSeconds: number): number {
  return Math.max(60, runningSeconds);
}

export function costModel(resources: BillableResources, usage: UsagePerJob, assumptions: Assumptions, scenario: Scenario, prices: PriceTable): Costs {
  const a = assumptions;
  const gbSecond = (fn: string) => (resources.functions[fn]?.architecture === 'x86_64' ? prices.lambdaX86GbSecond : prices.lambdaArmGbSecond).usd;
  const lambda = (fn: string, invocations: number) => {
    const memoryGb = (resources.functions[fn]?.memoryMb ?? 128) / 1024;
    return invocations * (prices.lambdaRequest.usd + memoryGb * ((a.durationMs[fn] ?? 0) / 1000) * gbSecond(fn));
  };
  const instancePrice = priceOf(prices.ec2OnDemandHour, resources.runners.instanceType).usd / 3600;
  const volumePerSecond = (resources.runners.rootVolumeGb * prices.ebsGp3GbMonth.usd) / SECONDS_PER_MONTH;
  const addressPerSecond = resources.runners.publicIpv4 ? prices.publicIpv4Hour.usd / 3600 : 0;

  // With no job: the schedules, the queues' pollers, alarms, dashboards, stored state, the image pipelines, the warm pool's volumes.
  const fixed: CostLine[] = [];
  for (const [fn, perMonth] of Object.entries(resources.scheduledInvocationsPerMonth)) {
    fixed.push({ item: `${fn} function on its schedule`, usd: lambda(fn, perMonth), basis: `${perMonth} invocations × (request + ${resources.functions[fn]?.memoryMb ?? 128} MB × ${a.durationMs[fn]} ms)` });
    fixed.push({ item: `${fn} function: its table reads`, usd: perMonth * a.idleReadUnitsPerScheduledRun * prices.dynamoReadRequestUnit.usd, basis: `${perMonth} runs × ${a.idleReadUnitsPerScheduledRun} RRU` });
    fixed.push({ item: `${fn} function: its logs`, usd: (perMonth * a.logBytesPerInvocation / 1e9) * prices.logsIngestionGb.usd, basis: `${perMonth} invocations × ${a.logBytesPerInvocation} bytes ingested` });
  }
  for (const queue of resources.polledQueues) {
    const receives = a.idleReceivesPerQueueMinute * 60 * HOURS_PER_MONTH;
    fixed.push({ item: `${queue.fifo ? 'FIFO ' : ''}queue polled by its event source mapping`, usd: receives * (queue.fifo ? prices.sqsFifoRequest : prices.sqsStandardRequest).usd, basis: `${receives} empty receives` });
  }
  fixed.push({ item: 'CloudWatch alarms', usd: resources.alarms * prices.cloudwatchAlarm.usd, basis: `${resources.alarms} standard-resolution alarms` });
  if (resources.dashboards > 0) fixed.push({ item: 'CloudWatch dashboard', usd: resources.dashboards * prices.cloudwatchDashboard.usd, basis: `${resources.dashboards} (free for an account's first 3)` });
  const tableRate = prices.dynamoStorageGbMonth.usd + (resources.table.pointInTimeRecovery ? prices.dynamoPitrGbMonth.usd : 0);
  fixed.push({ item: 'DynamoDB storage', usd: a.tableGb * tableRate, basis: `${a.tableGb} GB${resources.table.pointInTimeRecovery ? ' with point-in-time recovery' : ''}` });
  for (const pipeline of resources.imagePipelines) {
    const buildHours = (pipeline.buildsPerMonth * a.imageBuildMinutes) / 60;
    fixed.push({ item: `image builds (${pipeline.buildInstanceType})`, usd: buildHours * priceOf(prices.ec2OnDemandHour, pipeline.buildInstanceType).usd, basis: `${round(pipeline.buildsPerMonth)} builds × ${a.imageBuildMinutes} min` });
    fixed.push({ item: 'AMI snapshots kept', usd: pipeline.amisKept * a.amiSnapshotGb * prices.ebsSnapshotGbMonth.usd, basis: `${pipeline.amisKept} AMIs × ${a.amiSnapshotGb} GB` });
  }
  if (scenario.warmPool > 0) {
    const gbMonths = scenario.warmPool * resources.runners.rootVolumeGb * scenario.warmPoolShareOfMonth;
    fixed.push({ item: `warm pool: ${scenario.warmPool} stopped instances' root volumes`, usd: gbMonths * prices.ebsGp3GbMonth.usd, basis: `${round(gbMonths)} gp3 GB-months (a stopped instance bills its volumes only; its public IPv4 is released)` });
  }

  // One job: the control plane's share, then its instance (cold, or started from the pool and a refill's warm-up).
  const perJob: CostLine[] = [];
  for (const [fn, invocations] of Object.entries(usage.invocations)) {
    if (invocations > 0) perJob.push({ item: `${fn} function`, usd: lambda(fn, invocations), basis: `${round(invocations)} invocations × (request + ${resources.functions[fn]?.memoryMb ?? 128} MB × ${a.durationMs[fn] ?? 0} ms)` });
  }
  const frontDoor = resources.webhookFrontDoor === 'http-api' ? prices.httpApiRequest : prices.restApiRequest;
  perJob.push({ item: 'webhook requests', usd: usage.webhookRequests * frontDoor.usd, basis: `${round(usage.webhookRequests)} ${resources.webhookFrontDoor} requests` });
  perJob.push({
    item: 'DynamoDB requests',
    usd: usage.dynamoWrites * a.writeUnitsPerWrite * prices.dynamoWriteRequestUnit.usd
      + usage.dynamoReads * a.readUnitsPerRead * prices.dynamoReadRequestUnit.usd,
    basis: `${round(usage.dynamoWrites)} writes × ${a.writeUnitsPerWrite} WRU, ${round(usage.dynamoReads)} reads × ${a.readUnitsPerRead} RRU`,
  });
  const fifo = resources.polledQueues.some((q) => q.fifo);
  perJob.push({ item: 'SQS requests', usd: usage.queueSends * a.queueRequestsPerSend * (fifo ? prices.sqsFifoRequest : prices.sqsStandardRequest).usd, basis: `${round(usage.queueSends)} messages × ${a.queueRequestsPerSend} requests` });
  const totalInvocations = Object.values(usage.invocations).reduce((n, i) => n + i, 0);
  perJob.push({
    item: 'CloudWatch Logs ingestion',
    usd: ((totalInvocations * a.logBytesPerInvocation + usage.instances * a.logBytesPerInstance) / 1e9) * prices.logsIngestionGb.usd,
    basis: `${round(totalInvocations)} invocations × ${a.logBytesPerInvocation} B + ${round(usage.instances)} boot logs × ${a.logBytesPerInstance} B`,
  });
  const jobSeconds = scenario.jobMinutes * 60;
  if (scenario.warmPool === 0) {
    const running = a.coldRunnerSeconds + jobSeconds + a.poweroffSeconds;
    const alive = a.coldBootSeconds + running;
    perJob.push(...instanceLines('instance', usage.instances, billedInstanceSeconds(running) * instancePrice, alive * (volumePerSecond + addressPerSecond),
      `${usage.instances} × (${billedInstanceSeconds(running)} s running${resources.runners.publicIpv4 ? ', volume and IPv4' : ', volume'} for ${alive} s)`));
  } else {
    const running = a.warmRunnerSeconds + jobSeconds + a.poweroffSeconds;
    const alive = a.warmBootSeconds + running;
    // While the job runs, the pool is already refilled: this volume bills beside the pool's N.
    perJob.push(...instanceLines('pool instance started for the job', usage.instances, billedInstanceSeconds(running) * instancePrice,
      alive * (volumePerSecond + addressPerSecond), `${usage.instances} × (${billedInstanceSeconds(running)} s running, volume and IPv4 for ${alive} s)`));
    const warmup = a.coldBootSeconds + a.warmupRunningSeconds;
    perJob.push(...instanceLines('refill: a new pool instance\'s first boot', usage.instances, billedInstanceSeconds(a.warmupRunningSeconds) * instancePrice,
      warmup * (volumePerSecond + addressPerSecond), `${usage.instances} × (${billedInstanceSeconds(a.warmupRunningSeconds)} s running, volume and IPv4 for ${warmup} s)`));
  }
  return { monthlyFixed: fixed, perJob, monthlyFixedUsd: sum(fixed), perJobUsd: sum(perJob) };
}

function instanceLines(item: string, instances: number, computeUsd: number, storageUsd: number, basis: string): CostLine[] {
  return [
    { item: `${item}: EC2 time`, usd: instances * computeUsd, basis },
    { item: `${item}: EBS volume and public IPv4`, usd: instances * storageUsd, basis },
  ];
}

function priceOf(table: Readonly<Record<string, Price>>, instanceType: string): Price {
  const found = table[instanceType];
  if (!found) throw new Error(`no on-demand price for ${instanceType} in bench/prices.ts: add it with its source`);
  return found;
}

const round = (n: number) => Math.round(n * 100) / 100;
