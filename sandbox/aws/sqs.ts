// The SQS stand-in: the JSON 1.0 protocol (`X-Amz-Target: AmazonSQS.<Op>`) that
// @aws-sdk/client-sqs speaks, over in-memory standard and FIFO queues with redrive (sqs-queue.ts),
// plus event source mappings that invoke a handler as Lambda does (sqs-event-source.ts). It
// serves what the functions call (SendMessage, ChangeMessageVisibility) and what a consumer needs
// to look at a queue (GetQueueUrl, ReceiveMessage, DeleteMessage); any other operation, and
// MessageAttributes, are refused as not simulated. Queue URLs are `http://127.0.0.1:PORT/<account>/<name>`.
import { IncomingMessage, ServerResponse } from 'http';
import { AwsIds, AwsSimulatorOptions, simulatorSettings } from './ids';
import { SqsEventSourceMapping, SqsEventSourceOptions } from './sqs-event-source';
import { MAX_VISIBILITY_SECONDS, SqsApiError, sqsErrors, SqsQueue, systemAttributes } from './sqs-queue';
import { LoopbackService, readBody, tally } from '../common/http';
import { SeededRandom } from '../common/random';
import { SimClock } from '../common/time';

export { SqsQueue } from './sqs-queue';

export interface SqsSimulatorOptions extends AwsSimulatorOptions {
  /**
   * IAM: decides each call before it runs, from the operation, its input and the SigV4
   * Authorization header; a message refuses it with AccessDenied. @default every call allowed
   */
  readonly authorize?: (operation: string, input: Record<string, unknown>, authorization: string | undefined) => Promise<string | undefined>;
}

export interface CreateQueueOptions {
  /** @default 30 */
  readonly visibilityTimeoutSeconds?: number;
  /** 60 s to 14 days. @default 345600 (4 days) */
  readonly messageRetentionSeconds?: number;
  /** FIFO only. @default false */
  readonly contentBasedDeduplication?: boolean;
  /** The dead-letter queue (name, URL or ARN of a queue created before) and maxReceiveCount (1–1000). */
  readonly deadLetterQueue?: { readonly queue: string | SqsQueue; readonly maxReceiveCount: number };
}

type Json = Record<string, unknown>;

/** The stamp on every message sent over the API: requests are not signature-checked, so the sender is not known. */
const SENDER_ID = 'AROASANDBOXCONTROLPLANE:sandbox';

export class SqsSimulator extends LoopbackService {
  readonly clock: SimClock;
  readonly region: string;
  readonly accountId: string;
  private readonly ids: AwsIds;
  private readonly requestIds: AwsIds;
  private readonly queues = new Map<string, SqsQueue>();
  private readonly mappings: SqsEventSourceMapping[] = [];
  private readonly forcedFaults: { operation?: string; code: 'InternalError' | 'RequestThrottled'; remaining: number }[] = [];
  private readonly calls = { total: 0, byAction: {} as Record<string, number>, errorsByCode: {} as Record<string, number> };
  private readonly operations: Readonly<Record<string, (input: Json) => Json | Promise<Json>>>;

  constructor(private readonly options: SqsSimulatorOptions = {}) {
    super();
    let random: SeededRandom;
    ({ clock: this.clock, region: this.region, accountId: this.accountId, random } = simulatorSettings(options));
    this.ids = new AwsIds(random.fork('sqs-ids'));
    this.requestIds = new AwsIds(random.fork('sqs-request-ids'));
    this.operations = this.wireOperations();
  }

  /** Stops every event source mapping and closes the server (a long poll ends within a simulated second). */
  async stop(): Promise<void> {
    await Promise.all(this.mappings.map((m) => m.stop()));
    await super.stop();
  }

