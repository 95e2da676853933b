// Reconciles one pool: loads its jobs, runners and record, asks the pure decision (core/reconcile)
// what to do, and applies it with conditional writes. Level-triggered: whatever message brought
// the pool here, the answer depends only on the state, so running it twice changes nothing.
import { claimWarm } from './claim-warm';
import { tagStartedJobs } from './cost-tags';
import { ProvisionerDeps } from './deps';
import { DemandNotMetError } from './errors';
import { bindFleetSlots, takeFleetSlots } from './fleet-slots';
import { launch, recoverPendingLaunch } from './launch';
import { underHold } from './launch-hold';
import { linkBusyRunners, rerunInterruptedJobs } from './pool-jobs';
import { withRecentLaunches } from './recent-launches';
import { retire } from './retire';
import { JobRecord } from '../core/job';
import { fallBackNow, planLaunch } from '../core/launch-plan';
import { emptyPool, PoolRecord, updatePool } from '../core/pool';
import { PoolMessage } from '../core/pool-message';
import { reconcile, Retirement, stillQueued } from '../core/reconcile';
import { Pool } from '../core/routing';
import { RunnerConfig } from '../core/runner-config';

export interface PoolReport {
  readonly poolId: string;
  readonly queued: number;
  /** Instances launched cold, or into a warm pool. */
  readonly launched: number;
  /** Stopped warm pool instances started for the pool's jobs. */
  readonly warmStarted?: number;
  readonly retired: number;
  readonly deferred: number;
  /** Jobs that wait for a slot under the deployment's maxInstances. */
  readonly fleetWaiting?: number;
}

export async function reconcilePool(deps: ProvisionerDeps, message: PoolMessage): Promise<PoolReport> {
  const { poolId } = message;
  const log = { pool: poolId, reason: message.reason, correlation: message.deliveryId };
  const config = (await deps.configs.loadConfigs()).find((c) => c.name === message.configName);
  let pool: PoolRecord = (await deps.pools.getPool(poolId)) ?? emptyPool(poolId, message.configName, message.scope);

  if (!config) {
    // The config was removed: its jobs can no longer be served here, its runners go.
    deps.logger.warn('runner config no longer exists; retiring the pool\'s runners', { ...log, config: message.configName });
    const runners = await deps.runners.listPoolRunners(poolId);
    const retirements: Retirement[] = runners.filter((r) => r.state === 'booting' || r.state === 'registered')
      .map((r) => ({ instanceId: r.instanceId, reason: 'surplus', action: r.state === 'booting' ? 'terminate' : 'deregister-and-terminate' }));
    const retired = await retire(deps, runners, retirements);
    return { poolId, queued: 0, launched: 0, retired, deferred: 0 };
  }

  if (pool.pendingLaunch) pool = await recoverPendingLaunch(deps, pool, config);
  pool = await rerunInterruptedJobs(deps, pool);

  // Read in the order jobs and runners move (queued, then in progress, then busy runners), so that a
  // job starting meanwhile is seen started by a later read, and dropped from the demand.
  const queuedRead = await deps.jobs.listActiveJobs(poolId, 'queued');
  const inProgress = await deps.jobs.listActiveJobs(poolId, 'in_progress');
  const runners = await linkBusyRunners(deps, message, inProgress, await deps.runners.listPoolRunners(poolId));
  await tagStartedJobs(deps, runners, inProgress);
  const now = deps.clock.now();
  // The runners of recent launches the index does not show yet are read from their items: one of
  // them may already be busy with a job still read as queued, which is then no demand either.
  const supply = await withRecentLaunches(deps, runners, pool, now);
  const queued = stillQueued(queuedRead, inProgress, supply);
  const decision = reconcile({
    limits: { maxRunners: config.maxRunners, bootTimeoutMs: deps.settings.bootTimeoutMs, maxLifetimeMs: deps.settings.maxLifetimeMs },
    queuedJobs: queued.length,
    runners: supply,
    pendingLaunches: 0,
    now,
  });

  const retired = await retire(deps, runners, decision.retire);
  let launched = 0;
  let warmStarted = 0;
  let fleetWaiting = 0;
  let cold = 0;
  const held = await underHold(deps, pool, supply, queued.length, decision.launch, now, log);
  pool = held.pool;
  if (held.allowed > 0) {
    const image = await imageFor(deps, config, queued.length, log);
    if (image.ready) {
      // Stopped instances first: a start takes seconds where a cold launch and boot takes minutes.
      if (config.warmPool) {
        const claim = await claimWarm(deps, pool, config, held.allowed, image.imageId);
        pool = claim.pool;
        warmStarted = claim.started;
      }
      cold = held.allowed - warmStarted;
      if (cold > 0) {
        const arrivals = unmetArrivals(queued, decision.launch + decision.deferred).slice(warmStarted, held.allowed);
        const capped = await launchCapped(deps, message, pool, config, arrivals, image.imageId);
        launched = capped.launched;
        fleetWaiting = capped.waiting;
      }
      await prepareGitHub(deps, message, queued, log);
    }
  }
  // No cold launch asked: the pool withdraws any demand it left waiting on the cap (its jobs started or went).
  if (deps.fleet && cold === 0) await takeFleetSlots(deps, deps.fleet, message, []);

  if (queued.length + runners.length > 0) await touch(deps, poolId, now);
  deps.logger.info('reconciled pool', {
    ...log,
    queued: queued.length,
    inProgress: inProgress.length,
    runners: runners.length,
    launched,
    warmStarted,
    retired,
    deferred: decision.deferred,
    fleetWaiting,
  });
  return { poolId, queued: queued.length, launched, warmStarted, retired, deferred: decision.deferred, fleetWaiting };
}

