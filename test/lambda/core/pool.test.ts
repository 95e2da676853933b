import * as fc from 'fast-check';
import { nextRerunWait, RERUN_RETRY, RerunWait } from '../../../lambda/core/pool';

describe('waiting re-runs', () => {
  test('asked again after 1, 2, 4, 8 minutes, then every 15, and given up a day after the first refusal', () => {
    const t0 = Date.UTC(2026, 0, 1);
    const delays: number[] = [];
    let wait: RerunWait | undefined;
    let now = t0;
    for (;;) {
      wait = nextRerunWait(wait, now);
      if (!wait) break;
      delays.push(wait.nextAttemptAt - now);
      now = wait.nextAttemptAt;
    }

    expect(delays.slice(0, 6).map((d) => d / 60_000)).toEqual([1, 2, 4, 8, 15, 15]);
    expect(now - t0).toBeGreaterThanOrEqual(RERUN_RETRY.maxWaitMs);
    expect(delays.length).toBeLessThan(100); // GitHub is asked a bounded number of times
  });

  test('whenever asked, the next attempt is later, within 15 minutes, and counts from the first refusal', () => {
    fc.assert(fc.property(
      fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: RERUN_RETRY.maxWaitMs - 1 }), (attempts, elapsed) => {
        const previous = attempts === 0 ? undefined : { since: 0, attempts, nextAttemptAt: elapsed };
        const next = nextRerunWait(previous, elapsed)!;
        expect(next.since).toBe(previous ? 0 : elapsed);
        expect(next.attempts).toBe(attempts + 1);
        expect(next.nextAttemptAt).toBeGreaterThan(elapsed);
        expect(next.nextAttemptAt - elapsed).toBeLessThanOrEqual(RERUN_RETRY.maxDelayMs);
      },
    ));
  });
});
