// The functions' CloudWatch metrics: namespace, names and dimensions, for both sides. The functions
// publish them (embedded metric format, through Powertools); the construct's alarms, dashboard and
// metric*() methods read them.

export const METRICS_NAMESPACE = 'EphemeralRunners';

/** The functions, by the name each publishes as (Powertools' service name, the `service` dimension). */
export const FunctionName = {
  WEBHOOK: 'webhook',
  REGISTER: 'register',
  PROVISIONER: 'provisioner',
  LIFECYCLE: 'lifecycle',
  RECONCILER: 'reconciler',
  /** The setup page, deployed when the props name no App id. */
  SETUP: 'setup',
  /** The custom resource that creates the setup token at deploy and deletes the App's credentials with the stack. */
  SETUP_TOKEN: 'setup-token',
  /** The custom resource that terminates every instance of the deployment at the stack's deletion, deployed with a warm pool. */
  TEARDOWN: 'teardown',
} as const;
export type FunctionName = (typeof FunctionName)[keyof typeof FunctionName];

/** Dimension names. Every metric carries `service`; the others are named next to each metric. */
export const MetricDimension = {
  SERVICE: 'service',
  CONFIG: 'config',
  ACTION: 'action',
  REASON: 'reason',
  MARKET: 'market',
  KIND: 'kind',
  FROM: 'from',
  BY: 'by',
  RUNNER: 'runner',
  STEP: 'step',
  ARCHITECTURE: 'architecture',
} as const;

export const WebhookMetric = {
  /** A job event accepted (dimensions config, action). */
  ACCEPTED_JOB_EVENTS: 'AcceptedJobEvents',
  /** A delivery ignored (dimension reason). */
  IGNORED_EVENTS: 'IgnoredEvents',
  /** Seconds a job waited from queued to started (dimension config). */
  JOB_WAIT_SECONDS: 'JobWaitSeconds',
  /** The same, for the jobs whose runner was launched for them (dimension config). */
  JOB_WAIT_SECONDS_COLD_START: 'JobWaitSecondsColdStart',
  /** The same, for the jobs whose runner was started from a warm pool (dimension config). */
  JOB_WAIT_SECONDS_WARM_START: 'JobWaitSecondsWarmStart',
  DELIVERIES_OUT_OF_TIME: 'DeliveriesOutOfTime',
} as const;
export type WebhookMetricName = (typeof WebhookMetric)[keyof typeof WebhookMetric];

export const RegisterMetric = {
  /** Dimension config. */
  RUNNERS_REGISTERED: 'RunnersRegistered',
  /** Dimension reason. */
  REGISTRATIONS_REFUSED: 'RegistrationsRefused',
} as const;
export type RegisterMetricName = (typeof RegisterMetric)[keyof typeof RegisterMetric];

export const ProvisionerMetric = {
  /** Dimension market. */
  INSTANCES_LAUNCHED: 'InstancesLaunched',
  /** Dimension kind. */
  LAUNCH_ERRORS: 'LaunchErrors',
  ON_DEMAND_FALLBACKS: 'OnDemandFallbacks',
  /** Dimension reason. */
  RUNNERS_RETIRED: 'RunnersRetired',
  INTERRUPTED_JOBS_RERUN: 'InterruptedJobsRerun',
  INTERRUPTED_JOBS_RERUN_REFUSED: 'InterruptedJobsRerunRefused',
  INTERRUPTED_JOBS_RERUN_DEFERRED: 'InterruptedJobsRerunDeferred',
  INTERRUPTED_JOBS_RERUN_ABANDONED: 'InterruptedJobsRerunAbandoned',
  JOBS_WAITING_FOR_IMAGE: 'JobsWaitingForImage',
  /** Stopped warm pool instances started for jobs (dimension config); cold launches are INSTANCES_LAUNCHED. */
  WARM_STARTS: 'WarmStarts',
  /** Claimed warm pool instances EC2 would not start; their jobs launched cold instead. */
  WARM_START_FAILURES: 'WarmStartFailures',
  /** Instances launched into warm pools (on-demand; they boot once and stop). */
  WARM_INSTANCES_LAUNCHED: 'WarmInstancesLaunched',
  /** Instances (with their root volumes) tagged with the repository and workflow of the job they run. */
  INSTANCES_COST_TAGGED: 'InstancesCostTagged',
  /** Instances whose cost tags could not be set (logged with EC2's error); their job runs regardless. */
  COST_TAG_FAILURES: 'CostTagFailures',
  /**
   * Launches a pool's demand asked for but held back after its runners were turned away for a reason only
   * an operator fixes (dimension reason: not-installed, no-runner-group, enterprise-credential).
   */
  LAUNCHES_HELD: 'LaunchesHeld',
} as const;
export type ProvisionerMetricName = (typeof ProvisionerMetric)[keyof typeof ProvisionerMetric];

