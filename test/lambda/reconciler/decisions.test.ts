// The reconciler's pure decisions: which deliveries to redeliver and where to read from next, which
// jobs to ask GitHub about and what its answer changes, which instances and registrations are
// orphans and ghosts, and how two saves of the state merge.
import fc from 'fast-check';
import { WebhookDelivery } from '../../../lambda/core/github';
import { JobRecord } from '../../../lambda/core/job';
import {
  EMPTY_RECONCILER_STATE, mergeReconcilerStates, pruneReconcilerState, ReconcilerState, recentScopes, scopeKey, touchScopes,
} from '../../../lambda/core/reconciler-state';
import { poolIdOf } from '../../../lambda/core/routing';
import { RunnerRecord } from '../../../lambda/core/runner';
import { listingStart, nextCursor, planRedeliveries, recordRedelivery, RedeliveryLimits } from '../../../lambda/reconciler/deliveries';
import { PoolIdError } from '../../../lambda/reconciler/errors';
import { ghostCandidates } from '../../../lambda/reconciler/ghosts';
import { hasNoLiveRunner, orphanCandidates } from '../../../lambda/reconciler/orphans';
import { poolFromId } from '../../../lambda/reconciler/pool-id';
import { repairFromGitHub, selectStuckJobs } from '../../../lambda/reconciler/stuck-jobs';

const NOW = Date.UTC(2026, 0, 15, 12);
const MINUTE = 60_000;
const LIMITS: RedeliveryLimits = {
  maxAttemptsPerGuid: 5,
  maxPerRun: 10,
  redeliverySpacingMs: [3 * MINUTE, 15 * MINUTE, 60 * MINUTE, 240 * MINUTE],
  overlapMs: 5 * MINUTE,
  initialLookbackMs: 60 * MINUTE,
  maxLookbackMs: 6 * 60 * MINUTE,
};

function delivery(id: number, guid: string, statusCode: number, agoMs: number, event = 'workflow_job'): WebhookDelivery {
  return { id, guid, deliveredAt: new Date(NOW - agoMs).toISOString(), redelivery: false, statusCode, event, action: 'queued' };
}

