// The SQS stand-in: the JSON 1.0 protocol (`X-Amz-Target: AmazonSQS.<Op>`) of @aws-sdk/client-sqs over in-memory FIFO
// queues (sqs-queue.ts), plus event source mappings (sqs-event-source.ts). It serves what the functions call (SendMessage,
// ChangeMessageVisibility), ReceiveMessage, and GetQueueAttributes (the status command); any other operation or parameter is refused as not simulated.
import { IncomingMessage, ServerResponse } from 'http';
import { AwsContext, awsContext, AwsIds, AwsSimulatorOptions } from './ids';
import type { CallAuthorizer } from './sigv4-verifier';
import { SqsEventSourceMapping, SqsEventSourceOptions } from './sqs-event-source';
import { inRange, MAX_VISIBILITY_SECONDS, NS, SqsApiError, SqsQueue, systemAttributes } from './sqs-queue';
import { LoopbackService, readBody, tally } from '../common/http';

export { SqsQueue } from './sqs-queue';

/** `authorize`: IAM, a message refuses the call with AccessDenied; by default every call is allowed. */
export type SqsSimulatorOptions = AwsSimulatorOptions & { readonly authorize?: CallAuthorizer };

/** `visibilityTimeoutSeconds` 30 by default; the dead-letter queue by name or as created before, maxReceiveCount 1–1000. */
/**
 * `standard`: a standard queue the sandbox only lists and measures (GetQueueAttributes): the event rules' dead-letter queue,
 * which nothing in the sandbox sends to.
 */
type CreateQueueOptions = {
  visibilityTimeoutSeconds?: number;
  deadLetterQueue?: { queue: string | SqsQueue; maxReceiveCount: number };
  standard?: boolean;
};

type Json = Record<string, unknown>;

/** The stamp on every message sent over the API: requests are not signature-checked, so the sender is not known. */
const SENDER_ID = 'AROASANDBOXCONTROLPLANE:sandbox';
/** What the sandbox does not model (an operation, a parameter): refused, never ignored. */
const notSimulated = (what: string) =>
  new SqsApiError('UnsupportedOperation', `The sandbox SQS stand-in does not implement ${what}.`, 400, `${NS}UnsupportedOperation`);
/** The parameters each simulated operation takes; the SDK's serializer guarantees their types. */
const PARAMETERS: Record<string, readonly string[]> = {
  SendMessage: ['QueueUrl', 'MessageBody', 'MessageGroupId', 'MessageDeduplicationId'],
  ReceiveMessage: ['QueueUrl', 'MaxNumberOfMessages', 'AttributeNames', 'MessageSystemAttributeNames'],
  ChangeMessageVisibility: ['QueueUrl', 'ReceiptHandle', 'VisibilityTimeout'],
  GetQueueAttributes: ['QueueUrl', 'AttributeNames'],
};

export class SqsSimulator extends LoopbackService {
  private readonly aws: AwsContext;
  private readonly requestIds: AwsIds;
  private readonly queues = new Map<string, SqsQueue>();
  private readonly mappings: SqsEventSourceMapping[] = [];
  private readonly calls = { total: 0, byAction: {} as Record<string, number>, errorsByCode: {} as Record<string, number> };

  constructor(private readonly options: SqsSimulatorOptions = {}) {
    super();
    this.aws = awsContext(options, 'sqs-ids');
    this.requestIds = awsContext(options, 'sqs-request-ids').ids;
  }

  /** Stops every event source mapping and closes the server. */
  async stop(): Promise<void> {
    await Promise.all(this.mappings.map((m) => m.stop()));
    await super.stop();
  }

  /** Creates a FIFO queue as CloudFormation would from AWS::SQS::Queue (the template's are all FIFO); a bad setting throws, naming it. */
  createQueue(name: string, options: CreateQueueOptions = {}): SqsQueue {
    if (!name.endsWith('.fifo') && !options.standard) throw new Error(`queue "${name}": the sandbox simulates FIFO queues only (a name ending in .fifo)`);
    const dlq = options.deadLetterQueue;
    const queue = new SqsQueue(name, `arn:aws:sqs:${this.aws.region}:${this.aws.accountId}:${name}`, {
      visibilityTimeoutSeconds: inRange('visibilityTimeoutSeconds', options.visibilityTimeoutSeconds ?? 30, 0, MAX_VISIBILITY_SECONDS),
      deadLetterQueue: dlq && { queue: this.queue(dlq.queue), maxReceiveCount: inRange('maxReceiveCount', dlq.maxReceiveCount, 1, 1000) },
    }, this.aws);
    this.queues.set(name, queue);
    return queue;
  }

  /** A queue by name (a queue is its own answer). */
  queue(queue: string | SqsQueue): SqsQueue {
    const found = typeof queue === 'string' ? this.queues.get(queue) : queue;
    if (!found) throw new Error(`no queue "${queue as string}"; created: ${[...this.queues.keys()].join(', ') || 'none'}`);
    return found;
  }

  /** `http://127.0.0.1:PORT/<account>/<name>` */
  queueUrl(queue: SqsQueue | string): string {
    return `${this.url}/${this.aws.accountId}/${this.queue(queue).name}`;
  }

