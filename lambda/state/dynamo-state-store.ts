// Deliveries and jobs in the single DynamoDB table. Every write is one conditional single-item
// request (no transactions, so the same code runs on dynalite): a delivery is put only if absent,
// a job moves only to a state of higher rank.

import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, paginateQuery, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { deliveryFromItem, deliveryToItem, jobFromItem } from './items';
import { deliveryItemKey, jobItemKey, jobPoolSort, jobPoolSortPrefix, PARTITION_KEY, POOL_INDEX, TTL_ATTRIBUTE } from './table-schema';
import { DeliveryRecord } from '../core/delivery';
import { isActive, JobKey, JobRecord, JobState, JobTransition, JobTransitionResult } from '../core/job';
import { DeliveryStore, JobStore } from '../core/ports';

export class DynamoStateStore implements DeliveryStore, JobStore {
  constructor(private readonly client: DynamoDBDocumentClient, private readonly tableName: string) {}

  async getDelivery(deliveryId: string): Promise<DeliveryRecord | undefined> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: deliveryItemKey(deliveryId), ConsistentRead: true }));
    return Item ? deliveryFromItem(Item) : undefined;
  }

  async recordDelivery(record: DeliveryRecord): Promise<boolean> {
    try {
      await this.client.send(new PutCommand({
        TableName: this.tableName,
        Item: deliveryToItem(record),
        ConditionExpression: 'attribute_not_exists(#pk)',
        ExpressionAttributeNames: { '#pk': PARTITION_KEY },
      }));
      return true;
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) return false;
      throw e;
    }
  }

  async applyJobTransition(t: JobTransition): Promise<JobTransitionResult> {
    try {
      const { Attributes } = await this.client.send(new UpdateCommand({
        TableName: this.tableName,
        Key: jobItemKey(t.key),
        ...jobUpdate(t),
        ReturnValues: 'ALL_NEW',
      }));
      return { changed: true, job: jobFromItem(Attributes ?? {}) };
    } catch (e) {
      if (!(e instanceof ConditionalCheckFailedException)) throw e;
      // Not forward (or unknown and not creatable): report the job as it is. dynalite does not
      // implement ReturnValuesOnConditionCheckFailure, hence the read.
      return { changed: false, job: await this.getJob(t.key) };
    }
  }

  async getJob(key: JobKey): Promise<JobRecord | undefined> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: jobItemKey(key), ConsistentRead: true }));
    return Item ? jobFromItem(Item) : undefined;
  }

  async listActiveJobs(poolId: string, state?: Exclude<JobState, 'completed'>): Promise<JobRecord[]> {
    const jobs: JobRecord[] = [];
    const pages = paginateQuery({ client: this.client }, {
      TableName: this.tableName,
      IndexName: POOL_INDEX.name,
      KeyConditionExpression: '#poolId = :poolId AND begins_with(#poolSort, :prefix)',
      ExpressionAttributeNames: { '#poolId': POOL_INDEX.partitionKey, '#poolSort': POOL_INDEX.sortKey },
      ExpressionAttributeValues: { ':poolId': poolId, ':prefix': jobPoolSortPrefix(state) },
    });
    for await (const page of pages) {
      for (const item of page.Items ?? []) jobs.push(jobFromItem(item));
    }
    return jobs;
  }

  async countActiveJobs(poolId: string, state: Exclude<JobState, 'completed'>, atMost: number): Promise<number> {
    if (atMost <= 0) return 0;
    let count = 0;
    const pages = paginateQuery({ client: this.client, pageSize: atMost }, {
      TableName: this.tableName,
      IndexName: POOL_INDEX.name,
      KeyConditionExpression: '#poolId = :poolId AND begins_with(#poolSort, :prefix)',
      ExpressionAttributeNames: { '#poolId': POOL_INDEX.partitionKey, '#poolSort': POOL_INDEX.sortKey },
      ExpressionAttributeValues: { ':poolId': poolId, ':prefix': jobPoolSortPrefix(state) },
      Select: 'COUNT',
    });
    for await (const page of pages) {
      count += page.Count ?? 0;
      if (count >= atMost) return atMost;
    }
    return count;
  }
}

/**
 * One UpdateItem for a transition. Creation attributes use `if_not_exists`, so a job keeps the pool
 * and labels it was first routed with; `poolId`/`poolSort` (the sparse pool index) are set while the
 * job is active and removed when it completes; `pool` keeps the pool id for good.
 */
function jobUpdate(t: JobTransition) {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const sets: string[] = [];
  const n = (attribute: string) => {
    names[`#${attribute}`] = attribute;
    return `#${attribute}`;
  };
  const v = (attribute: string, value: unknown) => {
    values[`:${attribute}`] = value;
    return `:${attribute}`;
  };
  const set = (attribute: string, value: unknown) => {
    if (value !== undefined) sets.push(`${n(attribute)} = ${v(attribute, value)}`);
  };
  const setOnce = (attribute: string, value: unknown) => {
    if (value !== undefined) sets.push(`${n(attribute)} = if_not_exists(${n(attribute)}, ${v(attribute, value)})`);
  };
  const at = new Date(t.at).toISOString();

  set('itemType', 'job');
  set('githubHost', t.key.githubHost);
  set('jobId', t.key.jobId);
  set('state', t.to);
  set('stateRank', t.rank);
  set('updatedAt', at);
  setOnce('createdAt', at);
  if (t.create) {
    const c = t.create;
    setOnce('runId', c.runId);
    setOnce('runAttempt', c.runAttempt);
    setOnce('repo', c.repo);
    setOnce('org', c.org);
    setOnce('labels', [...c.labels]);
    setOnce('configName', c.pool.configName);
    setOnce('pool', c.pool.poolId);
    setOnce('scope', c.pool.scope);
    setOnce('installationId', c.installationId);
    setOnce('workflowName', c.workflowName);
  }
  set('runnerName', t.runnerName);
  set('conclusion', t.conclusion);

  const removes: string[] = [];
  if (isActive(t.to)) {
    const pool = t.create ? `if_not_exists(${n('pool')}, ${v('pool', t.create.pool.poolId)})` : n('pool');
    sets.push(`${n(POOL_INDEX.partitionKey)} = ${pool}`);
    set(POOL_INDEX.sortKey, jobPoolSort(t.to, t.key.jobId));
  } else {
    set(TTL_ATTRIBUTE, t.expiresAt);
    removes.push(n(POOL_INDEX.partitionKey), n(POOL_INDEX.sortKey));
  }

  const forward = `${n('stateRank')} < ${v('stateRank', t.rank)}`;
  const condition = t.create
    ? `attribute_not_exists(${n(PARTITION_KEY)}) OR ${forward}`
    : `attribute_exists(${n(PARTITION_KEY)}) AND ${forward}`;
  return {
    UpdateExpression: `SET ${sets.join(', ')}${removes.length > 0 ? ` REMOVE ${removes.join(', ')}` : ''}`,
    ConditionExpression: condition,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
}
