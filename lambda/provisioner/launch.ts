// One launch of a pool, crash-safe: the launch is written to the pool item (with its ClientToken)
// before CreateFleet is called, and cleared only once its instances are recorded as runners. A
// crash in between leaves the pending launch, and the next reconcile recovers the very same
// instances instead of launching again.
import { createHash, randomBytes } from 'crypto';
import { ProvisionerDeps } from './deps';
import { ConcurrentReconcileError } from './errors';
import { forEachConcurrently } from '../common/concurrency';
import { LaunchedInstance, LaunchError, LaunchFailedError, LaunchResult } from '../core/compute';
import { DEFAULT_SPOT_POLICY, recordLaunch, SpotPolicy } from '../core/launch-plan';
import { PendingLaunch, PoolRecord, RECENT_LAUNCH_WINDOW_MS } from '../core/pool';
import { Market, RunnerRecord } from '../core/runner';
import { RunnerConfig } from '../core/runner-config';
import { configOfWarmPoolId } from '../core/warm-pool';

/** Runner items written at once after a launch. */
const RUNNER_WRITE_CONCURRENCY = 10;

export interface LaunchOutcome {
  readonly pool: PoolRecord;
  readonly market: Market;
  readonly requested: number;
  readonly instances: readonly LaunchedInstance[];
  readonly errors: readonly LaunchError[];
}

/**
 * A ClientToken per deployment, pool item and generation (at most 64 ASCII characters, as EC2
 * allows). A new generation for every attempt: EC2 consumes a token even when nothing launched,
 * and a retry with other parameters under the same token is refused (IdempotentParameterMismatch).
 * Tokens are per account and region, so the deployment's id and the pool item's random salt keep
 * two stacks serving the same pool, or a redeploy whose table was replaced, from reusing one
 * (https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-idempotency.html).
 */
export function clientToken(managedBy: string, poolId: string, salt: string, generation: number): string {
  return `er-${createHash('sha256').update(`${managedBy}\n${poolId}\n${salt}`).digest('hex').slice(0, 32)}-${generation}`;
}

/** Launches `count` instances of `market` for the pool; returns the pool as saved afterwards. */
export async function launch(
  deps: ProvisionerDeps, pool: PoolRecord, config: RunnerConfig, market: Market, count: number, imageId: string | undefined,
  policy: SpotPolicy = DEFAULT_SPOT_POLICY,
): Promise<LaunchOutcome> {
  const now = deps.clock.now();
  const generation = pool.generation + 1;
  const tokenSalt = pool.tokenSalt ?? randomBytes(12).toString('hex');
  const pending: PendingLaunch = {
    clientToken: clientToken(deps.settings.managedBy, pool.poolId, tokenSalt, generation),
    market,
    count,
    instanceTypes: config.instanceTypes,
    instanceRequirements: config.instanceRequirements,
    imageId,
    ...(isWarmPool(pool) ? { warm: true } : {}),
    startedAt: now,
  };
  const started = { ...pool, generation, tokenSalt, pendingLaunch: pending };
  if (!(await deps.pools.savePool(started, now))) throw new ConcurrentReconcileError(pool.poolId);
  const claimed = { ...started, version: started.version + 1 };

  let result: LaunchResult;
  try {
    result = await deps.compute.launch({
      poolId: pool.poolId,
      configName: config.name,
      market,
      count,
      clientToken: pending.clientToken,
      instanceTypes: pending.instanceTypes,
      instanceRequirements: pending.instanceRequirements,
      imageId: pending.imageId,
      architecture: config.architecture,
      warm: pending.warm,
    });
  } catch (error) {
    // EC2 answered with an error: nothing launched, the launch is over. Any other failure (a
    // timeout, a crash) leaves the launch pending, to be recovered with the same token.
    if (!(error instanceof LaunchFailedError)) throw error;
    result = { instances: [], errors: [{ code: error.code, message: error.message, kind: error.kind }] };
  }
  return finishLaunch(deps, claimed, config, result, policy);
}

