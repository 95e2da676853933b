// A real DynamoDB engine for tests: dynalite on 127.0.0.1 (port chosen by the OS), reached through
// the real AWS SDK clients. Each test creates its own table from the production schema.

import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, paginateScan } from '@aws-sdk/lib-dynamodb';
import { stateTableDefinition } from '../../../lambda/state/table-schema';

// dynalite ships no type declarations.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const dynalite = require('dynalite') as (options?: { createTableMs?: number; deleteTableMs?: number; updateTableMs?: number }) => Server;

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
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
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
      await raw.send(new CreateTableCommand(stateTableDefinition(name)));
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
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
