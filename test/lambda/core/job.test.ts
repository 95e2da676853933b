import * as fc from 'fast-check';
import {
  applyJobTransition,
  FINISHED_JOB_RETENTION_SECONDS,
  JOB_STATE_RANK,
  JobEvent,
  JobRecord,
  JobState,
  jobStateForAction,
  planJobTransition,
} from '../../../lambda/core/job';
import { Pool } from '../../../lambda/core/routing';

const POOL: Pool = { poolId: 'octo-org#linux-x64', configName: 'linux-x64', scope: { kind: 'org', org: 'octo-org' } };
const OTHER_POOL: Pool = { poolId: 'octo-org#linux-arm64', configName: 'linux-arm64', scope: { kind: 'org', org: 'octo-org' } };
const T0 = Date.UTC(2026, 0, 15, 12);

function jobEvent(state: JobState, extra: Partial<JobEvent> = {}): JobEvent {
  return {
    key: { githubHost: 'ghes.example.com', jobId: 42 },
    state,
    runId: 7,
    runAttempt: 1,
    origin: { owner: 'Octo-Org', repo: 'app', org: 'Octo-Org' },
    labels: ['self-hosted', 'Linux', 'X64'],
    ...extra,
  };
}

/** Applies events in order, each routed to `pool` unless it says otherwise. */
function replay(events: readonly { state: JobState; pool?: Pool; runnerName?: string }[]): JobRecord | undefined {
  let job: JobRecord | undefined;
  events.forEach((e, i) => {
    const t = planJobTransition(jobEvent(e.state, { runnerName: e.runnerName }), e.pool, T0 + i * 1000);
    job = applyJobTransition(job, t).job ?? job;
  });
  return job;
}

describe('job transitions', () => {
  test('waiting and unknown actions move no job', () => {
    expect(jobStateForAction('waiting')).toBeUndefined();
    expect(jobStateForAction('requested')).toBeUndefined();
    expect(jobStateForAction('queued')).toBe('queued');
  });

  test('a queued job is created in its pool', () => {
    const result = applyJobTransition(undefined, planJobTransition(jobEvent('queued'), POOL, T0));

    expect(result.changed).toBe(true);
    expect(result.job).toMatchObject({ state: 'queued', pool: POOL, repo: 'Octo-Org/app', org: 'Octo-Org', labels: ['self-hosted', 'Linux', 'X64'] });
    expect(result.job?.expiresAt).toBeUndefined();
  });

  test('in_progress before queued leaves the job in_progress', () => {
    const job = replay([{ state: 'in_progress', pool: POOL, runnerName: 'runner-1' }, { state: 'queued', pool: POOL }]);
    expect(job).toMatchObject({ state: 'in_progress', runnerName: 'runner-1' });
  });

  test('a completed job expires a week later', () => {
    const job = replay([{ state: 'queued', pool: POOL }, { state: 'completed', pool: POOL }]);
    expect(job?.state).toBe('completed');
    expect(job?.expiresAt).toBe(Math.floor((T0 + 1000) / 1000) + FINISHED_JOB_RETENTION_SECONDS);
  });

  test('an unrouted event moves a known job but creates none', () => {
    expect(applyJobTransition(undefined, planJobTransition(jobEvent('completed'), undefined, T0))).toEqual({ changed: false });
    const job = replay([{ state: 'queued', pool: POOL }, { state: 'completed' }]);
    expect(job).toMatchObject({ state: 'completed', pool: POOL });
  });

  test('a job keeps the pool it was first routed to', () => {
    const job = replay([{ state: 'queued', pool: POOL }, { state: 'in_progress', pool: OTHER_POOL }]);
    expect(job?.pool).toEqual(POOL);
  });

  const eventArb = fc.record({ state: fc.constantFrom<JobState>('queued', 'in_progress', 'completed'), runnerName: fc.option(fc.constantFrom('r1', 'r2'), { nil: undefined }) });

  test('the final state is the highest state delivered, in any order', () => {
    fc.assert(fc.property(fc.array(eventArb, { minLength: 1, maxLength: 8 }), (events) => {
      const job = replay(events.map((e) => ({ ...e, pool: POOL })));
      const highest = events.reduce((a, e) => (JOB_STATE_RANK[e.state] > JOB_STATE_RANK[a] ? e.state : a), events[0].state);
      expect(job?.state).toBe(highest);
    }));
  });

  test('applying a transition a second time changes nothing', () => {
    fc.assert(fc.property(fc.array(eventArb, { maxLength: 6 }), eventArb, (before, last) => {
      const job = replay(before.map((e) => ({ ...e, pool: POOL })));
      const t = planJobTransition(jobEvent(last.state, { runnerName: last.runnerName }), POOL, T0 + 99_000);
      const once = applyJobTransition(job, t);
      const twice = applyJobTransition(once.job, t);
      expect(twice.changed).toBe(false);
      expect(twice.job).toEqual(once.job);
    }));
  });
});
