// Runner and pool items of the state table and their conversion from and to the domain's records.
import { compact, Item, num, optNum, optStr, str } from './attributes';
import { StateItemError } from './errors';
import { scopeFromItem } from './items';
import { ItemKey, PARTITION_KEY, POOL_INDEX, SORT_KEY } from './table-schema';
import { JobKey } from '../core/job';
import { isHoldReason, LaunchHold } from '../core/launch-hold';
import { InterruptedJob, PoolRecord } from '../core/pool';
import { ACTIVE_RUNNER_STATES, Market, RetireReason, RUNNER_STATES, RunnerRecord, RunnerState } from '../core/runner';

export function runnerItemKey(instanceId: string): ItemKey {
  return { [PARTITION_KEY]: `RUNNER#${instanceId}`, [SORT_KEY]: 'RUNNER' };
}

export function poolItemKey(poolId: string): ItemKey {
  return { [PARTITION_KEY]: `POOL#${poolId}`, [SORT_KEY]: 'POOL' };
}

/** Sort key of a live runner in the pool index. */
export function runnerPoolSort(state: RunnerState, instanceId: string): string {
  return `RUNNER#${state}#${instanceId}`;
}

/** Sort key of a pool item in the pool index, while it has pending work. */
export const POOL_POOL_SORT = 'POOL';

export function runnerToItem(runner: RunnerRecord): Item {
  const active = ACTIVE_RUNNER_STATES.includes(runner.state);
  return compact({
    ...runnerItemKey(runner.instanceId),
    itemType: 'runner',
    instanceId: runner.instanceId,
    state: runner.state,
    market: runner.market,
    launchedAt: runner.launchedAt,
    registeredAt: runner.registeredAt,
    runnerName: runner.runnerName,
    runnerId: runner.runnerId,
    pool: runner.poolId,
    configName: runner.configName,
    scope: runner.scope,
    claimedAt: runner.claimedAt,
    imageId: runner.imageId,
    job: runner.job,
    costTaggedJob: runner.costTaggedJob,
    retireReason: runner.retireReason,
    updatedAt: runner.updatedAt,
    version: runner.version,
    [POOL_INDEX.partitionKey]: active ? runner.poolId : undefined,
    [POOL_INDEX.sortKey]: active ? runnerPoolSort(runner.state, runner.instanceId) : undefined,
  });
}

export function runnerFromItem(item: Item): RunnerRecord {
  const where = `runner item ${String(item[PARTITION_KEY])}`;
  const state = str(item, 'state', where);
  if (!RUNNER_STATES.includes(state as RunnerState)) throw new StateItemError(`${where}: unknown state ${state}`);
  const market = str(item, 'market', where);
  if (market !== 'spot' && market !== 'on-demand') throw new StateItemError(`${where}: unknown market ${market}`);
  return compact({
    instanceId: str(item, 'instanceId', where),
    state: state as RunnerState,
    market: market as Market,
    launchedAt: num(item, 'launchedAt', where),
    registeredAt: optNum(item, 'registeredAt', where),
    runnerName: optStr(item, 'runnerName', where),
    runnerId: optNum(item, 'runnerId', where),
    poolId: str(item, 'pool', where),
    configName: str(item, 'configName', where),
    scope: item.scope === undefined ? undefined : scopeFromItem(item.scope, where),
    claimedAt: optNum(item, 'claimedAt', where),
    imageId: optStr(item, 'imageId', where),
    job: item.job === undefined ? undefined : jobKeyFromItem(item.job, where),
    costTaggedJob: optNum(item, 'costTaggedJob', where),
    retireReason: optStr(item, 'retireReason', where) as RetireReason | undefined,
    updatedAt: num(item, 'updatedAt', where),
    version: num(item, 'version', where),
  }) as RunnerRecord;
}

export function poolToItem(pool: PoolRecord, pending: boolean): Item {
  return compact({
    ...poolItemKey(pool.poolId),
    itemType: 'pool',
    pool: pool.poolId,
    configName: pool.configName,
    scope: pool.scope,
    version: pool.version,
    generation: pool.generation,
    tokenSalt: pool.tokenSalt,
    pendingLaunch: pool.pendingLaunch,
    spot: pool.spot,
    interruptedJobs: pool.interruptedJobs,
    recentLaunches: pool.recentLaunches,
    lastActiveAt: pool.lastActiveAt,
    launchHold: pool.launchHold,
    // In the index only while the reconciler must come back for it.
    [POOL_INDEX.partitionKey]: pending ? pool.poolId : undefined,
    [POOL_INDEX.sortKey]: pending ? POOL_POOL_SORT : undefined,
  });
}

export function poolFromItem(item: Item): PoolRecord {
  const where = `pool item ${String(item[PARTITION_KEY])}`;
  const spot = (item.spot ?? {}) as Item;
  return compact({
    poolId: str(item, 'pool', where),
    configName: str(item, 'configName', where),
    scope: item.scope === undefined ? undefined : scopeFromItem(item.scope, where),
    version: num(item, 'version', where),
    generation: num(item, 'generation', where),
    tokenSalt: optStr(item, 'tokenSalt', where),
    pendingLaunch: item.pendingLaunch as PoolRecord['pendingLaunch'],
    spot: {
      consecutiveFailures: num(spot, 'consecutiveFailures', where),
      preferOnDemandUntil: num(spot, 'preferOnDemandUntil', where),
      onDemandCredits: num(spot, 'onDemandCredits', where),
    },
    interruptedJobs: ((item.interruptedJobs ?? []) as unknown[]).map((k) => interruptedJobFromItem(k, where)),
    recentLaunches: (item.recentLaunches ?? []) as PoolRecord['recentLaunches'],
    lastActiveAt: num(item, 'lastActiveAt', where),
    launchHold: item.launchHold === undefined ? undefined : launchHoldFromItem(item.launchHold as Item, where),
  }) as PoolRecord;
}

function interruptedJobFromItem(value: unknown, where: string): InterruptedJob {
  const wait = ((value ?? {}) as Item).rerunWait as Item | undefined;
  const key = jobKeyFromItem(value, where);
  if (wait === undefined) return key;
  return { ...key, rerunWait: { since: num(wait, 'since', where), attempts: num(wait, 'attempts', where), nextAttemptAt: num(wait, 'nextAttemptAt', where) } };
}

function jobKeyFromItem(value: unknown, where: string): JobKey {
  const k = (value ?? {}) as Item;
  return { githubHost: str(k, 'githubHost', where), jobId: num(k, 'jobId', where) };
}

function launchHoldFromItem(item: Item, where: string): LaunchHold {
  const reason = str(item, 'reason', `${where} launchHold`);
  if (!isHoldReason(reason)) throw new StateItemError(`${where}: launchHold.reason ${reason} is not one the register endpoint holds launches for`);
  return { reason, refusals: num(item, 'refusals', where), refusedAt: num(item, 'refusedAt', where), until: num(item, 'until', where) };
}
