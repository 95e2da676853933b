// Counters of the lifecycle and reconciler functions as CloudWatch metrics (EMF through Powertools).
// Behind an interface so tests count them without parsing stdout.
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

export type MetricDimensions = Readonly<Record<string, string>>;

export interface CountMetrics<Name extends string> {
  /** Adds `value` (default 1) to the counter; a zero is not published. */
  count(name: Name, value?: number, dimensions?: MetricDimensions): void;
}

/** Each count is published at once with its own dimensions (a single-metric EMF line). */
export class PowertoolsCountMetrics<Name extends string> implements CountMetrics<Name> {
  constructor(private readonly metrics: Metrics) {}

  count(name: Name, value = 1, dimensions: MetricDimensions = {}): void {
    if (value === 0) return;
    const metric = this.metrics.singleMetric();
    for (const [key, dimension] of Object.entries(dimensions)) metric.addDimension(key, dimension);
    metric.addMetric(name, MetricUnit.Count, value);
  }
}