describe('planRedeliveries', () => {
  test('a workflow_job event with no 2xx attempt is redelivered through its latest attempt; others are not', () => {
    const plan = planRedeliveries([
      delivery(5, 'lost', 0, MINUTE),
      delivery(4, 'lost', 502, 2 * MINUTE),
      delivery(3, 'fine', 200, 3 * MINUTE),
      delivery(2, 'fine', 500, 4 * MINUTE),
      delivery(1, 'ping', 500, 5 * MINUTE, 'ping'),
    ], [], NOW, LIMITS);
    expect(plan.redeliver.map((r) => [r.guid, r.deliveryId])).toEqual([['lost', 5]]);
  });

  test('an event redelivered recently waits, each wait longer than the one before; one redelivered the maximum number of times is given up', () => {
    const guids = ['recent', 'spent', 'due', 'next-wait-longer', 'last-wait-due'];
    const deliveries = guids.map((guid, i) => delivery(i + 1, guid, 500, MINUTE));
    const plan = planRedeliveries(deliveries, [
      { guid: 'recent', attempts: 1, lastAttemptAt: NOW - MINUTE },
      { guid: 'spent', attempts: 5, lastAttemptAt: NOW - 300 * MINUTE },
      { guid: 'due', attempts: 2, lastAttemptAt: NOW - 16 * MINUTE },
      { guid: 'next-wait-longer', attempts: 2, lastAttemptAt: NOW - 4 * MINUTE },
      { guid: 'last-wait-due', attempts: 4, lastAttemptAt: NOW - 240 * MINUTE },
    ], NOW, LIMITS);
    expect(plan.redeliver.map((r) => r.guid)).toEqual(['due', 'last-wait-due']);
    expect(plan.waiting.map((r) => r.guid)).toEqual(['recent', 'next-wait-longer']);
    expect(plan.exhausted.map((r) => r.guid)).toEqual(['spent']);
  });

  test('property: never a successful event, never over the cap per run, never over the attempts per event', () => {
    const arbDelivery = fc.record({
      guid: fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f'),
      statusCode: fc.constantFrom(0, 200, 202, 302, 404, 500, 502),
      agoMs: fc.integer({ min: 0, max: 30 * MINUTE }),
    });
    const arbRecord = fc.record({ guid: fc.constantFrom('a', 'b', 'c', 'd'), attempts: fc.integer({ min: 0, max: 5 }), agoMs: fc.integer({ min: 0, max: 30 * MINUTE }) });
    const arbMaxPerRun = fc.integer({ min: 0, max: 4 });
    fc.assert(fc.property(fc.array(arbDelivery, { maxLength: 40 }), fc.array(arbRecord, { maxLength: 4 }), arbMaxPerRun, (ds, rs, maxPerRun) => {
      // A GUID names one event: e and f are pings.
      const deliveries = ds.map((d, i) => delivery(i + 1, d.guid, d.statusCode, d.agoMs, 'ef'.includes(d.guid) ? 'ping' : 'workflow_job'));
      const records = [...new Map(rs.map((r) => [r.guid, { guid: r.guid, attempts: r.attempts, lastAttemptAt: NOW - r.agoMs }])).values()];
      const plan = planRedeliveries(deliveries, records, NOW, { ...LIMITS, maxPerRun });
      expect(plan.redeliver.length).toBeLessThanOrEqual(maxPerRun);
      const guids = plan.redeliver.map((r) => r.guid);
      expect(new Set(guids).size).toBe(guids.length);
      for (const r of [...plan.redeliver, ...plan.deferred]) {
        const attempts = deliveries.filter((d) => d.guid === r.guid);
        expect(attempts.every((d) => d.event === 'workflow_job' && (d.statusCode < 200 || d.statusCode >= 300))).toBe(true);
        expect(records.find((x) => x.guid === r.guid)?.attempts ?? 0).toBeLessThan(LIMITS.maxAttemptsPerGuid);
        expect(r.deliveryId).toBe(Math.max(...attempts.map((d) => d.id)));
      }
    }));
  });

  test('property: the cursor a plan leaves keeps every failed event not given up in the next listing', () => {
    const arbDelivery = fc.record({
      guid: fc.constantFrom('a', 'b', 'c', 'd'),
      statusCode: fc.constantFrom(0, 200, 502),
      agoMs: fc.integer({ min: 0, max: 60 * MINUTE }),
    });
    const arbRecord = fc.record({ guid: fc.constantFrom('a', 'b', 'c', 'd'), attempts: fc.integer({ min: 1, max: 6 }), agoMs: fc.integer({ min: 0, max: 300 * MINUTE }) });
    fc.assert(fc.property(
      fc.array(arbDelivery, { maxLength: 30 }), fc.array(arbRecord, { maxLength: 4 }), fc.integer({ min: 0, max: 3 }),
      (ds, rs, maxPerRun) => {
        const deliveries = ds.map((d, i) => delivery(i + 1, d.guid, d.statusCode, d.agoMs));
        const records = [...new Map(rs.map((r) => [r.guid, { guid: r.guid, attempts: r.attempts, lastAttemptAt: NOW - r.agoMs }])).values()];
        const plan = planRedeliveries(deliveries, records, NOW, { ...LIMITS, maxPerRun });
        // As the sweep does: whatever was not redelivered this run and is not given up holds the cursor.
        const cursor = nextCursor(NOW - 60 * MINUTE, deliveries, [...plan.deferred, ...plan.waiting], LIMITS.overlapMs);
        const redelivered = new Set(plan.redeliver.map((r) => r.guid));
        const exhausted = new Set(plan.exhausted.map((r) => r.guid));
        for (const guid of new Set(deliveries.map((d) => d.guid))) {
          const attempts = deliveries.filter((d) => d.guid === guid);
          if (attempts.some((d) => d.statusCode === 200) || redelivered.has(guid) || exhausted.has(guid)) continue;
          expect(listingStart(cursor, NOW, LIMITS)).toBeLessThanOrEqual(Math.min(...attempts.map((d) => Date.parse(d.deliveredAt))));
        }
      },
    ));
  });

  test('recording a redelivery counts it', () => {
    const once = recordRedelivery([], 'g', NOW);
    expect(recordRedelivery(once, 'g', NOW + 1)).toEqual([{ guid: 'g', attempts: 2, lastAttemptAt: NOW + 1 }]);
  });
});

