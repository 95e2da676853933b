// The dimension values and options a user picks a headline metric by (EphemeralRunners.metric*()).
// Each enum's values are those the functions publish (src/contracts/metrics.ts).
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';

/** The market a runner instance was bought in. */
export enum InstanceMarket {
  /** Spot capacity. */
  SPOT = 'spot',
  /** On-demand capacity. */
  ON_DEMAND = 'on-demand',
}

/** Why EC2 refused a launch, as the provisioner classifies it. */
export enum LaunchErrorKind {
  /** No capacity for the instance types in the subnets' zones: retried, then other types or markets. */
  CAPACITY = 'capacity',
  /** An account limit (vCPUs, spot instances): retried; raise the quota if it lasts. */
  QUOTA = 'quota',
  /** EC2 throttled the call: retried with backoff. */
  THROTTLE = 'throttle',
  /** Spot cannot be launched in this account now, whatever the capacity. */
  SPOT = 'spot',
  /** A refusal no retry fixes: a bad template, a denied permission, an instance type offered nowhere. */
  CONFIG = 'config',
}

/** What a runner was doing when its spot instance was interrupted. */
export enum InterruptedRunner {
  /** Booting or idle: deregistered, and its demand relaunched. */
  IDLE = 'idle',
  /** Running a job: the job is re-run once it fails. */
  BUSY = 'busy',
}

/** How the runner that took a job came up. */
export enum RunnerStart {
  /** Launched for the job (or for its pool's demand). */
  COLD = 'cold',
  /** Started from its runner config's warm pool of stopped instances. */
  WARM = 'warm',
}

/** Options of `EphemeralRunners.metricJobWaitTime`. */
export interface JobWaitTimeMetricOptions extends cloudwatch.MetricOptions {
  /**
   * Only the jobs whose runner came up this way, to compare a warm pool's starts with cold launches.
   * Counted for the jobs whose runner the webhook marks busy as their `in_progress` delivery arrives
   * (nearly all; a runner the provisioner links later is counted under no start).
   *
   * @default - every job of the runner config, however its runner came up
   */
  readonly start?: RunnerStart;
}
