// IAM in front of dynalite: signatures verified, each operation authorized on the ARNs DynamoDB
// authorizes it on (the table; the index for Query and Scan with IndexName; every table of a
// batch), refusals in DynamoDB's error shape, through the real SDK client.
import { CreateTableCommand, DynamoDBClient, GetItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { startDynamoEngine, DynamoEngine } from '../../../sandbox/aws/dynamodb-engine';
import { DynamoIamProxy } from '../../../sandbox/aws/dynamodb-iam-proxy';
import type { CallerIdentity } from '../../../sandbox/aws/function-url';
import { IamAuthorizer } from '../../../sandbox/iam/authorizer';
import { rolesWithPolicies, serviceAuthorizer } from '../../../sandbox/iam/services';

jest.setTimeout(60_000);

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
const table = (name: string) => `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${name}`;
const reader: CallerIdentity = { accountId: ACCOUNT, roleName: 'Reader', roleId: 'AROAREADER0000000001', sessionName: 'fn', secretAccessKey: 'reader-secret', sessionToken: 'reader-token' };
const keys: Record<string, CallerIdentity> = { ASIAREADER: reader };
const iam = new IamAuthorizer({
  accountId: ACCOUNT,
  roles: rolesWithPolicies({
    Reader: [
      { Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:BatchGetItem'], Resource: table('state') },
      { Effect: 'Allow', Action: 'dynamodb:Query', Resource: `${table('state')}/index/byPool` },
    ],
  }),
});
let engine: DynamoEngine;
let proxy: DynamoIamProxy;
const client = (credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }) =>
  new DynamoDBClient({ endpoint: proxy.url, region: REGION, credentials, maxAttempts: 1 });

beforeAll(async () => {
  engine = await startDynamoEngine();
  proxy = new DynamoIamProxy({
    target: engine.endpoint,
    region: REGION,
    credentialsFor: (key) => keys[key],
    unchecked: (key) => key === 'operator',
    authorize: serviceAuthorizer('dynamodb', { authorizer: () => iam, context: { region: REGION, accountId: ACCOUNT }, identityFor: (key) => keys[key] }),
  });
  await proxy.start();
  const operator = client({ accessKeyId: 'operator', secretAccessKey: 'x' });
  for (const name of ['state', 'other']) {
    await operator.send(new CreateTableCommand({
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }, { AttributeName: 'poolId', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      GlobalSecondaryIndexes: [{ IndexName: 'byPool', KeySchema: [{ AttributeName: 'poolId', KeyType: 'HASH' }], Projection: { ProjectionType: 'ALL' } }],
    }));
  }
  operator.destroy();
});
afterAll(async () => {
  await proxy?.stop();
  await engine?.stop();
});

const asReader = () => client({ accessKeyId: 'ASIAREADER', secretAccessKey: reader.secretAccessKey, sessionToken: reader.sessionToken });

test('an allowed call reaches the engine unchanged', async () => {
  const result = await asReader().send(new GetItemCommand({ TableName: 'state', Key: { pk: { S: 'nothing' } } }));

  expect(result.Item).toBeUndefined();
});

test('a batch is authorized on every table it names: one table not granted refuses the whole call', async () => {
  const documents = DynamoDBDocumentClient.from(asReader());

  const call = documents.send(new BatchGetCommand({ RequestItems: { state: { Keys: [{ pk: 'a' }] }, other: { Keys: [{ pk: 'b' }] } } }));

  await expect(call).rejects.toMatchObject({
    name: 'AccessDeniedException',
    message: `User: arn:aws:sts::${ACCOUNT}:assumed-role/Reader/fn is not authorized to perform: dynamodb:BatchGetItem on resource: ${table('other')} `
      + 'because no identity-based policy allows the dynamodb:BatchGetItem action',
  });
});

test('a Query with IndexName is authorized on the index, a Query of the table itself is not granted by it', async () => {
  const onIndex = await asReader().send(new QueryCommand({
    TableName: 'state', IndexName: 'byPool', KeyConditionExpression: 'poolId = :p', ExpressionAttributeValues: { ':p': { S: 'x' } },
  }));
  const onTable = asReader().send(new QueryCommand({ TableName: 'state', KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': { S: 'x' } } }));

  expect(onIndex.Items).toEqual([]);
  await expect(onTable).rejects.toMatchObject({ name: 'AccessDeniedException', message: expect.stringContaining(`dynamodb:Query on resource: ${table('state')} because`) });
});

test('a request signed with the wrong secret is refused before IAM', async () => {
  const forged = client({ accessKeyId: 'ASIAREADER', secretAccessKey: 'not-the-secret', sessionToken: reader.sessionToken });

  await expect(forged.send(new GetItemCommand({ TableName: 'state', Key: { pk: { S: 'x' } } }))).rejects.toMatchObject({ name: 'InvalidSignatureException' });
});