describe('delivery cursor', () => {
  test('the first run looks back the initial window; later runs from the cursor, less the overlap', () => {
    expect(listingStart(undefined, NOW, LIMITS)).toBe(NOW - 65 * MINUTE);
    expect(listingStart(NOW - MINUTE, NOW, LIMITS)).toBe(NOW - 6 * MINUTE);
  });

  test('a cursor left far behind is read from no further back than the longest lookback', () => {
    expect(listingStart(NOW - 3 * 24 * 60 * MINUTE, NOW, LIMITS)).toBe(NOW - 6 * 60 * MINUTE);
    expect(listingStart(NOW - 5 * 60 * MINUTE, NOW, LIMITS)).toBe(NOW - 5 * 60 * MINUTE - 5 * MINUTE);
  });

  test('property: the cursor moves to the newest attempt seen, but the next listing still reaches every unfinished event', () => {
    fc.assert(fc.property(
      fc.option(fc.integer({ min: 0, max: 60 * MINUTE }), { nil: undefined }),
      fc.array(fc.integer({ min: 0, max: 60 * MINUTE }), { maxLength: 20 }),
      fc.array(fc.nat(19), { maxLength: 5 }),
      (previousAgo, agos, unfinishedIdx) => {
        const deliveries = agos.map((ago, i) => delivery(i + 1, `g${i}`, 500, ago));
        const unfinished = unfinishedIdx.filter((i) => i < agos.length).map((i) => ({
          guid: `g${i}`, deliveryId: i + 1, firstDeliveredAt: NOW - agos[i], action: null,
        }));
        const previous = previousAgo === undefined ? undefined : NOW - previousAgo;
        const cursor = nextCursor(previous, deliveries, unfinished, LIMITS.overlapMs);
        if (deliveries.length === 0) {
          expect(cursor).toBe(previous);
          return;
        }
        const start = listingStart(cursor, NOW, LIMITS);
        for (const u of unfinished) expect(start).toBeLessThanOrEqual(u.firstDeliveredAt);
        if (unfinished.length === 0) expect(cursor).toBe(Math.max(previous ?? -Infinity, ...deliveries.map((d) => Date.parse(d.deliveredAt))));
      },
    ));
  });

  test('property: a listing its page cap stopped leaves the cursor where it was, behind every delivery it listed', () => {
    fc.assert(fc.property(
      fc.option(fc.integer({ min: 0, max: 60 * MINUTE }), { nil: undefined }),
      fc.array(fc.integer({ min: 0, max: 60 * MINUTE }), { minLength: 1, maxLength: 20 }),
      (previousAgo, agos) => {
        const previous = previousAgo === undefined ? undefined : NOW - previousAgo;
        const start = listingStart(previous, NOW, LIMITS);
        // What a listing from `start` can hold: nothing older than where it began.
        const deliveries = agos.map((ago, i) => delivery(i + 1, `g${i}`, 200, ago)).filter((d) => Date.parse(d.deliveredAt) >= start);
        const cursor = nextCursor(previous, deliveries, [], LIMITS.overlapMs, false);
        expect(cursor).toBe(previous);
        for (const d of deliveries) expect(listingStart(cursor, NOW, LIMITS)).toBeLessThanOrEqual(Date.parse(d.deliveredAt));
      },
    ));
  });
});

function job(jobId: number, state: JobRecord['state'], createdAgo: number, updatedAgo = createdAgo): JobRecord {
  return {
    key: { githubHost: 'h', jobId },
    state,
    runId: 1,
    repo: 'octo-org/app',
    labels: [],
    pool: { poolId: 'octo-org#x', configName: 'x', scope: { kind: 'org', org: 'octo-org' } },
    createdAt: new Date(NOW - createdAgo).toISOString(),
    updatedAt: new Date(NOW - updatedAgo).toISOString(),
  };
}

describe('stuck jobs', () => {
  const limits = { queuedForMs: 10 * MINUTE, inProgressForMs: 70 * MINUTE, recheckAfterMs: 10 * MINUTE, maxChecksPerRun: 2 };

  test('queued long, or in progress longer than a runner lives, oldest first, not rechecked too soon, capped', () => {
    const jobs = [
      job(1, 'queued', 5 * MINUTE),
      job(2, 'queued', 20 * MINUTE),
      job(3, 'queued', 30 * MINUTE),
      job(4, 'in_progress', 90 * MINUTE, 60 * MINUTE),
      job(5, 'in_progress', 90 * MINUTE, 80 * MINUTE),
      job(6, 'queued', 40 * MINUTE),
    ];
    const checks = [{ key: { githubHost: 'h', jobId: 6 }, checkedAt: NOW - 2 * MINUTE }];
    expect(selectStuckJobs(jobs, checks, NOW, limits).map((j) => j.key.jobId)).toEqual([5, 3]);
    expect(selectStuckJobs(jobs, checks, NOW, { ...limits, maxChecksPerRun: 10 }).map((j) => j.key.jobId)).toEqual([5, 3, 2]);
  });

  test('GitHub\'s answer moves a job forward only', () => {
    const queued = job(1, 'queued', 20 * MINUTE);
    const gh = (status: string, conclusion: string | null = null) => ({ id: 1, runId: 1, runAttempt: 1, status, conclusion, runnerName: 'er-i-1' });
    expect(repairFromGitHub(queued, gh('queued'), NOW)).toBeUndefined();
    expect(repairFromGitHub(queued, gh('waiting'), NOW)).toBeUndefined();
    expect(repairFromGitHub(queued, gh('in_progress'), NOW)).toMatchObject({ to: 'in_progress', runnerName: 'er-i-1', expiresAt: undefined });
    expect(repairFromGitHub(queued, gh('completed', 'success'), NOW)).toMatchObject({ to: 'completed', conclusion: 'success', expiresAt: expect.any(Number) });
    expect(repairFromGitHub(queued, undefined, NOW)).toMatchObject({ to: 'completed', conclusion: 'cancelled' });
    expect(repairFromGitHub(job(1, 'in_progress', 90 * MINUTE), gh('in_progress'), NOW)).toBeUndefined();
  });
});

