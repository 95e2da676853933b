// Two minutes' notice before spot reclaims an instance (reference/aws.md 3.3).
// - An idle or booting runner would be lost anyway: its registration is deleted first (so GitHub
//   cannot hand it a job any more), then it is retired and terminated at once, and its pool told,
//   so the demand it stood for is launched for again.
// - A busy runner is left to finish if it can; its job is marked on the pool, and the provisioner
//   re-runs it on on-demand capacity if it completes as failed.
import type { LifecycleDeps, LifecycleOutcome } from './deps';
import { InterruptedJobUnknownError, LifecycleConflictError } from './errors';
import { InstanceEvent } from './instance-event';
import { markInterruptedJob, poolOf, runnerKeys } from './runner-effects';
import { LifecycleMetric, MetricDimension } from '../../src/contracts/metrics';
import { JobKey } from '../core/job';
import { buildPoolMessageFor } from '../core/pool-message';
import { RunnerRecord, scopeOf } from '../core/runner';

type SpotInterruption = Extract<InstanceEvent, { kind: 'spot-interruption' }>;

const TRANSITION_ATTEMPTS = 3;

export async function handleSpotInterruption(event: SpotInterruption, deps: LifecycleDeps): Promise<LifecycleOutcome> {
  const { runners, logger } = deps;
  for (let attempt = 0; attempt < TRANSITION_ATTEMPTS; attempt++) {
    const runner = await runners.getRunner(event.instanceId);
    if (!runner) return 'unknown-instance';
    logger.appendKeys(runnerKeys(runner));
    switch (runner.state) {
      case 'busy':
        return markJob(deps, runner, runner.job ?? await jobTakenJustNow(deps, runner));
      case 'gone':
        // A retried event (see InterruptedJobUnknownError) may find the runner gone with the job it had.
        return runner.job ? markJob(deps, runner, runner.job) : 'already-gone';
      case 'retiring':
        return 'already-retiring';
      case 'warming':
      case 'warm':
        // Warm pool instances are on-demand: no spot warning concerns them.
        return 'ignored';
      case 'booting':
      case 'registered': {
        if (runner.runnerId !== undefined) {
          // Errors propagate: nothing has changed yet, and EventBridge retries the event.
          const result = await (await deps.github()).deleteRunner(scopeOf(runner), runner.runnerId);
          if (result === 'busy') return markJob(deps, runner, await jobTakenJustNow(deps, runner));
          if (result === 'deleted') deps.metrics.count(LifecycleMetric.REGISTRATIONS_DELETED, 1, { [MetricDimension.BY]: 'spot-interruption' });
        }
        // Conditional on the state read: a runner registered meanwhile is looked at again.
        const retired = await runners.transitionRunner(event.instanceId, [runner.state], 'retiring', { retireReason: 'interrupted' }, deps.clock.now());
        if (!retired) continue;
        await deps.compute.terminate([event.instanceId]);
        await deps.queue.send(buildPoolMessageFor(poolOf(runner), 'spot-interruption', event.eventId));
        deps.metrics.count(LifecycleMetric.SPOT_INTERRUPTIONS, 1, { [MetricDimension.RUNNER]: 'idle' });
        logger.info('spot interruption: idle runner deregistered and terminated; its pool launches for its demand again', { from: runner.state });
        return 'retired';
      }
    }
  }
  throw new LifecycleConflictError(`runner item of ${event.instanceId}`, TRANSITION_ATTEMPTS);
}

async function markJob(deps: LifecycleDeps, runner: RunnerRecord, job: JobKey): Promise<LifecycleOutcome> {
  const marked = await markInterruptedJob(deps, runner, job);
  if (marked) deps.metrics.count(LifecycleMetric.SPOT_INTERRUPTIONS, 1, { [MetricDimension.RUNNER]: 'busy' });
  deps.logger.info('spot interruption of a busy runner: its job is re-run if it fails', { jobId: job.jobId, githubHost: job.githubHost, marked });
  return 'job-marked';
}

/**
 * GitHub refused to delete an idle runner because it has just taken a job. The job is the one whose
 * in_progress event named the runner — if that event has arrived. Otherwise the event is retried.
 */
async function jobTakenJustNow(deps: LifecycleDeps, runner: RunnerRecord): Promise<JobKey> {
  const again = await deps.runners.getRunner(runner.instanceId);
  if (again?.job) return again.job;
  const running = runner.runnerName === undefined ? [] : await deps.jobs.listActiveJobs(runner.poolId, 'in_progress');
  const job = running.find((j) => j.runnerName === runner.runnerName);
  if (job) return job.key;
  throw new InterruptedJobUnknownError(runner.instanceId, runner.runnerName);
}
