// Entry point of the reconciler function (EventBridge schedule, every minute): wires the shared
// control-plane adapters and the reconciler's state item (once per container) into one run.
import { Metrics } from '@aws-lambda-powertools/metrics';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { Context, ScheduledEvent } from 'aws-lambda';
import { CONTROL_PLANE_AND_PACING, ControlPlaneEnvironment, controlPlaneFrom } from './wiring/control-plane';
import { decodeEnvironment, EnvironmentVariableError, RECONCILER_ENVIRONMENT } from '../../src/contracts/environment';
import { ReconcilerMetricName } from '../../src/contracts/metrics';
import { WarmPoolScheduleDocument } from '../../src/runner-config-document';
import { PowertoolsCountMetrics } from '../common/count-metrics';
import { createLogger } from '../common/logger';
import { SsmRunnerVersions } from '../config/ssm-runner-versions';
import { DEFAULT_RECONCILER_LIMITS, ReconcilerLimits } from '../reconciler/reconciler-limits';
import { ReconcilerDeps, ReconcileSummary, runReconciler } from '../reconciler/run-reconciler';

const logger = createLogger();
let deps: ReconcilerDeps | undefined;

function buildDeps(): ReconcilerDeps {
  const env = decodeEnvironment({ ...CONTROL_PLANE_AND_PACING, ...RECONCILER_ENVIRONMENT }, process.env);
  const plane = controlPlaneFrom(env);
  return {
    settings: plane.settings,
    runners: plane.runners,
    jobs: plane.jobs,
    queue: plane.queue,
    compute: plane.compute,
    warmPoolConfigs: env.warmPoolConfigs ?? [],
    warmPoolSchedules: warmPoolSchedulesFrom(env.warmPoolSchedules),
    github: plane.github,
    state: plane.reconcilerState,
    runnerVersions: runnerVersionsFrom(env.runnerVersionParameters),
    clock: plane.clock,
    fleet: plane.fleet,
    logger,
    metrics: new PowertoolsCountMetrics<ReconcilerMetricName>(new Metrics()),
    limits: limitsFrom(env),
  };
}

/** The scheduled warm pools' schedules, as the construct wrote them (JSON text by config name). */
export function warmPoolSchedulesFrom(texts: Readonly<Record<string, string>> | undefined): Record<string, WarmPoolScheduleDocument> {
  return Object.fromEntries(Object.entries(texts ?? {}).map(([name, text]) => {
    let schedule: Partial<WarmPoolScheduleDocument> | undefined;
    try {
      schedule = JSON.parse(text) as Partial<WarmPoolScheduleDocument>;
    } catch {
      schedule = undefined;
    }
    const whole = (n: unknown) => Number.isInteger(n);
    if (typeof schedule?.timeZone !== 'string' || !Array.isArray(schedule.weekdays) || !schedule.weekdays.every(whole) || !whole(schedule.startHour) || !whole(schedule.endHour)) {
      throw new EnvironmentVariableError(`WARM_POOL_SCHEDULES: the schedule of ${name} is not a warm pool schedule ({timeZone, weekdays, startHour, endHour}): ${text.slice(0, 200)}. The construct writes it: deploy it again rather than edit it.`, ['WARM_POOL_SCHEDULES']);
    }
    return [name, schedule as WarmPoolScheduleDocument];
  }));
}

function runnerVersionsFrom(parameters: Readonly<Record<string, string>> | undefined): SsmRunnerVersions | undefined {
  if (!parameters?.server) return undefined;
  const { server, ...images } = parameters;
  return new SsmRunnerVersions(new SSMClient({}), { server, images });
}

/** The reconciler's windows the optional pacing variables set (none in a deployment; see PACING_ENVIRONMENT). */
function limitsFrom(env: ControlPlaneEnvironment): Partial<ReconcilerLimits> {
  const { reconcilerGitHubSweepMs: sweep, reconcilerRedeliverySpacingMs: firstSpacing } = env;
  // The variable sets the first wait; the later ones keep their proportions to it.
  const spacing = DEFAULT_RECONCILER_LIMITS.redeliverySpacingMs;
  return {
    ...(sweep === undefined ? {} : { githubSweepEveryMs: sweep }),
    ...(firstSpacing === undefined ? {} : { redeliverySpacingMs: spacing.map((ms) => Math.round((ms * firstSpacing) / spacing[0])) }),
  };
}

export async function handler(event: Partial<ScheduledEvent>, context?: Context): Promise<ReconcileSummary> {
  if (context) logger.addContext(context);
  deps ??= buildDeps();
  // The schedule's event id names the run in pool messages (and keeps their SQS de-duplication per run).
  return runReconciler(deps, `reconciler-${event.id ?? context?.awsRequestId ?? deps.clock.now()}`);
}
