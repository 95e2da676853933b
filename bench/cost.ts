// The deployment's cost from its synthesized template: the construct synthesized as the basic example
// configures it (examples/basic), every resource that bills read from the template, the usage per job from the
// cold-start benchmark's sandbox run (bench/results/cold-start.json) when there is one, and the cost model
// (cost-model.ts) over the price table (prices.ts). Estimates the template and the run cannot give are in
// ASSUMPTIONS, each with its reason.
import * as fs from 'fs';
import * as path from 'path';
import { Assumptions, BillableResources, costModel, Costs, HOURS_PER_MONTH, UsagePerJob } from './cost-model';
import { PRICES } from './prices';
import { BenchResult, Figure, machine, readResults, RESULTS_DIR, usd } from './results';
import { synthesizeDeployment } from '../sandbox/deployment';
import { parseScenario } from '../sandbox/scenario';

type Resource = { readonly Type: string; readonly Properties: Record<string, unknown> };
type Resources = Readonly<Record<string, Resource>>;

/** The basic example's runner config (examples/basic/app.ts): what the template is synthesized with. */
const EXAMPLE_CONFIG = { name: 'linux-x64', labels: ['linux', 'x64'], instanceTypes: ['m7i.large', 'm6i.large', 'm6a.large'], spot: 'SPOT_PREFERRED', maxRunners: 20 };
/** The figures' job: ten minutes of work (a typical CI job; cost per job grows with it by the instance's rate). */
const JOB_MINUTES = 10;
const WARM_POOL = 5;
/** A schedule that keeps the pool full on weekdays 08:00–18:00 only: 50 of the week's 168 hours. */
const WORKING_HOURS_SHARE = 50 / 168;

export const ASSUMPTIONS: Assumptions = {
  // Billed ms per invocation. The webhook verifies a signature and makes a few DynamoDB writes and one SQS send;
  // register makes one GitHub call (generate-jitconfig); the provisioner's CreateFleet (type instant) answers in
  // seconds — RunInstances took 1.5 s in daemonology.net's 2021 measures and about 5 s in brevdev/ec2-coldboot-research;
  // the lifecycle function makes a few writes; an idle reconciler run lists instances and queries the table.
  durationMs: { webhook: 60, register: 400, provisioner: 2500, lifecycle: 100, reconciler: 300 },
  // Lambda's START, END and REPORT lines (about 350 bytes) and a few JSON log lines of the function's own.
  logBytesPerInvocation: 1500,
  // The bootstrap's log (cloud-init and the runner's own lines) that an instance ships as it powers off.
  logBytesPerInstance: 50_000,
  // An idle reconciler run queries the table for active pools and jobs: two small queries.
  idleReadUnitsPerScheduledRun: 2,
  // Items are under 1 KB; every job and runner item carries the pool index's keys, so a write also writes the index.
  writeUnitsPerWrite: 2,
  // Reads return under 4 KB; counted as strongly consistent (1 RRU), an upper bound for the eventually consistent ones.
  readUnitsPerRead: 1,
  // Each message: its send, the event source mapping's receive and its delete (batched receives make it less).
  queueRequestsPerSend: 3,
  // AWS does not publish how often an SQS event source mapping polls an empty queue; its pollers long-poll
  // (20 s waits), and a few run at once: 15 empty receives a minute is taken (five pollers, 20 s each).
  idleReceivesPerQueueMinute: 15,
  // A few thousand small items at most; DynamoDB bills storage by the GB-month.
  tableGb: 0.01,
  // Image Builder's build instance, then its test instance (ImageTestsEnabled): about 45 minutes a build.
  imageBuildMinutes: 45,
  // The runner image's used blocks (Ubuntu, Docker, build tools, the runner): about 10 GB of its 30 GB volume.
  amiSnapshotGb: 10,
  // Replaced by the cold-start run's measured phases when bench/results/cold-start.json exists (see usageFromRun).
  coldBootSeconds: 20,
  coldRunnerSeconds: 10,
  // The runner process exits and the instance powers off: a few seconds of shutdown.
  poweroffSeconds: 10,
  // A pool instance boots once to ready (bootstrap up to the JIT config) and is stopped: about a minute running.
  warmupRunningSeconds: 60,
  // A start from stopped: brevdev measured 21.2 s stop/start against 25.8 s cold (API call to SSH); RunsOn's
  // stopped pool answers under 15 s. Taken: 15 s to running, 5 s for the runner to take the job.
  warmBootSeconds: 15,
  warmRunnerSeconds: 5,
};