/** Recovers a launch a crash left pending: the same call again, or the instances found by its tag. */
export async function recoverPendingLaunch(
  deps: ProvisionerDeps, pool: PoolRecord, config: RunnerConfig, policy: SpotPolicy = DEFAULT_SPOT_POLICY,
): Promise<PoolRecord> {
  const pending = pool.pendingLaunch!;
  let result: LaunchResult;
  try {
    result = await deps.compute.launch({
      poolId: pool.poolId,
      configName: config.name,
      market: pending.market,
      count: pending.count,
      clientToken: pending.clientToken,
      instanceTypes: pending.instanceTypes,
      instanceRequirements: pending.instanceRequirements,
      imageId: pending.imageId,
      architecture: config.architecture,
      warm: pending.warm,
    });
  } catch (error) {
    if (!(error instanceof LaunchFailedError)) throw error;
    // The token's parameters no longer match (a config change in between), or EC2 refused the
    // call: the instances it launched, if any, carry the token as a tag.
    result = { instances: await deps.compute.findLaunch(pending.clientToken), errors: [] };
  }
  deps.logger.warn('recovered a pending launch', { pool: pool.poolId, clientToken: pending.clientToken, instances: result.instances.map((i) => i.instanceId) });
  return (await finishLaunch(deps, pool, config, result, policy)).pool;
}

function isWarmPool(pool: PoolRecord): boolean {
  return configOfWarmPoolId(pool.poolId) !== undefined;
}

async function finishLaunch(
  deps: ProvisionerDeps, pool: PoolRecord, config: RunnerConfig, result: LaunchResult, policy: SpotPolicy,
): Promise<LaunchOutcome> {
  const pending = pool.pendingLaunch!;
  const now = deps.clock.now();
  // One conditional write per instance, several at a time: a large launch is recorded before its
  // first instances finish booting and ask to register.
  await forEachConcurrently(result.instances, RUNNER_WRITE_CONCURRENCY, async (instance) => {
    // A warm pool instance boots once, is told to power off, and parks stopped (`warming` → `warm`).
    const runner: RunnerRecord = {
      instanceId: instance.instanceId,
      state: pending.warm ? 'warming' : 'booting',
      market: instance.market,
      launchedAt: now,
      poolId: pool.poolId,
      configName: config.name,
      ...(pool.scope ? { scope: pool.scope } : {}),
      ...(pending.imageId ? { imageId: pending.imageId } : {}),
      updatedAt: now,
      version: 1,
    };
    await deps.runners.putRunner(runner);
    deps.logger.info('launched runner instance', { pool: pool.poolId, instance: instance.instanceId, market: instance.market, instanceType: instance.instanceType });
  });
  // Errors on some overrides do not matter when others filled the request.
  const shortfall = result.instances.length < pending.count;
  const capacityFailure = shortfall && result.errors.some((e) => e.kind === 'capacity' || e.kind === 'quota');
  const spotUnavailable = shortfall && result.errors.some((e) => e.kind === 'spot');
  const recentLaunches = [
    ...pool.recentLaunches.filter((l) => now - l.launchedAt < RECENT_LAUNCH_WINDOW_MS),
    ...result.instances.map((i) => ({ instanceId: i.instanceId, market: i.market, launchedAt: now })),
  ];
  const finished: PoolRecord = {
    ...pool,
    pendingLaunch: undefined,
    recentLaunches,
    spot: recordLaunch(pool.spot, policy, {
      market: pending.market, requested: pending.count, launched: result.instances.length, capacityFailure, spotUnavailable,
    }, now),
  };
  if (!(await deps.pools.savePool(finished, now))) throw new ConcurrentReconcileError(pool.poolId);
  if (pending.warm) deps.metrics.warmLaunched(result.instances.length);
  else deps.metrics.launched(pending.market, result.instances.length);
  for (const error of result.errors) {
    deps.metrics.launchError(error.kind);
    deps.logger.warn('launch error', { pool: pool.poolId, market: pending.market, code: error.code, kind: error.kind, errorMessage: error.message });
  }
  return {
    pool: { ...finished, version: pool.version + 1 },
    market: pending.market,
    requested: pending.count,
    instances: result.instances,
    errors: result.errors,
  };
}
