// The launch decision of an instant fleet: expand each override into pools (instance type × subnet),
// order them by the market's allocation strategy, and fill the target capacity pool by pool. What a
// pool cannot give becomes a per-override error; nothing falls back from spot to on-demand, because
// an instant fleet does not (reference/aws.md 1.6).
import { FleetLaunchKey } from './authorization';
import { CapacityModel, PoolKey } from './capacity';
import { findInstanceType, matchInstanceRequirements, spotPriceOf } from './catalog';
import { CapacityErrorCode, CapacityFault, Ec2Faults } from './faults';
import { FleetRequest, LaunchConfigRequest, MarketOptions, OverrideRequest } from './fleet-request';
import { overrideErrorMessage } from './messages';
import { InstanceTypeInfo, Market, MARKETS, SubnetInfo } from './types';

/** One pool an override can launch into. */
export interface Candidate {
  readonly config: LaunchConfigRequest;
  readonly override: OverrideRequest;
  readonly instanceType: InstanceTypeInfo;
  readonly subnet: SubnetInfo;
  readonly weight: number;
  readonly imageId?: string;
}

export interface Allocation {
  readonly candidate: Candidate;
  readonly market: Market;
  readonly count: number;
}

export interface OverrideError {
  readonly config: LaunchConfigRequest;
  readonly override: OverrideRequest;
  readonly market: Market;
  readonly code: string;
  readonly message: string;
  /** The pool that failed, when there was one; echoed into `overrides` so callers learn which pool. */
  readonly instanceType?: string;
  readonly subnet?: SubnetInfo;
}

export interface FleetPlan {
  readonly allocations: readonly Allocation[];
  readonly errors: readonly OverrideError[];
}

export interface PlanContext {
  readonly catalog: readonly InstanceTypeInfo[];
  readonly subnets: readonly SubnetInfo[];
  readonly capacity: CapacityModel;
  readonly faults: Ec2Faults;
  /** IAM's verdict on launching into a pool on the caller's behalf (see ./authorization.ts): an error, or undefined to go on. */
  readonly launchError?: (launch: FleetLaunchKey) => { readonly code: string; readonly message: string } | undefined;
}

/** What one fill pass took, so a trial (single-AZ / single-type) can be discarded. */
interface Ledger {
  readonly reserved: Map<string, number>;
  readonly usage: Record<Market, { instances: number; vcpus: number }>;
  readonly allocations: Allocation[];
  readonly errors: OverrideError[];
}

const poolKey = (c: Candidate, market: Market): PoolKey =>
  ({ instanceType: c.instanceType.name, availabilityZone: c.subnet.availabilityZone, market });
const keyString = (p: PoolKey) => `${p.instanceType}|${p.availabilityZone}|${p.market}`;

export function planFleet(request: FleetRequest, ctx: PlanContext): FleetPlan {
  const errors: OverrideError[] = [];
  const candidates = expand(request, ctx, errors);
  // One fault verdict per pool and request: retrying the same pool within a request cannot change it.
  const verdicts = new Map<string, CapacityFault | undefined>();
  const verdict = (pool: PoolKey) => {
    const key = keyString(pool);
    if (!verdicts.has(key)) verdicts.set(key, ctx.faults.capacityFault(pool));
    return verdicts.get(key);
  };
  const ledger: Ledger = {
    reserved: new Map(),
    usage: { 'spot': { instances: 0, vcpus: 0 }, 'on-demand': { instances: 0, vcpus: 0 } },
    allocations: [],
    errors,
  };
  for (const market of MARKETS) {
    const need = request.need[market];
    if (need <= 0) continue;
    const options: MarketOptions<string> = market === 'spot' ? request.spotOptions : request.onDemandOptions;
    // Pools IAM refuses answer their error and launch nothing; the others go on (karpenter#7370).
    const allowed = candidates.filter((c) => {
      const denied = ctx.launchError?.({
        launchTemplateId: c.config.template.launchTemplateId,
        subnetId: c.subnet.subnetId,
        imageId: c.imageId ?? '',
        imageFromOverride: c.override.imageId !== undefined,
        market,
      });
      if (!denied) return true;
      const e: OverrideError = { ...error(c.config, c.override, market, denied.code, c), message: denied.message };
      if (!errors.some((x) => sameError(x, e))) errors.push(e);
      return false;
    });
    const weighted = allowed.map((c) => ({ ...c, weight: weightOf(c, request) }));
    const ordered = order(weighted, market, options.allocationStrategy, need, ctx, ledger);
    const groups = options.singleInstanceType || options.singleAvailabilityZone
      ? groupBy(ordered, (c) => `${options.singleInstanceType ? c.instanceType.name : ''}|${options.singleAvailabilityZone ? c.subnet.availabilityZone : ''}`)
      : [ordered];
    let best: { trial: Ledger; units: number } | undefined;
    for (const group of groups) {
      const trial = fill(group, market, need, options.allocationStrategy === 'diversified', ctx, ledger, verdict);
      const units = trial.allocations.reduce((sum, a) => sum + a.count * a.candidate.weight, 0);
      if (!best || units > best.units) best = { trial, units };
      if (units >= need) break;
    }
    if (!best) continue;
    errors.push(...best.trial.errors.filter((e) => !errors.some((x) => sameError(x, e))));
    // MinTargetCapacity: all or nothing for the market (reference/aws.md 1.3).
    if (options.minTargetCapacity !== undefined && best.units < options.minTargetCapacity) continue;
    commit(ledger, best.trial);
  }
  return { allocations: ledger.allocations, errors };
}