function runner(instanceId: string, state: RunnerRecord['state']): RunnerRecord {
  return { instanceId, state, market: 'spot', launchedAt: NOW, poolId: 'p#x', configName: 'x', scope: { kind: 'org', org: 'p' }, updatedAt: NOW, version: 1 };
}

describe('orphans and ghosts', () => {
  test('only instances older than the boot timeout, not ending, not known live, are candidates; a gone or missing runner makes an orphan', () => {
    const instances = [
      { instanceId: 'i-old', state: 'running', launchedAt: NOW - 11 * MINUTE },
      { instanceId: 'i-young', state: 'running', launchedAt: NOW - 9 * MINUTE },
      { instanceId: 'i-ending', state: 'shutting-down', launchedAt: NOW - 60 * MINUTE },
      { instanceId: 'i-live', state: 'running', launchedAt: NOW - 60 * MINUTE },
      { instanceId: 'i-undated', state: 'running' },
      { instanceId: 'i-stopped', state: 'stopped', launchedAt: NOW - 60 * MINUTE },
    ];
    expect(orphanCandidates(instances, new Set(['i-live']), NOW, 10 * MINUTE).map((i) => i.instanceId)).toEqual(['i-old', 'i-stopped']);
    expect([undefined, runner('i-1', 'gone'), runner('i-1', 'booting'), runner('i-1', 'retiring')].map(hasNoLiveRunner)).toEqual([true, true, false, false]);
  });

  test('ghost candidates: ours by name, not busy, not known live', () => {
    const registrations = [
      { id: 1, name: 'er-i-0000000000000000a', status: 'offline' as const, busy: false },
      { id: 2, name: 'er-i-0000000000000000b', status: 'online' as const, busy: true },
      { id: 3, name: 'er-i-0000000000000000c', status: 'online' as const, busy: false },
      { id: 4, name: 'er-not-an-instance', status: 'offline' as const, busy: false },
      { id: 5, name: 'other-i-0000000000000000d', status: 'offline' as const, busy: false },
    ];
    expect(ghostCandidates(registrations, 'er-', new Set(['i-0000000000000000c'])).map((c) => c.registration.id)).toEqual([1]);
  });
});

describe('pool ids', () => {
  test('round trip for organization and repository pools; anything else is refused', () => {
    expect(poolFromId('octo-org#linux-x64')).toEqual({ poolId: 'octo-org#linux-x64', configName: 'linux-x64', scope: { kind: 'org', org: 'octo-org' } });
    expect(poolFromId('alice/tool.js#x')).toEqual({ poolId: 'alice/tool.js#x', configName: 'x', scope: { kind: 'repo', owner: 'alice', repo: 'tool.js' } });
    expect(poolFromId('enterprise:octo-ent#x')).toEqual({ poolId: 'enterprise:octo-ent#x', configName: 'x', scope: { kind: 'enterprise', enterprise: 'octo-ent' } });
    for (const bad of ['', 'no-hash', '#x', 'a#', 'a/b/c#x', '/b#x', 'a/#x', 'enterprise:#x']) expect(() => poolFromId(bad)).toThrow(PoolIdError);
  });

  test('property: every id poolIdOf makes reads back', () => {
    const name = fc.stringMatching(/^[a-z0-9][a-z0-9_.-]{0,20}$/);
    const config = fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,10}[a-z0-9])?$/);
    const scope = fc.oneof(
      name.map((org) => ({ kind: 'org' as const, org })),
      fc.tuple(name, name).map(([owner, repo]) => ({ kind: 'repo' as const, owner, repo })),
      name.map((enterprise) => ({ kind: 'enterprise' as const, enterprise })),
    );
    fc.assert(fc.property(scope, config, (s, c) => {
      expect(poolFromId(poolIdOf(s, c))).toEqual({ poolId: poolIdOf(s, c), configName: c, scope: s });
    }));
  });
});

