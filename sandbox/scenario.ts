// A sandbox scenario: runner configs, jobs, faults, seed and time scale. Missing fields take
// defaults; unknown fields and bad values are refused with a message naming them.

export type SpotStrategyName = 'SPOT_ONLY' | 'SPOT_PREFERRED' | 'ON_DEMAND_ONLY';

export interface ScenarioRunnerConfig {
  readonly name: string;
  readonly labels: string[];
  readonly instanceTypes: string[];
  readonly spot: SpotStrategyName;
  readonly maxRunners: number;
}

export interface ScenarioJobs {
  /** `owner/name`, or a repository name of the sandbox's organization. */
  readonly repo: string;
  readonly labels: string[];
  readonly count: number;
  /** How long each job runs, simulated ms. */
  readonly durationMs: number;
  readonly arrival: { readonly spreadMs: number };
  /** Share of these jobs cancelled while still queued. */
  readonly cancelRate: number;
}

export interface ScenarioFaults {
  readonly github: {
    readonly errorRate: number;
    readonly latencyMs: [number, number];
    readonly rateLimitWindows: Array<{ startMs: number; durationMs: number }>;
  };
  readonly webhooks: { readonly dropRate: number; readonly duplicateRate: number; readonly reorderRate: number };
  readonly ec2: {
    readonly capacityErrorRate: number;
    readonly throttleRate: number;
    readonly spotInterruptionRate: number;
    readonly bootMs: [number, number];
    /**
     * Instance types that exist but a zone does not offer: `m7i.2xlarge` (no zone of the VPC) or
     * `m7i.2xlarge@us-east-1a` (that zone). CreateFleet answers them with InvalidFleetConfiguration.
     */
    readonly unofferedInstanceTypes: string[];
  };
  readonly crash: { readonly rate: number };
}

export interface Scenario {
  readonly name: string;
  readonly seed: number;
  /** Factor applied to every simulated delay: 0.05 runs a simulated minute in 3 s. */
  readonly timeScale: number;
  readonly runnerConfigs: ScenarioRunnerConfig[];
  readonly jobs: ScenarioJobs[];
  readonly faults: ScenarioFaults;
  /**
   * The longest to wait after the last job finished for instances and registrations to go (the run
   * ends once nothing is left), simulated ms, and at least two minutes of wall time; then leaks are counted.
   */
  readonly drainMs: number;
  /** What a run of this scenario promises on an idle machine; `npm run bench` holds runs to it. */
  readonly bounds: ScenarioBounds;
  /**
   * `public`: the webhook on an HTTP API, the register endpoint a Function URL. `private`: both
   * routes of the private REST API behind an execute-api VPC endpoint, runners and functions in
   * isolated subnets (EndpointAccess.privateApi(), controlPlaneSubnets).
   */
  readonly network: ScenarioNetwork;
  /**
   * When the image pipeline's first build writes the runner image parameters, simulated ms after
   * the deploy; jobs queued before then wait for it. 0: the image exists when the run starts.
   */
  readonly imageReadyAfterMs: number;
  /**
   * Whether the account already has the EC2 Spot service-linked role (AWSServiceRoleForEC2Spot).
   * Without it, the first spot launch needs the caller to be allowed iam:CreateServiceLinkedRole
   * for spot.amazonaws.com, or every spot pool answers AuthFailure.ServiceLinkedRoleCreationNotPermitted.
   */
  readonly accountHasSpotServiceLinkedRole: boolean;
  /** IAM experiments: actions taken out of a role's policies (`role`: a function name, or `runner`). */
  readonly iam: { readonly removeStatements: ReadonlyArray<{ readonly role: string; readonly action: string }> };
}

export type ScenarioNetwork = 'public' | 'private';

/** Limits a run must stay within; each unset limit is not checked. */
export interface ScenarioBounds {
  /** 95th percentile from a job queued to its pool's matching launch, simulated ms. */
  readonly queuedToLaunchP95Ms?: number;
  /** 95th percentile from a job queued to its (last attempt's) start, simulated ms. */
  readonly queuedToStartedP95Ms?: number;
  /** Most live instances a pool may have beyond its queued and running jobs (the slack). */
  readonly poolExcess?: number;
}

export class ScenarioError extends Error {
  public readonly name = 'ScenarioError';
}