function expand(request: FleetRequest, ctx: PlanContext, errors: OverrideError[]): Candidate[] {
  const markets = MARKETS.filter((m) => request.need[m] > 0);
  const out: Candidate[] = [];
  for (const config of request.configs) {
    const overrides: OverrideRequest[] = config.overrides.length > 0 ? [...config.overrides] : [{}];
    for (const override of overrides) {
      const subnets = override.subnetId !== undefined
        ? ctx.subnets.filter((s) => s.subnetId === override.subnetId)
        : ctx.subnets.filter((s) => override.availabilityZone === undefined || s.availabilityZone === override.availabilityZone);
      if (override.instanceRequirements) {
        // Attribute-based selection picks among the types each zone offers; an unoffered one is no error.
        const pools = matchInstanceRequirements(ctx.catalog, override.instanceRequirements).flatMap((instanceType) =>
          subnets.filter((s) => ctx.faults.offered(instanceType.name, s.availabilityZone))
            .map((subnet) => ({ config, override, instanceType, subnet, weight: 1, imageId: override.imageId ?? config.template.data.imageId })));
        if (pools.length === 0) {
          for (const market of markets) errors.push(error(config, override, market, 'UnfulfillableCapacity'));
        }
        out.push(...pools);
        continue;
      }
      // The request was refused already when the name is no type at all (fleet-request.ts); here
      // the type exists and each zone either offers it or answers as EC2 does for a zone that does
      // not, once per pool (reference/aws.md 1.6; karpenter-provider-aws #6483, #1219).
      const name = override.instanceType ?? config.template.data.instanceType;
      const known = name === undefined ? undefined : findInstanceType(ctx.catalog, name);
      if (!known) {
        // Observed shape with no type at all: "(null)" and empty overrides (reference/aws.md 1.6).
        for (const market of markets) {
          errors.push({ ...error(config, override, market, 'InvalidFleetConfiguration'), message: unsupportedInZone(name, subnets[0]?.availabilityZone) });
        }
        continue;
      }
      for (const subnet of subnets) {
        if (!ctx.faults.offered(known.name, subnet.availabilityZone)) {
          for (const market of markets) {
            errors.push({
              ...error(config, override, market, 'InvalidFleetConfiguration'),
              message: unsupportedInZone(known.name, subnet.availabilityZone),
              instanceType: known.name,
              subnet,
            });
          }
          continue;
        }
        out.push({ config, override, instanceType: known, subnet, weight: 1, imageId: override.imageId ?? config.template.data.imageId });
      }
    }
  }
  return out;
}

/** EC2's words for a type the zone does not offer (karpenter-provider-aws #6483; RunInstances says the same with code Unsupported). */
export function unsupportedInZone(instanceType: string | undefined, availabilityZone: string | undefined): string {
  return `Your requested instance type (${instanceType ?? 'null'}) is not supported in your requested Availability Zone (${availabilityZone}).`;
}

function weightOf(c: Candidate, request: FleetRequest): number {
  if (request.unitType === 'vcpu') return c.instanceType.vcpus;
  if (request.unitType === 'memory-mib') return c.instanceType.memoryMiB;
  return c.override.weightedCapacity ?? 1;
}

