// The environment of each function: every variable's name and how its value is written, in one
// place for both sides. The construct encodes the values it synthesizes; the function decodes them
// once, at cold start. Pure (no CDK, no SDK): the functions' bundles include it.

/** How a variable's value is written. */
export type VariableKind = 'text' | 'seconds' | 'list' | 'json' | 'milliseconds' | 'count';

/** What each kind decodes to. */
interface KindValue {
  text: string;
  /** A whole number of seconds, written as decimal digits. */
  seconds: number;
  /** Comma-separated, without empty items. */
  list: string[];
  /** A JSON object of strings (the construct writes it with `Stack.toJsonString`, tokens resolved at deploy). */
  json: Readonly<Record<string, string>>;
  /** A whole number of milliseconds; only ever optional (see {@link PACING_ENVIRONMENT}). */
  milliseconds: number;
  /** A whole number of things (instances), written as decimal digits. */
  count: number;
}

export interface Variable<K extends VariableKind = VariableKind, O extends boolean = boolean> {
  readonly name: string;
  readonly kind: K;
  readonly optional: O;
}

/** A function's environment: field name → variable. */
export type EnvironmentSpec = Readonly<Record<string, Variable>>;

/** The values of an environment, as the construct writes them and the function reads them. */
export type EnvironmentValues<E extends EnvironmentSpec> = {
  readonly [F in keyof E as E[F]['optional'] extends true ? never : F]: KindValue[E[F]['kind']];
} & {
  readonly [F in keyof E as E[F]['optional'] extends true ? F : never]?: KindValue[E[F]['kind']];
};

const required = <K extends VariableKind>(kind: K) => (name: string): Variable<K, false> => ({ name, kind, optional: false });
const text = required('text');
const seconds = required('seconds');
const list = required('list');
const json = required('json');
const optionalMilliseconds = (name: string): Variable<'milliseconds', true> => ({ name, kind: 'milliseconds', optional: true });
const optionalText = (name: string): Variable<'text', true> => ({ name, kind: 'text', optional: true });
const optionalList = (name: string): Variable<'list', true> => ({ name, kind: 'list', optional: true });
const optionalJson = (name: string): Variable<'json', true> => ({ name, kind: 'json', optional: true });
const optionalCount = (name: string): Variable<'count', true> => ({ name, kind: 'count', optional: true });

/** A variable that is missing or malformed: the construct sets it, so the fix is to redeploy it (or correct it by hand). */
export class EnvironmentVariableError extends Error {
  constructor(message: string, readonly variables: readonly string[]) {
    super(message);
    this.name = 'EnvironmentVariableError';
  }
}

/** Writes `values` as environment variables; `stringify` writes `json` values (the construct passes `Stack.toJsonString`). */
export function encodeEnvironment<E extends EnvironmentSpec>(
  spec: E,
  values: EnvironmentValues<E>,
  stringify: (value: unknown) => string = JSON.stringify,
): Record<string, string> {
  const encoded: Record<string, string> = {};
  for (const [field, variable] of Object.entries(spec)) {
    const value = (values as Record<string, unknown>)[field];
    if (value === undefined) continue;
    switch (variable.kind) {
      case 'list': encoded[variable.name] = (value as string[]).join(','); break;
      case 'json': encoded[variable.name] = stringify(value); break;
      case 'seconds':
      case 'milliseconds':
      case 'count': encoded[variable.name] = String(value); break;
      default: encoded[variable.name] = value as string;
    }
  }
  return encoded;
}

/**
 * Reads the environment `spec` describes from `env`. Throws {@link EnvironmentVariableError}
 * naming every required variable that is missing or empty, and every set variable that is malformed.
 */
