import {
  CloudWatchLogsClient, CreateLogStreamCommand, InvalidParameterException, PutLogEventsCommand,
  ResourceAlreadyExistsException, ResourceNotFoundException, ServiceUnavailableException, ThrottlingException,
} from '@aws-sdk/client-cloudwatch-logs';
import { CloudWatchLogsSimulator } from '../../../sandbox/aws/cloudwatch-logs';
import type { CallerIdentity } from '../../../sandbox/aws/function-url';
import { IamAuthorizer } from '../../../sandbox/iam/authorizer';
import { rolesWithPolicies, serviceAuthorizer } from '../../../sandbox/iam/services';

const ACCOUNT = '123456789012';
const runner: CallerIdentity = {
  accountId: ACCOUNT, roleName: 'RunnerRole', roleId: 'AROARUNNERROLE000001', sessionName: 'i-0123456789abcdef0', secretAccessKey: 'runner-secret',
};
const other: CallerIdentity = { ...runner, roleName: 'Other', roleId: 'AROAOTHERROLE0000001', secretAccessKey: 'other-secret' };
const keys: Record<string, CallerIdentity> = { ASIARUNNER: runner, ASIAOTHER: other };

const sim = new CloudWatchLogsSimulator({
  region: 'eu-west-1',
  accountId: ACCOUNT,
  logGroups: ['/runners'],
  identityFor: (key) => keys[key],
  // The runner role's policy as the construct writes it: its own log group, nothing else.
  authorize: serviceAuthorizer('logs', {
    authorizer: () => iam,
    context: { region: 'eu-west-1', accountId: ACCOUNT },
    identityFor: (key) => keys[key],
  }),
});
const iam = new IamAuthorizer({
  accountId: ACCOUNT,
  roles: rolesWithPolicies({
    RunnerRole: [{ Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: `arn:aws:logs:eu-west-1:${ACCOUNT}:log-group:/runners:*` }],
    Other: [],
  }),
});
const clientFor = (key: string) => new CloudWatchLogsClient({
  endpoint: sim.url, region: 'eu-west-1', maxAttempts: 1, credentials: { accessKeyId: key, secretAccessKey: keys[key].secretAccessKey },
});
let logs: CloudWatchLogsClient;

beforeAll(async () => {
  await sim.start();
  logs = clientFor('ASIARUNNER');
});
afterAll(async () => {
  logs.destroy();
  await sim.stop();
});

test('a stream is created once; events put to it are stored in order', async () => {
  const now = Date.now();
  await logs.send(new CreateLogStreamCommand({ logGroupName: '/runners', logStreamName: 'i-1' }));
  const put = await logs.send(new PutLogEventsCommand({
    logGroupName: '/runners', logStreamName: 'i-1', logEvents: [{ timestamp: now - 10, message: 'first' }, { timestamp: now, message: 'second' }],
  }));

  expect(put.rejectedLogEventsInfo).toBeUndefined();
  expect(sim.logStreams('/runners').get('i-1')).toEqual([{ timestamp: now - 10, message: 'first' }, { timestamp: now, message: 'second' }]);
  await expect(logs.send(new CreateLogStreamCommand({ logGroupName: '/runners', logStreamName: 'i-1' }))).rejects.toBeInstanceOf(ResourceAlreadyExistsException);
});

test('the SDK reads the service\'s refusals as their own error classes', async () => {
  await logs.send(new CreateLogStreamCommand({ logGroupName: '/runners', logStreamName: 'i-2' }));
  const now = Date.now();

  await expect(logs.send(new PutLogEventsCommand({
    logGroupName: '/runners', logStreamName: 'i-2', logEvents: [{ timestamp: now, message: 'b' }, { timestamp: now - 1000, message: 'a' }],
  }))).rejects.toThrow(InvalidParameterException);
  await expect(logs.send(new PutLogEventsCommand({ logGroupName: '/runners', logStreamName: 'nope', logEvents: [{ timestamp: now, message: 'x' }] })))
    .rejects.toThrow(ResourceNotFoundException);
  await expect(logs.send(new CreateLogStreamCommand({ logGroupName: '/elsewhere', logStreamName: 'i-2' }))).rejects.toThrow(/not authorized to perform: logs:CreateLogStream/);
  expect(sim.logStreams('/runners').get('i-2')).toEqual([]);
});

test('events older than 14 days or more than 2 hours ahead are rejected by index, the rest stored', async () => {
  await logs.send(new CreateLogStreamCommand({ logGroupName: '/runners', logStreamName: 'i-3' }));
  const now = Date.now();

  const put = await logs.send(new PutLogEventsCommand({
    logGroupName: '/runners',
    logStreamName: 'i-3',
    logEvents: [{ timestamp: now - 14 * 86_400_000 - 60_000, message: 'old' }, { timestamp: now - 14 * 86_400_000 + 60_000, message: 'kept' }],
  }));

  expect(put.rejectedLogEventsInfo).toEqual({ tooOldLogEventEndIndex: 1 });
  expect(sim.logStreams('/runners').get('i-3')!.map((e) => e.message)).toEqual(['kept']);
});

test('a role the policy does not name is refused, and a wrong signature never gets that far', async () => {
  const intruder = clientFor('ASIAOTHER');
  const forger = new CloudWatchLogsClient({ endpoint: sim.url, region: 'eu-west-1', maxAttempts: 1, credentials: { accessKeyId: 'ASIARUNNER', secretAccessKey: 'guess' } });
  try {
    await expect(intruder.send(new CreateLogStreamCommand({ logGroupName: '/runners', logStreamName: 'i-4' }))).rejects.toThrow(/assumed-role\/Other\/.*not authorized/);
    await expect(forger.send(new CreateLogStreamCommand({ logGroupName: '/runners', logStreamName: 'i-4' }))).rejects.toMatchObject({ name: 'InvalidSignatureException' });
    expect(sim.logStreams('/runners').has('i-4')).toBe(false);
  } finally {
    intruder.destroy();
    forger.destroy();
  }
});

test('a call refused as throttled or failed is refused once, as the service answers it, and the next one is served', async () => {
  sim.refuseNext('CreateLogStream', 400, 'ThrottlingException');
  sim.refuseNext('PutLogEvents', 500, 'ServiceUnavailableException');

  await expect(logs.send(new CreateLogStreamCommand({ logGroupName: '/runners', logStreamName: 'i-5' }))).rejects.toBeInstanceOf(ThrottlingException);
  expect(sim.logStreams('/runners').has('i-5')).toBe(false);
  await logs.send(new CreateLogStreamCommand({ logGroupName: '/runners', logStreamName: 'i-5' }));
  const event = { timestamp: Date.now(), message: 'once' };
  await expect(logs.send(new PutLogEventsCommand({ logGroupName: '/runners', logStreamName: 'i-5', logEvents: [event] })))
    .rejects.toBeInstanceOf(ServiceUnavailableException);
  await logs.send(new PutLogEventsCommand({ logGroupName: '/runners', logStreamName: 'i-5', logEvents: [event] }));

  expect(sim.logStreams('/runners').get('i-5')).toEqual([event]);
});
