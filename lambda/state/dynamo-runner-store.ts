// Runners and pools in the single DynamoDB table. Runner changes are conditional on the runner's
// state; pool saves are conditional on the pool's version. No transactions (dynalite runs them too).
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient, GetCommand, paginateQuery, paginateScan, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { StateReadIncompleteError } from './errors';
import { poolFromItem, poolItemKey, poolToItem, runnerFromItem, runnerItemKey, runnerPoolSort, runnerToItem } from './runner-items';
import { PARTITION_KEY, POOL_INDEX, TTL_ATTRIBUTE } from './table-schema';
import { FINISHED_JOB_RETENTION_SECONDS, JobKey } from '../core/job';
import { hasPendingWork, PoolRecord } from '../core/pool';
import { PoolStore, RunnerStore } from '../core/ports';
import { applyRunnerChanges, RunnerChanges, RunnerRecord, RunnerState } from '../core/runner';

/** BatchGetItem reads at most 100 keys per call. */
const BATCH_GET_LIMIT = 100;
/** Calls per batch before keys DynamoDB keeps leaving unprocessed are reported as a failure. */
const BATCH_GET_ATTEMPTS = 5;

export class DynamoRunnerStore implements RunnerStore, PoolStore {
  constructor(private readonly client: DynamoDBDocumentClient, private readonly tableName: string) {}

  async putRunner(runner: RunnerRecord): Promise<boolean> {
    return this.conditionalPut(runnerToItem(runner), 'attribute_not_exists(#pk)', { '#pk': PARTITION_KEY });
  }

  async getRunner(instanceId: string): Promise<RunnerRecord | undefined> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: runnerItemKey(instanceId), ConsistentRead: true }));
    return Item ? runnerFromItem(Item) : undefined;
  }

  async getRunners(instanceIds: readonly string[]): Promise<Map<string, RunnerRecord>> {
    const runners = new Map<string, RunnerRecord>();
    for (let start = 0; start < instanceIds.length; start += BATCH_GET_LIMIT) {
      let keys: Array<Record<string, unknown>> = instanceIds.slice(start, start + BATCH_GET_LIMIT).map(runnerItemKey);
      for (let attempt = 0; keys.length > 0; attempt++) {
        if (attempt >= BATCH_GET_ATTEMPTS) throw new StateReadIncompleteError(keys.length);
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt));
        const { Responses, UnprocessedKeys } = await this.client.send(new BatchGetCommand({
          RequestItems: { [this.tableName]: { Keys: keys, ConsistentRead: true } },
        }));
        for (const item of Responses?.[this.tableName] ?? []) {
          const runner = runnerFromItem(item);
          runners.set(runner.instanceId, runner);
        }
        // DynamoDB may leave part of a batch for later (throughput, 16 MB): read those again.
        keys = UnprocessedKeys?.[this.tableName]?.Keys ?? [];
      }
    }
    return runners;
  }

  async transitionRunner(
    instanceId: string, from: readonly RunnerState[], to: RunnerState, changes: RunnerChanges, at: number,
  ): Promise<RunnerRecord | undefined> {
    // Read, change, and write back on the condition that the state read is still there: one
    // conditional Put. The runner item is small and has one writer per state.
    const current = await this.getRunner(instanceId);
    if (!current || !from.includes(current.state)) return undefined;
    const next = applyRunnerChanges(current, to, changes, at);
    const item = runnerToItem(next);
    if (to === 'gone') item[TTL_ATTRIBUTE] = Math.floor(at / 1000) + FINISHED_JOB_RETENTION_SECONDS;
    const ok = await this.conditionalPut(item, '#version = :version', { '#version': 'version' }, { ':version': current.version });
    return ok ? next : undefined;
  }

  async claimCostTags(instanceId: string, job: JobKey): Promise<boolean> {
    // One UpdateItem that leaves the version alone: a transition that read the runner before it
    // writes the item back without the mark, which costs one more (idempotent) CreateTags, while
    // moving the version would make that transition lose its race instead.
    try {
      await this.client.send(new UpdateCommand({
        TableName: this.tableName,
        Key: runnerItemKey(instanceId),
        UpdateExpression: 'SET #tagged = :jobId',
        ConditionExpression: '#state = :busy AND #job.#jobId = :jobId AND #job.#host = :host AND (attribute_not_exists(#tagged) OR #tagged <> :jobId)',
        ExpressionAttributeNames: { '#tagged': 'costTaggedJob', '#state': 'state', '#job': 'job', '#jobId': 'jobId', '#host': 'githubHost' },
        ExpressionAttributeValues: { ':jobId': job.jobId, ':host': job.githubHost, ':busy': 'busy' },
      }));
      return true;
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) return false;
      throw e;
    }
  }

  async listPoolRunners(poolId: string, state?: RunnerState): Promise<RunnerRecord[]> {
    const runners: RunnerRecord[] = [];
    const pages = paginateQuery({ client: this.client }, {
      TableName: this.tableName,
      IndexName: POOL_INDEX.name,
      KeyConditionExpression: '#poolId = :poolId AND begins_with(#poolSort, :prefix)',
      ExpressionAttributeNames: { '#poolId': POOL_INDEX.partitionKey, '#poolSort': POOL_INDEX.sortKey },
      ExpressionAttributeValues: { ':poolId': poolId, ':prefix': state === undefined ? 'RUNNER#' : runnerPoolSort(state, '') },
    });
    for await (const page of pages) for (const item of page.Items ?? []) runners.push(runnerFromItem(item));
    return runners;
  }

  async listActivePools(): Promise<string[]> {
    // The index is sparse: it holds only active jobs, live runners and pools with pending work,
    // so scanning it costs in proportion to what is going on, and nothing while idle.
    const pools = new Set<string>();
    const pages = paginateScan({ client: this.client }, {
      TableName: this.tableName,
      IndexName: POOL_INDEX.name,
      ProjectionExpression: '#poolId',
      ExpressionAttributeNames: { '#poolId': POOL_INDEX.partitionKey },
    });
    for await (const page of pages) for (const item of page.Items ?? []) pools.add(String(item[POOL_INDEX.partitionKey]));
    return [...pools].sort();
  }

  async getPool(poolId: string): Promise<PoolRecord | undefined> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: poolItemKey(poolId), ConsistentRead: true }));
    return Item ? poolFromItem(Item) : undefined;
  }

  async savePool(pool: PoolRecord, at: number): Promise<boolean> {
    const next = { ...pool, version: pool.version + 1 };
    const item = poolToItem(next, hasPendingWork(next));
    item.updatedAt = at;
    return pool.version === 0
      ? this.conditionalPut(item, 'attribute_not_exists(#pk)', { '#pk': PARTITION_KEY })
      : this.conditionalPut(item, '#version = :version', { '#version': 'version' }, { ':version': pool.version });
  }

  private async conditionalPut(
    item: Record<string, unknown>, condition: string, names: Record<string, string>, values?: Record<string, unknown>,
  ): Promise<boolean> {
    try {
      await this.client.send(new PutCommand({
        TableName: this.tableName,
        Item: item,
        ConditionExpression: condition,
        ExpressionAttributeNames: names,
        ...(values ? { ExpressionAttributeValues: values } : {}),
      }));
      return true;
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) return false;
      throw e;
    }
  }
}
