// EMF metrics of the provisioner, through Powertools: each published at once with its own
// dimensions (a single-metric EMF line).
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { ProvisionerMetrics } from './deps';
import { LaunchErrorKind } from '../core/compute';
import { Market, RetireReason } from '../core/runner';

export class PowertoolsProvisionerMetrics implements ProvisionerMetrics {
  constructor(private readonly metrics: Metrics) {}

  launched(market: Market, count: number): void {
    if (count > 0) this.single('InstancesLaunched', count, { market });
  }

  launchError(kind: LaunchErrorKind): void {
    this.single('LaunchErrors', 1, { kind });
  }

  fallback(): void {
    this.metrics.singleMetric().addMetric('OnDemandFallbacks', MetricUnit.Count, 1);
  }

  retired(reason: RetireReason, count: number): void {
    if (count > 0) this.single('RunnersRetired', count, { reason });
  }

  rerun(): void {
    this.metrics.singleMetric().addMetric('InterruptedJobsRerun', MetricUnit.Count, 1);
  }

  rerunRefused(): void {
    this.metrics.singleMetric().addMetric('InterruptedJobsRerunRefused', MetricUnit.Count, 1);
  }

  jobsWaitingForImage(count: number): void {
    this.metrics.singleMetric().addMetric('JobsWaitingForImage', MetricUnit.Count, count);
  }

  rerunDeferred(): void {
    this.metrics.singleMetric().addMetric('InterruptedJobsRerunDeferred', MetricUnit.Count, 1);
  }

  rerunAbandoned(): void {
    this.metrics.singleMetric().addMetric('InterruptedJobsRerunAbandoned', MetricUnit.Count, 1);
  }

  private single(name: string, value: number, dimensions: Record<string, string>): void {
    const metric = this.metrics.singleMetric();
    for (const [key, dimension] of Object.entries(dimensions)) metric.addDimension(key, dimension);
    metric.addMetric(name, MetricUnit.Count, value);
  }
}
