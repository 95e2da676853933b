import { forEachConcurrently } from '../../../lambda/common/concurrency';

const tick = () => new Promise((resolve) => setImmediate(resolve));

test('every item is worked on, never more than the limit at a time', async () => {
  let running = 0;
  let most = 0;
  const done: number[] = [];
  await forEachConcurrently(Array.from({ length: 25 }, (_, n) => n), 4, async (n) => {
    running++;
    most = Math.max(most, running);
    await tick();
    done.push(n);
    running--;
  });
  expect(done.sort((a, b) => a - b)).toEqual(Array.from({ length: 25 }, (_, n) => n));
  expect(most).toBe(4);
});

test('a failure is reported after the other items were still worked on', async () => {
  const done: number[] = [];
  const run = forEachConcurrently([1, 2, 3, 4, 5], 2, async (n) => {
    await tick();
    if (n === 2) throw new Error('item 2 failed');
    done.push(n);
  });
  await expect(run).rejects.toThrow('item 2 failed');
  expect(done.sort()).toEqual([1, 3, 4, 5]);
});

test('no items: nothing runs', async () => {
  const work = jest.fn(async () => undefined);
  await forEachConcurrently([], 3, work);
  expect(work).not.toHaveBeenCalled();
});
