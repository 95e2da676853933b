// The state table's key schema and index, for both sides: the construct defines the table in
// CloudFormation, the functions query it, and the tests and the sandbox create it in dynalite.

/** Partition and sort key attributes, both strings. */
export const PARTITION_KEY = 'pk';
export const SORT_KEY = 'sk';

/** TTL attribute, epoch seconds. */
export const TTL_ATTRIBUTE = 'expiresAt';

/** Sparse index of active items by pool: only queued and in-progress jobs and live runners carry `poolId`. */
export const POOL_INDEX = { name: 'byPool', partitionKey: 'poolId', sortKey: 'poolSort' } as const;
