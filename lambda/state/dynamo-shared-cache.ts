// The functions' shared cache as items of the state table: one item per entry, expired by the
// table's TTL (and ignored once past `expiresAt` before TTL gets to it, which can take days).
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { num, str } from './attributes';
import { cacheItemKey, TTL_ATTRIBUTE } from './table-schema';
import { Clock, SharedCache } from '../core/ports';

export class DynamoSharedCache implements SharedCache {
  constructor(private readonly client: DynamoDBDocumentClient, private readonly tableName: string, private readonly clock: Clock) {}

  async get(key: string): Promise<string | undefined> {
    const { Item: item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: cacheItemKey(key) }));
    if (!item) return undefined;
    const where = `cache item ${key}`;
    return num(item, 'validUntil', where) > this.clock.now() ? str(item, 'value', where) : undefined;
  }

  async put(key: string, value: string, expiresAt: number): Promise<void> {
    await this.client.send(new PutCommand({
      TableName: this.tableName,
      Item: { ...cacheItemKey(key), itemType: 'cache', value, validUntil: expiresAt, [TTL_ATTRIBUTE]: Math.ceil(expiresAt / 1000) },
    }));
  }
}