/** The template's billable resources, for `instanceType`'s runners. */
export function billableResources(resources: Resources, instanceType: string): BillableResources {
  const of = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
  const ref = (value: unknown): string | undefined => {
    const v = value as { 'Ref'?: string; 'Fn::GetAtt'?: [string, string] } | undefined;
    return v?.Ref ?? v?.['Fn::GetAtt']?.[0];
  };
  const functionName = (id: string) => {
    const env = (resources[id]?.Properties.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
    return typeof env.POWERTOOLS_SERVICE_NAME === 'string' ? env.POWERTOOLS_SERVICE_NAME : id;
  };
  const functions: Record<string, { memoryMb: number; architecture: 'arm64' | 'x86_64' }> = {};
  for (const [id, r] of of('AWS::Lambda::Function')) {
    functions[functionName(id)] = {
      memoryMb: (r.Properties.MemorySize as number | undefined) ?? 128,
      architecture: (r.Properties.Architectures as string[] | undefined)?.[0] === 'arm64' ? 'arm64' : 'x86_64',
    };
  }
  const scheduledInvocationsPerMonth: Record<string, number> = {};
  for (const [id, r] of of('AWS::Events::Rule')) {
    const expression = r.Properties.ScheduleExpression;
    if (typeof expression !== 'string') continue;
    for (const target of (r.Properties.Targets as Array<{ Arn: unknown }>) ?? []) {
      const fn = ref(target.Arn);
      if (fn) scheduledInvocationsPerMonth[functionName(fn)] = runsPerMonth(expression, id);
    }
  }
  const polledQueues = of('AWS::Lambda::EventSourceMapping').map(([, r]) => resources[ref(r.Properties.EventSourceArn) ?? '']).filter((q) => q?.Type === 'AWS::SQS::Queue')
    .map((q) => ({ fifo: q.Properties.FifoQueue === true }));
  const [, table] = of('AWS::DynamoDB::Table')[0] ?? [];
  const lifecycleKeep = of('AWS::ImageBuilder::LifecyclePolicy').map(([, r]) => (r.Properties.PolicyDetails as Array<{ Filter: { Type: string; Value: number } }>)[0]?.Filter)
    .find((f) => f?.Type === 'COUNT')?.Value;
  const imagePipelines = of('AWS::ImageBuilder::ImagePipeline').map(([id, r]) => {
    const infrastructure = resources[ref(r.Properties.InfrastructureConfigurationArn) ?? ''];
    const schedule = (r.Properties.Schedule as { ScheduleExpression?: string } | undefined)?.ScheduleExpression;
    return {
      buildsPerMonth: schedule ? runsPerMonth(schedule, id) : 0,
      buildInstanceType: (infrastructure?.Properties.InstanceTypes as string[] | undefined)?.[0] ?? 'm7i.large',
      // Without a lifecycle policy every AMI stays: the model then counts a year of weekly builds.
      amisKept: lifecycleKeep ?? 52,
    };
  });
  const [, template] = of('AWS::EC2::LaunchTemplate')[0] ?? [];
  type TemplateData = { BlockDeviceMappings?: Array<{ Ebs?: { VolumeSize?: number; VolumeType?: string } }> };
  const ebs = ((template?.Properties.LaunchTemplateData as TemplateData | undefined)?.BlockDeviceMappings ?? [])[0]?.Ebs;
  if (!ebs?.VolumeSize || (ebs.VolumeType ?? 'gp3') !== 'gp3') throw new Error(`the launch template's root volume is ${JSON.stringify(ebs)}: the model prices gp3 volumes of a given size only`);
  return {
    functions,
    scheduledInvocationsPerMonth,
    alarms: of('AWS::CloudWatch::Alarm').length,
    dashboards: of('AWS::CloudWatch::Dashboard').length,
    webhookFrontDoor: of('AWS::ApiGatewayV2::Api').length > 0 ? 'http-api' : 'rest-api',
    polledQueues,
    table: {
      pointInTimeRecovery: (table?.Properties.PointInTimeRecoverySpecification as { PointInTimeRecoveryEnabled?: boolean } | undefined)
        ?.PointInTimeRecoveryEnabled === true,
    },
    imagePipelines,
    runners: { instanceType, rootVolumeGb: ebs.VolumeSize, publicIpv4: of('AWS::EC2::Subnet').some(([, s]) => s.Properties.MapPublicIpOnLaunch === true) },
  };
}

/** Runs a month of a schedule expression: `rate(N unit)`, or a cron that runs daily or on one weekday. */
export function runsPerMonth(expression: string, id: string): number {
  const rate = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression);
  if (rate) {
    const minutes = Number(rate[1]) * (rate[2].startsWith('minute') ? 1 : rate[2].startsWith('hour') ? 60 : 1440);
    return Math.round((HOURS_PER_MONTH * 60) / minutes);
  }
  const cron = /^cron\(\S+ \S+ (\S+) \* (\S+) \S+\)$/.exec(expression);
  if (cron && cron[1] === '?' && /^[a-z]{3}$/i.test(cron[2])) return 52 / 12;
  if (cron && cron[1] === '*' && cron[2] === '?') return HOURS_PER_MONTH / 24;
  throw new Error(`${id}: the cost model reads rate(...) and daily or weekly cron(...) schedules, not ${expression}`);
}

