// The register function's CloudWatch metrics (EMF through Powertools): runners registered by runner
// config, registrations refused by reason. Behind an interface so tests count them directly.
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { MetricDimension, RegisterMetric } from '../../src/contracts/metrics';

export type RefusalReason =
  | 'caller' // not an instance session of the runner role (403)
  | 'unknown-instance' // no runner item (yet) (503)
  | 'retired' // the runner is retiring or gone (410)
  | 'busy' // the runner already runs a job (409)
  | 'surplus' // its pool has no demand left (410)
  | 'no-config' // its runner config no longer exists (410)
  | 'not-installed' // the GitHub App is not installed on its scope (410)
  | 'no-runner-group' // the runner group the config names does not exist (410)
  | 'enterprise-credential' // the enterprise token is missing or refused (410)
  | 'runner-missing' // the instance's image holds no runner: it asked for no config (410)
  | 'configured' // a runner-missing report from a runner that got its config already (409)
  | 'bad-request' // a body that is not {} or a known problem report (400)
  | 'github-error' // generate-jitconfig failed (503)
  | 'contended' // the runner item kept changing under the decision (503)
  | 'warm-pool'; // a warm pool instance's first boot: it parks stopped, no JIT config (410)

export interface RegisterMetrics {
  runnerRegistered(configName: string): void;
  registrationRefused(reason: RefusalReason): void;
}

/** Each metric is published at once with its own dimensions (a single-metric EMF line). */
export class PowertoolsRegisterMetrics implements RegisterMetrics {
  constructor(private readonly metrics: Metrics) {}

  runnerRegistered(configName: string): void {
    this.metrics.singleMetric()
      .addDimension(MetricDimension.CONFIG, configName)
      .addMetric(RegisterMetric.RUNNERS_REGISTERED, MetricUnit.Count, 1);
  }

  registrationRefused(reason: RefusalReason): void {
    this.metrics.singleMetric()
      .addDimension(MetricDimension.REASON, reason)
      .addMetric(RegisterMetric.REGISTRATIONS_REFUSED, MetricUnit.Count, 1);
  }
}
