// Reads the runner config documents the construct writes to SSM (one String parameter each) and
// refuses anything the functions could not route or launch correctly. Pure: no SDK, no I/O.

import { ConfigError } from './errors';
import { CONTROL_PLANE_ENVIRONMENT } from '../../src/contracts/environment';
import {
  ImageSourceDocument,
  InstanceRequirementsDocument,
  ROUTING_PRIORITY_RANGE,
  RUNNER_CONFIG_DOCUMENT_VERSION,
  RunnerArchitectureName,
  RunnerConfigDocument,
  RunnerScopeName,
  SpotStrategyName,
  WarmPoolDocument,
} from '../../src/runner-config-document';
import { foldLabel, RoutingRank, routingLabels, SELF_HOSTED_LABEL } from '../../src/runner-labels';

/** A validated runner config and the parameter it came from. */
export interface RunnerConfig extends RunnerConfigDocument {
  readonly parameterName: string;
  /** Its `priority` and `order`, which break routing ties; absent from an older deployment's document. */
  readonly rank?: RoutingRank;
}

const SPOT_STRATEGIES: readonly SpotStrategyName[] = ['SPOT_ONLY', 'SPOT_PREFERRED', 'ON_DEMAND_ONLY'];
const SCOPES: readonly RunnerScopeName[] = ['enterprise', 'org', 'repo'];
// An enterprise's slug: lower-case letters, digits and inner hyphens (as GitHub makes it from the name).
const ENTERPRISE_SLUG = /^[a-z0-9](?:[a-z0-9-]{0,98}[a-z0-9])?$/;
const CONFIG_NAME = /^[a-z0-9-]{1,128}$/;
// EC2 instance type names: family (letters, digits, hyphens as in `u-6tb1`, `m7i-flex`), a dot, a size.
const INSTANCE_TYPE = /^[a-z0-9][a-z0-9-]*\.[a-z0-9-]+$/;

const FIX = 'The construct writes this parameter from its runnerConfigs prop: redeploy it, or correct the value by hand';

/** Parses one parameter's value. Throws {@link ConfigError} naming the parameter and the problem. */
export function parseRunnerConfigParameter(parameterName: string, value: string): RunnerConfig {
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch (e) {
    throw new ConfigError(`runner config parameter ${parameterName} is not JSON (${(e as Error).message}). ${FIX}.`, parameterName, { cause: e });
  }
  return parseRunnerConfigDocument(parameterName, json);
}

