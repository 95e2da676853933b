import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { Harness, POOL, provisionerRole, startHarness } from './harness';
import { buildPoolMessageFor } from '../../../lambda/core/pool-message';
import { createProvisionerHandler, retryDelaySeconds } from '../../../lambda/provisioner/sqs-handler';
import { DynamoTestEngine, startDynalite } from '../support/dynalite';

let engine: DynamoTestEngine;
let h: Harness;

// The provisioner's role, as the construct grants it: its DynamoDB and EC2 calls are decided by IAM.
beforeAll(async () => { engine = await startDynalite({ asRole: provisionerRole() }); });
afterAll(async () => { await engine.stop(); });
afterEach(async () => { await h?.stop(); });

const OTHER = { poolId: 'other-org#linux-x64', configName: 'linux-x64', scope: { kind: 'org' as const, org: 'other-org' } };

function record(id: string, body: string, groupId: string, receiveCount = 1): SQSRecord {
  return {
    messageId: id,
    receiptHandle: `rh-${id}`,
    body,
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:pools.fifo',
    awsRegion: 'us-east-1',
    attributes: { ApproximateReceiveCount: String(receiveCount), SentTimestamp: '0', SenderId: 'x', ApproximateFirstReceiveTimestamp: '0', MessageGroupId: groupId, MessageDeduplicationId: id, SequenceNumber: id },
    messageAttributes: {},
  } as SQSRecord;
}

describe('provisioner queue handler', () => {
  test('several messages of one pool in a batch reconcile it once', async () => {
    h = await startHarness(engine);
    await h.queueJob(1);
    const body = JSON.stringify(buildPoolMessageFor(POOL, 'workflow_job.queued', 'g1'));
    const handler = createProvisionerHandler(() => h.deps, async () => undefined);

    const response = await handler({ Records: [record('1', body, POOL.poolId), record('2', body, POOL.poolId)] } as SQSEvent);

    expect(response.batchItemFailures).toEqual([]);
    expect(h.sim.apiCalls().byAction.CreateFleet).toBe(1);
  });

  test('a pool that cannot be served fails alone, with a short retry delay; other pools go on', async () => {
    h = await startHarness(engine, { ec2: { capacity: { rules: [{ market: 'spot', available: 0 }] } } });
    await h.queueJob(1);
    await h.queueJob(2, OTHER);
    h.configs.configs = [{ ...h.configs.configs[0], spot: 'SPOT_ONLY' }];
    const retries: Array<{ id: string; delay: number }> = [];
    const handler = createProvisionerHandler(() => h.deps, async (r, delay) => { retries.push({ id: r.messageId, delay }); });

    const response = await handler({
      Records: [
        record('1', JSON.stringify(buildPoolMessageFor(POOL, 'workflow_job.queued', 'g1')), POOL.poolId, 3),
        record('2', JSON.stringify(buildPoolMessageFor(POOL, 'workflow_job.queued', 'g2')), POOL.poolId),
        record('3', JSON.stringify(buildPoolMessageFor(OTHER, 'workflow_job.queued', 'g3')), OTHER.poolId),
      ],
    } as SQSEvent);

    // Both pools lack spot capacity; each fails, and the failed pool's later message stays behind it.
    expect(response.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(['1', '2', '3']);
    expect(retries).toEqual([{ id: '1', delay: 20 }, { id: '3', delay: 5 }]);
  });

  test('a malformed message is dropped instead of blocking its pool', async () => {
    h = await startHarness(engine);
    const handler = createProvisionerHandler(() => h.deps, async () => undefined);
    const response = await handler({ Records: [record('1', '{"version":1}', POOL.poolId)] } as SQSEvent);
    expect(response.batchItemFailures).toEqual([]);
  });

  test('retry delays double from 5 s and stop at 60 s', () => {
    expect([1, 2, 3, 4, 5, 9].map(retryDelaySeconds)).toEqual([5, 10, 20, 40, 60, 60]);
  });
});
