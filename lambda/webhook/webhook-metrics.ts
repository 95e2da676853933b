// The webhook's CloudWatch metrics (EMF through Powertools): accepted job events by runner config,
// ignored events by reason, how long jobs waited for a runner. Behind an interface so tests count them without parsing stdout.

import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { MetricDimension, WebhookMetric } from '../../src/contracts/metrics';
import { JobState } from '../core/job';

export type IgnoredReason = 'event' | 'action' | 'unmatched' | 'ambiguous';

export interface WebhookMetrics {
  jobEventAccepted(configName: string, state: JobState): void;
  eventIgnored(reason: IgnoredReason): void;
  /** A job started, after waiting this long since it was queued. */
  jobStarted(configName: string, waitSeconds: number): void;
  /** A delivery answered 503 because the time GitHub waits was running out (webhook-time-budget). */
  outOfTime(): void;
}

/** Each metric is published at once with its own dimensions (a single-metric EMF line). */
export class PowertoolsWebhookMetrics implements WebhookMetrics {
  constructor(private readonly metrics: Metrics) {}

  jobEventAccepted(configName: string, state: JobState): void {
    this.metrics.singleMetric()
      .addDimension(MetricDimension.CONFIG, configName)
      .addDimension(MetricDimension.ACTION, state)
      .addMetric(WebhookMetric.ACCEPTED_JOB_EVENTS, MetricUnit.Count, 1);
  }

  eventIgnored(reason: IgnoredReason): void {
    this.metrics.singleMetric()
      .addDimension(MetricDimension.REASON, reason)
      .addMetric(WebhookMetric.IGNORED_EVENTS, MetricUnit.Count, 1);
  }

  jobStarted(configName: string, waitSeconds: number): void {
    this.metrics.singleMetric()
      .addDimension(MetricDimension.CONFIG, configName)
      .addMetric(WebhookMetric.JOB_WAIT_SECONDS, MetricUnit.Seconds, waitSeconds);
  }

  outOfTime(): void {
    this.metrics.singleMetric().addMetric(WebhookMetric.DELIVERIES_OUT_OF_TIME, MetricUnit.Count, 1);
  }
}
