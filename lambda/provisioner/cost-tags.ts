// Cost allocation: once a job started, the instance that runs it (and its root volume) gets the
// repository and workflow of the job as tags, so that Cost Explorer can group runner spend by them.
// Runners are not bound to jobs until GitHub hands one a job, so this is the first moment they can
// be set. Best effort: a failure is logged and counted, and never fails the pool's reconcile.
import { ProvisionerDeps } from './deps';
import { InstanceTagRequest } from '../core/compute';
import { costTagsOf } from '../core/cost-tags';
import { JobKey, JobRecord } from '../core/job';
import { RunnerRecord } from '../core/runner';

const sameJob = (a: JobKey, b: JobKey) => a.jobId === b.jobId && a.githubHost === b.githubHost;

/**
 * Tags the instances of the pool's busy runners that have not been tagged for their job yet. The
 * runner item is marked before the EC2 call (a conditional write that one reconcile wins), so a job
 * costs one CreateTags call whatever number of reconciles see it running; a failed call is not
 * retried. A job from another pool's delivery (GitHub hands a job to any runner whose labels fit) is
 * read from the table; one the table no longer holds is left untagged.
 */
export async function tagStartedJobs(deps: ProvisionerDeps, runners: readonly RunnerRecord[], inProgress: readonly JobRecord[]): Promise<void> {
  const untagged = runners.filter((r) => r.state === 'busy' && r.job !== undefined && r.costTaggedJob !== r.job.jobId);
  if (untagged.length === 0) return;
  const requests: InstanceTagRequest[] = [];
  try {
    for (const runner of untagged) {
      const key = runner.job!;
      const job = inProgress.find((j) => sameJob(j.key, key)) ?? await deps.jobs.getJob(key);
      if (!job) continue;
      if (!await deps.runners.claimCostTags(runner.instanceId, key)) continue;
      requests.push({ instanceId: runner.instanceId, tags: costTagsOf(job) });
    }
    const result = await deps.compute.tagInstances(requests);
    deps.metrics.costTagged(result.tagged.length);
    deps.metrics.costTagFailed(result.failed.length);
    for (const failure of result.failed) {
      deps.logger.warn('could not tag an instance with its job\'s repository and workflow; its cost goes untagged', {
        instance: failure.instanceId, code: failure.code, error: failure.message,
      });
    }
  } catch (error) {
    // Not an answer for one instance (the table or DescribeInstances failed). The instances marked
    // already go untagged rather than cost a call on every reconcile; the others are tried again.
    deps.metrics.costTagFailed(requests.length);
    deps.logger.warn('could not tag instances with their jobs\' repository and workflow', {
      untagged: requests.map((r) => r.instanceId), retried: untagged.length - requests.length, error: error as Error,
    });
  }
}