export const LifecycleMetric = {
  /** Dimension from (the runner's state). */
  RUNNERS_CLOSED: 'RunnersClosed',
  /** Dimension runner (idle or busy). */
  SPOT_INTERRUPTIONS: 'SpotInterruptions',
  /** Dimension by. */
  REGISTRATIONS_DELETED: 'RegistrationsDeleted',
  /** Dimension reason. */
  REGISTRATIONS_LEFT_TO_SWEEP: 'RegistrationsLeftToSweep',
  IGNORED_EVENTS: 'IgnoredEvents',
  MALFORMED_EVENTS: 'MalformedEvents',
  /** Warm pool instances stopped after their first boot, ready to be claimed. */
  WARM_INSTANCES_PARKED: 'WarmInstancesParked',
} as const;
export type LifecycleMetricName = (typeof LifecycleMetric)[keyof typeof LifecycleMetric];

export const ReconcilerMetric = {
  POOLS_RECONCILED: 'PoolsReconciled',
  ORPHANS_TERMINATED: 'OrphansTerminated',
  GHOSTS_DELETED: 'GhostsDeleted',
  STUCK_JOBS_CHECKED: 'StuckJobsChecked',
  STUCK_JOBS_REPAIRED: 'StuckJobsRepaired',
  VANISHED_RUNNERS_CLOSED: 'VanishedRunnersClosed',
  /** Instances of live runners terminated because their end went unnoticed: retiring too long, or claimed and stopped (see lambda/reconciler/orphans.ts). */
  STALLED_INSTANCES_TERMINATED: 'StalledInstancesTerminated',
  DELIVERIES_REDELIVERED: 'DeliveriesRedelivered',
  REDELIVERIES_EXHAUSTED: 'RedeliveriesExhausted',
  DELIVERIES_LIST_TRUNCATED: 'DeliveriesListTruncated',
  GITHUB_CALLS: 'GitHubCalls',
  /** Dimension step. */
  RECONCILE_STEP_FAILED: 'ReconcileStepFailed',
  LIVE_INSTANCES: 'LiveInstances',
  OLDEST_QUEUED_JOB_SECONDS: 'OldestQueuedJobSeconds',
  /** A runner image whose runner is older than the one the GitHub server ships, once per GitHub sweep (dimension architecture). */
  RUNNER_IMAGES_BEHIND: 'RunnerImagesBehind',
  /** Jobs waiting for a slot under the deployment's maxInstances, across pools (a gauge each run; published only with maxInstances). */
  JOBS_WAITING_ON_FLEET_CAP: 'JobsWaitingOnFleetCap',
} as const;
export type ReconcilerMetricName = (typeof ReconcilerMetric)[keyof typeof ReconcilerMetric];

/** Values of the `action` dimension of {@link WebhookMetric.ACCEPTED_JOB_EVENTS}: the job's state after the event. */
export const JobAction = {
  QUEUED: 'queued',
  IN_PROGRESS: 'in_progress',
  COMPLETED: 'completed',
} as const;

/** Values of the `market` dimension of {@link ProvisionerMetric.INSTANCES_LAUNCHED}. */
export const MarketValue = { SPOT: 'spot', ON_DEMAND: 'on-demand' } as const;

/** Values of the `kind` dimension of {@link ProvisionerMetric.LAUNCH_ERRORS}. */
export const LaunchErrorKindValue = {
  CAPACITY: 'capacity',
  QUOTA: 'quota',
  THROTTLE: 'throttle',
  SPOT: 'spot',
  CONFIG: 'config',
} as const;

/** Values of the `runner` dimension of {@link LifecycleMetric.SPOT_INTERRUPTIONS}. */
export const InterruptedRunnerValue = { IDLE: 'idle', BUSY: 'busy' } as const;
