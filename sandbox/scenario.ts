// A sandbox scenario: runner configs, jobs, faults, seed and time scale. One table describes every
// field, its check and its default, and the Scenario type is what it parses to: missing fields take
// defaults (the demo `npm run sandbox` runs is a scenario of defaults); unknown fields and bad values
// are refused with a message naming them.

export class ScenarioError extends Error {
  public readonly name = 'ScenarioError';
}

/** Parses a field of a scenario document; records a problem (and answers undefined) for a bad value. */
type Parse<T> = (value: unknown, at: string, problems: string[]) => T;
/** `[parse]`: parse is given the value even when it is missing (objects take their defaults, required fields complain); `[parse, fallback]`: a missing value is the fallback. */
type Field<T = unknown> = readonly [Parse<T>] | readonly [Parse<T>, T];
type Parsed<F extends Record<string, Field>> = { readonly [K in keyof F]: F[K] extends readonly [Parse<infer T>, ...unknown[]] ? T : never };

const DAY_MS = 24 * 3600_000;
const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const refuse = (problems: string[], at: string, expected: string, value: unknown): never => {
  problems.push(`${at}: expected ${expected}, found ${JSON.stringify(value)}`);
  return undefined as never;
};
const checked = <T>(ok: (value: unknown) => boolean, expected: string): Parse<T> => (value, at, problems) =>
  (ok(value) ? value as T : refuse(problems, at, expected, value));
const text = checked<string>((v) => typeof v === 'string' && v.length > 0, 'a non-empty string');
const texts = checked<string[]>((v) => Array.isArray(v) && v.every((s) => typeof s === 'string' && s.length > 0), 'a list of non-empty strings');
const bool = checked<boolean>((v) => typeof v === 'boolean', 'true or false');
const num = (min: number, max: number) => checked<number>((v) => typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max, `a number from ${min} to ${max}`);
const int = (min: number, max: number): Parse<number> => (value, at, problems) => {
  const n = num(min, max)(value, at, problems);
  return n === undefined || Number.isInteger(n) ? n : refuse(problems, at, 'a whole number', n);
};
const rate = num(0, 1);
const range = checked<[number, number]>((v) => Array.isArray(v) && v.length === 2 && v.every((n) => typeof n === 'number' && n >= 0) && v[0] <= v[1], '[min, max] with 0 <= min <= max');
const oneOf = <V extends string>(...values: V[]) => checked<V>((v) => values.includes(v as V), `${values.slice(0, -1).join(', ')} or ${values[values.length - 1]}`);
const list = <T>(item: Parse<T>): Parse<T[]> => (value, at, problems) => (Array.isArray(value)
  ? value.map((v, i) => item(v, `${at}[${i}]`, problems))
  : refuse(problems, at, 'a list', value) ?? []);
/** An object of known fields (each unknown one refused, naming those that exist); a missing object is all defaults. */
const object = <F extends Record<string, Field>>(fields: F): Parse<Parsed<F>> => (value = {}, at, problems) => {
  if (!isObject(value)) return refuse(problems, at, 'an object', value);
  for (const key of Object.keys(value)) {
    if (!(key in fields)) problems.push(`${at}.${key}: unknown field; known fields are ${Object.keys(fields).join(', ')}`);
  }
  const child = (key: string) => (at === 'scenario' ? key : `${at}.${key}`);
  return Object.fromEntries(Object.entries(fields).map(([key, [parse, ...fallback]]) =>
    [key, value[key] === undefined && fallback.length > 0 ? fallback[0] : parse(value[key], child(key), problems)])) as Parsed<F>;
};
/** An optional number: unset, the limit is not checked. */
const optional = (parse: Parse<number>): Field<number | undefined> => [parse, undefined];

const runnerConfig = (name: string, labels: string[], instanceTypes: string[], spot: 'SPOT_ONLY' | 'SPOT_PREFERRED' | 'ON_DEMAND_ONLY', maxRunners: number) => ({ name, labels, instanceTypes, spot, maxRunners });
const jobs = (repo: string, labels: string[], count: number, durationMs: number, spreadMs: number) =>
  ({ repo, workflow: 'CI', labels, count, durationMs, arrival: { spreadMs, afterMs: 0 }, cancelRate: 0 });

