import fc from 'fast-check';
import { holdAfterRefusal, LaunchHold, launchesUnderHold } from '../../../lambda/core/launch-hold';
import { RunnerState, RunnerView } from '../../../lambda/core/runner';

const T0 = Date.UTC(2026, 11, 7, 9);
const MINUTE = 60_000;

const runner = (state: RunnerState, extra: Partial<RunnerView> = {}): RunnerView => ({
  instanceId: `i-0${Math.random().toString(16).slice(2, 18).padEnd(16, '0')}`, state, market: 'spot', launchedAt: T0, ...extra,
});

describe('a refusal only an operator fixes', () => {
  test('holds the pool\'s launches for a minute', () => {
    expect(holdAfterRefusal(undefined, 'no-runner-group', T0)).toEqual({ reason: 'no-runner-group', refusals: 1, refusedAt: T0, until: T0 + MINUTE });
  });

  test('changes nothing while the hold is in force: instances launched before it are refused together and count once', () => {
    const hold = holdAfterRefusal(undefined, 'not-installed', T0)!;

    expect(holdAfterRefusal(hold, 'not-installed', T0 + 5_000)).toBeUndefined();
    expect(holdAfterRefusal(hold, 'not-installed', T0 + MINUTE - 1)).toBeUndefined();
  });

  test('after the hold ran out (the probe was refused), doubles it, up to 15 minutes', () => {
    let hold: LaunchHold | undefined;
    let now = T0;
    const lengths: number[] = [];
    for (let i = 0; i < 7; i++) {
      hold = holdAfterRefusal(hold, 'enterprise-credential', now)!;
      lengths.push((hold.until - now) / MINUTE);
      now = hold.until + 20_000; // the probe boots and is refused
    }

    expect(lengths).toEqual([1, 2, 4, 8, 15, 15, 15]);
    expect(hold).toMatchObject({ refusals: 7, refusedAt: now - 20_000 - 15 * MINUTE });
  });
});

describe('a pool under a launch hold', () => {
  const hold: LaunchHold = { reason: 'no-runner-group', refusals: 2, refusedAt: T0, until: T0 + 2 * MINUTE };

  test('without a hold launches all it wants', () => {
    expect(launchesUnderHold(undefined, [], 8, 7, T0)).toEqual({ allowed: 7, lifted: false });
  });

  test('launches nothing while the hold is in force', () => {
    expect(launchesUnderHold(hold, [], 8, 7, T0 + MINUTE)).toEqual({ allowed: 0, lifted: false });
  });

  test('once it ran out, launches one instance (a probe), and none while a probe boots', () => {
    expect(launchesUnderHold(hold, [], 8, 7, hold.until)).toEqual({ allowed: 1, lifted: false });
    expect(launchesUnderHold(hold, [runner('booting', { launchedAt: hold.until })], 8, 6, hold.until + 10_000)).toEqual({ allowed: 0, lifted: false });
  });

  test('a runner GitHub registered after the last refusal lifts the hold: the pool launches all it wants', () => {
    const registered = runner('registered', { registeredAt: T0 + 3 * MINUTE, runnerId: 41 });

    expect(launchesUnderHold(hold, [registered], 8, 6, T0 + 3 * MINUTE)).toEqual({ allowed: 6, lifted: true });
    expect(launchesUnderHold(hold, [{ ...registered, state: 'busy' }], 8, 6, T0 + 3 * MINUTE)).toEqual({ allowed: 6, lifted: true });
  });

  test('a runner refused after the last refusal (claimed, no runner id) or registered before it lifts nothing; the refused one holds the next probe back until it is gone', () => {
    const refused = runner('registered', { registeredAt: T0 + 10_000 });
    const before = runner('busy', { registeredAt: T0 - MINUTE, runnerId: 40 });

    expect(launchesUnderHold(hold, [refused, before], 8, 6, T0 + MINUTE)).toEqual({ allowed: 0, lifted: false });
    expect(launchesUnderHold(hold, [refused, before], 8, 6, hold.until)).toEqual({ allowed: 0, lifted: false });
    expect(launchesUnderHold(hold, [{ ...refused, state: 'gone' }, before], 8, 6, hold.until)).toEqual({ allowed: 1, lifted: false });
  });

  test('a warm pool held for an image without a runner: a warming probe holds the next back; one launched after the refusal that parked lifts the hold', () => {
    const missing: LaunchHold = { ...hold, reason: 'runner-missing' };
    const probe = runner('warming', { launchedAt: hold.until });
    const parkedBefore = runner('warm', { launchedAt: T0 - MINUTE });

    expect(launchesUnderHold(missing, [probe, parkedBefore], 3, 3, hold.until + 10_000)).toEqual({ allowed: 0, lifted: false });
    expect(launchesUnderHold(missing, [{ ...probe, state: 'warm' }, parkedBefore], 3, 3, hold.until + 60_000)).toEqual({ allowed: 3, lifted: true });
  });

  test('with no job queued any more, the hold is dropped', () => {
    expect(launchesUnderHold(hold, [], 0, 0, T0)).toEqual({ allowed: 0, lifted: true });
  });

  test('never launches more than asked, nor more than one while held', () => {
    const states: RunnerState[] = ['booting', 'registered', 'busy', 'retiring', 'gone', 'warming', 'warm'];
    fc.assert(fc.property(
      fc.integer({ min: 0, max: 50 }),
      fc.integer({ min: 1, max: 50 }),
      fc.integer({ min: -5 * MINUTE, max: 20 * MINUTE }),
      fc.array(
        fc.record({ state: fc.constantFrom(...states), at: fc.integer({ min: -5 * MINUTE, max: 20 * MINUTE }), id: fc.boolean() }),
        { maxLength: 6 },
      ),
      (wanted, queued, offset, specs) => {
        const runners = specs.map((s) => runner(s.state, { launchedAt: T0 + s.at, registeredAt: T0 + s.at, ...(s.id ? { runnerId: 1 } : {}) }));
        const { allowed, lifted } = launchesUnderHold(hold, runners, queued, wanted, T0 + offset);
        expect(allowed).toBeLessThanOrEqual(wanted);
        if (!lifted) expect(allowed).toBeLessThanOrEqual(1);
        if (!lifted && T0 + offset < hold.until) expect(allowed).toBe(0);
      },
    ));
  });
});
