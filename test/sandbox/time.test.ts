import { ScaledClock } from '../../sandbox/common/time';

test('a scaled timer never fires before its simulated due time, however coarse the wall-clock timer', async () => {
  // At 0.001 a wall millisecond is a simulated second: a timer firing a wall millisecond early
  // would show as a second early.
  const clock = new ScaledClock(0.001);
  const early: number[] = [];
  await Promise.all(Array.from({ length: 50 }, (_, n) => {
    const wait = 1_000 * (n % 10 + 1);
    const due = clock.now() + wait;
    return clock.sleep(wait).then(() => { if (clock.now() < due) early.push(due - clock.now()); });
  }));
  expect(early).toEqual([]);
});

test('a cancelled timer does not fire', async () => {
  const clock = new ScaledClock(0.001);
  const fired = jest.fn();
  const cancel = clock.after(5_000, fired);
  cancel();
  await clock.sleep(20_000);
  expect(fired).not.toHaveBeenCalled();
});
