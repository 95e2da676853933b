// What the provisioner works with: the control plane's ports, a logger and its metrics.
import { ControlPlane } from '../common/control-plane';
import { Logger } from '../common/logger';
import { LaunchErrorKind } from '../core/compute';
import { HoldReason } from '../core/launch-hold';
import { ImageSource } from '../core/ports';
import { Market, RetireReason } from '../core/runner';

export interface ProvisionerMetrics {
  launched(market: Market, count: number): void;
  launchError(kind: LaunchErrorKind): void;
  fallback(): void;
  retired(reason: RetireReason, count: number): void;
  rerun(): void;
  /** GitHub refused a re-run (403): the attempt was re-run already, is too old, or the App may not re-run. */
  rerunRefused(): void;
  /** Queued jobs that wait because the config's runner image does not exist yet. */
  jobsWaitingForImage(count: number): void;
  /** GitHub refused a re-run for now: its workflow run still has a job queued or running. Asked again later. */
  rerunDeferred(): void;
  /** A re-run still refused for now a day after the first refusal: given up. */
  rerunAbandoned(): void;
  /** Instances launched into a config's warm pool (on-demand, to be stopped). */
  warmLaunched(count: number): void;
  /** Stopped warm pool instances started for a pool's jobs instead of cold launches. */
  warmStarted(config: string, count: number): void;
  /** Claimed warm pool instances EC2 would not start; their jobs launched cold. */
  warmStartFailed(count: number): void;
  /** Instances tagged with the repository and workflow of the job they run. */
  costTagged(count: number): void;
  /** Instances whose cost tags could not be set. */
  costTagFailed(count: number): void;
  /** Launches a pool's demand asked for but its launch hold kept back (launch-hold.ts). */
  launchesHeld(reason: HoldReason, count: number): void;
}

export interface ProvisionerDeps extends ControlPlane {
  readonly logger: Logger;
  readonly metrics: ProvisionerMetrics;
  /** Where each config's AMI id comes from at launch. */
  readonly images: ImageSource;
}
