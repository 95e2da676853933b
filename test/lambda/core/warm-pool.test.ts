import fc from 'fast-check';
import { PoolMessageError } from '../../../lambda/core/errors';
import { buildWarmPoolMessage, parsePoolMessage } from '../../../lambda/core/pool-message';
import { poolIdOf } from '../../../lambda/core/routing';
import { RunnerState, RunnerView } from '../../../lambda/core/runner';
import { parseRunnerConfigDocument } from '../../../lambda/core/runner-config';
import {
  chooseClaims, configOfWarmPoolId, PARKING_MS, planWarmPool, scheduleActive, WarmPoolInput, warmPoolIdOf, warmPoolTarget,
} from '../../../lambda/core/warm-pool';
import { configDocument } from '../support/configs';

const NOW = Date.parse('2026-12-07T10:00:00Z'); // a Monday
const BOOT_TIMEOUT = 10 * 60_000;

function runner(id: number, state: RunnerState, ageMs = 60_000, imageId = 'ami-00000000000000001'): RunnerView {
  return { instanceId: `i-${id.toString(16).padStart(17, '0')}`, state, market: 'on-demand', launchedAt: NOW - ageMs, imageId };
}

function input(overrides: Partial<WarmPoolInput>): WarmPoolInput {
  return { target: 5, runners: [], scopedRunners: 0, maxRunners: 10, bootTimeoutMs: BOOT_TIMEOUT, currentImageId: 'ami-00000000000000001', now: NOW, ...overrides };
}

describe('warm pool ids', () => {
  test('a warm pool id names its config and can never be a scoped pool\'s id', () => {
    expect(configOfWarmPoolId(warmPoolIdOf('linux-x64'))).toBe('linux-x64');
    fc.assert(fc.property(
      fc.stringMatching(/^[A-Za-z0-9-]{1,39}$/), fc.option(fc.stringMatching(/^[A-Za-z0-9._-]{1,100}$/), { nil: undefined }), fc.stringMatching(/^[a-z0-9-]{1,32}$/),
      (owner, repo, config) => {
        const scoped = poolIdOf(repo === undefined ? { kind: 'org', org: owner } : { kind: 'repo', owner, repo }, config);
        expect(configOfWarmPoolId(scoped)).toBeUndefined();
        expect(scoped).not.toBe(warmPoolIdOf(config));
      },
    ));
  });
});

describe('warm pool schedule', () => {
  const workingHours = { timeZone: 'Europe/Berlin', weekdays: [1, 2, 3, 4, 5], startHour: 8, endHour: 19 };

  test('without a schedule the pool is always kept', () => {
    expect(warmPoolTarget({ size: 3 }, NOW)).toBe(3);
    expect(warmPoolTarget(undefined, NOW)).toBe(0);
  });

  test('working hours are local: in winter Berlin is UTC+1, in summer UTC+2', () => {
    // Monday 7 December 2026 (CET).
    expect(scheduleActive(workingHours, Date.parse('2026-12-07T06:59:00Z'))).toBe(false); // 07:59
    expect(scheduleActive(workingHours, Date.parse('2026-12-07T07:00:00Z'))).toBe(true); // 08:00
    expect(scheduleActive(workingHours, Date.parse('2026-12-07T17:59:00Z'))).toBe(true); // 18:59
    expect(scheduleActive(workingHours, Date.parse('2026-12-07T18:00:00Z'))).toBe(false); // 19:00
    // Monday 6 July 2026 (CEST).
    expect(scheduleActive(workingHours, Date.parse('2026-07-06T05:30:00Z'))).toBe(false); // 07:30
    expect(scheduleActive(workingHours, Date.parse('2026-07-06T06:30:00Z'))).toBe(true); // 08:30
  });

  test('nights and weekends empty the pool', () => {
    expect(warmPoolTarget({ size: 4, schedule: workingHours }, Date.parse('2026-12-05T12:00:00Z'))).toBe(0); // Saturday noon
    expect(warmPoolTarget({ size: 4, schedule: workingHours }, Date.parse('2026-12-08T01:00:00Z'))).toBe(0); // Tuesday night
    expect(warmPoolTarget({ size: 4, schedule: workingHours }, Date.parse('2026-12-08T09:00:00Z'))).toBe(4); // Tuesday morning
  });

  test('the weekday is the time zone\'s: late Friday in New York is Saturday in UTC', () => {
    const fridays = { timeZone: 'America/New_York', weekdays: [5], startHour: 0, endHour: 24 };
    expect(scheduleActive(fridays, Date.parse('2026-12-05T02:00:00Z'))).toBe(true); // Friday 21:00 EST
    expect(scheduleActive(fridays, Date.parse('2026-12-05T06:00:00Z'))).toBe(false); // Saturday 01:00 EST
  });
});

