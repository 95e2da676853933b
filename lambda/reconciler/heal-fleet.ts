// Under the deployment's maxInstances, makes the fleet record true to EC2 each sweep: a lease for
// every live instance of ours, none for one that ended (its lifecycle event lost), none for the
// reservation of a launch that crashed before binding. Publishes the jobs waiting on the cap.
import type { Run } from './run';
import { ReconcilerMetric } from '../../src/contracts/metrics';
import { healFleet, owedSlots, sameFleet, waitingJobs } from '../core/fleet-cap';
import { buildPoolMessageFor } from '../core/pool-message';

const SAVE_ATTEMPTS = 5;

export async function healFleetCap(run: Run): Promise<void> {
  const { fleet: cap, compute, logger, metrics, queue } = run.deps;
  if (!cap) return;
  // EC2 stops billing an instance at shutting-down (the lifecycle function frees its slot then).
  const live = (await compute.listInstances()).filter((i) => i.state !== 'shutting-down');
  for (let attempt = 0; attempt < SAVE_ATTEMPTS; attempt++) {
    const fleet = await cap.store.getFleet();
    const healed = healFleet(fleet, live, run.now);
    // A gauge once a run, as LiveInstances: its alarm tells that demand waits on the cap.
    const waiting = waitingJobs(healed, run.now);
    if (!sameFleet(fleet, healed)) {
      if (!(await cap.store.saveFleet(healed, run.now))) continue;
      logger.info('fleet cap record healed from EC2', { leasesBefore: fleet.leases.length, leases: healed.leases.length, live: live.length });
      // Slots a lost event held are free now: the pools owed them need not wait for their next message.
      const freed = fleet.leases.length > healed.leases.length;
      if (freed) for (const pool of owedSlots(healed, cap.maxInstances, run.now).owed) await queue.send(buildPoolMessageFor(pool, 'fleet-slot', `${run.runId}#heal`));
    }
    metrics.count(ReconcilerMetric.JOBS_WAITING_ON_FLEET_CAP, waiting);
    return;
  }
  logger.warn('the fleet cap record kept changing under the heal; the next run tries again', {});
}