  /** Starts polling a queue and invoking a handler with its messages, like a Lambda event source mapping (enabled at once). */
  createEventSourceMapping(options: SqsEventSourceOptions): SqsEventSourceMapping {
    const mapping = new SqsEventSourceMapping(this.queue(options.queue), options, this.aws);
    this.mappings.push(mapping);
    return mapping;
  }

  apiCalls() {
    return { ...this.calls, byAction: { ...this.calls.byAction }, errorsByCode: { ...this.calls.errorsByCode } };
  }

  private run(operation: string, input: Json): Json {
    const required = <T>(parameter: string) => {
      if (input[parameter] === undefined || input[parameter] === '') {
        throw new SqsApiError('MissingParameter', `The request must contain the parameter ${parameter}.`);
      }
      return input[parameter] as T;
    };
    const url = required<string>('QueueUrl');
    const [account, name, ...rest] = (URL.canParse(url) ? new URL(url).pathname : '').split('/').filter((p) => p !== '');
    const queue = account === this.aws.accountId && rest.length === 0 ? this.queues.get(name) : undefined;
    if (!queue) throw new SqsApiError('QueueDoesNotExist', 'The specified queue does not exist.', 400, `${NS}NonExistentQueue`);
    if (!queue.name.endsWith('.fifo') && operation !== 'GetQueueAttributes') throw notSimulated(`${operation} on a standard queue`);
    if (operation === 'SendMessage') {
      const sent = queue.send({
        body: required('MessageBody'),
        messageGroupId: required('MessageGroupId'),
        messageDeduplicationId: input.MessageDeduplicationId as string | undefined,
        senderId: SENDER_ID,
      });
      return { MessageId: sent.messageId, MD5OfMessageBody: sent.md5OfMessageBody, SequenceNumber: sent.sequenceNumber };
    }
    // https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_GetQueueAttributes.html: counts only.
    if (operation === 'GetQueueAttributes') {
      const now = this.aws.clock.now();
      const held = queue.peek();
      const counts: Record<string, string> = {
        ApproximateNumberOfMessages: String(held.filter((m) => m.visibleAt <= now).length),
        ApproximateNumberOfMessagesNotVisible: String(held.filter((m) => m.visibleAt > now).length),
      };
      const names = (input.AttributeNames ?? []) as string[];
      const unknown = names.find((n) => n !== 'All' && !(n in counts));
      if (unknown) throw notSimulated(`the queue attribute ${unknown}`);
      return { Attributes: Object.fromEntries(Object.entries(counts).filter(([n]) => names.includes('All') || names.includes(n))) };
    }
    if (operation === 'ChangeMessageVisibility') {
      queue.changeVisibility(required('ReceiptHandle'), required('VisibilityTimeout'));
      return {};
    }
    // ReceiveMessage: https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_ReceiveMessage.html
    const names = [input.AttributeNames, input.MessageSystemAttributeNames].flat();
    const received = queue.receive({ maxMessages: inRange('MaxNumberOfMessages', (input.MaxNumberOfMessages ?? 1) as number, 1, 10) });
    if (received.length === 0) return {};
    return {
      Messages: received.map(({ message, receiptHandle }) => {
        const attributes = Object.entries(systemAttributes(message)).filter(([key]) => names.includes('All') || names.includes(key));
        return {
          MessageId: message.messageId,
          ReceiptHandle: receiptHandle,
          MD5OfBody: message.md5OfBody,
          Body: message.body,
          Attributes: attributes.length > 0 ? Object.fromEntries(attributes) : undefined,
        };
      }),
    };
  }

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': this.requestIds.uuid(), ...headers });
      res.end(JSON.stringify(body));
    };
    const target = String(req.headers['x-amz-target'] ?? '');
    const operation = target.replace(/^AmazonSQS\./, '');
    try {
      const body = (await readBody(req, 2 * 1024 * 1024)).toString('utf8');
      if (!target.startsWith('AmazonSQS.') || !Object.hasOwn(PARAMETERS, operation)) throw notSimulated(target || '(no X-Amz-Target)');
      this.calls.total++;
      tally(this.calls.byAction, operation);
      // The SDK's serializer always sends JSON.
      const input = (body === '' ? {} : JSON.parse(body)) as Json;
      const unknown = Object.keys(input).find((k) => !PARAMETERS[operation].includes(k));
      if (unknown) throw notSimulated(`the ${operation} parameter ${unknown}`);
      const denied = await this.options.authorize?.(operation, input, req.headers.authorization);
      // IAM refused the call: HTTP 403 (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/CommonErrors.html).
      if (denied !== undefined) throw new SqsApiError('AccessDenied', denied, 403);
      send(200, this.run(operation, input));
    } catch (err) {
      const error = err instanceof SqsApiError ? err : new SqsApiError('InternalError', 'We encountered an internal error. Please try again.', 500);
      if (!(err instanceof SqsApiError)) console.error('SQS simulator: internal error', err);
      tally(this.calls.errorsByCode, error.code);
      send(error.status, { __type: `com.amazonaws.sqs#${error.code}`, message: error.message },
        { 'x-amzn-query-error': `${error.queryCode};${error.status >= 500 ? 'Receiver' : 'Sender'}` });
    }
  }
}