/** The demo `npm run sandbox` runs: about 20 jobs over 3 runner configs, with a few faults. */
export const DEFAULT_SCENARIO: Scenario = {
  name: 'demo',
  seed: 42,
  // Wall time stays honest: the functions' own work (DynamoDB, GitHub, EC2 calls) takes real
  // milliseconds, which a smaller scale would inflate into simulated seconds.
  timeScale: 0.1,
  runnerConfigs: [
    { name: 'linux-x64', labels: ['linux', 'x64'], instanceTypes: ['m7i.large', 'm6i.large'], spot: 'SPOT_PREFERRED', maxRunners: 10 },
    { name: 'linux-x64-large', labels: ['linux', 'x64', 'large'], instanceTypes: ['m7i.xlarge', 'm6i.xlarge'], spot: 'SPOT_ONLY', maxRunners: 5 },
    { name: 'linux-arm64', labels: ['linux', 'arm64', 'graviton'], instanceTypes: ['m7g.large', 'm7g.xlarge'], spot: 'ON_DEMAND_ONLY', maxRunners: 5 },
  ],
  jobs: [
    { repo: 'app', labels: ['self-hosted', 'linux', 'x64'], count: 10, durationMs: 45_000, arrival: { spreadMs: 60_000 }, cancelRate: 0 },
    { repo: 'app', labels: ['self-hosted', 'linux', 'x64', 'large'], count: 5, durationMs: 60_000, arrival: { spreadMs: 60_000 }, cancelRate: 0 },
    { repo: 'api', labels: ['self-hosted', 'Linux', 'ARM64'], count: 5, durationMs: 30_000, arrival: { spreadMs: 45_000 }, cancelRate: 0 },
  ],
  faults: {
    github: { errorRate: 0.02, latencyMs: [20, 200], rateLimitWindows: [] },
    // A dropped webhook waits for the reconciler's sweep, minutes of wall time: bench/scenarios/faults.json shows that.
    webhooks: { dropRate: 0, duplicateRate: 0.1, reorderRate: 0.1 },
    ec2: { capacityErrorRate: 0.1, throttleRate: 0.05, spotInterruptionRate: 0, bootMs: [10_000, 30_000], unofferedInstanceTypes: [] },
    crash: { rate: 0 },
  },
  drainMs: 30_000,
  bounds: {},
  network: 'public',
  imageReadyAfterMs: 0,
  accountHasSpotServiceLinkedRole: true,
  iam: { removeStatements: [] },
};

type Json = Record<string, unknown>;

/** A scenario from a parsed JSON document, with defaults; throws {@link ScenarioError} listing every problem. */
export function parseScenario(input: unknown): Scenario {
  const problems: string[] = [];
  const doc = object(input, 'scenario', problems) ?? {};
  known(doc, 'scenario', ['name', 'seed', 'timeScale', 'runnerConfigs', 'jobs', 'faults', 'drainMs', 'bounds', 'network', 'imageReadyAfterMs', 'accountHasSpotServiceLinkedRole', 'iam'], problems);
  const d = DEFAULT_SCENARIO;
  const scenario: Scenario = {
    name: string(doc.name, 'name', problems) ?? d.name,
    seed: int(doc.seed, 'seed', 0, 2 ** 31 - 1, problems) ?? d.seed,
    timeScale: num(doc.timeScale, 'timeScale', 0.0001, 10, problems) ?? d.timeScale,
    runnerConfigs: doc.runnerConfigs === undefined ? d.runnerConfigs : list(doc.runnerConfigs, 'runnerConfigs', problems).map((c, i) => runnerConfig(c, `runnerConfigs[${i}]`, problems)),
    jobs: doc.jobs === undefined ? d.jobs : list(doc.jobs, 'jobs', problems).map((j, i) => jobs(j, `jobs[${i}]`, problems)),
    faults: faults(doc.faults, problems),
    drainMs: int(doc.drainMs, 'drainMs', 0, 24 * 3600_000, problems) ?? d.drainMs,
    bounds: bounds(doc.bounds, problems),
    network: network(doc.network, problems) ?? d.network,
    imageReadyAfterMs: int(doc.imageReadyAfterMs, 'imageReadyAfterMs', 0, 24 * 3600_000, problems) ?? d.imageReadyAfterMs,
    accountHasSpotServiceLinkedRole: bool(doc.accountHasSpotServiceLinkedRole, 'accountHasSpotServiceLinkedRole', problems) ?? d.accountHasSpotServiceLinkedRole,
    iam: iam(doc.iam, problems),
  };
  if (scenario.runnerConfigs.length === 0) problems.push('runnerConfigs: give at least one runner config');
  if (problems.length > 0) throw new ScenarioError(`the scenario is not valid:\n  - ${problems.join('\n  - ')}`);
  return scenario;
}

