// A runner config's warm pool: stopped instances kept ahead of demand, not bound to any scope
// until a pool with demand claims one. Pure: how many to keep now (the schedule), which to launch,
// retire or claim; the provisioner applies the answer with conditional writes.
import { RetireReason, RunnerView } from './runner';
import { WARM_READ_AHEAD_SECONDS } from '../../src/contracts/environment';
import { WarmPoolDocument, WarmPoolScheduleDocument } from '../../src/runner-config-document';

/**
 * The pool id of a config's warm pool. `@` appears in no GitHub organization, user or repository
 * name, so it can never equal a scoped pool's id (`org#config`, `owner/repo#config`).
 */
export function warmPoolIdOf(configName: string): string {
  return `${WARM_POOL_PREFIX}${configName}`;
}

const WARM_POOL_PREFIX = '@warm#';

/** The config of a warm pool id, or undefined for any other pool id. */
export function configOfWarmPoolId(poolId: string): string | undefined {
  if (!poolId.startsWith(WARM_POOL_PREFIX)) return undefined;
  const configName = poolId.slice(WARM_POOL_PREFIX.length);
  return /^[a-z0-9-]{1,128}$/.test(configName) ? configName : undefined;
}

const WEEKDAY_NUMBER: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };

/**
 * Whether the schedule keeps the pool at `now` (epoch ms): the local weekday and hour of its time
 * zone. Intl's time zone data (the IANA database Node.js ships) handles daylight saving time.
 */
export function scheduleActive(schedule: WarmPoolScheduleDocument | undefined, now: number): boolean {
  if (!schedule) return true;
  const parts = new Intl.DateTimeFormat('en-US', { timeZone: schedule.timeZone, weekday: 'short', hour: 'numeric', hourCycle: 'h23' })
    .formatToParts(new Date(now));
  const weekday = WEEKDAY_NUMBER[parts.find((p) => p.type === 'weekday')?.value ?? ''];
  const hour = Number(parts.find((p) => p.type === 'hour')?.value);
  return schedule.weekdays.includes(weekday) && hour >= schedule.startHour && hour < schedule.endHour;
}

/** How many stopped instances the pool should hold at `now`: its size while the schedule is on, else none. */
export function warmPoolTarget(warmPool: WarmPoolDocument | undefined, now: number): number {
  if (!warmPool) return 0;
  return scheduleActive(warmPool.schedule, now) ? warmPool.size : 0;
}

/**
 * What a warming instance has beyond the boot timeout to park: after its 410 it reads its runner's
 * files (at most WARM_READ_AHEAD_SECONDS), then EC2 stops it (a minute, generously) and the stop
 * event reaches the lifecycle function.
 */
export const PARKING_MS = (WARM_READ_AHEAD_SECONDS + 60) * 1000;

export interface WarmPoolInput {
  /** Stopped instances to hold now ({@link warmPoolTarget}). */
  readonly target: number;
  /** The warm pool's runners that are not gone. */
  readonly runners: readonly RunnerView[];
  /**
   * The config's runners alive in its scoped pools (booting, registered, busy, retiring): with the
   * warm pool's they may not exceed `maxRunners`.
   */
  readonly scopedRunners: number;
  readonly maxRunners: number;
  /** How long an instance may take to ask for its config; a warming one has {@link PARKING_MS} more to park. */
  readonly bootTimeoutMs: number;
  /** The AMI launches use now; a parked instance from another one is replaced. Undefined: not checked. */
  readonly currentImageId?: string;
  readonly now: number;
}

export interface WarmPoolRetirement {
  readonly instanceId: string;
  readonly reason: RetireReason;
}

export interface WarmPoolDecision {
  /** Instances to launch into the pool (on-demand). */
  readonly launch: number;
  /** Instances to terminate: none holds a registration. */
  readonly retire: readonly WarmPoolRetirement[];
}

/**
 * Keeps the pool at its target: launches the deficit (bounded by what `maxRunners` leaves),
 * retires instances that did not park in time, instances of an older image, and the surplus
 * (schedule off, size lowered) — warming ones first, newest first, as they are furthest from use.
 */
export function planWarmPool(input: WarmPoolInput): WarmPoolDecision {
  const retire: WarmPoolRetirement[] = [];
  const live: RunnerView[] = [];
  let retiring = 0;
  for (const runner of input.runners) {
    if (runner.state === 'retiring') {
      retiring++;
    } else if (runner.state === 'warming' && input.now - runner.launchedAt > input.bootTimeoutMs + PARKING_MS) {
      retire.push({ instanceId: runner.instanceId, reason: 'boot-timeout' });
    } else if ((runner.state === 'warming' || runner.state === 'warm') && isStale(runner, input.currentImageId)) {
      retire.push({ instanceId: runner.instanceId, reason: 'stale-image' });
    } else if (runner.state === 'warming' || runner.state === 'warm') {
      live.push(runner);
    }
  }
  const target = Math.max(0, input.target);
  if (live.length > target) {
    const byNewest = (a: RunnerView, b: RunnerView) => b.launchedAt - a.launchedAt || a.instanceId.localeCompare(b.instanceId);
    const ordered = [...live.filter((r) => r.state === 'warming').sort(byNewest), ...live.filter((r) => r.state === 'warm').sort(byNewest)];
    for (const runner of ordered.slice(0, live.length - target)) retire.push({ instanceId: runner.instanceId, reason: 'surplus' });
    return { launch: 0, retire };
  }
  // Instances being retired still exist until they are gone: they occupy maxRunners too.
  const room = Math.max(0, input.maxRunners - input.scopedRunners - live.length - retiring);
  return { launch: Math.min(target - live.length, room), retire };
}

function isStale(runner: RunnerView, currentImageId: string | undefined): boolean {
  return currentImageId !== undefined && runner.imageId !== undefined && runner.imageId !== currentImageId;
}

/**
 * Which parked instances a pool with `wanted` instances to launch claims: the oldest first (the
 * longest parked; a fresh image replaces old ones anyway), at most `wanted`.
 */
export function chooseClaims(warm: readonly RunnerView[], wanted: number, currentImageId?: string): RunnerView[] {
  return warm
    .filter((r) => r.state === 'warm' && !isStale(r, currentImageId))
    .sort((a, b) => a.launchedAt - b.launchedAt || a.instanceId.localeCompare(b.instanceId))
    .slice(0, Math.max(0, wanted));
}
