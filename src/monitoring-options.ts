// What an operator watches, as a user sets it: the dashboard, and where alarms go and when they fire.
import { Duration } from 'aws-cdk-lib';
import * as sns from 'aws-cdk-lib/aws-sns';

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
