// A real DynamoDB engine for tests: the sandbox's (dynalite on 127.0.0.1, in a process of its own),
// reached through the real AWS SDK clients. Each test creates its own table from the production schema.
// With `asRole`, `client` signs as a role whose policy is the construct's own statements for each
// table, behind the sandbox's IAM proxy (SigV4 verified, every call decided by the IAM engine):
// a call the function's policy does not grant fails with AccessDeniedException, as in AWS.

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, paginateScan } from '@aws-sdk/lib-dynamodb';
import { stateTableDefinition } from '../../../lambda/state/table-schema';
import { startDynamoEngine } from '../../../sandbox/aws/dynamodb-engine';
import { DynamoIamProxy } from '../../../sandbox/aws/dynamodb-iam-proxy';
import type { CallerIdentity } from '../../../sandbox/aws/function-url';
import { IamAuthorizer } from '../../../sandbox/iam/authorizer';
import { rolesWithPolicies, serviceAuthorizer } from '../../../sandbox/iam/services';

const REGION = 'us-east-1';
const ACCOUNT = '123456789012';

export interface DynaliteOptions {
  /** The statements a function's role has for a table (e.g. the construct's `stateAccess(tableArn, …)`, as JSON). */
  readonly asRole?: (tableArn: string) => unknown[];
}

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

export async function startDynalite(options: DynaliteOptions = {}): Promise<DynamoTestEngine> {
  const engine = await startDynamoEngine();
  const role: CallerIdentity = {
    accountId: ACCOUNT, roleName: 'FunctionRole', roleId: 'AROAFUNCTIONROLE0001', sessionName: 'function', secretAccessKey: 'role-secret', sessionToken: 'role-token',
  };
  const statements: unknown[] = [];
  let authorizer: IamAuthorizer | undefined;
  const proxy = options.asRole && new DynamoIamProxy({
    target: engine.endpoint,
    region: REGION,
    credentialsFor: (key) => (key === 'ASIAFUNCTIONROLE' ? role : undefined),
    unchecked: (key) => key === 'test',
    authorize: serviceAuthorizer('dynamodb', {
      authorizer: () => (authorizer ??= new IamAuthorizer({ accountId: ACCOUNT, roles: rolesWithPolicies({ FunctionRole: statements }) })),
      context: { region: REGION, accountId: ACCOUNT },
      identityFor: (key) => (key === 'ASIAFUNCTIONROLE' ? role : undefined),
    }),
  });
  await proxy?.start();
  const endpoint = proxy?.url ?? engine.endpoint;
  const documentClient = (credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }) => DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint, region: REGION, credentials, maxAttempts: 1 }),
    { marshallOptions: { removeUndefinedValues: true } },
  );
  const operator = documentClient({ accessKeyId: 'test', secretAccessKey: 'test' });
  const client = options.asRole ? documentClient({ accessKeyId: 'ASIAFUNCTIONROLE', secretAccessKey: role.secretAccessKey, sessionToken: role.sessionToken }) : operator;
  let tables = 0;
  return {
    endpoint,
    client,
    async createStateTable() {
      const name = `state-${++tables}`;
      await engine.createTable(stateTableDefinition(name));
      if (options.asRole) {
        statements.push(...options.asRole(`arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${name}`));
        authorizer = undefined;
      }
      return name;
    },
    async scan(tableName) {
      const items: Record<string, unknown>[] = [];
      for await (const page of paginateScan({ client: operator }, { TableName: tableName, ConsistentRead: true })) items.push(...(page.Items ?? []));
      return items;
    },
    async stop() {
      client.destroy();
      operator.destroy();
      await proxy?.stop();
      await engine.stop();
    },
  };
}
