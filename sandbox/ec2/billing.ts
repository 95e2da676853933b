// What EC2 would bill each instance, from its state changes: compute while it runs, its root EBS volume while it exists.
// - Compute: Linux instances (on-demand and spot) are billed per second with a one-minute minimum each time they start, from
//   `running` until `stopping` or `shutting-down` (https://aws.amazon.com/ec2/pricing/on-demand/ "Per Second Billing";
//   https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_StartInstances.html "Every time you start your instance, Amazon EC2
//   charges a one-minute minimum for instance usage, and thereafter charges per second"). A hibernating instance is billed through
//   `stopping` as well, while its RAM is written to the volume (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/Hibernate.html).
// - EBS: a volume is billed per GB-month, prorated, from its creation until it is deleted, stopped instance included
//   (https://aws.amazon.com/ebs/pricing/; API_StopInstances: "you are charged for Amazon EBS volume usage"). The root volume is created
//   at launch and deleted with the instance (the template's DeleteOnTermination), so it bills from pending until terminated.
import { InstanceRecord } from './instances';
import { rootVolumeGiB } from './launch-templates';
import { InstanceStateName, Market } from './types';

const MINIMUM_BILLED_SECONDS = 60;

/** What one instance has cost so far, in billing units. */
export type InstanceBill = Readonly<{
  instanceId: string;
  market: Market;
  /** Billed compute seconds: each run rounded up to the second, at least 60. */
  computeSeconds: number;
  rootVolumeGiB: number;
  /** Root volume GiB × seconds the volume existed. */
  ebsGiBSeconds: number;
  /** The part of `ebsGiBSeconds` while the instance was stopped. */
  ebsGiBSecondsWhileStopped: number;
}>;

/** Every instance's bill summed: compute seconds by market and EBS GiB-seconds, of which while stopped. */
export type BillingSummary = Readonly<{
  instances: number;
  computeSeconds: Readonly<Record<Market, number>>;
  ebsGiBSeconds: number;
  ebsGiBSecondsWhileStopped: number;
}>;

type Meter = {
  readonly market: Market;
  readonly gib: number;
  /** Billed seconds of finished runs. */
  closedSeconds: number;
  runningSince?: number;
  readonly volumeSince: number;
  volumeUntil?: number;
  stoppedMs: number;
  stoppedSince?: number;
};

const billedSeconds = (ms: number) => Math.max(MINIMUM_BILLED_SECONDS, Math.ceil(ms / 1000));

export class BillingMeter {
  private readonly meters = new Map<string, Meter>();

  /** Hears every state change (previous undefined for the launch's pending), at simulated time `now`. */
  record(instance: InstanceRecord, previous: InstanceStateName | undefined, now: number): void {
    const id = instance.instanceId;
    if (previous === undefined) {
      this.meters.set(id, { market: instance.market, gib: rootVolumeGiB(instance.launchTemplate), closedSeconds: 0, volumeSince: now, stoppedMs: 0 });
      return;
    }
    const meter = this.meters.get(id);
    if (!meter) return;
    const closeRun = () => {
      if (meter.runningSince === undefined) return;
      meter.closedSeconds += billedSeconds(now - meter.runningSince);
      meter.runningSince = undefined;
    };
    if (previous === 'stopped' && meter.stoppedSince !== undefined) {
      meter.stoppedMs += now - meter.stoppedSince;
      meter.stoppedSince = undefined;
    }
    switch (instance.state) {
      case 'running': meter.runningSince = now; break;
      // Hibernation bills compute through stopping.
      case 'stopping': if (!instance.hibernated) closeRun(); break;
      case 'stopped': closeRun(); meter.stoppedSince = now; break;
      case 'shutting-down': closeRun(); break;
      case 'terminated': meter.volumeUntil = now; break;
      default: break;
    }
  }

  /** One instance's bill up to `now` (an open run counts as billed so far, its minimum included); undefined for an unknown id. */
  bill(instanceId: string, now: number): InstanceBill | undefined {
    const m = this.meters.get(instanceId);
    if (!m) return undefined;
    const computeSeconds = m.closedSeconds + (m.runningSince === undefined ? 0 : billedSeconds(now - m.runningSince));
    const volumeMs = (m.volumeUntil ?? now) - m.volumeSince;
    const stoppedMs = m.stoppedMs + (m.stoppedSince === undefined ? 0 : (m.volumeUntil ?? now) - m.stoppedSince);
    const gibSeconds = (ms: number) => (m.gib * ms) / 1000;
    return {
      instanceId,
      market: m.market,
      computeSeconds,
      rootVolumeGiB: m.gib,
      ebsGiBSeconds: gibSeconds(volumeMs),
      ebsGiBSecondsWhileStopped: gibSeconds(stoppedMs),
    };
  }

  summary(now: number): BillingSummary {
    const bills = [...this.meters.keys()].map((id) => this.bill(id, now)!);
    const sum = (pick: (b: InstanceBill) => number) => bills.reduce((total, b) => total + pick(b), 0);
    return {
      instances: bills.length,
      computeSeconds: { 'spot': sum((b) => (b.market === 'spot' ? b.computeSeconds : 0)), 'on-demand': sum((b) => (b.market === 'on-demand' ? b.computeSeconds : 0)) },
      ebsGiBSeconds: sum((b) => b.ebsGiBSeconds),
      ebsGiBSecondsWhileStopped: sum((b) => b.ebsGiBSecondsWhileStopped),
    };
  }
}