describe('planWarmPool', () => {
  test('an empty pool launches its target', () => {
    expect(planWarmPool(input({}))).toEqual({ launch: 5, retire: [] });
  });

  test('warming and parked instances count; a full pool does nothing', () => {
    expect(planWarmPool(input({ runners: [1, 2, 3].map((i) => runner(i, 'warm')).concat([runner(4, 'warming'), runner(5, 'warming')]) })))
      .toEqual({ launch: 0, retire: [] });
  });

  test('the refill stops at maxRunners, counting the config\'s instances in its pools and instances being retired', () => {
    // 10 − 7 in its pools − 1 parked − 1 being retired leaves room for one.
    expect(planWarmPool(input({ scopedRunners: 7, runners: [runner(1, 'warm'), runner(2, 'retiring')] })).launch).toBe(1);
  });

  test('a warming instance that did not park within the boot timeout and the parking time is retired and replaced', () => {
    const decision = planWarmPool(input({ target: 1, runners: [runner(1, 'warming', BOOT_TIMEOUT + PARKING_MS + 1)] }));
    expect(decision).toEqual({ launch: 1, retire: [{ instanceId: runner(1, 'warming').instanceId, reason: 'boot-timeout' }] });
  });

  test('past the boot timeout, a warming instance still has the parking time: its read-ahead and its stop', () => {
    expect(PARKING_MS).toBe((120 + 60) * 1000);
    expect(planWarmPool(input({ target: 1, runners: [runner(1, 'warming', BOOT_TIMEOUT + PARKING_MS)] }))).toEqual({ launch: 0, retire: [] });
  });

  test('instances of an older image are retired and replaced', () => {
    const decision = planWarmPool(input({ target: 2, runners: [runner(1, 'warm', 60_000, 'ami-0000000000000000a'), runner(2, 'warm')] }));
    expect(decision).toEqual({ launch: 1, retire: [{ instanceId: runner(1, 'warm').instanceId, reason: 'stale-image' }] });
  });

  test('surplus goes warming first, newest first, then parked ones', () => {
    const decision = planWarmPool(input({
      target: 1, runners: [runner(1, 'warm', 5000), runner(2, 'warm', 1000), runner(3, 'warming', 3000), runner(4, 'warming', 2000)],
    }));
    expect(decision.launch).toBe(0);
    expect(decision.retire.map((r) => [r.instanceId.slice(-1), r.reason])).toEqual([['4', 'surplus'], ['3', 'surplus'], ['2', 'surplus']]);
  });

  test('a schedule turned off (target 0) retires every instance', () => {
    const decision = planWarmPool(input({ target: 0, runners: [runner(1, 'warm'), runner(2, 'warming')] }));
    expect(decision.retire).toHaveLength(2);
  });

  const arbitraryInput = fc.record({
    target: fc.integer({ min: 0, max: 10 }),
    maxRunners: fc.integer({ min: 1, max: 12 }),
    scopedRunners: fc.integer({ min: 0, max: 12 }),
    runners: fc.array(fc.record({
      state: fc.constantFrom<RunnerState>('warming', 'warm', 'retiring'),
      ageMs: fc.integer({ min: 0, max: 2 * (BOOT_TIMEOUT + PARKING_MS) }),
      stale: fc.boolean(),
    }), { maxLength: 15 }),
  }).map(({ runners, ...rest }) => input({
    ...rest,
    runners: runners.map((r, i) => runner(i + 1, r.state, r.ageMs, r.stale ? 'ami-0000000000000000a' : 'ami-00000000000000001')),
  }));

  test('property: afterwards the pool holds at most its target, never pushes the config past maxRunners, and keeps nothing expired or stale', () => {
    fc.assert(fc.property(arbitraryInput, (i) => {
      const decision = planWarmPool(i);
      const retired = new Set(decision.retire.map((r) => r.instanceId));
      expect(retired.size).toBe(decision.retire.length);
      const kept = i.runners.filter((r) => (r.state === 'warming' || r.state === 'warm') && !retired.has(r.instanceId));
      const retiring = i.runners.filter((r) => r.state === 'retiring').length;
      expect(decision.launch).toBeGreaterThanOrEqual(0);
      expect(kept.length + decision.launch).toBeLessThanOrEqual(i.target);
      if (decision.launch > 0) expect(i.scopedRunners + retiring + kept.length + decision.launch).toBeLessThanOrEqual(i.maxRunners);
      for (const r of kept) {
        expect(r.state === 'warming' && i.now - r.launchedAt > i.bootTimeoutMs + PARKING_MS).toBe(false);
        expect(r.imageId).toBe(i.currentImageId);
      }
      // Only warm pool instances that exist are retired, none twice, none already retiring.
      for (const id of retired) expect(i.runners.find((r) => r.instanceId === id)?.state).not.toBe('retiring');
    }));
  });

  test('property: the pool reaches its target when maxRunners leaves room', () => {
    fc.assert(fc.property(arbitraryInput, (i) => {
      const roomy = { ...i, maxRunners: 100, scopedRunners: 0 };
      const decision = planWarmPool(roomy);
      const kept = roomy.runners.filter((r) => (r.state === 'warming' || r.state === 'warm') && !decision.retire.some((x) => x.instanceId === r.instanceId));
      expect(kept.length + decision.launch).toBe(roomy.target);
    }));
  });
});

