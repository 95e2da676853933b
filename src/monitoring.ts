// What an operator watches: a dashboard of the runners' flow (jobs, waits, launches, spot trouble,
// repairs, errors, dead letters) and alarms on what needs a person, optionally sent to SNS.
import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** Monitoring of an {@link EphemeralRunners} deployment; every field has a default. */
export interface MonitoringOptions {
  /**
   * Create the CloudWatch dashboard. A dashboard beyond an account's first three costs a few
   * dollars a month whether or not jobs run.
   *
   * @default true
   */
  readonly dashboard?: boolean;

  /** Where alarms (and their recoveries) are sent. @default - alarms only change state */
  readonly alarmTopic?: sns.ITopic;

  /**
   * Alarm when a job has been queued for this long without a runner taking it.
   *
   * @default Duration.minutes(15)
   */
  readonly queuedTooLong?: Duration;

  /**
   * Alarm when more runner instances than this are alive at once.
   *
   * @default - the sum of the runner configs' maxRunners
   */
  readonly maxInstances?: number;
}

export interface RunnerMonitoringProps extends MonitoringOptions {
  /** The CloudWatch namespace the functions publish to. */
  readonly namespace: string;
  /** The five control-plane functions, by their service name. */
  readonly functions: Record<string, lambda.IFunction>;
  readonly deadLetterQueues: sqs.IQueue[];
  readonly defaultMaxInstances: number;
}