describe('reconciler state', () => {
  const org = (o: string) => ({ kind: 'org' as const, org: o });
  const arbState: fc.Arbitrary<ReconcilerState> = fc.record({
    scopes: fc.uniqueArray(fc.record({ scope: fc.constantFrom('a', 'b', 'c').map(org), lastActiveAt: fc.integer({ min: 0, max: 100 }) }), { selector: (s) => s.scope.org }),
    redeliveries: fc.uniqueArray(fc.record({ guid: fc.constantFrom('x', 'y'), attempts: fc.integer({ min: 0, max: 3 }), lastAttemptAt: fc.integer({ min: 0, max: 100 }) }), { selector: (r) => r.guid }),
    jobChecks: fc.uniqueArray(fc.record({ key: fc.constantFrom(1, 2).map((jobId) => ({ githubHost: 'h', jobId })), checkedAt: fc.integer({ min: 0, max: 100 }) }), { selector: (c) => c.key.jobId }),
    deliveriesCursor: fc.option(fc.integer({ min: 0, max: 100 }), { nil: undefined }),
    runnerVersionRead: fc.option(fc.oneof(
      fc.record({ at: fc.integer({ min: 0, max: 100 }) }),
      fc.record({ at: fc.integer({ min: 0, max: 100 }), serverRelease: fc.constantFrom('3.18.4', '3.19.0') }),
    ), { nil: undefined }),
  }).map(({ deliveriesCursor, runnerVersionRead, ...rest }) => ({
    ...rest, ...(deliveriesCursor === undefined ? {} : { deliveriesCursor }), ...(runnerVersionRead === undefined ? {} : { runnerVersionRead }),
  }));

  test('property: merging forgets nothing either writer saw, and the order of the writers does not matter', () => {
    const normal = (s: ReconcilerState) => ({
      ...s,
      redeliveries: [...s.redeliveries].sort((a, b) => a.guid.localeCompare(b.guid)),
      jobChecks: [...s.jobChecks].sort((a, b) => a.key.jobId - b.key.jobId),
    });
    fc.assert(fc.property(arbState, arbState, (a, b) => {
      const merged = mergeReconcilerStates(a, b);
      expect(normal(merged)).toEqual(normal(mergeReconcilerStates(b, a)));
      for (const s of [...a.scopes, ...b.scopes]) {
        expect(merged.scopes.find((m) => scopeKey(m.scope) === scopeKey(s.scope))!.lastActiveAt).toBeGreaterThanOrEqual(s.lastActiveAt);
      }
      for (const r of [...a.redeliveries, ...b.redeliveries]) {
        expect(merged.redeliveries.find((m) => m.guid === r.guid)!.attempts).toBeGreaterThanOrEqual(r.attempts);
      }
      // The later runner version read is kept: the one that saw the newer release, after an upgrade.
      for (const read of [a.runnerVersionRead, b.runnerVersionRead]) {
        if (read) expect(merged.runnerVersionRead!.at).toBeGreaterThanOrEqual(read.at);
      }
      expect(merged.runnerVersionRead === undefined).toBe(!a.runnerVersionRead && !b.runnerVersionRead);
    }));
  });

  test('touching a scope never moves it back; pruning drops what is out of its window', () => {
    const touched = touchScopes(touchScopes(EMPTY_RECONCILER_STATE, [org('a')], NOW), [org('a')], NOW - MINUTE);
    // A scope first seen now had nothing of ours registered before: its ghost sweep waits for a mark or the backstop.
    expect(touched.scopes).toEqual([{ scope: org('a'), lastActiveAt: NOW, sweptAt: NOW }]);
    expect(recentScopes(touched, NOW + 59 * MINUTE, 60 * MINUTE)).toHaveLength(1);
    const pruned = pruneReconcilerState({
      ...touched,
      redeliveries: [{ guid: 'old', attempts: 1, lastAttemptAt: NOW - 8 * 24 * 60 * MINUTE }, { guid: 'new', attempts: 1, lastAttemptAt: NOW }],
      jobChecks: [],
      deliveriesCursor: NOW,
    }, NOW + 61 * MINUTE, { scopeSweepMs: 60 * MINUTE, redeliveryMemoryMs: 7 * 24 * 60 * MINUTE, jobCheckMemoryMs: 60 * MINUTE, maxEntries: 10 });
    expect(pruned).toEqual({ scopes: [], redeliveries: [{ guid: 'new', attempts: 1, lastAttemptAt: NOW }], jobChecks: [], deliveriesCursor: NOW });
  });
});
