// A real DynamoDB engine for tests: the sandbox's (dynalite on 127.0.0.1, in a process of its own),
// reached through the real AWS SDK clients. Each test creates its own table from the production schema.
// With `asRole`, `client` signs as a function's role (./function-role.ts) whose policy is the
// construct's own statements for each table, behind the sandbox's IAM proxy (SigV4 verified, every
// call decided by the IAM engine): a call the function's policy does not grant fails with
// AccessDeniedException, as in AWS. `operator` signs with a key IAM does not check, for set-up.

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, paginateScan } from '@aws-sdk/lib-dynamodb';
import { ACCOUNT, FunctionRole, REGION } from './function-role';
import { stateTableDefinition } from '../../../lambda/state/table-schema';
import { startDynamoEngine } from '../../../sandbox/aws/dynamodb-engine';
import { DynamoIamProxy } from '../../../sandbox/aws/dynamodb-iam-proxy';

export interface DynaliteOptions {
  /**
   * The function's role (its other services share its authorizer), or the statements a function's
   * role has for a table (e.g. the construct's `stateAccess(tableArn, …)`, as JSON).
   */
  readonly asRole?: FunctionRole | ((tableArn: string) => unknown[]);
}

export interface DynamoTestEngine {
  /** The role `client` signs as, when there is one: a harness gives it the function's other clients too. */
  readonly role?: FunctionRole;
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  readonly client: DynamoDBDocumentClient;
  /** Signs with a key IAM does not check: a test's own set-up and reads. */
  readonly operator: DynamoDBDocumentClient;
  /** Creates a fresh state table and returns its name. */
  createStateTable(): Promise<string>;
  /** Every item of a table, whatever its key. */
  scan(tableName: string): Promise<Record<string, unknown>[]>;
  stop(): Promise<void>;
}

export async function startDynalite(options: DynaliteOptions = {}): Promise<DynamoTestEngine> {
  const engine = await startDynamoEngine();
  const role = options.asRole instanceof FunctionRole || options.asRole === undefined ? options.asRole : new FunctionRole(options.asRole);
  const proxy = role && new DynamoIamProxy({
    target: engine.endpoint,
    region: REGION,
    credentialsFor: role.identityFor,
    unchecked: (key) => key === 'test',
    authorize: role.serviceAuthorizer('dynamodb'),
  });
  await proxy?.start();
  const endpoint = proxy?.url ?? engine.endpoint;
  const documentClient = (credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }) => DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint, region: REGION, credentials, maxAttempts: 1 }),
    { marshallOptions: { removeUndefinedValues: true } },
  );
  const operator = documentClient({ accessKeyId: 'test', secretAccessKey: 'test' });
  const client = role ? documentClient(role.credentials) : operator;
  let tables = 0;
  return {
    role,
    endpoint,
    client,
    operator,
    async createStateTable() {
      const name = `state-${++tables}`;
      await engine.createTable(stateTableDefinition(name));
      role?.grantTable(`arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${name}`);
      return name;
    },
    async scan(tableName) {
      const items: Record<string, unknown>[] = [];
      for await (const page of paginateScan({ client: operator }, { TableName: tableName, ConsistentRead: true })) items.push(...(page.Items ?? []));
      return items;
    },
    async stop() {
      if (client !== operator) client.destroy();
      operator.destroy();
      await proxy?.stop();
      await engine.stop();
    },
  };
}