describe('chooseClaims', () => {
  test('takes parked instances of the current image, the longest parked first, at most as many as wanted', () => {
    const parked = [runner(1, 'warm', 1000), runner(2, 'warm', 9000), runner(3, 'warming', 8000), runner(4, 'warm', 5000, 'ami-0000000000000000a'), runner(5, 'warm', 7000)];
    expect(chooseClaims(parked, 2, 'ami-00000000000000001').map((r) => r.instanceId.slice(-1))).toEqual(['2', '5']);
    expect(chooseClaims(parked, 10, 'ami-00000000000000001')).toHaveLength(3);
    expect(chooseClaims(parked, 0, 'ami-00000000000000001')).toEqual([]);
  });
});

describe('warm pool documents and messages', () => {
  const doc = (warmPool: unknown, maxRunners = 10) => ({ ...configDocument('linux-x64', ['linux', 'x64']), maxRunners, warmPool });

  test('a config document\'s warm pool is read, and one the construct could not have written is refused naming the field', () => {
    expect(parseRunnerConfigDocument('/p', doc({ size: 2 })).warmPool).toEqual({ size: 2 });
    expect(() => parseRunnerConfigDocument('/p', doc({ size: 11 }))).toThrow(/`warmPool.size` must be a whole number from 1 to maxRunners \(10\), found 11/);
    expect(() => parseRunnerConfigDocument('/p', doc({ size: 1, schedule: { timeZone: 'Nowhere/Town', weekdays: [1], startHour: 8, endHour: 9 } })))
      .toThrow(/`warmPool.schedule.timeZone` must be an IANA time zone/);
    expect(() => parseRunnerConfigDocument('/p', doc({ size: 1, schedule: { timeZone: 'UTC', weekdays: [0], startHour: 8, endHour: 9 } })))
      .toThrow(/`warmPool.schedule.weekdays` must list ISO weekdays/);
  });

  test('a warm pool message survives the queue; one whose id and config disagree is refused', () => {
    const message = buildWarmPoolMessage('linux-x64', 'reconciler', 'run-1');
    expect(parsePoolMessage(JSON.stringify(message))).toEqual(message);
    expect(() => parsePoolMessage(JSON.stringify({ ...message, poolId: warmPoolIdOf('other') }))).toThrow(PoolMessageError);
  });
});
