// Retires runners: a conditional move to `retiring` first (so a concurrent registration cannot
// hand the instance a runner config), then the GitHub registration, then the instance.
import { ProvisionerDeps } from './deps';
import { Retirement } from '../core/reconcile';
import { RunnerRecord, scopeOf } from '../core/runner';

/** Returns how many runners were retired. */
export async function retire(deps: ProvisionerDeps, runners: readonly RunnerRecord[], retirements: readonly Retirement[]): Promise<number> {
  const byId = new Map(runners.map((r) => [r.instanceId, r]));
  const terminate: string[] = [];
  for (const retirement of retirements) {
    const runner = byId.get(retirement.instanceId);
    if (!runner) continue; // a launch the index does not show yet: retired once it does
    const retiring = await deps.runners.transitionRunner(runner.instanceId, [runner.state], 'retiring', { retireReason: retirement.reason }, deps.clock.now());
    if (!retiring) continue; // it changed meanwhile (registered, took a job): the next reconcile decides again
    if (retiring.runnerId !== undefined && retirement.action !== 'terminate') {
      const github = await deps.github();
      const result = await github.deleteRunner(scopeOf(retiring), retiring.runnerId);
      if (result === 'busy' && retirement.action === 'deregister-and-terminate') {
        // It took a job between the decision and now: it stays, and runs that job.
        await deps.runners.transitionRunner(runner.instanceId, ['retiring'], 'busy', {}, deps.clock.now());
        deps.logger.info('runner took a job while it was retired; it stays', { pool: runner.poolId, instance: runner.instanceId });
        continue;
      }
    }
    terminate.push(runner.instanceId);
    deps.logger.info('retiring runner', { pool: runner.poolId, instance: runner.instanceId, reason: retirement.reason, runner: runner.runnerName });
  }
  if (terminate.length > 0) await deps.compute.terminate(terminate);
  for (const reason of new Set(retirements.map((r) => r.reason))) {
    deps.metrics.retired(reason, retirements.filter((r) => r.reason === reason && terminate.includes(r.instanceId)).length);
  }
  return terminate.length;
}
