// EMF metrics of the provisioner, through Powertools: each published at once with its own
// dimensions (a single-metric EMF line).
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { ProvisionerMetrics } from './deps';
import { MetricDimension, ProvisionerMetric, ProvisionerMetricName } from '../../src/contracts/metrics';
import { LaunchErrorKind } from '../core/compute';
import { HoldReason } from '../core/launch-hold';
import { Market, RetireReason } from '../core/runner';

export class PowertoolsProvisionerMetrics implements ProvisionerMetrics {
  constructor(private readonly metrics: Metrics) {}

  launched(market: Market, count: number): void {
    if (count > 0) this.single(ProvisionerMetric.INSTANCES_LAUNCHED, count, { [MetricDimension.MARKET]: market });
  }

  launchError(kind: LaunchErrorKind): void {
    this.single(ProvisionerMetric.LAUNCH_ERRORS, 1, { [MetricDimension.KIND]: kind });
  }

  fallback(): void {
    this.metrics.singleMetric().addMetric(ProvisionerMetric.ON_DEMAND_FALLBACKS, MetricUnit.Count, 1);
  }

  retired(reason: RetireReason, count: number): void {
    if (count > 0) this.single(ProvisionerMetric.RUNNERS_RETIRED, count, { [MetricDimension.REASON]: reason });
  }

  rerun(): void {
    this.metrics.singleMetric().addMetric(ProvisionerMetric.INTERRUPTED_JOBS_RERUN, MetricUnit.Count, 1);
  }

  rerunRefused(): void {
    this.metrics.singleMetric().addMetric(ProvisionerMetric.INTERRUPTED_JOBS_RERUN_REFUSED, MetricUnit.Count, 1);
  }

  jobsWaitingForImage(count: number): void {
    this.metrics.singleMetric().addMetric(ProvisionerMetric.JOBS_WAITING_FOR_IMAGE, MetricUnit.Count, count);
  }

  rerunDeferred(): void {
    this.metrics.singleMetric().addMetric(ProvisionerMetric.INTERRUPTED_JOBS_RERUN_DEFERRED, MetricUnit.Count, 1);
  }

  rerunAbandoned(): void {
    this.metrics.singleMetric().addMetric(ProvisionerMetric.INTERRUPTED_JOBS_RERUN_ABANDONED, MetricUnit.Count, 1);
  }

  warmLaunched(count: number): void {
    if (count > 0) this.metrics.singleMetric().addMetric(ProvisionerMetric.WARM_INSTANCES_LAUNCHED, MetricUnit.Count, count);
  }

  warmStarted(config: string, count: number): void {
    if (count > 0) this.single(ProvisionerMetric.WARM_STARTS, count, { [MetricDimension.CONFIG]: config });
  }

  warmStartFailed(count: number): void {
    if (count > 0) this.metrics.singleMetric().addMetric(ProvisionerMetric.WARM_START_FAILURES, MetricUnit.Count, count);
  }

  costTagged(count: number): void {
    if (count > 0) this.metrics.singleMetric().addMetric(ProvisionerMetric.INSTANCES_COST_TAGGED, MetricUnit.Count, count);
  }

  costTagFailed(count: number): void {
    if (count > 0) this.metrics.singleMetric().addMetric(ProvisionerMetric.COST_TAG_FAILURES, MetricUnit.Count, count);
  }

  launchesHeld(reason: HoldReason, count: number): void {
    if (count > 0) this.single(ProvisionerMetric.LAUNCHES_HELD, count, { [MetricDimension.REASON]: reason });
  }

  private single(name: ProvisionerMetricName, value: number, dimensions: Record<string, string>): void {
    const metric = this.metrics.singleMetric();
    for (const [key, dimension] of Object.entries(dimensions)) metric.addDimension(key, dimension);
    metric.addMetric(name, MetricUnit.Count, value);
  }
}
