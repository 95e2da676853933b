// The single state table's item keys, over the key and index names of its contract
// (src/contracts/state-table.ts), which the construct's CloudFormation table shares; tests and the
// sandbox create the table in dynalite from `stateTableDefinition`.

import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { PARTITION_KEY, POOL_INDEX, SORT_KEY, TTL_ATTRIBUTE } from '../../src/contracts/state-table';
import { JobKey, JobState } from '../core/job';

export { PARTITION_KEY, POOL_INDEX, SORT_KEY, TTL_ATTRIBUTE };

export type ItemKey = { readonly [PARTITION_KEY]: string; readonly [SORT_KEY]: string };

export function deliveryItemKey(deliveryId: string): ItemKey {
  return { [PARTITION_KEY]: `DELIVERY#${deliveryId}`, [SORT_KEY]: 'DELIVERY' };
}

export function jobItemKey(key: JobKey): ItemKey {
  return { [PARTITION_KEY]: `JOB#${key.githubHost}#${key.jobId}`, [SORT_KEY]: 'JOB' };
}

/** An entry of the functions' shared cache (installation ids, sealed tokens); it carries no `poolId`, so it stays out of the pool index. */
export function cacheItemKey(key: string): ItemKey {
  return { [PARTITION_KEY]: `CACHE#${key}`, [SORT_KEY]: 'CACHE' };
}

/** Sort key of an active job in the pool index; `begins_with(poolSort, 'JOB#queued#')` selects a state. */
export function jobPoolSort(state: JobState, jobId: number): string {
  return `${jobPoolSortPrefix(state)}${jobId}`;
}

export function jobPoolSortPrefix(state?: JobState): string {
  return state === undefined ? 'JOB#' : `JOB#${state}#`;
}

/** The table as CreateTable input (TTL is set separately with UpdateTimeToLive on {@link TTL_ATTRIBUTE}). */
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