export function decodeEnvironment<E extends EnvironmentSpec>(spec: E, env: Readonly<Record<string, string | undefined>>): EnvironmentValues<E> {
  const missing: string[] = [];
  const malformed: string[] = [];
  const values: Record<string, unknown> = {};
  for (const [field, variable] of Object.entries(spec)) {
    const raw = env[variable.name];
    if (raw === undefined || raw === '') {
      if (!variable.optional) missing.push(variable.name);
      continue;
    }
    switch (variable.kind) {
      case 'seconds':
      case 'milliseconds':
      case 'count':
        if (/^\d+$/.test(raw.trim())) values[field] = Number(raw);
        else malformed.push(`${variable.name}=${JSON.stringify(raw)}: expected a whole number${variable.kind === 'count' ? '' : ` of ${variable.kind}`}`);
        break;
      case 'list': values[field] = raw.split(',').filter(Boolean); break;
      case 'json': {
        const parsed = parseStringRecord(raw);
        if (parsed) values[field] = parsed;
        else malformed.push(`${variable.name}=${JSON.stringify(raw)}: expected a JSON object of strings`);
        break;
      }
      default: values[field] = raw;
    }
  }
  const problems = [
    ...(missing.length > 0 ? [`missing environment variable${missing.length > 1 ? 's' : ''} ${missing.join(', ')}: the construct sets them; redeploy it`] : []),
    ...(malformed.length > 0 ? [`${malformed.join('; ')}: the construct writes it; redeploy it, or correct or unset a value set by hand`] : []),
  ];
  if (problems.length > 0) {
    throw new EnvironmentVariableError(problems.join('. '), [...missing, ...malformed.map((problem) => problem.slice(0, problem.indexOf('=')))]);
  }
  return values as EnvironmentValues<E>;
}