/**
 * The AMI this launch boots. While the config's image parameter does not exist yet (the first
 * image is built after the first deploy), nothing launches and the jobs wait, logged and counted:
 * the pool stays active, so the reconciler brings it back every minute until the image is there.
 */
async function imageFor(
  deps: ProvisionerDeps, config: RunnerConfig, queued: number, log: Record<string, unknown>,
): Promise<{ ready: true; imageId: string | undefined } | { ready: false }> {
  if (!config.image) return { ready: true, imageId: undefined };
  const imageId = await deps.images.imageIdFor(config.image);
  if (imageId) return { ready: true, imageId };
  deps.metrics.jobsWaitingForImage(queued);
  deps.logger.warn('runner image not ready: jobs wait until its parameter holds an AMI id', {
    ...log, config: config.name, imageParameter: config.image.parameterName, queued,
  });
  return { ready: false };
}

/**
 * When each of the `unmet` newest queued jobs was queued, oldest first: GitHub hands a pool's runners
 * its jobs oldest first, so the jobs the pool's supply does not cover are its newest.
 */
function unmetArrivals(queued: readonly JobRecord[], unmet: number): number[] {
  const arrivals = queued.map((j) => Date.parse(j.createdAt)).sort((a, b) => a - b);
  return arrivals.slice(Math.max(0, arrivals.length - unmet));
}

/**
 * Launches for the jobs queued at `arrivals`: all of them, or, under the deployment's maxInstances,
 * as many as the fleet record grants (the rest wait, in arrival order across pools).
 */
async function launchCapped(
  deps: ProvisionerDeps, pool: Pool, record: PoolRecord, config: RunnerConfig, arrivals: readonly number[], imageId: string | undefined,
): Promise<{ launched: number; waiting: number }> {
  const count = arrivals.length;
  const slots = deps.fleet ? await takeFleetSlots(deps, deps.fleet, pool, arrivals) : undefined;
  const granted = slots ? slots.granted : count;
  if (granted === 0) return { launched: 0, waiting: slots?.waiting ?? 0 };
  const outcome = await launchFor(deps, record, config, granted, imageId);
  if (slots) await bindFleetSlots(deps, deps.fleet!, pool, slots.reservation, outcome.instanceIds);
  if (outcome.instanceIds.length < granted) throw new DemandNotMetError(pool.poolId, granted - outcome.instanceIds.length, outcome.reasons);
  return { launched: outcome.instanceIds.length, waiting: slots?.waiting ?? 0 };
}

/** Launches by the config's spot strategy; SPOT_PREFERRED buys the shortfall on-demand once spot keeps failing. */
async function launchFor(
  deps: ProvisionerDeps, pool: PoolRecord, config: RunnerConfig, count: number, imageId: string | undefined,
): Promise<{ instanceIds: string[]; reasons: string[] }> {
  const instanceIds: string[] = [];
  let current = pool;
  const reasons: string[] = [];
  for (const part of planLaunch(count, config.spot, current.spot, deps.clock.now())) {
    const before = current.spot;
    const outcome = await launch(deps, current, config, part.market, part.count, imageId);
    current = outcome.pool;
    instanceIds.push(...outcome.instances.map((i) => i.instanceId));
    reasons.push(...outcome.errors.map((e) => e.code));
    const shortfall = part.count - outcome.instances.length;
    if (shortfall > 0 && part.market === 'spot' && fallBackNow(config.spot, before, current.spot, deps.clock.now())) {
      deps.metrics.fallback();
      deps.logger.warn('spot keeps failing or cannot be bought now; launching on-demand', { pool: pool.poolId, shortfall, reasons: outcome.errors.map((e) => e.code) });
      const fallback = await launch(deps, current, config, 'on-demand', shortfall, imageId);
      current = fallback.pool;
      instanceIds.push(...fallback.instances.map((i) => i.instanceId));
      reasons.push(...fallback.errors.map((e) => e.code));
    }
  }
  return { instanceIds, reasons: [...new Set(reasons)] };
}

/**
 * While the instances just launched or started boot, gets the installation token they will
 * register with into the shared cache: the first of them to register then finds it, instead of
 * every cold register container minting one. Best effort: a failure costs only that saving.
 */
async function prepareGitHub(deps: ProvisionerDeps, message: PoolMessage, queued: readonly JobRecord[], log: Record<string, unknown>): Promise<void> {
  try {
    const installationId = queued.find((j) => j.installationId !== undefined)?.installationId;
    await (await deps.github()).prepare(message.scope, installationId);
  } catch (error) {
    deps.logger.warn('could not get the installation token ahead of registration; the runners get it themselves', { ...log, error: error as Error });
  }
}

/** Records that the pool was active, for the reconciler's sweeps of recently active scopes. */
async function touch(deps: ProvisionerDeps, poolId: string, now: number): Promise<void> {
  await updatePool(deps.pools, poolId, (pool) => (!pool || now - pool.lastActiveAt < 60_000 ? undefined : { ...pool, lastActiveAt: now }), now, 3);
}