function runnerConfig(value: unknown, at: string, problems: string[]): ScenarioRunnerConfig {
  const c = object(value, at, problems) ?? {};
  known(c, at, ['name', 'labels', 'instanceTypes', 'spot', 'maxRunners'], problems);
  const spot = c.spot ?? 'SPOT_PREFERRED';
  if (!['SPOT_ONLY', 'SPOT_PREFERRED', 'ON_DEMAND_ONLY'].includes(spot as string)) {
    problems.push(`${at}.spot: expected SPOT_ONLY, SPOT_PREFERRED or ON_DEMAND_ONLY, found ${JSON.stringify(spot)}`);
  }
  return {
    name: string(c.name, `${at}.name`, problems, true) ?? 'invalid',
    labels: strings(c.labels, `${at}.labels`, problems) ?? [],
    instanceTypes: strings(c.instanceTypes, `${at}.instanceTypes`, problems) ?? ['m7i.large', 'm6i.large'],
    spot: spot as SpotStrategyName,
    maxRunners: int(c.maxRunners, `${at}.maxRunners`, 1, 10_000, problems) ?? 10,
  };
}

function jobs(value: unknown, at: string, problems: string[]): ScenarioJobs {
  const j = object(value, at, problems) ?? {};
  known(j, at, ['repo', 'labels', 'count', 'durationMs', 'arrival', 'cancelRate'], problems);
  const arrival = j.arrival === undefined ? {} : object(j.arrival, `${at}.arrival`, problems) ?? {};
  known(arrival, `${at}.arrival`, ['spreadMs'], problems);
  return {
    repo: string(j.repo, `${at}.repo`, problems) ?? 'app',
    labels: strings(j.labels, `${at}.labels`, problems) ?? ['self-hosted', 'linux', 'x64'],
    count: int(j.count, `${at}.count`, 0, 100_000, problems) ?? 1,
    durationMs: int(j.durationMs, `${at}.durationMs`, 0, 24 * 3600_000, problems) ?? 60_000,
    arrival: { spreadMs: int(arrival.spreadMs, `${at}.arrival.spreadMs`, 0, 24 * 3600_000, problems) ?? 0 },
    cancelRate: num(j.cancelRate, `${at}.cancelRate`, 0, 1, problems) ?? 0,
  };
}

function faults(value: unknown, problems: string[]): ScenarioFaults {
  const d = DEFAULT_SCENARIO.faults;
  if (value === undefined) return d;
  const f = object(value, 'faults', problems) ?? {};
  known(f, 'faults', ['github', 'webhooks', 'ec2', 'crash'], problems);
  const section = (name: string, keys: string[]) => {
    const s = f[name] === undefined ? {} : object(f[name], `faults.${name}`, problems) ?? {};
    known(s, `faults.${name}`, keys, problems);
    return s;
  };
  const g = section('github', ['errorRate', 'latencyMs', 'rateLimitWindows']);
  const w = section('webhooks', ['dropRate', 'duplicateRate', 'reorderRate']);
  const e = section('ec2', ['capacityErrorRate', 'throttleRate', 'spotInterruptionRate', 'bootMs', 'unofferedInstanceTypes']);
  const c = section('crash', ['rate']);
  const windows = g.rateLimitWindows === undefined ? d.github.rateLimitWindows : list(g.rateLimitWindows, 'faults.github.rateLimitWindows', problems).map((v, i) => {
    const at = `faults.github.rateLimitWindows[${i}]`;
    const o = object(v, at, problems) ?? {};
    known(o, at, ['startMs', 'durationMs'], problems);
    return { startMs: int(o.startMs, `${at}.startMs`, 0, 1e9, problems) ?? 0, durationMs: int(o.durationMs, `${at}.durationMs`, 0, 1e9, problems) ?? 0 };
  });
  return {
    github: {
      errorRate: num(g.errorRate, 'faults.github.errorRate', 0, 1, problems) ?? d.github.errorRate,
      latencyMs: range(g.latencyMs, 'faults.github.latencyMs', problems) ?? d.github.latencyMs,
      rateLimitWindows: windows,
    },
    webhooks: {
      dropRate: num(w.dropRate, 'faults.webhooks.dropRate', 0, 1, problems) ?? d.webhooks.dropRate,
      duplicateRate: num(w.duplicateRate, 'faults.webhooks.duplicateRate', 0, 1, problems) ?? d.webhooks.duplicateRate,
      reorderRate: num(w.reorderRate, 'faults.webhooks.reorderRate', 0, 1, problems) ?? d.webhooks.reorderRate,
    },
    ec2: {
      capacityErrorRate: num(e.capacityErrorRate, 'faults.ec2.capacityErrorRate', 0, 1, problems) ?? d.ec2.capacityErrorRate,
      throttleRate: num(e.throttleRate, 'faults.ec2.throttleRate', 0, 1, problems) ?? d.ec2.throttleRate,
      spotInterruptionRate: num(e.spotInterruptionRate, 'faults.ec2.spotInterruptionRate', 0, 1, problems) ?? d.ec2.spotInterruptionRate,
      bootMs: range(e.bootMs, 'faults.ec2.bootMs', problems) ?? d.ec2.bootMs,
      unofferedInstanceTypes: strings(e.unofferedInstanceTypes, 'faults.ec2.unofferedInstanceTypes', problems) ?? d.ec2.unofferedInstanceTypes,
    },
    crash: { rate: num(c.rate, 'faults.crash.rate', 0, 1, problems) ?? d.crash.rate },
  };
}