function parseStringRecord(raw: string): Record<string, string> | undefined {
  try {
    const parsed: unknown = JSON.parse(raw);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
    return Object.values(parsed).every((value) => typeof value === 'string') ? parsed as Record<string, string> : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Optional pacing, read by every function that calls GitHub; the construct sets none of them.
 * Unset, each is the pace GitHub asks integrators to keep. They are for a control plane run at
 * another pace — the offline sandbox runs every function in one process on a scaled clock
 * (docs/sandbox.md).
 */
export const PACING_ENVIRONMENT = {
  /** Least time between two GitHub writes of one container (1000). */
  githubWriteSpacingMs: optionalMilliseconds('GITHUB_WRITE_SPACING_MS'),
  /** What one second of a rate limit's `retry-after` stands for (1000). */
  githubRetryAfterBaseMs: optionalMilliseconds('GITHUB_RETRY_AFTER_BASE_MS'),
  /** Base of the retry backoff of a failed GitHub call (1000). */
  githubRetryBaseMs: optionalMilliseconds('GITHUB_RETRY_BASE_MS'),
  /** The reconciler's GitHub sweep interval (two minutes). */
  reconcilerGitHubSweepMs: optionalMilliseconds('RECONCILER_GITHUB_SWEEP_MS'),
  /** Least time between the first two redeliveries of one delivery (three minutes); the later, longer waits scale with it. */
  reconcilerRedeliverySpacingMs: optionalMilliseconds('RECONCILER_REDELIVERY_SPACING_MS'),
} as const;

/** What the webhook function reads. */
export const WEBHOOK_ENVIRONMENT = {
  tableName: text('TABLE_NAME'),
  queueUrl: text('QUEUE_URL'),
  /** The GitHub host, e.g. `ghes.example.com`: part of every job's key. */
  githubHost: text('GITHUB_HOST'),
  webhookSecretParameterName: text('WEBHOOK_SECRET_PARAMETER_NAME'),
  /** The SSM path under which each runner config is one parameter. */
  runnerConfigPath: text('RUNNER_CONFIG_PATH'),
  runnerNamePrefix: text('RUNNER_NAME_PREFIX'),
} as const;

/** What every other function (register, provisioner, lifecycle, reconciler) reads. */
export const CONTROL_PLANE_ENVIRONMENT = {
  tableName: text('TABLE_NAME'),
  queueUrl: text('QUEUE_URL'),
  runnerConfigPath: text('RUNNER_CONFIG_PATH'),
  /** The GitHub REST API base, e.g. `https://ghes.example.com/api/v3`. */
  githubApiUrl: text('GITHUB_API_URL'),
  /** The App id given in the construct's props; without it, the functions read {@link appIdParameterName}. */
  githubAppId: optionalText('GITHUB_APP_ID'),
  /** Where the setup page stores the App id it created (read when `githubAppId` is not set). */
  appIdParameterName: text('APP_ID_PARAMETER_NAME'),
  privateKeyParameterName: text('PRIVATE_KEY_PARAMETER_NAME'),
  /** The enterprise credential's SecureString, when the deployment has an enterprise (read at the first enterprise call). */
  enterpriseTokenParameterName: optionalText('ENTERPRISE_TOKEN_PARAMETER_NAME'),
  runnerNamePrefix: text('RUNNER_NAME_PREFIX'),
  /** The value of the managed-by instance tag: which deployment owns an instance. */
  managedBy: text('MANAGED_BY'),
  bootTimeoutSeconds: seconds('BOOT_TIMEOUT_SECONDS'),
  maxLifetimeSeconds: seconds('MAX_LIFETIME_SECONDS'),
  /** The deployment-wide cap on live instances (`maxInstances`); unset, each config's maxRunners is the only bound. */
  maxInstances: optionalCount('MAX_INSTANCES'),
} as const;

/** What the register function reads besides {@link CONTROL_PLANE_ENVIRONMENT}. */
export const REGISTER_ENVIRONMENT = {
  /** The runners' shared role: a caller must sign as a session of it, or of its config's own role. */
  runnerRoleName: text('RUNNER_ROLE_NAME'),
  /** The role of each runner config that has one of its own, by config name; unset when none has. */
  configRoleNames: optionalJson('CONFIG_ROLE_NAMES'),
} as const;

/** What the provisioner reads besides {@link CONTROL_PLANE_ENVIRONMENT}: where and from what to launch. */
export const LAUNCH_ENVIRONMENT = {
  subnetIds: list('SUBNET_IDS'),
  /** The subnets of each runner config that has its own, by config name (`,`-joined ids); unset when none has. */
  configSubnetIds: optionalJson('CONFIG_SUBNET_IDS'),
  /** Launch template id by runner config name. */
  launchTemplates: json('LAUNCH_TEMPLATES'),
  /** Warm pool launch template id (shutdown behaviour `stop`) by runner config name; set when a config keeps a warm pool. */
  warmLaunchTemplates: optionalJson('WARM_LAUNCH_TEMPLATES'),
} as const;

/** What the reconciler reads besides {@link CONTROL_PLANE_ENVIRONMENT}. */
export const RECONCILER_ENVIRONMENT = {
  /** The runner configs that keep a warm pool; unset when none does. */
  warmPoolConfigs: optionalList('WARM_POOL_CONFIGS'),
  /**
   * The warm pools kept on a schedule: config name → the schedule as its config document holds it
   * (`WarmPoolScheduleDocument`, as JSON text); unset when every warm pool is kept always.
   */
  warmPoolSchedules: optionalJson('WARM_POOL_SCHEDULES'),
  /**
   * The SSM parameters of the runner versions: `server` (the server's) and one per architecture
   * the image pipeline builds (`x64`, `arm64`: the image's); unset when the deployment builds no image.
   */
  runnerVersionParameters: optionalJson('RUNNER_VERSION_PARAMETERS'),
} as const;

/** The App's credentials as the setup function and the setup token function name them. */
const APP_CREDENTIAL_PARAMETERS = {
  /** A String parameter: the App id. */
  appIdParameterName: text('APP_ID_PARAMETER_NAME'),
  privateKeyParameterName: text('PRIVATE_KEY_PARAMETER_NAME'),
  webhookSecretParameterName: text('WEBHOOK_SECRET_PARAMETER_NAME'),
  /** A String parameter: the SHA-256 of the setup token, deleted once setup stored credentials. */
  setupTokenParameterName: text('SETUP_TOKEN_PARAMETER_NAME'),
} as const;

/** What the setup function (the setup page) reads. */
export const SETUP_ENVIRONMENT = {
  ...APP_CREDENTIAL_PARAMETERS,
  /** The server's base URL, e.g. `https://ghes.example.com`: where the browser registers the App. */
  githubUrl: text('GITHUB_URL'),
  /** The GitHub REST API base, e.g. `https://ghes.example.com/api/v3`. */
  githubApiUrl: text('GITHUB_API_URL'),
  /** The webhook URL the App is created with. */
  webhookUrl: text('WEBHOOK_URL'),
  /** The setup page's own URL, without the token: GitHub redirects back to it. */
  setupUrl: text('SETUP_URL'),
  /** The runner scopes the configs use (`enterprise`, `org`, `repo`): they decide the App's permissions. */
  runnerScopes: list('RUNNER_SCOPES'),
  /** The customer managed key the SecureStrings are written with, if the construct was given one. */
  secretsKeyId: optionalText('SECRETS_KEY_ID'),
  /** The stack, for the commands the pages name (`npx cdk-ephemeral-runners status --stack …`). */
  stackName: text('STACK_NAME'),
} as const;

/** What the setup token function (a custom resource) reads. */
export const SETUP_TOKEN_ENVIRONMENT = APP_CREDENTIAL_PARAMETERS;

/**
 * The teardown's waits, each unset in a deployment (the construct sets none of them). They are for a
 * control plane run at another pace: the offline sandbox's scaled clock.
 */
export const TEARDOWN_PACING_ENVIRONMENT = {
  /** How long no new instance of ours must be seen before the teardown answers (60 000: a provisioner run in flight lasts at most that). */
  teardownQuietMs: optionalMilliseconds('TEARDOWN_QUIET_MS'),
  /** The wait between two sweeps (5000). */
  teardownPollMs: optionalMilliseconds('TEARDOWN_POLL_MS'),
  /** The longest the teardown sweeps before it answers anyway (180 000, within the function's timeout). */
  teardownMaxWaitMs: optionalMilliseconds('TEARDOWN_MAX_WAIT_MS'),
} as const;

/**
 * What the teardown function (the custom resource that terminates the deployment's instances at the
 * stack's deletion) reads: the managed-by tag, which the construct sets, and its waits.
 */
export const TEARDOWN_ENVIRONMENT = {
  managedBy: CONTROL_PLANE_ENVIRONMENT.managedBy,
  ...TEARDOWN_PACING_ENVIRONMENT,
} as const;

/**
 * Set by the construct and read by no function: a hash of the runner configs, so that a config
 * change (kept in SSM) updates every function and retires warm containers' cached configs.
 */
export const RUNNER_CONFIG_HASH_VARIABLE = 'RUNNER_CONFIG_HASH';

/** Read by Powertools itself (metrics namespace and service name) and by Node.js (a private CA's bundle). */
export const RUNTIME_VARIABLES = {
  metricsNamespace: 'POWERTOOLS_METRICS_NAMESPACE',
  serviceName: 'POWERTOOLS_SERVICE_NAME',
  extraCaCertificates: 'NODE_EXTRA_CA_CERTS',
} as const;

/**
 * What the instance bootstrap (image-builder/bootstrap.sh) reads: exported by the launch templates'
 * user data before the script runs. Settings only, never a secret.
 */
/**
 * How long a warm pool instance may read its runner's files ahead of parking (the bootstrap's
 * READ_AHEAD_SECONDS). The warm pool allows its instances this much longer than the boot timeout
 * to park.
 */
export const WARM_READ_AHEAD_SECONDS = 120;

export const BOOTSTRAP_ENVIRONMENT = {
  /** The register endpoint's URL. */
  registerUrl: text('REGISTER_URL'),
  /** The SigV4 service name the bootstrap signs for: `lambda` (Function URL) or `execute-api`. */
  registerService: text('REGISTER_SERVICE'),
  /** How long the instance may take to get its runner config. */
  configTimeoutSeconds: seconds('CONFIG_TIMEOUT_SECONDS'),
  /** Where the bootstrap ships its own log lines (stream: the instance id) while the instance lives and as it powers off. */
  logGroupName: text('LOG_GROUP_NAME'),
  /** `1`: the runner's own diagnostic logs go to the log group too (a config's `debug.runnerLogs`). */
  runnerDiagnosticLogs: optionalText('RUNNER_DIAGNOSTIC_LOGS'),
  maxLifetimeSeconds: seconds('MAX_LIFETIME_SECONDS'),
  /** The most a warm pool instance spends reading its runner's files before it parks ({@link WARM_READ_AHEAD_SECONDS}). */
  readAheadSeconds: seconds('READ_AHEAD_SECONDS'),
  /**
   * The config's job-started hook, base64 of the script's text (one line, no quoting to get wrong);
   * the bootstrap writes it to a file and starts the runner with `ACTIONS_RUNNER_HOOK_JOB_STARTED` naming it.
   */
  jobStartedHook: optionalText('JOB_STARTED_HOOK_BASE64'),
  /** The config's job-completed hook, as `jobStartedHook`, for `ACTIONS_RUNNER_HOOK_JOB_COMPLETED`. */
  jobCompletedHook: optionalText('JOB_COMPLETED_HOOK_BASE64'),
  /** The config's job-started hook as an S3 object (`https://<bucket>.s3.<region>.<suffix>/<key>`) the bootstrap downloads, signed as the instance role. */
  jobStartedHookUrl: optionalText('JOB_STARTED_HOOK_URL'),
  /** The config's job-completed hook as an S3 object, as `jobStartedHookUrl`. */
  jobCompletedHookUrl: optionalText('JOB_COMPLETED_HOOK_URL'),
} as const;