/** Validates a parsed document. Fields the reader does not know are ignored. */
export function parseRunnerConfigDocument(parameterName: string, json: unknown): RunnerConfig {
  const fail = (what: string): never => {
    throw new ConfigError(`runner config parameter ${parameterName}: ${what}. ${FIX}.`, parameterName);
  };
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return fail(`expected a JSON object, found ${describe(json)}`);
  }
  const doc = json as Record<string, unknown>;

  if (doc.version !== RUNNER_CONFIG_DOCUMENT_VERSION) {
    fail(`\`version\` must be ${RUNNER_CONFIG_DOCUMENT_VERSION}, found ${describe(doc.version)} (a newer construct needs newer functions: deploy both together)`);
  }
  const name = doc.name;
  if (typeof name !== 'string' || !CONFIG_NAME.test(name)) {
    fail(`\`name\` must be 1 to 128 lower-case letters, digits or hyphens, found ${describe(name)}`);
  }

  const labels = stringArray(doc.labels, 'labels', fail);
  for (const label of labels) {
    if (label.length === 0) fail('`labels` contains an empty string');
    if (foldLabel(label) !== label) fail(`\`labels\` must be case-folded: found ${JSON.stringify(label)}, expected ${JSON.stringify(foldLabel(label))}`);
    if (label === SELF_HOSTED_LABEL) fail(`\`labels\` must not contain ${SELF_HOSTED_LABEL} (routing ignores it; it belongs in runnerLabels)`);
  }
  const canonical = routingLabels(labels);
  if (!sameStrings(canonical, labels)) {
    fail(`\`labels\` must be sorted and without duplicates: found ${JSON.stringify(labels)}, expected ${JSON.stringify(canonical)}`);
  }

  const runnerLabels = stringArray(doc.runnerLabels, 'runnerLabels', fail);
  if (runnerLabels.some((label) => label.length === 0)) fail('`runnerLabels` contains an empty string');
  if (runnerLabels.length === 0 || foldLabel(runnerLabels[0]) !== SELF_HOSTED_LABEL) {
    fail(`\`runnerLabels\` must start with ${SELF_HOSTED_LABEL}, found ${JSON.stringify(runnerLabels)}`);
  }
  // The provisioner registers runners with runnerLabels and routing uses labels: if they disagree,
  // jobs would be routed to runners GitHub never hands them.
  if (!sameStrings(routingLabels(runnerLabels), labels)) {
    fail(`\`runnerLabels\` ${JSON.stringify(runnerLabels)} do not fold to \`labels\` ${JSON.stringify(labels)}`);
  }

  const rank = parseRank(doc, fail);

  const instanceTypes = stringArray(doc.instanceTypes, 'instanceTypes', fail);
  const instanceRequirements = doc.instanceRequirements === undefined ? undefined : parseRequirements(doc.instanceRequirements, fail);
  if (instanceTypes.length === 0 && !instanceRequirements) fail('`instanceTypes` must name at least one EC2 instance type, or `instanceRequirements` give vCPU and memory ranges');
  if (instanceTypes.length > 0 && instanceRequirements) fail('give `instanceTypes` or `instanceRequirements`, not both');
  for (const type of instanceTypes) {
    if (!INSTANCE_TYPE.test(type)) fail(`\`instanceTypes\` contains ${JSON.stringify(type)}, which is not an EC2 instance type name such as m7i.large`);
  }

  const spot = doc.spot;
  if (!SPOT_STRATEGIES.includes(spot as SpotStrategyName)) {
    fail(`\`spot\` must be one of ${SPOT_STRATEGIES.join(', ')}, found ${describe(spot)}`);
  }
  const maxRunners = doc.maxRunners;
  if (!Number.isSafeInteger(maxRunners) || (maxRunners as number) < 0) {
    fail(`\`maxRunners\` must be a whole number of at least 0, found ${describe(maxRunners)}`);
  }
  const scope = doc.scope;
  if (!SCOPES.includes(scope as RunnerScopeName)) {
    fail(`\`scope\` must be one of ${SCOPES.join(', ')}, found ${describe(scope)}`);
  }
  const enterprise = doc.enterprise;
  if (scope === 'enterprise' && (typeof enterprise !== 'string' || !ENTERPRISE_SLUG.test(enterprise))) {
    fail(`\`enterprise\` must be the enterprise's slug (lower-case letters, digits, hyphens) for scope enterprise, found ${describe(enterprise)}`);
  }
  const runnerGroupId = doc.runnerGroupId;
  if (!Number.isSafeInteger(runnerGroupId) || (runnerGroupId as number) < 1) {
    fail(`\`runnerGroupId\` must be a positive whole number (1 is the Default group), found ${describe(runnerGroupId)}`);
  }
  const runnerGroupName = doc.runnerGroupName;
  if (runnerGroupName !== undefined && (typeof runnerGroupName !== 'string' || runnerGroupName.trim() === '')) {
    fail(`\`runnerGroupName\` must be a runner group's name, found ${describe(runnerGroupName)}`);
  }

  const architecture = doc.architecture ?? 'x64';
  if (architecture !== 'x64' && architecture !== 'arm64') fail(`\`architecture\` must be x64 or arm64, found ${describe(architecture)}`);
  const image = doc.image === undefined ? undefined : parseImage(doc.image, fail);
  const warmPool = doc.warmPool === undefined ? undefined : parseWarmPool(doc.warmPool, maxRunners as number, fail);

  return {
    parameterName,
    version: RUNNER_CONFIG_DOCUMENT_VERSION,
    architecture: architecture as RunnerArchitectureName,
    name: name as string,
    labels,
    runnerLabels,
    ...(rank ? { priority: rank.priority, order: rank.order, rank } : {}),
    instanceTypes,
    ...(instanceRequirements ? { instanceRequirements } : {}),
    spot: spot as SpotStrategyName,
    maxRunners: maxRunners as number,
    scope: scope as RunnerScopeName,
    ...(scope === 'enterprise' ? { enterprise: enterprise as string } : {}),
    runnerGroupId: runnerGroupId as number,
    ...(runnerGroupName !== undefined ? { runnerGroupName: runnerGroupName as string } : {}),
    ...(image ? { image } : {}),
    ...(warmPool ? { warmPool } : {}),
  };
}

/**
 * Checks a whole set read from one path: at least one config, names unique. Ties between configs
 * are not refused: routing breaks them by rank, and reports one it cannot break per job.
 */
export function checkRunnerConfigSet(configs: readonly RunnerConfig[], path: string): readonly RunnerConfig[] {
  if (configs.length === 0) {
    throw new ConfigError(`no runner config parameters found under ${path}. The construct writes one per runnerConfigs entry: check ${CONTROL_PLANE_ENVIRONMENT.runnerConfigPath.name} and redeploy.`);
  }
  const byName = new Map<string, RunnerConfig>();
  for (const config of configs) {
    const other = byName.get(config.name);
    if (other) {
      throw new ConfigError(
        `runner config name ${config.name} is used by both ${other.parameterName} and ${config.parameterName}; names must be unique. ${FIX}.`,
        config.parameterName,
      );
    }
    byName.set(config.name, config);
  }
  return configs;
}

/**
 * `priority` and `order` come together: the construct writes both, a deployment older than the
 * tie rule neither (its configs then have no rank, and a tie involving them stays ambiguous).
 */
