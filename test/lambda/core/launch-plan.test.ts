import fc from 'fast-check';
import { DEFAULT_SPOT_POLICY, EMPTY_SPOT_RECORD, fallBackNow, planLaunch, recordLaunch } from '../../../lambda/core/launch-plan';

const NOW = 1_800_000_000_000;

describe('launch plan', () => {
  test('ON_DEMAND_ONLY buys on-demand, SPOT_ONLY and SPOT_PREFERRED buy spot', () => {
    expect(planLaunch(3, 'ON_DEMAND_ONLY', EMPTY_SPOT_RECORD, NOW)).toEqual([{ market: 'on-demand', count: 3 }]);
    expect(planLaunch(3, 'SPOT_ONLY', EMPTY_SPOT_RECORD, NOW)).toEqual([{ market: 'spot', count: 3 }]);
    expect(planLaunch(3, 'SPOT_PREFERRED', EMPTY_SPOT_RECORD, NOW)).toEqual([{ market: 'spot', count: 3 }]);
  });

  test('nothing to launch plans nothing', () => {
    expect(planLaunch(0, 'SPOT_PREFERRED', EMPTY_SPOT_RECORD, NOW)).toEqual([]);
  });

  test('SPOT_PREFERRED falls back to on-demand after N capacity failures in a row, and prefers it for a while', () => {
    let record = EMPTY_SPOT_RECORD;
    const failure = { market: 'spot' as const, requested: 2, launched: 0, capacityFailure: true };
    record = recordLaunch(record, DEFAULT_SPOT_POLICY, failure, NOW);
    expect(planLaunch(2, 'SPOT_PREFERRED', record, NOW)).toEqual([{ market: 'spot', count: 2 }]);
    const opened = recordLaunch(record, DEFAULT_SPOT_POLICY, failure, NOW);
    expect(fallBackNow('SPOT_PREFERRED', record, opened, NOW)).toBe(true);
    expect(planLaunch(2, 'SPOT_PREFERRED', opened, NOW + 60_000)).toEqual([{ market: 'on-demand', count: 2 }]);
    expect(planLaunch(2, 'SPOT_PREFERRED', opened, NOW + DEFAULT_SPOT_POLICY.preferOnDemandForMs)).toEqual([{ market: 'spot', count: 2 }]);
  });

  test('SPOT_ONLY never falls back, however often spot fails', () => {
    let record = EMPTY_SPOT_RECORD;
    for (let i = 0; i < 5; i++) {
      const next = recordLaunch(record, DEFAULT_SPOT_POLICY, { market: 'spot', requested: 1, launched: 0, capacityFailure: true }, NOW);
      expect(fallBackNow('SPOT_ONLY', record, next, NOW)).toBe(false);
      record = next;
    }
    expect(planLaunch(1, 'SPOT_ONLY', record, NOW)).toEqual([{ market: 'spot', count: 1 }]);
  });

  test('a successful spot launch resets the failure count', () => {
    const once = recordLaunch(EMPTY_SPOT_RECORD, DEFAULT_SPOT_POLICY, { market: 'spot', requested: 1, launched: 0, capacityFailure: true }, NOW);
    const ok = recordLaunch(once, DEFAULT_SPOT_POLICY, { market: 'spot', requested: 1, launched: 1, capacityFailure: false }, NOW);
    expect(ok.consecutiveFailures).toBe(0);
  });

  test('relaunches owed to interrupted jobs go on-demand first, even for SPOT_ONLY, and use up their credit', () => {
    const owed = { ...EMPTY_SPOT_RECORD, onDemandCredits: 1 };
    expect(planLaunch(3, 'SPOT_ONLY', owed, NOW)).toEqual([{ market: 'on-demand', count: 1 }, { market: 'spot', count: 2 }]);
    const after = recordLaunch(owed, DEFAULT_SPOT_POLICY, { market: 'on-demand', requested: 1, launched: 1, capacityFailure: false }, NOW);
    expect(after.onDemandCredits).toBe(0);
  });

  test('a plan always adds up to the count asked for', () => {
    fc.assert(fc.property(
      fc.integer({ min: 0, max: 50 }),
      fc.constantFrom('SPOT_ONLY' as const, 'SPOT_PREFERRED' as const, 'ON_DEMAND_ONLY' as const),
      fc.record({ consecutiveFailures: fc.nat(5), preferOnDemandUntil: fc.integer({ min: NOW - 1e6, max: NOW + 1e6 }), onDemandCredits: fc.nat(10) }),
      (count, strategy, record) => {
        const plan = planLaunch(count, strategy, record, NOW);
        return plan.reduce((n, p) => n + p.count, 0) === count && plan.every((p) => p.count > 0)
          && (strategy !== 'ON_DEMAND_ONLY' || plan.every((p) => p.market === 'on-demand'));
      },
    ));
  });
});
