// A real DynamoDB engine for tests: the sandbox's (dynalite on 127.0.0.1, in a process of its own),
// reached through the real AWS SDK clients. Each test creates its own table from the production schema.

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, paginateScan } from '@aws-sdk/lib-dynamodb';
import { stateTableDefinition } from '../../../lambda/state/table-schema';
import { startDynamoEngine } from '../../../sandbox/aws/dynamodb-engine';

export interface DynamoTestEngine {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  readonly client: DynamoDBDocumentClient;
  /** Creates a fresh state table and returns its name. */
  createStateTable(): Promise<string>;
  /** Every item of a table, whatever its key. */
  scan(tableName: string): Promise<Record<string, unknown>[]>;
  stop(): Promise<void>;
}

export async function startDynalite(): Promise<DynamoTestEngine> {
  const engine = await startDynamoEngine();
  const endpoint = engine.endpoint;
  const raw = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
  const client = DynamoDBDocumentClient.from(raw, { marshallOptions: { removeUndefinedValues: true } });
  let tables = 0;
  return {
    endpoint,
    client,
    async createStateTable() {
      const name = `state-${++tables}`;
      await engine.createTable(stateTableDefinition(name));
      return name;
    },
    async scan(tableName) {
      const items: Record<string, unknown>[] = [];
      for await (const page of paginateScan({ client }, { TableName: tableName, ConsistentRead: true })) items.push(...(page.Items ?? []));
      return items;
    },
    async stop() {
      client.destroy();
      raw.destroy();
      await engine.stop();
    },
  };
}