/** Orders pools the way the strategy prefers them; ties keep request order. */
function order(cands: Candidate[], market: Market, strategy: string, need: number, ctx: PlanContext, ledger: Ledger): Candidate[] {
  const price = (c: Candidate) => (market === 'spot' ? spotPriceOf(c.instanceType) : c.instanceType.onDemandPrice) / c.weight;
  const avail = (c: Candidate) => {
    const pool = poolKey(c, market);
    return ctx.capacity.available(pool, ledger.reserved.get(keyString(pool)) ?? 0) * c.weight;
  };
  const priority = (c: Candidate) => c.override.priority ?? Infinity;
  const keys: ((c: Candidate) => number)[] = {
    'lowest-price': [price],
    'prioritized': [priority, price],
    'capacity-optimized': [(c: Candidate) => -avail(c)],
    'capacity-optimized-prioritized': [priority, (c: Candidate) => -avail(c)],
    // Deep pools first (those that can take the whole remaining need rank equal), then the cheapest.
    'price-capacity-optimized': [(c: Candidate) => -Math.min(avail(c), need), price],
    'diversified': [],
  }[strategy] ?? [price];
  return cands
    .map((c, index) => ({ c, index, k: keys.map((f) => f(c)) }))
    .sort((a, b) => {
      for (let i = 0; i < a.k.length; i++) if (a.k[i] !== b.k[i]) return a.k[i] < b.k[i] ? -1 : 1;
      return a.index - b.index;
    })
    .map((x) => x.c);
}

function fill(
  ordered: Candidate[],
  market: Market,
  need: number,
  diversified: boolean,
  ctx: PlanContext,
  base: Ledger,
  verdict: (pool: PoolKey) => CapacityFault | undefined,
): Ledger {
  const trial: Ledger = {
    reserved: new Map(base.reserved),
    usage: { 'spot': { ...base.usage.spot }, 'on-demand': { ...base.usage['on-demand'] } },
    allocations: [],
    errors: [],
  };
  const addError = (e: OverrideError) => {
    if (!trial.errors.some((x) => sameError(x, e))) trial.errors.push(e);
  };
  const blocked = new Set<Candidate>();
  let remaining = need;
  let progress = true;
  while (remaining > 0 && progress) {
    progress = false;
    for (const c of ordered) {
      if (remaining <= 0) break;
      if (blocked.has(c)) continue;
      const pool = poolKey(c, market);
      const problem = launchProblem(c, market, verdict(pool));
      if (problem) {
        addError({ ...error(c.config, c.override, market, problem.code, c), message: problem.message ?? overrideErrorMessage(problem.code, pool) });
        blocked.add(c);
        continue;
      }
      const want = diversified ? 1 : Math.ceil(remaining / c.weight);
      const room = ctx.capacity.quotaRoom(market, c.instanceType.vcpus, trial.usage[market]);
      const available = ctx.capacity.available(pool, trial.reserved.get(keyString(pool)) ?? 0);
      const count = Math.min(want, available, room.instances);
      if (count > 0) {
        trial.allocations.push({ candidate: c, market, count });
        trial.reserved.set(keyString(pool), (trial.reserved.get(keyString(pool)) ?? 0) + count);
        trial.usage[market].instances += count;
        trial.usage[market].vcpus += count * c.instanceType.vcpus;
        remaining -= count * c.weight;
        progress = true;
      }
      if (count < want) {
        const quotaBound = room.instances < want && room.instances <= available && room.code !== undefined;
        const code: CapacityErrorCode = quotaBound ? room.code! : 'InsufficientInstanceCapacity';
        addError({ ...error(c.config, c.override, market, code, c), message: overrideErrorMessage(code, pool, room.limit) });
        blocked.add(c);
      }
    }
  }
  return trial;
}

/** Problems a pool has before capacity is even considered. */
function launchProblem(c: Candidate, market: Market, fault: CapacityFault | undefined): { code: string; message?: string } | undefined {
  if (fault) return fault;
  if (c.imageId === undefined) {
    return { code: 'MissingParameter', message: 'The request must contain the parameter ImageId (neither the launch template nor the override sets one).' };
  }
  // A one-time spot instance cannot stop; EC2 refuses stop as its shutdown behaviour [I].
  if (market === 'spot' && c.config.template.data.instanceInitiatedShutdownBehavior === 'stop') {
    return {
      code: 'InvalidParameterCombination',
      message: 'The instance-initiated shutdown behavior of a one-time Spot Instance must be terminate; the launch template says stop.',
    };
  }
  return undefined;
}

function error(config: LaunchConfigRequest, override: OverrideRequest, market: Market, code: string, pool?: Candidate): OverrideError {
  return {
    config,
    override,
    market,
    code,
    message: overrideErrorMessage(code, undefined),
    instanceType: pool?.instanceType.name,
    subnet: pool?.subnet,
  };
}

function sameError(a: OverrideError, b: OverrideError): boolean {
  return a.config === b.config && a.override === b.override && a.market === b.market && a.code === b.code &&
    a.instanceType === b.instanceType && a.subnet?.subnetId === b.subnet?.subnetId;
}

function commit(ledger: Ledger, trial: Ledger): void {
  for (const [key, n] of trial.reserved) ledger.reserved.set(key, n);
  for (const market of MARKETS) ledger.usage[market] = { ...trial.usage[market] };
  ledger.allocations.push(...trial.allocations);
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): T[][] {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return [...groups.values()];
}