  /** Creates a queue as CloudFormation would from AWS::SQS::Queue; a bad setting throws, naming it. */
  createQueue(name: string, options: CreateQueueOptions = {}): SqsQueue {
    // https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_CreateQueue.html
    if (!/^[A-Za-z0-9_-]{1,80}$/.test(name.replace(/\.fifo$/, '')) || name.length > 80) {
      throw new Error(`queue name "${name}" is not valid: use 1-80 letters, digits, hyphens and underscores (a FIFO queue ends in .fifo)`);
    }
    if (this.queues.has(name)) throw new Error(`queue "${name}" exists already`);
    const fifo = name.endsWith('.fifo');
    if (options.contentBasedDeduplication && !fifo) throw new Error(`contentBasedDeduplication is for FIFO queues; "${name}" is a standard queue`);
    const dlq = options.deadLetterQueue;
    const target = dlq && (typeof dlq.queue === 'string' ? this.queue(dlq.queue) : dlq.queue);
    if (target && target.fifo !== fifo) {
      throw new Error(`the dead-letter queue of ${fifo ? 'FIFO' : 'standard'} queue "${name}" must be ${fifo ? 'FIFO' : 'standard'} too; "${target.name}" is not`);
    }
    const queue = new SqsQueue(name, `arn:aws:sqs:${this.region}:${this.accountId}:${name}`, {
      visibilityTimeoutSeconds: inRange('visibilityTimeoutSeconds', options.visibilityTimeoutSeconds ?? 30, 0, MAX_VISIBILITY_SECONDS),
      messageRetentionSeconds: inRange('messageRetentionSeconds', options.messageRetentionSeconds ?? 345_600, 60, 1_209_600),
      contentBasedDeduplication: options.contentBasedDeduplication ?? false,
      redrivePolicy: target && { deadLetterTargetArn: target.arn, maxReceiveCount: inRange('maxReceiveCount', dlq!.maxReceiveCount, 1, 1000) },
    }, { clock: this.clock, ids: this.ids, queueByArn: (arn) => [...this.queues.values()].find((q) => q.arn === arn) });
    this.queues.set(name, queue);
    return queue;
  }

  /** A queue by name, URL or ARN. */
  queue(ref: string): SqsQueue {
    const queue = this.queues.get(ref) ?? [...this.queues.values()].find((q) => q.arn === ref || (this.started && this.queueUrl(q) === ref));
    if (!queue) throw new Error(`no queue "${ref}"; created: ${[...this.queues.keys()].join(', ') || 'none'}`);
    return queue;
  }

  queueUrl(queue: SqsQueue | string): string {
    return `${this.url}/${this.accountId}/${(typeof queue === 'string' ? this.queue(queue) : queue).name}`;
  }

  /**
   * Starts polling a queue and invoking a handler with its messages, like a Lambda event source
   * mapping (enabled at once). Stopped by its own stop() or by the simulator's.
   */
  createEventSourceMapping(options: SqsEventSourceOptions): SqsEventSourceMapping {
    const queue = typeof options.queue === 'string' ? this.queue(options.queue) : options.queue;
    const mapping = new SqsEventSourceMapping(queue, options, { clock: this.clock, ids: this.ids, region: this.region, accountId: this.accountId });
    this.mappings.push(mapping);
    return mapping;
  }

  /** Fails the next `count` calls (of `operation`, e.g. 'SendMessage', or of any). */
  failNext(count: number, operation?: string, code: 'InternalError' | 'RequestThrottled' = 'InternalError'): void {
    this.forcedFaults.push({ operation, code, remaining: count });
  }

  apiCalls(): { readonly total: number; readonly byAction: Record<string, number>; readonly errorsByCode: Record<string, number> } {
    return { ...this.calls, byAction: { ...this.calls.byAction }, errorsByCode: { ...this.calls.errorsByCode } };
  }