/** The sandbox run's counts per job (its report's `usage`, launches and endpoints), and its measured cold phases. */
export function usageFromRun(details: ColdStartDetails): { usage: UsagePerJob; assumptions: Assumptions } {
  const { report } = details;
  const jobs = Math.max(1, report.jobs.total);
  const u = report.usage!;
  const invocations = (fn: string) => report.functions?.[fn]?.invocations ?? u.invocations?.[fn] ?? 0;
  const sumOf = (counts: Record<string, number>, names: string[]) => names.reduce((n, name) => n + (counts[name] ?? 0), 0);
  // The reconciler runs on its schedule whatever the load (counted in the monthly fixed cost); the setup functions run at deploy.
  const perJobFunctions = ['webhook', 'provisioner', 'register', 'lifecycle'];
  const phases = report.timing?.phases.cold;
  return {
    usage: {
      invocations: Object.fromEntries(perJobFunctions.map((fn) => [fn, invocations(fn) / jobs])),
      webhookRequests: report.endpoints.webhook / jobs,
      dynamoWrites: sumOf(u.dynamodb, ['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem']) / jobs,
      dynamoReads: sumOf(u.dynamodb, ['GetItem', 'Query', 'Scan', 'BatchGetItem']) / jobs,
      queueSends: sumOf(u.sqs, ['SendMessage', 'SendMessageBatch']) / jobs,
      instances: report.launches.instances / jobs,
    },
    assumptions: phases
      ? { ...ASSUMPTIONS, coldBootSeconds: Math.round(phases.bootMs / 1000), coldRunnerSeconds: Math.round(phases.runnerMs / 1000) }
      : ASSUMPTIONS,
  };
}

/** What the cold-start benchmark keeps of its run (bench/results/cold-start.json `details`). */
type Counts = Record<string, number>;
type Phases = { readonly jobs: number; readonly bootMs: number; readonly runnerMs: number };
export interface ColdStartDetails {
  readonly report: {
    readonly jobs: { readonly total: number };
    readonly launches: { readonly instances: number };
    readonly endpoints: { readonly webhook: number };
    readonly functions?: Readonly<Record<string, { readonly invocations: number }>>;
    /** `invocations`: in the reports of sandboxes that ran every function in one process (`functions` since). */
    readonly usage?: { readonly invocations?: Counts; readonly dynamodb: Counts; readonly sqs: Counts };
    readonly timing?: { readonly phases: { readonly cold?: Phases; readonly warm?: Phases } };
  };
}

/** Without a run: one delivery each of queued, in_progress and completed, one launch, one registration, two instance events. */
const DEFAULT_USAGE: UsagePerJob = {
  invocations: { webhook: 3, provisioner: 2, register: 1, lifecycle: 2 },
  webhookRequests: 3,
  dynamoWrites: 10,
  dynamoReads: 10,
  queueSends: 2,
  instances: 1,
};

