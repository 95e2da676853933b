// What the benchmark times in a run, beside the report's latencies: the control plane's own latency — the HTTP
// API receiving a job's `queued` delivery to EC2 receiving the CreateFleet or StartInstances for its pool, in
// wall milliseconds, so neither simulated EC2 nor GitHub delays count — and, per started job, the phases of its
// queued → started time (simulated ms), apart for instances launched cold and started from stopped (warm).
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { HttpApiSimulator } from './aws';
import type { Ec2Simulator } from './ec2';
import type { JobView } from './ghes';
import { percentiles, poolOfJob } from './report';
import type { Scenario } from './scenario';
import { TAG_POOL } from '../src/contracts/instance-tags';

/** One start of an instance: pending (launched, or started from stopped) and, once there, running (simulated epoch ms). */
interface InstanceStart { readonly pendingAt: number; runningAt?: number; readonly warm: boolean }

/** The phases of queued → started, each the mean over the jobs (simulated ms), and the share each takes of their sum. */
export interface StartPhases {
  readonly jobs: number;
  /** Queued → the CreateFleet or StartInstances that brought up the instance whose runner took the job. */
  readonly toLaunchMs: number;
  /** That launch → the instance running (EC2's boot delay). */
  readonly bootMs: number;
  /** Running → job started: the OS runs the bootstrap, which registers, gets its JIT config, and the runner takes the job. */
  readonly runnerMs: number;
  readonly shares: { readonly toLaunch: number; readonly boot: number; readonly runner: number };
}

export type LaunchTimingSummary = ReturnType<LaunchTiming['summary']>;

interface Sandbox {
  readonly ec2: Pick<Ec2Simulator, 'onInstanceStateChange'>;
  readonly httpApi?: Pick<HttpApiSimulator, 'onRequest'>;
  readonly scenario: Scenario;
  readonly org: string;
  readonly clock: { now(): number };
}

export class LaunchTiming {
  /** Per pool, when the HTTP API received the first `queued` delivery of each job (wall ms). */
  private readonly queuedReceived = new Map<string, number[]>();
  private readonly jobsSeen = new Set<number>();
  /** Per pool, when EC2 made each instance pending: the CreateFleet or StartInstances asking for it (wall ms). */
  private readonly launchRequested = new Map<string, number[]>();
  private readonly starts = new Map<string, InstanceStart[]>();
  private readonly unsubscribe: Array<() => void> = [];

  /** `wallNow`: the wall clock the launches are timed with, the one the HTTP API's `receivedAt` reads. */
  constructor(private readonly sandbox: Sandbox, wallNow: () => number = () => performance.now()) {
    const { ec2, httpApi, clock } = sandbox;
    // EC2 makes an instance pending synchronously while it answers the CreateFleet or StartInstances that asked for it.
    this.unsubscribe.push(ec2.onInstanceStateChange(({ instance, previousState, state }) => {
      if (state === 'pending' && (previousState === undefined || previousState === 'stopped')) {
        const pool = instance.tags[TAG_POOL];
        if (pool) push(this.launchRequested, pool, wallNow());
        push(this.starts, instance.instanceId, { pendingAt: clock.now(), warm: previousState === 'stopped' });
      } else if (state === 'running') {
        const start = this.starts.get(instance.instanceId)?.at(-1);
        if (start && start.runningAt === undefined) start.runningAt = clock.now();
      }
    }));
    if (httpApi) this.unsubscribe.push(httpApi.onRequest(({ event, receivedAt }) => this.received(event, receivedAt)));
  }

  stop(): void {
    this.unsubscribe.forEach((u) => u());
  }

  /** The timings, once the run is over: `jobs` as GitHub recorded them, `runnerNamePrefix` the deployment's. */
  summary(jobs: readonly JobView[], runnerNamePrefix: string) {
    const cold: number[] = [];
    const warm: number[] = [];
    const phases = { cold: [] as number[][], warm: [] as number[][] };
    for (const job of jobs) {
      if (!job.runnerName?.startsWith(runnerNamePrefix)) continue;
      const start = (this.starts.get(job.runnerName.slice(runnerNamePrefix.length)) ?? []).filter((s) => s.pendingAt <= job.startedAt).at(-1);
      if (!start) continue;
      // Each boundary clamped into the job's wait: an instance launched before the job was queued waited for it.
      const t1 = Math.max(job.createdAt, start.pendingAt);
      const t2 = Math.min(job.startedAt, Math.max(t1, start.runningAt ?? t1));
      (start.warm ? warm : cold).push(job.startedAt - job.createdAt);
      (start.warm ? phases.warm : phases.cold).push([t1 - job.createdAt, t2 - t1, job.startedAt - t2]);
    }
    return {
      /** Wall ms from the HTTP API receiving a job's `queued` delivery to EC2 receiving the next launch for its pool. */
      controlPlaneWallMs: { webhookToLaunch: { samples: this.pairs().length, ...percentiles(this.pairs()) } },
      queuedToStartedMs: { cold: { jobs: cold.length, ...percentiles(cold) }, warm: { jobs: warm.length, ...percentiles(warm) } },
      phases: { cold: meanPhases(phases.cold), warm: meanPhases(phases.warm) },
    };
  }

  private received(event: APIGatewayProxyEventV2, receivedAt: number): void {
    if (event.headers['x-github-event'] !== 'workflow_job' || event.body === undefined) return;
    let payload: { action?: string; workflow_job?: { id?: number; labels?: string[] } };
    try {
      payload = JSON.parse(event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body) as typeof payload;
    } catch {
      return;
    }
    const job = payload.workflow_job;
    if (payload.action !== 'queued' || typeof job?.id !== 'number' || this.jobsSeen.has(job.id)) return;
    this.jobsSeen.add(job.id);
    const pool = poolOfJob(job.labels ?? [], this.sandbox.scenario, this.sandbox.org);
    if (pool) push(this.queuedReceived, pool, receivedAt);
  }

  /**
   * Runners are not bound to jobs, so each job received in a pool goes with the pool's first launch at or after it that no
   * earlier job took. (The report's k-th-with-k-th pairing would set a surplus launch made before a job against it, and
   * every later pair would read 0.)
   */
  private pairs(): number[] {
    return [...this.queuedReceived].flatMap(([pool, received]) => {
      const launches = [...(this.launchRequested.get(pool) ?? [])].sort((a, b) => a - b);
      const latencies: number[] = [];
      let next = 0;
      for (const at of [...received].sort((a, b) => a - b)) {
        while (next < launches.length && launches[next] < at) next++;
        if (next === launches.length) break;
        latencies.push(launches[next++] - at);
      }
      return latencies;
    });
  }
}

function push<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function meanPhases(rows: readonly number[][]): StartPhases | undefined {
  if (rows.length === 0) return undefined;
  const mean = (i: number) => Math.round(rows.reduce((sum, r) => sum + r[i], 0) / rows.length);
  const [toLaunchMs, bootMs, runnerMs] = [mean(0), mean(1), mean(2)];
  const total = Math.max(1, toLaunchMs + bootMs + runnerMs);
  const share = (ms: number) => Math.round((ms / total) * 1000) / 1000;
  return { jobs: rows.length, toLaunchMs, bootMs, runnerMs, shares: { toLaunch: share(toLaunchMs), boot: share(bootMs), runner: share(runnerMs) } };
}