function parseRank(doc: Record<string, unknown>, fail: (what: string) => never): RoutingRank | undefined {
  const { priority, order } = doc;
  if (priority === undefined && order === undefined) return undefined;
  const { min, max } = ROUTING_PRIORITY_RANGE;
  if (!Number.isSafeInteger(priority) || (priority as number) < min || (priority as number) > max) {
    fail(`\`priority\` must be a whole number from ${min} to ${max} when \`order\` is given, found ${describe(priority)}`);
  }
  if (!Number.isSafeInteger(order) || (order as number) < 0) {
    fail(`\`order\` must be a whole number of at least 0 when \`priority\` is given, found ${describe(order)}`);
  }
  return { priority: priority as number, order: order as number };
}

function parseRequirements(value: unknown, fail: (what: string) => never): InstanceRequirementsDocument {
  const r = (typeof value === 'object' && value !== null && !Array.isArray(value) ? value : fail(`\`instanceRequirements\` must be an object, found ${describe(value)}`)) as Record<string, unknown>;
  const whole = (field: string, min: number, optional: boolean): number | undefined => {
    const v = r[field];
    if (v === undefined && optional) return undefined;
    if (!Number.isSafeInteger(v) || (v as number) < min) fail(`\`instanceRequirements.${field}\` must be a whole number of at least ${min}, found ${describe(v)}`);
    return v as number;
  };
  const vCpuMin = whole('vCpuMin', 1, false)!;
  const vCpuMax = whole('vCpuMax', vCpuMin, true);
  const memoryMiBMin = whole('memoryMiBMin', 0, false)!;
  const memoryMiBMax = whole('memoryMiBMax', Math.max(1, memoryMiBMin), true);
  return { vCpuMin, vCpuMax, memoryMiBMin, memoryMiBMax };
}

function parseWarmPool(value: unknown, maxRunners: number, fail: (what: string) => never): WarmPoolDocument {
  const w = (typeof value === 'object' && value !== null && !Array.isArray(value) ? value : fail(`\`warmPool\` must be an object, found ${describe(value)}`)) as Record<string, unknown>;
  const size = w.size;
  if (!Number.isSafeInteger(size) || (size as number) < 1 || (size as number) > maxRunners) {
    fail(`\`warmPool.size\` must be a whole number from 1 to maxRunners (${maxRunners}), found ${describe(size)}`);
  }
  if (w.schedule === undefined) return { size: size as number };
  const s = (typeof w.schedule === 'object' && w.schedule !== null && !Array.isArray(w.schedule)
    ? w.schedule : fail(`\`warmPool.schedule\` must be an object, found ${describe(w.schedule)}`)) as Record<string, unknown>;
  const { timeZone, weekdays, startHour, endHour } = s;
  if (typeof timeZone !== 'string' || !isTimeZone(timeZone)) fail(`\`warmPool.schedule.timeZone\` must be an IANA time zone, found ${describe(timeZone)}`);
  if (!Array.isArray(weekdays) || weekdays.length === 0 || !weekdays.every((d) => Number.isInteger(d) && d >= 1 && d <= 7)) {
    fail(`\`warmPool.schedule.weekdays\` must list ISO weekdays (1 Monday to 7 Sunday), found ${describe(weekdays)}`);
  }
  if (!Number.isInteger(startHour) || (startHour as number) < 0 || (startHour as number) > 23) {
    fail(`\`warmPool.schedule.startHour\` must be a whole hour from 0 to 23, found ${describe(startHour)}`);
  }
  if (!Number.isInteger(endHour) || (endHour as number) <= (startHour as number) || (endHour as number) > 24) {
    fail(`\`warmPool.schedule.endHour\` must be a whole hour after startHour, at most 24, found ${describe(endHour)}`);
  }
  return {
    size: size as number,
    schedule: { timeZone: timeZone as string, weekdays: weekdays as number[], startHour: startHour as number, endHour: endHour as number },
  };
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

function parseImage(value: unknown, fail: (what: string) => never): ImageSourceDocument {
  const image = (typeof value === 'object' && value !== null && !Array.isArray(value) ? value : fail(`\`image\` must be an object, found ${describe(value)}`)) as Record<string, unknown>;
  const { parameterName, amiId } = image;
  if ((parameterName === undefined) === (amiId === undefined)) fail(`\`image\` must give one of parameterName or amiId, found ${describe(value)}`);
  if (parameterName !== undefined && (typeof parameterName !== 'string' || !/^[A-Za-z0-9_.\-/:]{1,2048}$/.test(parameterName))) {
    fail(`\`image.parameterName\` must be an SSM parameter name or ARN, found ${describe(parameterName)}`);
  }
  if (amiId !== undefined && (typeof amiId !== 'string' || !/^ami-[0-9a-f]{8,17}$/.test(amiId))) {
    fail(`\`image.amiId\` must be an AMI id (ami-…), found ${describe(amiId)}`);
  }
  return parameterName !== undefined ? { parameterName: parameterName as string } : { amiId: amiId as string };
}

function stringArray(value: unknown, field: string, fail: (what: string) => never): string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    return fail(`\`${field}\` must be an array of strings, found ${describe(value)}`);
  }
  return [...value] as string[];
}

function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** A short description of an unexpected value for an error message. */
function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