/** The warm phases of the recorded scenario run with the most starts from stopped, if any run had one. */
function measuredWarmPhases(): (Phases & { name: string }) | undefined {
  const runs = readResults().flatMap((r) => {
    const warm = (r.details as Partial<ColdStartDetails> | undefined)?.report?.timing?.phases.warm;
    return warm && warm.jobs > 0 ? [{ ...warm, name: r.name }] : [];
  });
  return runs.sort((a, b) => b.jobs - a.jobs)[0];
}

export function benchCost(): BenchResult {
  const started = Date.now();
  const scenario = parseScenario({ name: 'cost', runnerConfigs: [EXAMPLE_CONFIG] });
  const template = synthesizeDeployment(scenario, false);
  const resources = billableResources(template.resources as unknown as Resources, EXAMPLE_CONFIG.instanceTypes[0]);
  const runFile = path.join(RESULTS_DIR, 'cold-start.json');
  const run = fs.existsSync(runFile) ? (JSON.parse(fs.readFileSync(runFile, 'utf8')) as BenchResult).details as ColdStartDetails : undefined;
  const measured = run?.report.usage ? usageFromRun(run) : undefined;
  const usage = measured?.usage ?? DEFAULT_USAGE;
  const warm = measuredWarmPhases();
  const assumptions = {
    ...(measured?.assumptions ?? ASSUMPTIONS),
    ...(warm ? { warmBootSeconds: Math.round(warm.bootMs / 1000), warmRunnerSeconds: Math.round(warm.runnerMs / 1000) } : {}),
  };
  const model = (warmPool: number, share = 1) =>
    costModel(resources, usage, assumptions, { jobMinutes: JOB_MINUTES, warmPool, warmPoolShareOfMonth: share }, PRICES);
  const cold = model(0);
  const pooled = model(WARM_POOL);
  const pooledWorkingHours = model(WARM_POOL, WORKING_HOURS_SHARE);
  const instanceUsd = (c: Costs) => c.perJob.filter((l) => /instance|refill/.test(l.item)).reduce((n, l) => n + l.usd, 0);
  const instanceShare = (c: Costs) => instanceUsd(c) / c.perJobUsd;
  const figures: Figure[] = [
    { figure: 'monthly fixed cost, no job running', value: `${usd(cold.monthlyFixedUsd)} (${cold.monthlyFixed.filter((l) => l.usd >= 0.01).map((l) => `${l.item} ${usd(l.usd)}`).join('; ')})` },
    { figure: `cost per ${JOB_MINUTES}-minute job, cold (${resources.runners.instanceType} on-demand)`, value: `${usd(cold.perJobUsd)} (${(instanceShare(cold) * 100).toFixed(0)}% the instance)` },
    { figure: 'cost per job of the control plane alone (functions, webhook requests, DynamoDB, SQS, logs)', value: usd(cold.perJobUsd - instanceUsd(cold)) },
    { figure: `monthly fixed cost with a warm pool of ${WARM_POOL}, kept all month`, value: usd(pooled.monthlyFixedUsd) },
    { figure: `monthly fixed cost with a warm pool of ${WARM_POOL}, weekdays 08:00–18:00`, value: usd(pooledWorkingHours.monthlyFixedUsd) },
    { figure: `cost per ${JOB_MINUTES}-minute job from the warm pool (with its refill's first boot)`, value: usd(pooled.perJobUsd) },
    { figure: 'usage per job taken from', value: measured ? 'the cold-start sandbox run (bench/results/cold-start.json)' : 'defaults (no cold-start run recorded)' },
    {
      figure: 'a start from stopped (boot, runner) taken from',
      value: warm ? `a recorded run with ${warm.jobs} warm starts (${warm.name})` : 'ASSUMPTIONS in bench/cost.ts (no recorded run started an instance from stopped)',
    },
  ];
  return {
    name: 'cost',
    title: 'Cost of a deployment: the basic example\'s template, us-east-1 on-demand list prices',
    command: 'npm run bench -- cost',
    date: new Date(started).toISOString(),
    machine: machine(),
    wallMs: Date.now() - started,
    figures,
    details: { jobMinutes: JOB_MINUTES, warmPool: WARM_POOL, resources, usage, assumptions, cold, pooled, pooledWorkingHours, prices: PRICES },
  };
}