const SCENARIO = object({
  name: [text, 'demo'],
  seed: [int(0, 2 ** 31 - 1), 42],
  /** Factor applied to every simulated delay (0.05: a minute in 3 s); the functions' real milliseconds of work grow by 1 / timeScale. */
  timeScale: [num(0.0001, 10), 0.1],
  runnerConfigs: [list(object({
    name: [text],
    labels: [texts, []],
    instanceTypes: [texts, ['m7i.large', 'm6i.large']],
    spot: [oneOf('SPOT_ONLY', 'SPOT_PREFERRED', 'ON_DEMAND_ONLY'), 'SPOT_PREFERRED'],
    maxRunners: [int(1, 10_000), 10],
    /** Breaks ties between configs that match a job equally well (the construct's `priority`); 0 when unset. */
    priority: optional(int(0, 1000)),
    /** Stopped instances kept ahead of demand (the construct's `warmPool`); none when unset. */
    warmPool: [object({ size: [int(1, 10_000)] }), undefined],
    /** The construct's `jobHooks`: bash scripts, inline or (`fromAsset`) written to files and published as S3 assets; none when unset. */
    jobHooks: [object({ started: [text, undefined], completed: [text, undefined], fromAsset: [bool, false] }), undefined],
    /** The config's own image (`machineImage: RunnerMachineImage.fromAmiIds`), an AMI the account holds before the deploy; the deployment's when unset. */
    amiId: [checked<string>((v) => typeof v === 'string' && /^ami-[0-9a-f]{17}$/.test(v), 'an AMI id, ami- and 17 hex digits'), undefined],
    /** The config's own `rootVolume`; the deployment's when unset. */
    rootVolume: [object({
      sizeGiB: optional(int(1, 65_536)),
      volumeType: [oneOf('gp3', 'gp2', 'io1', 'io2'), 'gp3'],
      iops: optional(int(100, 256_000)),
      throughput: optional(int(125, 2_000)),
    }), undefined],
    /** A security group of the scenario's VPC the config's instances get besides the shared one (`securityGroups`). */
    extraSecurityGroup: [bool, false],
    /** A statement for the config's instances (`rolePolicyStatements`), which gives the config an instance role of its own; none when unset. */
    rolePolicy: [object({ actions: [texts], resources: [texts] }), undefined],
    /** Where runners register (the construct's `scope`); `enterprise` needs the scenario's `enterprise`. */
    scope: [oneOf('org', 'repo', 'enterprise'), 'org'],
    /** The runner group by name (the construct's `runnerGroup`); the sandbox creates it unless `enterprise.missingGroups` names it. Default when unset. */
    runnerGroup: [text, undefined],
  })), [
    runnerConfig('linux-x64', ['linux', 'x64'], ['m7i.large', 'm6i.large'], 'SPOT_PREFERRED', 10),
    runnerConfig('linux-x64-large', ['linux', 'x64', 'large'], ['m7i.xlarge', 'm6i.xlarge'], 'SPOT_ONLY', 5),
    runnerConfig('linux-arm64', ['linux', 'arm64', 'graviton'], ['m7g.large', 'm7g.xlarge'], 'ON_DEMAND_ONLY', 5),
  ]],
  jobs: [list(object({
    /** `owner/name`, or a repository name of the sandbox's organization. */
    repo: [text, 'app'],
    /** The workflow's name (`workflow_name`), which the instance that runs the job is tagged with. */
    workflow: [text, 'CI'],
    labels: [texts, ['self-hosted', 'linux', 'x64']],
    count: [int(0, 100_000), 1],
    /** How long each job runs, simulated ms. */
    durationMs: [int(0, DAY_MS), 60_000],
    /** Each job arrives `afterMs` plus a random share of `spreadMs` after the start (simulated ms). */
    arrival: [object({ spreadMs: [int(0, DAY_MS), 0], afterMs: [int(0, DAY_MS), 0] })],
    /** Share of these jobs cancelled while still queued. */
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
      /** Types no zone (`m7i.2xlarge`) or one zone (`m7i.2xlarge@us-east-1a`) offers: CreateFleet's InvalidFleetConfiguration. */
      unofferedInstanceTypes: [texts, []],
      /** Share of StartInstances calls (of a stopped instance) refused with InsufficientInstanceCapacity; nothing starts then. */
      startCapacityErrorRate: [rate, 0],
    })],
    crash: [object({ rate: [rate, 0] })],
    /** Parked (stopped) warm pool instances terminated from outside the control plane (a person, an EC2 retirement), `atMs` after the start. */
    warmPool: [object({ terminateParked: [int(0, 10_000), 0], atMs: [int(0, DAY_MS), 0] })],
  })],
  /** Simulated ms (and at least two wall minutes) to wait after the last job for instances and registrations to go; then leaks are counted. */
  drainMs: [int(0, DAY_MS), 30_000],
  /** What a run of this scenario promises on an idle machine; `npm run bench` holds runs to it. */
  bounds: [object({
    /** 95th percentile from a job queued to its pool's matching launch, simulated ms. */
    queuedToLaunchP95Ms: optional(int(0, DAY_MS)),
    /** 95th percentile from a job queued to its (last attempt's) start, simulated ms. */
    queuedToStartedP95Ms: optional(int(0, DAY_MS)),
    /** Most live instances a pool may have beyond its queued and running jobs (the slack). */
    poolExcess: optional(int(0, 100_000)),
  }), {}],
  /** The construct's `maxInstances`: the most instances of the deployment live at once, across configs; none when unset. */
  maxInstances: optional(int(1, 1000)),
  /**
   * The GHES enterprise (the construct's `github.enterprise`): its slug, more organizations (repositories `org/name` of them belong
   * to one), the scopes of the personal access token (classic) the operator writes to the enterprise token parameter, runner
   * groups the configs name that the sandbox does not create at the deploy, and when (simulated ms after it) the operator
   * creates them after all (0: never). None when unset.
   */
  enterprise: [object({
    slug: [text, 'octo-enterprise'],
    organizations: [texts, []],
    tokenScopes: [texts, ['manage_runners:enterprise']],
    missingGroups: [texts, []],
    missingGroupsCreatedAfterMs: [int(0, DAY_MS), 0],
  }), undefined],
  /** `public`: an HTTP API and a Function URL; `private`: a private REST API behind an execute-api endpoint, isolated subnets. */
  network: [oneOf('public', 'private'), 'public'],
  /** Simulated ms after the deploy when the image pipeline's first build writes the image parameters (0: at the start). */
  imageReadyAfterMs: [int(0, DAY_MS), 0],
  /**
   * The first images the pipeline publishes hold no runner (no `run.sh`), and `fixedAfterMs` (simulated ms after the deploy; 0:
   * never) it publishes new ones that do. None when unset.
   */
  imageWithoutRunner: [object({ fixedAfterMs: [int(0, DAY_MS), 0] }), undefined],
  /** Whether AWSServiceRoleForEC2Spot exists; without it a spot launch needs iam:CreateServiceLinkedRole (else AuthFailure.ServiceLinkedRoleCreationNotPermitted). */
  accountHasSpotServiceLinkedRole: [bool, true],
  /** IAM experiments: actions taken out of a role's policies (`role`: a function name, or `runner`). */
  iam: [object({ removeStatements: [list(object({ role: [text], action: [text] })), []] })],
});

export type Scenario = ReturnType<typeof SCENARIO>;

/** A scenario from a parsed JSON document, with defaults; throws {@link ScenarioError} listing every problem. */
export function parseScenario(input: unknown): Scenario {
  const problems: string[] = [];
  const scenario = SCENARIO(input, 'scenario', problems);
  if (scenario?.runnerConfigs.length === 0) problems.push('runnerConfigs: give at least one runner config');
  if (problems.length > 0) throw new ScenarioError(`the scenario is not valid:\n  - ${problems.join('\n  - ')}`);
  return scenario;
}

/** The demo `npm run sandbox` runs: about 20 jobs over 3 runner configs, with a few faults (every default of a scenario). */
export const DEFAULT_SCENARIO: Scenario = parseScenario({});
