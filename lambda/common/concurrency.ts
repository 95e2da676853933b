// Bounded concurrency for independent calls (one DynamoDB write per launched instance, say):
// fast enough for hundreds of items, gentle enough not to trip a service's throttling.

/** Runs `work` for every item, at most `limit` at a time; rejects with the first failure once all have settled. */
export async function forEachConcurrently<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const failures: unknown[] = [];
  const lane = async () => {
    while (next < items.length) {
      const item = items[next++];
      try {
        await work(item);
      } catch (error) {
        failures.push(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
  if (failures.length > 0) throw failures[0];
}
