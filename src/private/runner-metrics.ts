// The functions' metrics as CloudWatch metrics of the construct, by their contract (src/contracts/metrics.ts).
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import {
  FunctionName, JobAction, LifecycleMetric, MetricDimension, METRICS_NAMESPACE, ProvisionerMetric, ReconcilerMetric, WebhookMetric,
} from '../contracts/metrics';
import { JobWaitTimeMetricOptions, RunnerStart } from '../runner-metrics';

/** One metric of one function, with its value dimensions; one-minute periods unless `options` say otherwise. */
export function controlPlaneMetric(
  service: FunctionName,
  metricName: string,
  statistic: string,
  dimensions: Record<string, string> = {},
  options: cloudwatch.MetricOptions = {},
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    statistic,
    period: Duration.minutes(1),
    ...options,
    dimensionsMap: { [MetricDimension.SERVICE]: service, ...dimensions, ...options.dimensionsMap },
  });
}

/**
 * Every value of a metric whose dimensions carry values (a config, a market), found with SEARCH.
 * `filter` narrows it, e.g. `action="queued"`.
 */
export function searchMetric(metricName: string, dimensions: string[], statistic: string, label: string, filter?: string): cloudwatch.MathExpression {
  const schema = [METRICS_NAMESPACE, ...dimensions, MetricDimension.SERVICE].join(',');
  return new cloudwatch.MathExpression({
    expression: `SEARCH('{${schema}} MetricName="${metricName}"${filter ? ` ${filter}` : ''}', '${statistic}', 60)`,
    label,
    period: Duration.minutes(1),
  });
}

interface Headline {
  readonly service: FunctionName;
  readonly metricName: string;
  readonly statistic: string;
  /** The dimension the method's argument gives the value of. @default - none */
  readonly dimension?: string;
  /** Dimensions of fixed value. @default - none */
  readonly fixed?: Record<string, string>;
}

/** The metrics EphemeralRunners offers as metric*() methods. */
const HEADLINES = {
  jobsQueued: {
    service: FunctionName.WEBHOOK,
    metricName: WebhookMetric.ACCEPTED_JOB_EVENTS,
    statistic: 'Sum',
    dimension: MetricDimension.CONFIG,
    fixed: { [MetricDimension.ACTION]: JobAction.QUEUED },
  },
  jobsStarted: {
    service: FunctionName.WEBHOOK,
    metricName: WebhookMetric.ACCEPTED_JOB_EVENTS,
    statistic: 'Sum',
    dimension: MetricDimension.CONFIG,
    fixed: { [MetricDimension.ACTION]: JobAction.IN_PROGRESS },
  },
  jobWaitTime: { service: FunctionName.WEBHOOK, metricName: WebhookMetric.JOB_WAIT_SECONDS, statistic: 'p90', dimension: MetricDimension.CONFIG },
  coldStartJobWaitTime: { service: FunctionName.WEBHOOK, metricName: WebhookMetric.JOB_WAIT_SECONDS_COLD_START, statistic: 'p90', dimension: MetricDimension.CONFIG },
  warmStartJobWaitTime: { service: FunctionName.WEBHOOK, metricName: WebhookMetric.JOB_WAIT_SECONDS_WARM_START, statistic: 'p90', dimension: MetricDimension.CONFIG },
  instancesLaunched: { service: FunctionName.PROVISIONER, metricName: ProvisionerMetric.INSTANCES_LAUNCHED, statistic: 'Sum', dimension: MetricDimension.MARKET },
  launchErrors: { service: FunctionName.PROVISIONER, metricName: ProvisionerMetric.LAUNCH_ERRORS, statistic: 'Sum', dimension: MetricDimension.KIND },
  spotInterruptions: { service: FunctionName.LIFECYCLE, metricName: LifecycleMetric.SPOT_INTERRUPTIONS, statistic: 'Sum', dimension: MetricDimension.RUNNER },
  warmStarts: { service: FunctionName.PROVISIONER, metricName: ProvisionerMetric.WARM_STARTS, statistic: 'Sum', dimension: MetricDimension.CONFIG },
  warmStartFailures: { service: FunctionName.PROVISIONER, metricName: ProvisionerMetric.WARM_START_FAILURES, statistic: 'Sum' },
  liveInstances: { service: FunctionName.RECONCILER, metricName: ReconcilerMetric.LIVE_INSTANCES, statistic: 'Maximum' },
  oldestQueuedJobAge: { service: FunctionName.RECONCILER, metricName: ReconcilerMetric.OLDEST_QUEUED_JOB_SECONDS, statistic: 'Maximum' },
} satisfies Record<string, Headline>;

/** One of the headline metrics; `value` is its dimension's value, if it has one. */
export function headlineMetric(name: keyof typeof HEADLINES, value?: string, options?: cloudwatch.MetricOptions): cloudwatch.Metric {
  const headline: Headline = HEADLINES[name];
  const dimensions = { ...(headline.dimension && value !== undefined ? { [headline.dimension]: value } : {}), ...headline.fixed };
  return controlPlaneMetric(headline.service, headline.metricName, headline.statistic, dimensions, options);
}

/** Queued → started of a runner config's jobs: all of them, or those whose runner came up as `start` says. */
export function jobWaitTimeMetric(runnerConfig: string, props: JobWaitTimeMetricOptions = {}): cloudwatch.Metric {
  const { start, ...options } = props;
  const headline = { [RunnerStart.COLD]: 'coldStartJobWaitTime', [RunnerStart.WARM]: 'warmStartJobWaitTime' } as const;
  return headlineMetric(start === undefined ? 'jobWaitTime' : headline[start], runnerConfig, options);
}
