// The reconciler's singleton state item in the state table, saved with an optimistic lock on its
// version (one conditional Put, as every other write of the control plane). It carries no `poolId`,
// so it stays out of the pool index.
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { compact, Item, num, optNum, optStr, str } from './attributes';
import { StateItemError } from './errors';
import { scopeFromItem } from './items';
import { PARTITION_KEY, SORT_KEY } from './table-schema';
import {
  EMPTY_RECONCILER_STATE, JobCheck, ReconcilerState, ReconcilerStateStore, RedeliveryRecord, RunnerVersionRead, ScopeActivity,
  VersionedReconcilerState,
} from '../core/reconciler-state';

export const RECONCILER_STATE_KEY = { [PARTITION_KEY]: 'RECONCILER', [SORT_KEY]: 'STATE' } as const;

export class DynamoReconcilerStore implements ReconcilerStateStore {
  constructor(private readonly client: DynamoDBDocumentClient, private readonly tableName: string) {}

  async load(): Promise<VersionedReconcilerState> {
    const { Item: item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: RECONCILER_STATE_KEY, ConsistentRead: true }));
    return item ? { state: reconcilerStateFromItem(item), version: num(item, 'version', WHERE) } : { state: EMPTY_RECONCILER_STATE, version: 0 };
  }

  async save(state: ReconcilerState, expectedVersion: number, at: number): Promise<boolean> {
    const item = { ...reconcilerStateToItem(state), version: expectedVersion + 1, updatedAt: at };
    try {
      await this.client.send(new PutCommand({
        TableName: this.tableName,
        Item: item,
        ...(expectedVersion === 0
          ? { ConditionExpression: 'attribute_not_exists(#pk)', ExpressionAttributeNames: { '#pk': PARTITION_KEY } }
          : { ConditionExpression: '#version = :version', ExpressionAttributeNames: { '#version': 'version' }, ExpressionAttributeValues: { ':version': expectedVersion } }),
      }));
      return true;
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) return false;
      throw e;
    }
  }
}

const WHERE = 'reconciler state item';

export function reconcilerStateToItem(state: ReconcilerState): Item {
  return compact({
    ...RECONCILER_STATE_KEY,
    itemType: 'reconciler',
    scopes: state.scopes.map((s) => compact({ scope: s.scope, lastActiveAt: s.lastActiveAt, ghostsLeftAt: s.ghostsLeftAt, sweptAt: s.sweptAt })),
    deliveriesCursor: state.deliveriesCursor,
    lastSweepAt: state.lastSweepAt,
    deliveriesReadAt: state.deliveriesReadAt,
    runnerVersionRead: state.runnerVersionRead && compact({ at: state.runnerVersionRead.at, serverRelease: state.runnerVersionRead.serverRelease }),
    redeliveries: state.redeliveries.map((r) => ({ guid: r.guid, attempts: r.attempts, lastAttemptAt: r.lastAttemptAt })),
    jobChecks: state.jobChecks.map((c) => ({ githubHost: c.key.githubHost, jobId: c.key.jobId, checkedAt: c.checkedAt })),
  });
}

export function reconcilerStateFromItem(item: Item): ReconcilerState {
  const scopes: ScopeActivity[] = list(item, 'scopes').map((s) => compact({
    scope: scopeFromItem(s.scope, WHERE),
    lastActiveAt: num(s, 'lastActiveAt', WHERE),
    ghostsLeftAt: optNum(s, 'ghostsLeftAt', WHERE),
    sweptAt: optNum(s, 'sweptAt', WHERE),
  }) as ScopeActivity);
  const redeliveries: RedeliveryRecord[] = list(item, 'redeliveries').map((r) => ({
    guid: str(r, 'guid', WHERE), attempts: num(r, 'attempts', WHERE), lastAttemptAt: num(r, 'lastAttemptAt', WHERE),
  }));
  const jobChecks: JobCheck[] = list(item, 'jobChecks').map((c) => ({
    key: { githubHost: str(c, 'githubHost', WHERE), jobId: num(c, 'jobId', WHERE) }, checkedAt: num(c, 'checkedAt', WHERE),
  }));
  const cursor = optNum(item, 'deliveriesCursor', WHERE);
  const lastSweepAt = optNum(item, 'lastSweepAt', WHERE);
  const deliveriesReadAt = optNum(item, 'deliveriesReadAt', WHERE);
  const read = item.runnerVersionRead as Item | undefined;
  if (read !== undefined && (typeof read !== 'object' || read === null)) throw new StateItemError(`${WHERE}: runnerVersionRead is not a map`);
  return {
    scopes,
    redeliveries,
    jobChecks,
    ...(cursor === undefined ? {} : { deliveriesCursor: cursor }),
    ...(lastSweepAt === undefined ? {} : { lastSweepAt }),
    ...(deliveriesReadAt === undefined ? {} : { deliveriesReadAt }),
    ...(read === undefined ? {} : { runnerVersionRead: runnerVersionReadFromItem(read) }),
  };
}

function runnerVersionReadFromItem(read: Item): RunnerVersionRead {
  const where = `${WHERE} runnerVersionRead`;
  return compact({ at: num(read, 'at', where), serverRelease: optStr(read, 'serverRelease', where) });
}

function list(item: Item, attribute: string): Item[] {
  const value = item[attribute] ?? [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'object' && v !== null)) {
    throw new StateItemError(`${WHERE}: ${attribute} is not a list of maps`);
  }
  return value as Item[];
}
