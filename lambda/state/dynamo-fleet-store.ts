// The fleet record of the deployment-wide cap (core/fleet-cap.ts): one item, saved with an
// optimistic lock on its version (one conditional Put, as every other write of the control plane).
// It carries no `poolId`, so it stays out of the pool index. A lease or waiting entry takes under
// 150 bytes, so the item stays far below DynamoDB's 400 KB at the largest cap the construct allows.
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { compact, Item, num, optStr, str } from './attributes';
import { StateItemError } from './errors';
import { scopeFromItem } from './items';
import { PARTITION_KEY, SORT_KEY } from './table-schema';
import { EMPTY_FLEET, FleetLease, FleetRecord, FleetStore, WaitingDemand } from '../core/fleet-cap';

export const FLEET_ITEM_KEY = { [PARTITION_KEY]: 'FLEET', [SORT_KEY]: 'CAP' } as const;

const WHERE = 'fleet cap item';

export class DynamoFleetStore implements FleetStore {
  constructor(private readonly client: DynamoDBDocumentClient, private readonly tableName: string) {}

  async getFleet(): Promise<FleetRecord> {
    const { Item: item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: FLEET_ITEM_KEY, ConsistentRead: true }));
    return item ? fleetFromItem(item) : EMPTY_FLEET;
  }

  async saveFleet(fleet: FleetRecord, at: number): Promise<boolean> {
    try {
      await this.client.send(new PutCommand({
        TableName: this.tableName,
        Item: { ...fleetToItem(fleet), version: fleet.version + 1, updatedAt: at },
        ...(fleet.version === 0
          ? { ConditionExpression: 'attribute_not_exists(#pk)', ExpressionAttributeNames: { '#pk': PARTITION_KEY } }
          : { ConditionExpression: '#version = :version', ExpressionAttributeNames: { '#version': 'version' }, ExpressionAttributeValues: { ':version': fleet.version } }),
      }));
      return true;
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) return false;
      throw e;
    }
  }
}

export function fleetToItem(fleet: FleetRecord): Item {
  return {
    ...FLEET_ITEM_KEY,
    itemType: 'fleet',
    leases: fleet.leases.map((l) => compact({ poolId: l.poolId, instanceId: l.instanceId, reservation: l.reservation, at: l.at })),
    waiting: fleet.waiting.map((w) => ({ poolId: w.poolId, configName: w.configName, scope: w.scope, arrivals: [...w.arrivals], at: w.at })),
  };
}

export function fleetFromItem(item: Item): FleetRecord {
  const leases: FleetLease[] = list(item, 'leases').map((l) => compact({
    poolId: str(l, 'poolId', WHERE), instanceId: optStr(l, 'instanceId', WHERE), reservation: optStr(l, 'reservation', WHERE), at: num(l, 'at', WHERE),
  }) as FleetLease);
  const waiting: WaitingDemand[] = list(item, 'waiting').map((w) => {
    const arrivals = w.arrivals;
    if (!Array.isArray(arrivals) || !arrivals.every((a) => typeof a === 'number')) throw new StateItemError(`${WHERE}: arrivals is not a list of numbers`);
    return {
      poolId: str(w, 'poolId', WHERE), configName: str(w, 'configName', WHERE), scope: scopeFromItem(w.scope, WHERE), arrivals: arrivals as number[], at: num(w, 'at', WHERE),
    };
  });
  return { version: num(item, 'version', WHERE), leases, waiting };
}

function list(item: Item, attribute: string): Item[] {
  const value = item[attribute] ?? [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'object' && v !== null)) {
    throw new StateItemError(`${WHERE}: ${attribute} is not a list of maps`);
  }
  return value as Item[];
}