/** The dashboard and alarms; each alarm costs a few cents a month. */
export class RunnerMonitoring extends Construct {
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly dashboard?: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: RunnerMonitoringProps) {
    super(scope, id);
    const ns = props.namespace;
    const fixed = (metricName: string, service: string, statistic: string, label?: string) => new cloudwatch.Metric({
      namespace: ns, metricName, dimensionsMap: { service }, statistic, period: Duration.minutes(1), label,
    });
    // Metrics whose dimensions carry values (a config, a market) are found with SEARCH, per value.
    const search = (metricName: string, dimensions: string[], statistic: string, label: string, filter = '') => new cloudwatch.MathExpression({
      expression: `SEARCH('{${[ns, ...dimensions, 'service'].join(',')}} MetricName="${metricName}"${filter}', '${statistic}', 60)`,
      label,
      period: Duration.minutes(1),
    });
    const errorsOf = (fn: lambda.IFunction) => fn.metricErrors({ period: Duration.minutes(1), statistic: 'Sum' });

    const ceiling = props.maxInstances ?? props.defaultMaxInstances;
    const queuedTooLong = props.queuedTooLong ?? Duration.minutes(15);
    const alarm = (alarmId: string, description: string, metric: cloudwatch.IMetric, threshold: number, evaluationPeriods = 1) => {
      const a = new cloudwatch.Alarm(this, alarmId, {
        alarmDescription: description,
        metric,
        threshold,
        evaluationPeriods,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        // No data means nothing is going on: idle is healthy.
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      if (props.alarmTopic) {
        a.addAlarmAction(new actions.SnsAction(props.alarmTopic));
        a.addOkAction(new actions.SnsAction(props.alarmTopic));
      }
      this.alarms.push(a);
      return a;
    };

    props.deadLetterQueues.forEach((queue, n) => alarm(
      `DeadLetters${n === 0 ? '' : n + 1}`,
      `Messages in ${queue.node.path}: handling failed repeatedly. Read them, fix the cause (docs/operations.md, "The dead-letter queues"), then redrive.`,
      queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }),
      1,
    ));
    alarm(
      'JobsQueuedTooLong',
      `A job has waited over ${queuedTooLong.toHumanString()} for a runner (docs/operations.md, "A job stuck Waiting for a runner").`,
      fixed('OldestQueuedJobSeconds', 'reconciler', 'Maximum'),
      queuedTooLong.toSeconds(),
      2,
    );
    alarm(
      'TooManyInstances',
      `More than ${ceiling} runner instances alive at once: a runaway launch or instances not ending.`,
      fixed('LiveInstances', 'reconciler', 'Maximum'),
      ceiling + 1,
      2,
    );
    const launchErrors = (kind: string) => new cloudwatch.Metric({
      namespace: ns, metricName: 'LaunchErrors', dimensionsMap: { service: 'provisioner', kind }, statistic: 'Sum', period: Duration.minutes(5),
    });
    alarm(
      'SpotUnavailable',
      'Spot instances cannot be launched in this account now, whatever the capacity (the Spot service-linked role missing, the spot instance limit, '
      + 'spot permissions denied): SPOT_ONLY configs launch nothing and their jobs wait; SPOT_PREFERRED configs buy on-demand. '
      + 'The provisioner\'s log (message "launch error", kind "spot") names the code (docs/operations.md, "Spot launches fail").',
      launchErrors('spot'),
      1,
    );
    alarm(
      'LaunchesMisconfigured',
      'EC2 refused a launch for a reason no retry fixes (an instance type offered in none of the subnets\' zones, a denied permission, a bad template): '
      + 'jobs of that config wait. The provisioner\'s log (message "launch error", kind "config") names the code and the fix.',
      launchErrors('config'),
      1,
    );
    const errors = Object.fromEntries(Object.entries(props.functions).map(([name, fn]) => [name, errorsOf(fn)]));
    alarm(
      'FunctionErrors',
      'A control-plane function failed (an invocation error, not a handled refusal). Its log group says why.',
      new cloudwatch.MathExpression({
        expression: Object.keys(errors).join(' + '),
        usingMetrics: errors,
        label: 'function errors',
        period: Duration.minutes(1),
      }),
      1,
    );

    if (props.dashboard === false) return;
    const stack = Stack.of(this);
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `ephemeral-runners-${stack.stackName}-${this.node.scope?.node.id ?? id}`.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 255),
      defaultInterval: Duration.hours(3),
    });
    const graph = (title: string, left: cloudwatch.IMetric[], width = 8) => new cloudwatch.GraphWidget({ title, left, width, height: 6 });
    this.dashboard.addWidgets(
      graph('Jobs queued, by config', [search('AcceptedJobEvents', ['action', 'config'], 'Sum', 'queued', ' action="queued"')]),
      graph('Queued to started (s), by config', [
        search('JobWaitSeconds', ['config'], 'p50', 'p50'),
        search('JobWaitSeconds', ['config'], 'p95', 'p95'),
      ]),
      graph('Launches by market', [search('InstancesLaunched', ['market'], 'Sum', 'launched')]),
    );
    this.dashboard.addWidgets(
      graph('Capacity errors and on-demand fallbacks', [
        search('LaunchErrors', ['kind'], 'Sum', 'launch errors'),
        fixed('OnDemandFallbacks', 'provisioner', 'Sum', 'fallbacks'),
      ]),
      graph('Spot interruptions and re-runs', [
        search('SpotInterruptions', ['runner'], 'Sum', 'interruptions'),
        fixed('InterruptedJobsRerun', 'provisioner', 'Sum', 're-runs'),
        fixed('InterruptedJobsRerunRefused', 'provisioner', 'Sum', 're-runs GitHub refused'),
        fixed('InterruptedJobsRerunDeferred', 'provisioner', 'Sum', 're-runs waiting for their run'),
        fixed('InterruptedJobsRerunAbandoned', 'provisioner', 'Sum', 're-runs given up'),
      ]),
      graph('Reconcile repairs', [
        fixed('OrphansTerminated', 'reconciler', 'Sum', 'orphans terminated'),
        fixed('GhostsDeleted', 'reconciler', 'Sum', 'ghosts deleted'),
        fixed('StuckJobsRepaired', 'reconciler', 'Sum', 'stuck jobs repaired'),
        fixed('DeliveriesRedelivered', 'reconciler', 'Sum', 'deliveries redelivered'),
        fixed('DeliveriesOutOfTime', 'webhook', 'Sum', 'deliveries answered 503 for lack of time'),
        fixed('VanishedRunnersClosed', 'reconciler', 'Sum', 'vanished runners closed'),
      ]),
    );
    this.dashboard.addWidgets(
      graph('Function errors', Object.entries(props.functions).map(([name, fn]) => fn.metricErrors({ period: Duration.minutes(1), statistic: 'Sum', label: name }))),
      graph('Dead-letter queue depth', props.deadLetterQueues.map((q) => q.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }))),
      graph('Live instances and oldest queued job (s)', [
        fixed('LiveInstances', 'reconciler', 'Maximum', 'live instances'),
        fixed('OldestQueuedJobSeconds', 'reconciler', 'Maximum', 'oldest queued job (s)'),
      ]),
    );
    this.dashboard.addWidgets(new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24, height: 3 }));
  }
}
