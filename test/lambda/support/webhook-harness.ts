// The webhook wired as in production, except for the adapters that need AWS: the state store is
// the real DynamoStateStore on dynalite, signing as the engine's role (with `asRole`, what the
// construct grants the webhook); queue, configs and secret are in-memory ports.

import { DynamoTestEngine } from './dynalite';
import {
  InMemoryConfigSource,
  InMemoryPoolQueue,
  InMemorySecretSource,
  InMemoryWebhookMetrics,
  ManualClock,
  silentLogger,
} from './in-memory-ports';
import { Logger } from '../../../lambda/common/logger';
import { CachedConfigSource } from '../../../lambda/config/cached-config-source';
import { CachedSecret } from '../../../lambda/config/cached-secret';
import { DeliveryStore, JobStore, RunnerConfigSource } from '../../../lambda/core/ports';
import { RunnerConfig } from '../../../lambda/core/runner-config';
import { DynamoRunnerStore } from '../../../lambda/state/dynamo-runner-store';
import { DynamoStateStore } from '../../../lambda/state/dynamo-state-store';
import { createWebhookHandler, WebhookHandler } from '../../../lambda/webhook/webhook-handler';

export const TEST_SECRET = "It's a Secret to Everybody";
export const TEST_HOST = 'ghes.example.com';

export interface WebhookHarness {
  readonly handler: WebhookHandler;
  readonly tableName: string;
  /** The table as the test sees it (set-up and reads, unchecked by IAM); the function has its own store. */
  readonly store: DynamoStateStore;
  readonly queue: InMemoryPoolQueue;
  readonly configSource: InMemoryConfigSource;
  readonly secretSource: InMemorySecretSource;
  readonly clock: ManualClock;
  readonly metrics: InMemoryWebhookMetrics;
  /** The runner items of the same table as the test sees them (the webhook marks a runner busy when its job starts). */
  readonly runners: DynamoRunnerStore;
  /** Every item in the table. */
  items(): Promise<Record<string, unknown>[]>;
  /**
   * A handler as a new container would build it (fresh caches) over the same table, queue and
   * secret, with these configs: what a config change deploys.
   */
  newContainer(configs: readonly RunnerConfig[]): WebhookHandler;
}

/** Runner names of the harness's deployment start with this. */
export const RUNNER_NAME_PREFIX = 'er-test-';

export interface HarnessOptions {
  readonly configs?: readonly RunnerConfig[];
  /** `undefined` simulates a secret parameter that was never set. */
  readonly secret?: string | undefined;
  readonly logger?: Logger;
  /** Wraps the delivery store, e.g. to fail a write. */
  readonly deliveries?: (store: DynamoStateStore) => DeliveryStore;
  /** Wraps the job store, e.g. to look at the table as a job moves. */
  readonly jobs?: (store: DynamoStateStore) => JobStore;
}

export async function webhookHarness(engine: DynamoTestEngine, options: HarnessOptions = {}): Promise<WebhookHarness> {
  const tableName = await engine.createStateTable();
  const store = new DynamoStateStore(engine.client, tableName);
  const view = { store: new DynamoStateStore(engine.operator, tableName), runners: new DynamoRunnerStore(engine.operator, tableName) };
  const queue = new InMemoryPoolQueue();
  const configSource = new InMemoryConfigSource(options.configs ?? []);
  const secretSource = new InMemorySecretSource('secret' in options ? options.secret : TEST_SECRET);
  const clock = new ManualClock();
  const metrics = new InMemoryWebhookMetrics();
  const logger = options.logger ?? silentLogger();
  const deliveries = options.deliveries?.(store) ?? store;
  const runners = new DynamoRunnerStore(engine.client, tableName);
  const container = (source: RunnerConfigSource) => createWebhookHandler(() => ({
    githubHost: TEST_HOST,
    deliveries,
    jobs: options.jobs?.(store) ?? store,
    queue,
    configs: new CachedConfigSource(source),
    secret: new CachedSecret(secretSource, clock),
    clock,
    logger,
    metrics,
    runners: { store: runners, namePrefix: RUNNER_NAME_PREFIX },
  }), logger);
  return {
    handler: container(configSource),
    tableName,
    store: view.store,
    runners: view.runners,
    queue,
    configSource,
    secretSource,
    clock,
    metrics,
    items: () => engine.scan(tableName),
    newContainer: (configs) => container(new InMemoryConfigSource(configs)),
  };
}
