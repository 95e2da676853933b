// A runner config's warm pool: stopped instances kept ahead of demand, and when to keep them.
import { WarmPoolDocument, WarmPoolScheduleDocument } from './runner-config-document';

/** A day of the week, for {@link WarmPoolSchedule.during}. */
export enum Weekday {
  MONDAY = 'MONDAY',
  TUESDAY = 'TUESDAY',
  WEDNESDAY = 'WEDNESDAY',
  THURSDAY = 'THURSDAY',
  FRIDAY = 'FRIDAY',
  SATURDAY = 'SATURDAY',
  SUNDAY = 'SUNDAY',
}

/** ISO day numbers, as the runtime reads them. */
const ISO_DAY: Record<Weekday, number> = {
  [Weekday.MONDAY]: 1,
  [Weekday.TUESDAY]: 2,
  [Weekday.WEDNESDAY]: 3,
  [Weekday.THURSDAY]: 4,
  [Weekday.FRIDAY]: 5,
  [Weekday.SATURDAY]: 6,
  [Weekday.SUNDAY]: 7,
};

/** The days and hours of {@link WarmPoolSchedule.during}. */
export interface WarmPoolHours {
  /** IANA time zone the hours are in, e.g. `Europe/Berlin` or `America/New_York`. */
  readonly timeZone: string;
  /**
   * Days the pool is kept.
   *
   * @default - Monday to Friday
   */
  readonly weekdays?: Weekday[];
  /**
   * First hour of the day the pool is kept (0-23).
   *
   * @default 8
   */
  readonly startHour?: number;
  /**
   * Hour the pool is emptied (1-24, after `startHour`): at 19 the last warm instance is terminated
   * shortly after 19:00.
   *
   * @default 19
   */
  readonly endHour?: number;
}

/** When a warm pool is kept full; outside it, the pool is emptied and costs nothing. */
export class WarmPoolSchedule {
  /** Kept full at all times. */
  static always(): WarmPoolSchedule {
    return new WarmPoolSchedule(undefined);
  }

  /** Kept full on the given days and hours only: nights and weekends empty the pool by default. */
  static during(hours: WarmPoolHours): WarmPoolSchedule {
    const weekdays = hours.weekdays ?? [Weekday.MONDAY, Weekday.TUESDAY, Weekday.WEDNESDAY, Weekday.THURSDAY, Weekday.FRIDAY];
    return new WarmPoolSchedule({
      timeZone: hours.timeZone,
      weekdays: [...new Set(weekdays.map((day) => ISO_DAY[day] ?? Number.NaN))].sort((a, b) => a - b),
      startHour: hours.startHour ?? 8,
      endHour: hours.endHour ?? 19,
    });
  }

  private constructor(private readonly document: WarmPoolScheduleDocument | undefined) {}

  /** The schedule as the runtime reads it; undefined for always. @internal */
  _toDocument(): WarmPoolScheduleDocument | undefined {
    return this.document;
  }

  /** What is wrong with the schedule, each naming `prop`, the value and the fix. @internal */
  _problems(prop: string): string[] {
    const d = this.document;
    if (!d) return [];
    const problems: string[] = [];
    if (!isTimeZone(d.timeZone)) {
      problems.push(`${prop}.timeZone is ${JSON.stringify(d.timeZone)}, which is not an IANA time zone; use one such as 'Europe/Berlin' or 'UTC'.`);
    }
    if (d.weekdays.length === 0 || d.weekdays.some((day) => !Number.isInteger(day))) {
      problems.push(`${prop}.weekdays is empty or holds a value that is not a Weekday; list at least one, e.g. [Weekday.MONDAY], or use WarmPoolSchedule.always().`);
    }
    if (!Number.isInteger(d.startHour) || d.startHour < 0 || d.startHour > 23) {
      problems.push(`${prop}.startHour is ${d.startHour}; give a whole hour from 0 to 23.`);
    }
    if (!Number.isInteger(d.endHour) || d.endHour < 1 || d.endHour > 24 || d.endHour <= d.startHour) {
      problems.push(`${prop}.endHour is ${d.endHour}; give a whole hour from 1 to 24, after startHour (${d.startHour}).`);
    }
    return problems;
  }
}

/**
 * Stopped instances of a runner config kept ahead of demand. Each was booted once from the runner
 * image up to the point where only its just-in-time runner config is missing, then stopped: while
 * stopped it bills its EBS volume only. A queued job starts one (seconds) before a cold instance is
 * launched; the pool is refilled after use. Pool instances are on-demand: a one-time spot instance
 * cannot be stopped.
 */
export interface WarmPoolOptions {
  /** Stopped instances to keep, at least 1 and at most the config's `maxRunners`. */
  readonly size: number;
  /**
   * When to keep them.
   *
   * @default WarmPoolSchedule.always()
   */
  readonly schedule?: WarmPoolSchedule;
}

/** The warm pool as its runner config document holds it. */
export function toWarmPoolDocument(options: WarmPoolOptions): WarmPoolDocument {
  const schedule = options.schedule?._toDocument();
  return { size: options.size, ...(schedule ? { schedule } : {}) };
}

/** Problems of a config's warm pool; `who` names the config, `maxRunners` is its cap. */
export function validateWarmPool(who: string, options: WarmPoolOptions, maxRunners: number): string[] {
  const problems: string[] = [];
  const { size } = options;
  if (!Number.isInteger(size) || size < 1) {
    problems.push(`${who}: warmPool.size is ${size}; give a whole number of at least 1, or leave warmPool out for no warm pool.`);
  } else if (size > maxRunners) {
    problems.push(`${who}: warmPool.size is ${size}, above maxRunners (${maxRunners}): warm instances count toward maxRunners; lower warmPool.size or raise maxRunners.`);
  }
  problems.push(...(options.schedule?._problems(`${who}: warmPool.schedule`) ?? []));
  return problems;
}

function isTimeZone(zone: string): boolean {
  if (typeof zone !== 'string' || zone === '') return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
