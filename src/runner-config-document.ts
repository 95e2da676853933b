// The JSON document the construct writes to one SSM parameter per runner config and the functions
// read. Pure types: the construct (writer) and the functions (reader) share this one definition.

/** Version of the document's shape; a reader refuses versions it does not know. */
export const RUNNER_CONFIG_DOCUMENT_VERSION = 1;

/** The range of a config's routing `priority`, both ends included. */
export const ROUTING_PRIORITY_RANGE = { min: 0, max: 1000 } as const;

export type SpotStrategyName = 'SPOT_ONLY' | 'SPOT_PREFERRED' | 'ON_DEMAND_ONLY';
export type RunnerScopeName = 'enterprise' | 'org' | 'repo';
export type RunnerArchitectureName = 'x64' | 'arm64';

export interface InstanceRequirementsDocument {
  readonly vCpuMin: number;
  readonly vCpuMax?: number;
  readonly memoryMiBMin: number;
  readonly memoryMiBMax?: number;
}

/**
 * Where a config's runner image comes from: an SSM parameter holding the AMI id (the construct's own
 * pipeline writes one per architecture, typically half an hour after the first deploy), or a fixed
 * AMI id. The provisioner resolves it at each launch and passes the AMI id in the CreateFleet
 * overrides; the launch templates carry no image, so the first deploy never depends on an image.
 */
export interface ImageSourceDocument {
  readonly parameterName?: string;
  readonly amiId?: string;
}

/**
 * When a warm pool is kept full: on these days of the week, from `startHour` to `endHour`, local
 * time of `timeZone`. Outside it the pool is emptied (its stopped instances terminated).
 */
export interface WarmPoolScheduleDocument {
  /** IANA time zone, e.g. `Europe/Berlin`. */
  readonly timeZone: string;
  /** Days the pool is kept, ISO numbering: 1 Monday … 7 Sunday; sorted, without duplicates. */
  readonly weekdays: readonly number[];
  /** First hour of the day the pool is kept, 0-23. */
  readonly startHour: number;
  /** Hour the pool is emptied, 1-24, after `startHour`. */
  readonly endHour: number;
}

/**
 * Stopped instances kept ahead of demand, booted once up to the point where only the JIT config is
 * missing. Read by the provisioner (refill, claim) and the reconciler (which pools to refill).
 */
export interface WarmPoolDocument {
  /** Stopped instances to keep, at least 1 and at most the config's `maxRunners`. */
  readonly size: number;
  /** When to keep them. @default - always */
  readonly schedule?: WarmPoolScheduleDocument;
}

export interface RunnerConfigDocument {
  readonly version: number;
  /** Unique config name: lower-case letters, digits and hyphens. */
  readonly name: string;
  /** Routing labels: ASCII-folded, without `self-hosted`, sorted (see runner-labels.ts). */
  readonly labels: readonly string[];
  /** The labels the runner registers with, as the user wrote them, `self-hosted` first. */
  readonly runnerLabels: readonly string[];
  /**
   * Among configs that match a job equally well, the one with the highest priority wins, see
   * runner-labels.ts. Absent, as `order`, from documents of deployments older than the rule.
   */
  readonly priority?: number;
  /** The config's index in `runnerConfigs`: among equal priorities the lowest wins. */
  readonly order?: number;
  /** Empty when `instanceRequirements` chooses the types. */
  readonly instanceTypes: readonly string[];
  /** vCPU and memory ranges EC2 picks instance types by (attribute-based selection), instead of a list. */
  readonly instanceRequirements?: InstanceRequirementsDocument;
  /** CPU architecture of the instance types and the image. */
  readonly architecture?: RunnerArchitectureName;
  readonly spot: SpotStrategyName;
  readonly maxRunners: number;
  /** Where runners register: the enterprise, the job's organization, or its repository. */
  readonly scope: RunnerScopeName;
  /** The enterprise's slug, for scope `enterprise`. */
  readonly enterprise?: string;
  /** Runner group id for organization and enterprise runners (1 is the Default group). */
  readonly runnerGroupId: number;
  /**
   * Runner group name for organization and enterprise runners, looked up at GitHub when a runner
   * registers; when set, `runnerGroupId` is not used.
   */
  readonly runnerGroupName?: string;
  /** The image instances boot. @default - the launch template's own image */
  readonly image?: ImageSourceDocument;
  /** Stopped instances kept ahead of demand. @default - none: every job waits for a cold launch */
  readonly warmPool?: WarmPoolDocument;
}
