// The FIFO id limits the provisioner's queue relies on, as SQS enforces them: MessageGroupId and
// MessageDeduplicationId are 1-128 characters of letters, digits and punctuation (SendMessage API
// reference), refused with InvalidParameterValue and SQS's own wording (quoted from AWS in
// serverless-next.js #1616 and AutoSpotting #470).
import { SendMessageCommand, SQSClient, SQSServiceException } from '@aws-sdk/client-sqs';
import { errorOf as errorOfCall } from './helpers';
import { SqsSimulator } from '../../../sandbox/aws/sqs';
import { ScaledClock } from '../../../sandbox/common/time';

const sim = new SqsSimulator({ clock: new ScaledClock(0.001), seed: 5 });
let sqs: SQSClient;

beforeAll(async () => {
  await sim.start();
  sqs = new SQSClient({ endpoint: sim.url, region: 'us-east-1', credentials: { accessKeyId: 'AKIDSANDBOX', secretAccessKey: 'sandbox' }, maxAttempts: 1 });
  sim.createQueue('pools.fifo');
});
afterAll(async () => {
  sqs.destroy();
  await sim.stop();
});

const errorOf = (promise: Promise<unknown>) => errorOfCall<SQSServiceException>(promise);

// A pool id of a long repository: owner/repo#config, 173 characters at most (issue 11, defect 8).
const longPoolId = `${'o'.repeat(39)}/${'r'.repeat(100)}#${'c'.repeat(32)}`;

describe('SQS FIFO id limits through @aws-sdk/client-sqs', () => {
  test.each(['MessageGroupId', 'MessageDeduplicationId'] as const)('%s of 128 characters, punctuation included, is accepted', async (member) => {
    const id = 'octo/app#linux-x64!"$%&\'()*+,-.:;<=>?@[\\]^_`{|}~'.padEnd(128, 'x');
    const input = { MessageGroupId: 'g', MessageDeduplicationId: 'd', [member]: id };

    const sent = await sqs.send(new SendMessageCommand({ QueueUrl: sim.queueUrl('pools.fifo'), MessageBody: 'pool', ...input }));

    expect(sent.MessageId).toBeDefined();
  });

  test.each(['MessageGroupId', 'MessageDeduplicationId'] as const)('%s of 129 characters (a long pool id) is refused with InvalidParameterValue', async (member) => {
    const heldBefore = sim.queue('pools.fifo').peek().length;
    const id = longPoolId.slice(0, 129);
    const input = { MessageGroupId: 'g', MessageDeduplicationId: 'd', [member]: id };

    const error = await errorOf(sqs.send(new SendMessageCommand({ QueueUrl: sim.queueUrl('pools.fifo'), MessageBody: 'pool', ...input })));

    expect(error.name).toBe('InvalidParameterValue');
    expect(error.message).toBe(`Value ${id} for parameter ${member} is invalid. Reason: ${member} can only include alphanumeric and punctuation characters. 1 to 128 in length.`);
    expect(error.$metadata.httpStatusCode).toBe(400);
    expect(sim.queue('pools.fifo').peek()).toHaveLength(heldBefore);
  });

});
