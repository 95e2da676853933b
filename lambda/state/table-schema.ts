// The single state table: key names, the pool index and the item keys, in one place. The
// construct defines the same table in CloudFormation; tests and the sandbox create it in dynalite
// from `stateTableDefinition`.

import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { JobKey, JobState } from '../core/job';

export const PARTITION_KEY = 'pk';
export const SORT_KEY = 'sk';
/** TTL attribute, epoch seconds. */
export const TTL_ATTRIBUTE = 'expiresAt';

/** Sparse index of active items by pool: only queued and in-progress jobs (later: live runners) carry `poolId`. */
export const POOL_INDEX = { name: 'byPool', partitionKey: 'poolId', sortKey: 'poolSort' } as const;

export interface ItemKey {
  readonly pk: string;
  readonly sk: string;
}

export function deliveryItemKey(deliveryId: string): ItemKey {
  return { pk: `DELIVERY#${deliveryId}`, sk: 'DELIVERY' };
}

export function jobItemKey(key: JobKey): ItemKey {
  return { pk: `JOB#${key.githubHost}#${key.jobId}`, sk: 'JOB' };
}

/** Sort key of an active job in the pool index; `begins_with(poolSort, 'JOB#queued#')` selects a state. */
export function jobPoolSort(state: JobState, jobId: number): string {
  return `${jobPoolSortPrefix(state)}${jobId}`;
}

export function jobPoolSortPrefix(state?: JobState): string {
  return state === undefined ? 'JOB#' : `JOB#${state}#`;
}

/** The table as CreateTable input (TTL is set separately with UpdateTimeToLive on `expiresAt`). */
export function stateTableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: PARTITION_KEY, AttributeType: 'S' },
      { AttributeName: SORT_KEY, AttributeType: 'S' },
      { AttributeName: POOL_INDEX.partitionKey, AttributeType: 'S' },
      { AttributeName: POOL_INDEX.sortKey, AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: PARTITION_KEY, KeyType: 'HASH' },
      { AttributeName: SORT_KEY, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: POOL_INDEX.name,
        KeySchema: [
          { AttributeName: POOL_INDEX.partitionKey, KeyType: 'HASH' },
          { AttributeName: POOL_INDEX.sortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ],
  };
}
