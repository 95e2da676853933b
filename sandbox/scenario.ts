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

/** What a field of a scenario document parses to; records a problem (and answers undefined) for a bad value. */
type Parse = (value: unknown, at: string, problems: string[]) => unknown;
/** `[parse]`: parse is given the value even when it is missing (objects take their defaults, required fields complain); `[parse, fallback]`: a missing value is the fallback. */
type Fields = Record<string, [Parse] | [Parse, unknown]>;

const DAY_MS = 24 * 3600_000;
const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const refuse = (problems: string[], at: string, expected: string, value: unknown) => { problems.push(`${at}: expected ${expected}, found ${JSON.stringify(value)}`); };
const checked = (ok: (value: unknown) => boolean, expected: string): Parse => (value, at, problems) => {
  if (ok(value)) return value;
  refuse(problems, at, expected, value);
  return undefined;
};
const text = checked((v) => typeof v === 'string' && v.length > 0, 'a non-empty string');
const texts = checked((v) => Array.isArray(v) && v.every((s) => typeof s === 'string' && s.length > 0), 'a list of non-empty strings');
const bool = checked((v) => typeof v === 'boolean', 'true or false');
const num = (min: number, max: number) => checked((v) => typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max, `a number from ${min} to ${max}`);
const int = (min: number, max: number): Parse => (value, at, problems) => {
  const n = num(min, max)(value, at, problems);
  return n === undefined || Number.isInteger(n) ? n : refuse(problems, at, 'a whole number', n);
};
const rate = num(0, 1);
const range = checked((v) => Array.isArray(v) && v.length === 2 && v.every((n) => typeof n === 'number' && n >= 0) && v[0] <= v[1], '[min, max] with 0 <= min <= max');
const oneOf = (...values: string[]) => checked((v) => values.includes(v as string), `${values.slice(0, -1).join(', ')} or ${values[values.length - 1]}`);
const list = (item: Parse): Parse => (value, at, problems) => (Array.isArray(value)
  ? value.map((v, i) => item(v, `${at}[${i}]`, problems))
  : refuse(problems, at, 'a list', value) ?? []);
/** An object of known fields (each unknown one refused, naming those that exist); a missing object is all defaults. */
const object = (fields: Fields): Parse => (value = {}, at, problems) => {
  if (!isObject(value)) return refuse(problems, at, 'an object', value);
  for (const key of Object.keys(value)) {
    if (!(key in fields)) problems.push(`${at}.${key}: unknown field; known fields are ${Object.keys(fields).join(', ')}`);
  }
  const child = (key: string) => (at === 'scenario' ? key : `${at}.${key}`);
  return Object.fromEntries(Object.entries(fields).map(([key, [parse, ...fallback]]) =>
    [key, value[key] === undefined && fallback.length > 0 ? fallback[0] : parse(value[key], child(key), problems)]));
};

const runnerConfig = (name: string, labels: string[], instanceTypes: string[], spot: SpotStrategyName, maxRunners: number) => ({ name, labels, instanceTypes, spot, maxRunners });
const jobs = (repo: string, labels: string[], count: number, durationMs: number, spreadMs: number) => ({ repo, labels, count, durationMs, arrival: { spreadMs }, cancelRate: 0 });
const SCENARIO = object({
  name: [text, 'demo'],
  seed: [int(0, 2 ** 31 - 1), 42],
  // Wall time stays honest: the functions' own work (DynamoDB, GitHub, EC2 calls) takes real
  // milliseconds, which a smaller scale would inflate into simulated seconds.
  timeScale: [num(0.0001, 10), 0.1],
  runnerConfigs: [list(object({
    name: [text],
    labels: [texts, []],
    instanceTypes: [texts, ['m7i.large', 'm6i.large']],
    spot: [oneOf('SPOT_ONLY', 'SPOT_PREFERRED', 'ON_DEMAND_ONLY'), 'SPOT_PREFERRED'],
    maxRunners: [int(1, 10_000), 10],
  })), [
    runnerConfig('linux-x64', ['linux', 'x64'], ['m7i.large', 'm6i.large'], 'SPOT_PREFERRED', 10),
    runnerConfig('linux-x64-large', ['linux', 'x64', 'large'], ['m7i.xlarge', 'm6i.xlarge'], 'SPOT_ONLY', 5),
    runnerConfig('linux-arm64', ['linux', 'arm64', 'graviton'], ['m7g.large', 'm7g.xlarge'], 'ON_DEMAND_ONLY', 5),
  ]],
  jobs: [list(object({
    repo: [text, 'app'],
    labels: [texts, ['self-hosted', 'linux', 'x64']],
    count: [int(0, 100_000), 1],
    durationMs: [int(0, DAY_MS), 60_000],
    arrival: [object({ spreadMs: [int(0, DAY_MS), 0] })],
    cancelRate: [rate, 0],
  })), [
    jobs('app', ['self-hosted', 'linux', 'x64'], 10, 45_000, 60_000),
    jobs('app', ['self-hosted', 'linux', 'x64', 'large'], 5, 60_000, 60_000),
    jobs('api', ['self-hosted', 'Linux', 'ARM64'], 5, 30_000, 45_000),
  ]],
  faults: [object({
    github: [object({
      errorRate: [rate, 0.02],
      latencyMs: [range, [20, 200]],
      rateLimitWindows: [list(object({ startMs: [int(0, 1e9), 0], durationMs: [int(0, 1e9), 0] })), []],
    })],
    // A dropped webhook waits for the reconciler's sweep, minutes of wall time: bench/scenarios/faults.json shows that.
    webhooks: [object({ dropRate: [rate, 0], duplicateRate: [rate, 0.1], reorderRate: [rate, 0.1] })],
    ec2: [object({
      capacityErrorRate: [rate, 0.1],
      throttleRate: [rate, 0.05],
      spotInterruptionRate: [rate, 0],
      bootMs: [range, [10_000, 30_000]],
      unofferedInstanceTypes: [texts, []],
    })],
    crash: [object({ rate: [rate, 0] })],
  })],
  drainMs: [int(0, DAY_MS), 30_000],
  bounds: [object({
    queuedToLaunchP95Ms: [int(0, DAY_MS), undefined],
    queuedToStartedP95Ms: [int(0, DAY_MS), undefined],
    poolExcess: [int(0, 100_000), undefined],
  }), {}],
  network: [oneOf('public', 'private'), 'public'],
  imageReadyAfterMs: [int(0, DAY_MS), 0],
  accountHasSpotServiceLinkedRole: [bool, true],
  iam: [object({ removeStatements: [list(object({ role: [text], action: [text] })), []] })],
});

/** A scenario from a parsed JSON document, with defaults; throws {@link ScenarioError} listing every problem. */
export function parseScenario(input: unknown): Scenario {
  const problems: string[] = [];
  const scenario = SCENARIO(input, 'scenario', problems) as Scenario | undefined;
  if (scenario?.runnerConfigs.length === 0) problems.push('runnerConfigs: give at least one runner config');
  if (problems.length > 0 || !scenario) throw new ScenarioError(`the scenario is not valid:\n  - ${problems.join('\n  - ')}`);
  return scenario;
}

/** The demo `npm run sandbox` runs: about 20 jobs over 3 runner configs, with a few faults (every default of a scenario). */
export const DEFAULT_SCENARIO: Scenario = parseScenario({});
