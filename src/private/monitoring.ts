// What an operator watches: a dashboard of the runners' flow (jobs, waits, launches, spot trouble,
// repairs, errors, dead letters) and alarms on what needs a person, optionally sent to SNS.
import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ControlPlaneFunction } from './control-plane-function';
import { controlPlaneMetric, searchMetric } from './runner-metrics';
import {
  FunctionName, JobAction, LaunchErrorKindValue, LifecycleMetric, MetricDimension, ProvisionerMetric, ReconcilerMetric, WebhookMetric,
} from '../contracts/metrics';
import { MonitoringOptions } from '../monitoring-options';

export interface RunnerMonitoringProps extends MonitoringOptions {
  /** The five control-plane functions. */
  readonly functions: ControlPlaneFunction[];
  readonly deadLetterQueues: sqs.IQueue[];
  readonly defaultMaxInstances: number;
  /** The architectures whose runner image the deployment builds (`x64`, `arm64`); none with an AMI of the user's. */
  readonly imageArchitectures?: string[];
  /** The deployment's maxInstances, when it sets one: then demand waiting on it gets an alarm and a graph. */
  readonly fleetCap?: number;
}

const { PROVISIONER, RECONCILER, WEBHOOK } = FunctionName;

/** A metric of one function without value dimensions. */
function fixed(service: FunctionName, metricName: string, statistic: string, label?: string): cloudwatch.Metric {
  return controlPlaneMetric(service, metricName, statistic, {}, { label });
}