function iam(value: unknown, problems: string[]): Scenario['iam'] {
  if (value === undefined) return { removeStatements: [] };
  const o = object(value, 'iam', problems) ?? {};
  known(o, 'iam', ['removeStatements'], problems);
  const removals = o.removeStatements === undefined ? [] : list(o.removeStatements, 'iam.removeStatements', problems).map((v, i) => {
    const at = `iam.removeStatements[${i}]`;
    const r = object(v, at, problems) ?? {};
    known(r, at, ['role', 'action'], problems);
    return { role: string(r.role, `${at}.role`, problems, true) ?? '', action: string(r.action, `${at}.action`, problems, true) ?? '' };
  });
  return { removeStatements: removals };
}

function bool(value: unknown, at: string, problems: string[]): boolean | undefined {
  if (value === undefined || typeof value === 'boolean') return value;
  problems.push(`${at}: expected true or false, found ${JSON.stringify(value)}`);
  return undefined;
}

function network(value: unknown, problems: string[]): ScenarioNetwork | undefined {
  if (value === undefined || value === 'public' || value === 'private') return value;
  problems.push(`network: ${JSON.stringify(value)} is not a network; use "public" or "private"`);
  return undefined;
}

function bounds(value: unknown, problems: string[]): ScenarioBounds {
  if (value === undefined) return {};
  const b = object(value, 'bounds', problems) ?? {};
  known(b, 'bounds', ['queuedToLaunchP95Ms', 'queuedToStartedP95Ms', 'poolExcess'], problems);
  return {
    queuedToLaunchP95Ms: int(b.queuedToLaunchP95Ms, 'bounds.queuedToLaunchP95Ms', 0, 24 * 3600_000, problems),
    queuedToStartedP95Ms: int(b.queuedToStartedP95Ms, 'bounds.queuedToStartedP95Ms', 0, 24 * 3600_000, problems),
    poolExcess: int(b.poolExcess, 'bounds.poolExcess', 0, 100_000, problems),
  };
}

function object(value: unknown, at: string, problems: string[]): Json | undefined {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Json;
  problems.push(`${at}: expected an object, found ${JSON.stringify(value)}`);
  return undefined;
}

function known(value: Json, at: string, keys: string[], problems: string[]): void {
  for (const key of Object.keys(value)) {
    if (!keys.includes(key)) problems.push(`${at}.${key}: unknown field; known fields are ${keys.join(', ')}`);
  }
}

function list(value: unknown, at: string, problems: string[]): unknown[] {
  if (Array.isArray(value)) return value;
  problems.push(`${at}: expected a list, found ${JSON.stringify(value)}`);
  return [];
}

function string(value: unknown, at: string, problems: string[], required = false): string | undefined {
  if (value === undefined && !required) return undefined;
  if (typeof value === 'string' && value.length > 0) return value;
  problems.push(`${at}: expected a non-empty string, found ${JSON.stringify(value)}`);
  return undefined;
}

function strings(value: unknown, at: string, problems: string[]): string[] | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value) && value.every((v) => typeof v === 'string' && v.length > 0)) return value as string[];
  problems.push(`${at}: expected a list of non-empty strings, found ${JSON.stringify(value)}`);
  return undefined;
}

function num(value: unknown, at: string, min: number, max: number, problems: string[]): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max) return value;
  problems.push(`${at}: expected a number from ${min} to ${max}, found ${JSON.stringify(value)}`);
  return undefined;
}

function int(value: unknown, at: string, min: number, max: number, problems: string[]): number | undefined {
  const n = num(value, at, min, max, problems);
  if (n !== undefined && !Number.isInteger(n)) {
    problems.push(`${at}: expected a whole number, found ${n}`);
    return undefined;
  }
  return n;
}

function range(value: unknown, at: string, problems: string[]): [number, number] | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === 'number' && v >= 0) && value[0] <= value[1]) return [value[0], value[1]];
  problems.push(`${at}: expected [min, max] with 0 <= min <= max, found ${JSON.stringify(value)}`);
  return undefined;
}