  private wireOperations(): Record<string, (input: Json) => Json | Promise<Json>> {
    const queueOf = (input: Json) => {
      const url = requiredString(input, 'QueueUrl');
      const [account, name, ...rest] = (URL.canParse(url) ? new URL(url).pathname : '').split('/').filter((p) => p !== '');
      const queue = account === this.accountId && rest.length === 0 ? this.queues.get(name) : undefined;
      if (!queue) throw sqsErrors.queueDoesNotExist();
      return queue;
    };
    const receiptOf = (input: Json) => requiredString(input, 'ReceiptHandle');
    return {
      SendMessage: (input) => {
        const queue = queueOf(input);
        if (input.MessageAttributes !== undefined || input.MessageSystemAttributes !== undefined) throw sqsErrors.notSimulated('message attributes');
        const sent = queue.send({
          body: requiredString(input, 'MessageBody'),
          delaySeconds: optionalInteger(input, 'DelaySeconds'),
          messageGroupId: optionalString(input, 'MessageGroupId'),
          messageDeduplicationId: optionalString(input, 'MessageDeduplicationId'),
          senderId: SENDER_ID,
        });
        return { MessageId: sent.messageId, MD5OfMessageBody: sent.md5OfMessageBody, SequenceNumber: sent.sequenceNumber };
      },
      ReceiveMessage: async (input) => {
        // https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_ReceiveMessage.html
        const queue = queueOf(input);
        const max = inRange('MaxNumberOfMessages', optionalInteger(input, 'MaxNumberOfMessages') ?? 1, 1, 10, sqsErrors.outOfRange);
        const wait = inRange('WaitTimeSeconds', optionalInteger(input, 'WaitTimeSeconds') ?? 0, 0, 20, sqsErrors.outOfRange);
        const visibility = optionalInteger(input, 'VisibilityTimeout');
        if (visibility !== undefined) inRange('VisibilityTimeout', visibility, 0, MAX_VISIBILITY_SECONDS, sqsErrors.outOfRange);
        const names = [input.AttributeNames, input.MessageSystemAttributeNames].flat().filter((n): n is string => typeof n === 'string');
        // A long poll returns as soon as a message is receivable; it looks again every simulated second.
        const deadline = this.clock.now() + wait * 1000;
        let received = queue.receive({ maxMessages: max, visibilityTimeoutSeconds: visibility });
        while (received.length === 0 && this.started && this.clock.now() < deadline) {
          await this.clock.sleep(Math.min(1000, deadline - this.clock.now()));
          received = queue.receive({ maxMessages: max, visibilityTimeoutSeconds: visibility });
        }
        if (received.length === 0) return {};
        return {
          Messages: received.map(({ message, receiptHandle }) => {
            const all = systemAttributes(message);
            const attributes = Object.fromEntries(Object.entries(all).filter(([name]) => names.includes('All') || names.includes(name)));
            return {
              MessageId: message.messageId,
              ReceiptHandle: receiptHandle,
              MD5OfBody: message.md5OfBody,
              Body: message.body,
              Attributes: Object.keys(attributes).length > 0 ? attributes : undefined,
            };
          }),
        };
      },
      DeleteMessage: (input) => {
        queueOf(input).delete(receiptOf(input));
        return {};
      },
      ChangeMessageVisibility: (input) => {
        const timeout = optionalInteger(input, 'VisibilityTimeout');
        if (timeout === undefined) throw sqsErrors.missingParameter('VisibilityTimeout');
        queueOf(input).changeVisibility(receiptOf(input), timeout);
        return {};
      },
      GetQueueUrl: (input) => {
        const name = requiredString(input, 'QueueName');
        const owner = optionalString(input, 'QueueOwnerAWSAccountId') ?? this.accountId;
        const queue = owner === this.accountId ? this.queues.get(name) : undefined;
        if (!queue) throw sqsErrors.queueDoesNotExist();
        return { QueueUrl: this.queueUrl(queue) };
      },
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
      if (!target.startsWith('AmazonSQS.') || !Object.hasOwn(this.operations, operation)) throw sqsErrors.notSimulated(target || '(no X-Amz-Target)');
      this.calls.total++;
      tally(this.calls.byAction, operation);
      const forced = this.forcedFaults.find((f) => f.remaining > 0 && (f.operation === undefined || f.operation === operation));
      if (forced) {
        forced.remaining--;
        throw forced.code === 'RequestThrottled' ? sqsErrors.throttled() : sqsErrors.internal();
      }
      let input: unknown;
      try {
        input = body === '' ? {} : JSON.parse(body);
      } catch {
        throw sqsErrors.invalidParameterValue('The request body is not valid JSON.');
      }
      if (typeof input !== 'object' || input === null || Array.isArray(input)) throw sqsErrors.invalidParameterValue('The request body must be a JSON object.');
      const denied = await this.options.authorize?.(operation, input as Json, req.headers.authorization);
      if (denied !== undefined) throw sqsErrors.accessDenied(denied);
      send(200, await this.operations[operation](input as Json));
    } catch (err) {
      const error = err instanceof SqsApiError ? err : sqsErrors.internal();
      if (!(err instanceof SqsApiError)) console.error('SQS simulator: internal error', err);
      tally(this.calls.errorsByCode, error.code);
      send(error.status, { __type: `com.amazonaws.sqs#${error.code}`, message: error.message },
        { 'x-amzn-query-error': `${error.queryCode};${error.status >= 500 ? 'Receiver' : 'Sender'}` });
    }
  }
}

/** `value` when it is an integer in [min, max]; otherwise the error `refuse` makes (a plain Error for settings). */
type Refusal = (name: string, value: number, min: number, max: number) => Error;

function inRange(name: string, value: number, min: number, max: number, refuse?: Refusal): number {
  if (Number.isInteger(value) && value >= min && value <= max) return value;
  throw refuse?.(name, value, min, max) ?? new Error(`${name} must be an integer from ${min} to ${max}, got ${value}`);
}

function requiredString(input: Json, name: string): string {
  const value = optionalString(input, name);
  if (value === undefined || value === '') throw sqsErrors.missingParameter(name);
  return value;
}

function optionalString(input: Json, name: string): string | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw sqsErrors.invalidValue(name, JSON.stringify(value), 'must be a string.');
  return value;
}

function optionalInteger(input: Json, name: string): number | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) throw sqsErrors.invalidValue(name, JSON.stringify(value), 'must be an integer.');
  return value;
}
