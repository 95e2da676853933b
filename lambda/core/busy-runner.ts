// A job that started names the runner that took it: from then on that runner is busy. The webhook
// applies this as the in_progress event arrives and the provisioner as its backstop, by this rule.
import { JobRecord } from './job';
import { buildPoolMessageFor } from './pool-message';
import { Clock, PoolQueue, RunnerStore } from './ports';
import { instanceIdOfRunner, RunnerRecord, scopeOf } from './runner';

export interface BusyRunnerPorts {
  readonly runners: Pick<RunnerStore, 'transitionRunner'>;
  readonly queue: PoolQueue;
  readonly clock: Clock;
}

/**
 * Moves the runner `job` names to busy, if it is one of this deployment's (its name starts with
 * `namePrefix`) and is still booting or registered. GitHub hands a job to any idle runner whose
 * labels fit, even one of another pool: that pool's supply went down, so it is handed to the
 * provisioner as well. The busy runner, or `undefined` when nothing changed.
 */
export async function markJobRunnerBusy(
  ports: BusyRunnerPorts, namePrefix: string, job: Pick<JobRecord, 'key' | 'runnerName' | 'pool'>, correlationId: string,
): Promise<RunnerRecord | undefined> {
  const instanceId = instanceIdOfRunner(namePrefix, job.runnerName);
  if (!instanceId) return undefined;
  const busy = await ports.runners.transitionRunner(instanceId, ['booting', 'registered'], 'busy', { job: job.key }, ports.clock.now());
  if (busy && busy.poolId !== job.pool.poolId) {
    await ports.queue.send(buildPoolMessageFor({ poolId: busy.poolId, configName: busy.configName, scope: scopeOf(busy) }, 'runner-busy', correlationId));
  }
  return busy;
}
