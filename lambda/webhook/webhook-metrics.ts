// The webhook's CloudWatch metrics (EMF through Powertools): accepted job events by runner config,
// ignored events by reason, how long jobs waited for a runner (all, and by warm or cold start). Behind an interface so tests count them without parsing stdout.

import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { MetricDimension, WebhookMetric } from '../../src/contracts/metrics';
import { JobState } from '../core/job';
import { RunnerStart } from '../core/runner';

export type IgnoredReason = 'event' | 'action' | 'unmatched' | 'ambiguous';

export interface WebhookMetrics {
  jobEventAccepted(configName: string, state: JobState): void;
  eventIgnored(reason: IgnoredReason): void;
  /**
   * A job started, after waiting this long since it was queued; `start` when its runner is known to
   * be one of ours, so the wait is published a second time under the warm or cold start's name.
   */
  jobStarted(configName: string, waitSeconds: number, start?: RunnerStart): void;
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

  jobStarted(configName: string, waitSeconds: number, start?: RunnerStart): void {
    this.metrics.singleMetric()
      .addDimension(MetricDimension.CONFIG, configName)
      .addMetric(WebhookMetric.JOB_WAIT_SECONDS, MetricUnit.Seconds, waitSeconds);
    // A second metric rather than a `start` dimension on the first: Powertools warns on every line
    // whose dimension sets repeat a key, and the config's own figure must keep its dimensions.
    if (start === undefined) return;
    this.metrics.singleMetric()
      .addDimension(MetricDimension.CONFIG, configName)
      .addMetric(start === 'warm' ? WebhookMetric.JOB_WAIT_SECONDS_WARM_START : WebhookMetric.JOB_WAIT_SECONDS_COLD_START, MetricUnit.Seconds, waitSeconds);
  }

  outOfTime(): void {
    this.metrics.singleMetric().addMetric(WebhookMetric.DELIVERIES_OUT_OF_TIME, MetricUnit.Count, 1);
  }
}
