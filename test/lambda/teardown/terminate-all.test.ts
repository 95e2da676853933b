// The sweep's decision on a simulated clock: when it ends, and what it terminates.
import { InstanceInfo } from '../../../lambda/core/compute';
import { terminateAll } from '../../../lambda/teardown/terminate-all';

/** A deployment's instances on a clock the sweep's sleeps advance; `launchAt` lands an instance at a given time. */
function world(initial: InstanceInfo[], launchAt: Array<[number, string]> = []) {
  let now = 0;
  const instances = new Map(initial.map((i) => [i.instanceId, i.state]));
  const terminateCalls: string[][] = [];
  const land = () => launchAt.filter(([at]) => at <= now).forEach(([, id]) => { if (!instances.has(id)) instances.set(id, 'pending'); });
  return {
    terminateCalls,
    deps: {
      compute: {
        listInstances: async () => { land(); return [...instances].map(([instanceId, state]) => ({ instanceId, state })); },
        terminate: async (ids: readonly string[]) => { terminateCalls.push([...ids]); ids.forEach((id) => instances.set(id, 'shutting-down')); },
      },
      clock: { now: () => now },
      sleep: async (ms: number) => { now += ms; },
    },
    stateOf: (id: string) => instances.get(id),
  };
}

test('every live instance is terminated in one call, a shutting-down one is left alone, and the sweep ends after the quiet period', async () => {
  // Arrange
  const w = world([
    { instanceId: 'i-stopped', state: 'stopped' }, { instanceId: 'i-running', state: 'running' },
    { instanceId: 'i-stopping', state: 'stopping' }, { instanceId: 'i-pending', state: 'pending' },
    { instanceId: 'i-going', state: 'shutting-down' },
  ]);

  // Act
  const result = await terminateAll({ ...w.deps, quietMs: 60_000, pollMs: 5_000, deadline: 180_000 });

  // Assert
  expect(w.terminateCalls).toEqual([['i-stopped', 'i-running', 'i-stopping', 'i-pending']]);
  expect(result).toEqual({ terminated: ['i-stopped', 'i-running', 'i-stopping', 'i-pending'], sweeps: 13, quiet: true });
});

test('an instance that lands late restarts the quiet period and is terminated', async () => {
  // Arrange
  const w = world([{ instanceId: 'i-warm', state: 'stopped' }], [[40_000, 'i-late']]);

  // Act
  const result = await terminateAll({ ...w.deps, quietMs: 60_000, pollMs: 5_000, deadline: 180_000 });

  // Assert
  expect(w.terminateCalls).toEqual([['i-warm'], ['i-late']]);
  expect(result.quiet).toBe(true);
  // Seen at 40 s, quiet from then on for 60 s: the last sweep at 100 s.
  expect(result.sweeps).toBe(21);
});

test('instances that keep appearing until the deadline end the sweep unquiet', async () => {
  // Arrange
  const w = world([], Array.from({ length: 40 }, (_, i) => [i * 5_000, `i-${i}`] as [number, string]));

  // Act
  const result = await terminateAll({ ...w.deps, quietMs: 60_000, pollMs: 5_000, deadline: 30_000 });

  // Assert
  expect(result.quiet).toBe(false);
  expect(result.terminated).toHaveLength(7);
  expect(w.stateOf('i-6')).toBe('shutting-down');
});
