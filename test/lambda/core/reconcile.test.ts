import fc from 'fast-check';
import { reconcile, ReconcileInput, stillQueued } from '../../../lambda/core/reconcile';
import { RunnerState, RunnerView } from '../../../lambda/core/runner';

const NOW = 1_800_000_000_000;
const limits = { maxRunners: 10, bootTimeoutMs: 10 * 60_000, maxLifetimeMs: 6 * 3600_000 };

function runner(id: number, state: RunnerState, ageMs = 60_000): RunnerView {
  return { instanceId: `i-${id.toString(16).padStart(17, '0')}`, state, market: 'spot', launchedAt: NOW - ageMs };
}

function input(overrides: Partial<ReconcileInput>): ReconcileInput {
  return { limits, queuedJobs: 0, runners: [], pendingLaunches: 0, now: NOW, ...overrides };
}

describe('reconcile', () => {
  test('an idle pool does nothing', () => {
    expect(reconcile(input({}))).toEqual({ launch: 0, retire: [], deferred: 0 });
  });

  test('queued jobs without runners launch one instance each', () => {
    expect(reconcile(input({ queuedJobs: 3 })).launch).toBe(3);
  });

  test('booting, idle and pending instances count as supply; busy ones do not', () => {
    const decision = reconcile(input({
      queuedJobs: 4,
      runners: [runner(1, 'booting'), runner(2, 'registered'), runner(3, 'busy')],
      pendingLaunches: 1,
    }));
    expect(decision.launch).toBe(1);
  });

  test('a job that took another job\'s runner still gets one: supply is counted, not bound to jobs', () => {
    // Two jobs were queued and two runners launched; job B took runner 1 (busy), job A still waits.
    const decision = reconcile(input({ queuedJobs: 1, runners: [runner(1, 'busy'), runner(2, 'busy')] }));
    expect(decision.launch).toBe(1);
  });

  test('maxRunners bounds the launch, counting busy and retiring instances, and the rest is deferred', () => {
    const decision = reconcile(input({
      limits: { ...limits, maxRunners: 3 },
      queuedJobs: 5,
      runners: [runner(1, 'busy'), runner(2, 'retiring')],
    }));
    expect(decision).toEqual({ launch: 1, retire: [], deferred: 4 });
  });

  test('a cancelled job\'s surplus runner is retired at once, booting ones first and newest first', () => {
    const decision = reconcile(input({
      queuedJobs: 1,
      runners: [runner(1, 'registered', 5 * 60_000), runner(2, 'booting', 2 * 60_000), runner(3, 'booting', 30_000)],
    }));
    expect(decision.retire).toEqual([
      { instanceId: runner(3, 'booting').instanceId, reason: 'surplus', action: 'terminate' },
      { instanceId: runner(2, 'booting').instanceId, reason: 'surplus', action: 'terminate' },
    ]);
  });

  test('an idle registered surplus runner is deregistered before it is terminated', () => {
    const decision = reconcile(input({ runners: [runner(1, 'registered')] }));
    expect(decision.retire).toEqual([{ instanceId: runner(1, 'registered').instanceId, reason: 'surplus', action: 'deregister-and-terminate' }]);
  });

  test('an instance that never registered within the boot timeout is terminated and replaced', () => {
    const decision = reconcile(input({ queuedJobs: 1, runners: [runner(1, 'booting', limits.bootTimeoutMs + 1)] }));
    expect(decision.retire).toEqual([{ instanceId: runner(1, 'booting').instanceId, reason: 'boot-timeout', action: 'terminate' }]);
    expect(decision.launch).toBe(1);
  });

  test('a runner past its maximum lifetime is terminated even while busy', () => {
    const decision = reconcile(input({ runners: [runner(1, 'busy', limits.maxLifetimeMs + 1)] }));
    expect(decision.retire).toEqual([{ instanceId: runner(1, 'busy').instanceId, reason: 'max-lifetime', action: 'terminate-busy' }]);
  });

  test('a booting runner inside its boot timeout is left alone', () => {
    expect(reconcile(input({ queuedJobs: 1, runners: [runner(1, 'booting', limits.bootTimeoutMs - 1)] }))).toEqual({ launch: 0, retire: [], deferred: 0 });
  });
});

const states: RunnerState[] = ['booting', 'registered', 'busy', 'retiring', 'gone'];
const arbitraryInput = fc.record({
  maxRunners: fc.integer({ min: 1, max: 20 }),
  queuedJobs: fc.integer({ min: 0, max: 30 }),
  pendingLaunches: fc.integer({ min: 0, max: 5 }),
  runners: fc.array(fc.record({ state: fc.constantFrom(...states), ageMs: fc.integer({ min: 0, max: 8 * 3600_000 }) }), { maxLength: 25 }),
}).map(({ maxRunners, queuedJobs, pendingLaunches, runners }): ReconcileInput => input({
  limits: { ...limits, maxRunners },
  queuedJobs,
  pendingLaunches,
  runners: runners.map((r, i) => runner(i + 1, r.state, r.ageMs)),
}));

/** The pool as it would be once the decision is applied and the launches exist as booting runners. */
function applied(before: ReconcileInput): ReconcileInput {
  const decision = reconcile(before);
  const retired = new Set(decision.retire.map((r) => r.instanceId));
  const runners = before.runners.map((r) => (retired.has(r.instanceId) ? { ...r, state: 'retiring' as const } : r));
  const launched = Array.from({ length: decision.launch }, (_, i) => runner(1000 + i, 'booting', 0));
  return { ...before, runners: [...runners, ...launched] };
}