/** The dashboard and alarms; each alarm costs a few cents a month. */
export class RunnerMonitoring extends Construct {
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly dashboard?: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: RunnerMonitoringProps) {
    super(scope, id);
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
      fixed(RECONCILER, ReconcilerMetric.OLDEST_QUEUED_JOB_SECONDS, 'Maximum'),
      queuedTooLong.toSeconds(),
      2,
    );
    alarm(
      'TooManyInstances',
      `More than ${ceiling} runner instances alive at once: a runaway launch or instances not ending.`,
      fixed(RECONCILER, ReconcilerMetric.LIVE_INSTANCES, 'Maximum'),
      ceiling + 1,
      2,
    );
    if (props.fleetCap !== undefined) {
      alarm(
        'JobsWaitingOnFleetCap',
        `Jobs were found waiting for a slot under maxInstances (${props.fleetCap}) in each of three 5-minute periods running: the cap binds. They start in the order they were queued as `
        + 'instances end; raise maxInstances if the wait is not intended (docs/operations.md, "Jobs waiting on maxInstances").',
        controlPlaneMetric(RECONCILER, ReconcilerMetric.JOBS_WAITING_ON_FLEET_CAP, 'Maximum', {}, { period: Duration.minutes(5) }),
        1,
        3,
      );
    }
    const launchErrors = (kind: string) => controlPlaneMetric(PROVISIONER, ProvisionerMetric.LAUNCH_ERRORS, 'Sum', { [MetricDimension.KIND]: kind }, { period: Duration.minutes(5) });
    alarm(
      'SpotUnavailable',
      'Spot instances cannot be launched in this account now, whatever the capacity (the Spot service-linked role missing, the spot instance limit, '
      + 'spot permissions denied): SPOT_ONLY configs launch nothing and their jobs wait; SPOT_PREFERRED configs buy on-demand. '
      + 'The provisioner\'s log (message "launch error", kind "spot") names the code (docs/operations.md, "Spot launches fail").',
      launchErrors(LaunchErrorKindValue.SPOT),
      1,
    );
    alarm(
      'LaunchesMisconfigured',
      'EC2 refused a launch for a reason no retry fixes (an instance type offered in none of the subnets\' zones, a denied permission, a bad template): '
      + 'jobs of that config wait. The provisioner\'s log (message "launch error", kind "config") names the code and the fix.',
      launchErrors(LaunchErrorKindValue.CONFIG),
      1,
    );
    const errors = Object.fromEntries(props.functions.map((fn) => [fn.entry, errorsOf(fn.function)]));
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

    const imagesBehind = Object.fromEntries((props.imageArchitectures ?? []).map((arch) => [arch,
      controlPlaneMetric(RECONCILER, ReconcilerMetric.RUNNER_IMAGES_BEHIND, 'Maximum', { [MetricDimension.ARCHITECTURE]: arch }, { period: Duration.minutes(5) })]));
    if (Object.keys(imagesBehind).length > 0) {
      alarm(
        'RunnerImageBehind',
        'A runner image holds a runner older than the one the GitHub server ships: its runners update themselves at every job, or are refused. '
        + 'Start the image pipeline (docs/operations.md, "A runner image behind the server").',
        new cloudwatch.MathExpression({ expression: Object.keys(imagesBehind).join(' + '), usingMetrics: imagesBehind, label: 'images behind', period: Duration.minutes(5) }),
        1,
      );
    }

    if (props.dashboard !== false) this.dashboard = this.addDashboard(props, id);
  }

  /** The dashboard: the runners' flow, repairs, errors and the alarms' states. */
  private addDashboard(props: RunnerMonitoringProps, id: string): cloudwatch.Dashboard {
    const stack = Stack.of(this);
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `ephemeral-runners-${stack.stackName}-${this.node.scope?.node.id ?? id}`.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 255),
      defaultInterval: Duration.hours(3),
    });
    const graph = (title: string, left: cloudwatch.IMetric[], width = 8) => new cloudwatch.GraphWidget({ title, left, width, height: 6 });
    dashboard.addWidgets(
      graph('Jobs queued, by config', [searchMetric(WebhookMetric.ACCEPTED_JOB_EVENTS, [MetricDimension.ACTION, MetricDimension.CONFIG], 'Sum', 'queued', `${MetricDimension.ACTION}="${JobAction.QUEUED}"`)]),
      graph('Queued to started (s), by config', [
        searchMetric(WebhookMetric.JOB_WAIT_SECONDS, [MetricDimension.CONFIG], 'p50', 'p50'),
        searchMetric(WebhookMetric.JOB_WAIT_SECONDS, [MetricDimension.CONFIG], 'p95', 'p95'),
        // Empty unless a config has a warm pool: its starts beside its cold launches.
        searchMetric(WebhookMetric.JOB_WAIT_SECONDS_WARM_START, [MetricDimension.CONFIG], 'p50', 'p50 warm start'),
        searchMetric(WebhookMetric.JOB_WAIT_SECONDS_COLD_START, [MetricDimension.CONFIG], 'p50', 'p50 cold start'),
      ]),
      graph('Launches by market', [searchMetric(ProvisionerMetric.INSTANCES_LAUNCHED, [MetricDimension.MARKET], 'Sum', 'launched')]),
    );
    dashboard.addWidgets(
      graph('Capacity errors, fallbacks and held launches', [
        searchMetric(ProvisionerMetric.LAUNCH_ERRORS, [MetricDimension.KIND], 'Sum', 'launch errors'),
        fixed(PROVISIONER, ProvisionerMetric.ON_DEMAND_FALLBACKS, 'Sum', 'fallbacks'),
        searchMetric(ProvisionerMetric.LAUNCHES_HELD, [MetricDimension.REASON], 'Sum', 'launches held'),
      ]),
      graph('Spot interruptions and re-runs', [
        searchMetric(LifecycleMetric.SPOT_INTERRUPTIONS, [MetricDimension.RUNNER], 'Sum', 'interruptions'),
        fixed(PROVISIONER, ProvisionerMetric.INTERRUPTED_JOBS_RERUN, 'Sum', 're-runs'),
        fixed(PROVISIONER, ProvisionerMetric.INTERRUPTED_JOBS_RERUN_REFUSED, 'Sum', 're-runs GitHub refused'),
        fixed(PROVISIONER, ProvisionerMetric.INTERRUPTED_JOBS_RERUN_DEFERRED, 'Sum', 're-runs waiting for their run'),
        fixed(PROVISIONER, ProvisionerMetric.INTERRUPTED_JOBS_RERUN_ABANDONED, 'Sum', 're-runs given up'),
      ]),
      graph('Reconcile repairs', [
        fixed(RECONCILER, ReconcilerMetric.ORPHANS_TERMINATED, 'Sum', 'orphans terminated'),
        fixed(RECONCILER, ReconcilerMetric.GHOSTS_DELETED, 'Sum', 'ghosts deleted'),
        fixed(RECONCILER, ReconcilerMetric.STUCK_JOBS_REPAIRED, 'Sum', 'stuck jobs repaired'),
        fixed(RECONCILER, ReconcilerMetric.DELIVERIES_REDELIVERED, 'Sum', 'deliveries redelivered'),
        fixed(WEBHOOK, WebhookMetric.DELIVERIES_OUT_OF_TIME, 'Sum', 'deliveries answered 503 for lack of time'),
        fixed(RECONCILER, ReconcilerMetric.VANISHED_RUNNERS_CLOSED, 'Sum', 'vanished runners closed'),
      ]),
    );
    dashboard.addWidgets(
      graph('Function errors', props.functions.map((fn) => fn.function.metricErrors({ period: Duration.minutes(1), statistic: 'Sum', label: fn.entry }))),
      graph('Dead-letter queue depth', props.deadLetterQueues.map((q) => q.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }))),
      graph('Live instances and oldest queued job (s)', [
        fixed(RECONCILER, ReconcilerMetric.LIVE_INSTANCES, 'Maximum', 'live instances'),
        fixed(RECONCILER, ReconcilerMetric.OLDEST_QUEUED_JOB_SECONDS, 'Maximum', 'oldest queued job (s)'),
      ]),
    );
    if ((props.imageArchitectures ?? []).length > 0) {
      dashboard.addWidgets(graph('Runner images older than the server\'s runner, by architecture',
        [searchMetric(ReconcilerMetric.RUNNER_IMAGES_BEHIND, [MetricDimension.ARCHITECTURE], 'Maximum', 'images behind')], 24));
    }
    if (props.fleetCap !== undefined) {
      dashboard.addWidgets(new cloudwatch.GraphWidget({
        title: `Instances under maxInstances (${props.fleetCap}) and jobs waiting on it`,
        left: [
          fixed(RECONCILER, ReconcilerMetric.LIVE_INSTANCES, 'Maximum', 'live instances'),
          fixed(RECONCILER, ReconcilerMetric.JOBS_WAITING_ON_FLEET_CAP, 'Maximum', 'jobs waiting on maxInstances'),
        ],
        leftAnnotations: [{ value: props.fleetCap, label: 'maxInstances' }],
        width: 24,
        height: 6,
      }));
    }
    dashboard.addWidgets(new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24, height: 3 }));
    return dashboard;
  }
}