describe('reconcile properties', () => {
  const supplyOf = (i: ReconcileInput, retired: Set<string>) =>
    i.pendingLaunches + i.runners.filter((r) => !retired.has(r.instanceId) && (r.state === 'booting' || r.state === 'registered')).length;

  test('it never launches and retires surplus in the same decision', () => {
    fc.assert(fc.property(arbitraryInput, (i) => {
      const d = reconcile(i);
      return !(d.launch > 0 && d.retire.some((r) => r.reason === 'surplus'));
    }));
  });

  test('launches never take the pool above maxRunners', () => {
    fc.assert(fc.property(arbitraryInput, (i) => {
      const d = reconcile(i);
      const retired = new Set(d.retire.map((r) => r.instanceId));
      const alive = i.pendingLaunches + i.runners.filter((r) => r.state !== 'gone' && !retired.has(r.instanceId)).length;
      return d.launch === 0 || alive + d.launch <= i.limits.maxRunners;
    }));
  });

  test('demand is met or deferred, never dropped: supply + launch + deferred covers the queued jobs', () => {
    fc.assert(fc.property(arbitraryInput, (i) => {
      const d = reconcile(i);
      const retired = new Set(d.retire.map((r) => r.instanceId));
      return supplyOf(i, retired) + d.launch + d.deferred >= i.queuedJobs;
    }));
  });

  test('surplus retirement leaves exactly as much supply as demand, or all the pending launches', () => {
    fc.assert(fc.property(arbitraryInput, (i) => {
      const d = reconcile(i);
      fc.pre(d.launch === 0 && d.deferred === 0);
      const retired = new Set(d.retire.map((r) => r.instanceId));
      return supplyOf(i, retired) === Math.max(i.queuedJobs, i.pendingLaunches);
    }));
  });

  test('busy runners are only ever retired for their lifetime', () => {
    fc.assert(fc.property(arbitraryInput, (i) => {
      const busy = new Set(i.runners.filter((r) => r.state === 'busy').map((r) => r.instanceId));
      return reconcile(i).retire.every((r) => !busy.has(r.instanceId) || r.reason === 'max-lifetime');
    }));
  });

  test('applying a decision reaches a fixed point: deciding again launches and retires nothing more', () => {
    fc.assert(fc.property(arbitraryInput, (i) => {
      const again = reconcile(applied(i));
      return again.launch === 0 && again.retire.length === 0;
    }));
  });

  test('the decision is the same whatever order the runners come in', () => {
    fc.assert(fc.property(arbitraryInput, fc.integer(), (i, seed) => {
      const shuffled = [...i.runners].sort((a, b) => ((a.instanceId.charCodeAt(20) * seed) % 7) - ((b.instanceId.charCodeAt(20) * seed) % 7));
      const a = reconcile(i);
      const b = reconcile({ ...i, runners: shuffled });
      return a.launch === b.launch && new Set(a.retire.map((r) => r.instanceId)).size === new Set(b.retire.map((r) => r.instanceId)).size
        && a.retire.every((r) => b.retire.some((s) => s.instanceId === r.instanceId));
    }));
  });
});

describe('stillQueued', () => {
  const key = (jobId: number, githubHost = 'ghes.example.com') => ({ githubHost, jobId });

  test('a job read queued and then in progress, or named by a busy runner read later, is no demand', () => {
    const queued = [{ key: key(1) }, { key: key(2) }, { key: key(3) }, { key: key(4) }];

    const demand = stillQueued(queued, [{ key: key(2) }], [{ job: key(3) }, {}]);

    expect(demand.map((j) => j.key.jobId)).toEqual([1, 4]);
  });

  test('job ids are compared per GitHub host', () => {
    const demand = stillQueued([{ key: key(7, 'a.example.com') }], [{ key: key(7, 'b.example.com') }], [{ job: key(7, 'c.example.com') }]);

    expect(demand).toHaveLength(1);
  });

  test('never more demand than was read queued, and every job left out was seen started', () => {
    const keyArb = fc.record({ githubHost: fc.constantFrom('a', 'b'), jobId: fc.integer({ min: 1, max: 20 }) });
    fc.assert(fc.property(
      fc.array(keyArb), fc.array(keyArb), fc.array(fc.option(keyArb, { nil: undefined })),
      (queuedKeys, inProgressKeys, runnerJobs) => {
        const queued = queuedKeys.map((k) => ({ key: k }));
        const demand = stillQueued(queued, inProgressKeys.map((k) => ({ key: k })), runnerJobs.map((job) => ({ job })));
        const same = (a: { githubHost: string; jobId: number }) => (b: { githubHost: string; jobId: number } | undefined) =>
          b !== undefined && a.githubHost === b.githubHost && a.jobId === b.jobId;
        expect(demand.length).toBeLessThanOrEqual(queued.length);
        for (const job of queued.filter((j) => !demand.includes(j))) {
          expect(inProgressKeys.some(same(job.key)) || runnerJobs.some(same(job.key))).toBe(true);
        }
        for (const job of demand) {
          expect(inProgressKeys.some(same(job.key)) || runnerJobs.some(same(job.key))).toBe(false);
        }
      },
    ));
  });
});
