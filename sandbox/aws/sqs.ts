// The SQS stand-in: the JSON 1.0 protocol (`X-Amz-Target: AmazonSQS.<Op>`) that
// @aws-sdk/client-sqs speaks, over in-memory standard and FIFO queues with redrive, plus event
// source mappings that invoke a handler with the SQS event as Lambda builds it (sqs-event-source.ts).
// Queue URLs are `http://127.0.0.1:PORT/<account>/<name>`; requests are not signature-checked.
import { IncomingMessage, ServerResponse } from 'http';
import { AwsIds } from './ids';
import { SqsApiError, sqsErrors } from './sqs-errors';
import { SqsEventSourceMapping, SqsEventSourceOptions } from './sqs-event-source';
import { sqsOperations } from './sqs-operations';
import { QueueCounts, SqsQueue } from './sqs-queue';
import { DEFAULT_QUEUE_SETTINGS, QueueSettings, ReceivedMessage } from './sqs-types';
import { listenOnLoopback, LoopbackServer, readBody } from '../common/http';
import { SeededRandom } from '../common/random';
import { ScaledClock, SimClock } from '../common/time';

export { SqsQueue } from './sqs-queue';
export type { QueueCounts } from './sqs-queue';
export { SqsApiError } from './sqs-errors';

export interface SqsSimulatorOptions {
  /** @default a real-time ScaledClock */
  readonly clock?: SimClock;
  /** @default 1 */
  readonly seed?: number;
  /** @default 'us-east-1' */
  readonly region?: string;
  /** @default '123456789012' */
  readonly accountId?: string;
  /**
   * The SenderId stamped on every message sent over the API (requests are not signature-checked,
   * so the sender is not known). @default 'AROASANDBOXCONTROLPLANE:sandbox'
   */
  readonly senderId?: string;
  /**
   * IAM: decides each call before it runs, from the operation, its input and the SigV4
   * Authorization header; a message refuses it with AccessDeniedException. @default every call allowed
   */
  readonly authorize?: (operation: string, input: Record<string, unknown>, authorization: string | undefined) => Promise<string | undefined>;
  /** Probability that an API call fails with InternalError (HTTP 500), seeded. @default 0 */
  readonly faultRate?: number;
}

export interface CreateQueueOptions {
  /** @default 30 */
  readonly visibilityTimeoutSeconds?: number;
  /** @default 345600 (4 days) */
  readonly messageRetentionSeconds?: number;
  /** @default 0 */
  readonly delaySeconds?: number;
  /** @default 0 */
  readonly receiveMessageWaitTimeSeconds?: number;
  /** @default 1048576 */
  readonly maximumMessageSize?: number;
  /** FIFO only. @default false */
  readonly contentBasedDeduplication?: boolean;
  /** The dead-letter queue (name, URL or ARN of a queue created before) and maxReceiveCount (1–1000). */
  readonly deadLetterQueue?: { readonly queue: string | SqsQueue; readonly maxReceiveCount: number };
}

export interface SqsCallCounts {
  readonly total: number;
  readonly byAction: Readonly<Record<string, number>>;
  readonly errorsByCode: Readonly<Record<string, number>>;
}

const QUEUE_NAME = /^[A-Za-z0-9_-]{1,80}$/;

export class SqsSimulator {
  readonly clock: SimClock;
  readonly region: string;
  readonly accountId: string;
  readonly ids: AwsIds;
  private readonly requestIds: AwsIds;
  private readonly queues = new Map<string, SqsQueue>();
  private readonly operations: ReturnType<typeof sqsOperations>;
  private readonly mappings: SqsEventSourceMapping[] = [];
  private readonly dice: SeededRandom;
  private readonly waiters = new Set<() => void>();
  private readonly forcedFaults: { operation?: string; code: 'InternalError' | 'RequestThrottled'; remaining: number }[] = [];
  private faultRate: number;
  private server?: LoopbackServer;
  private calls = { total: 0, byAction: {} as Record<string, number>, errorsByCode: {} as Record<string, number> };

  private readonly authorize?: SqsSimulatorOptions['authorize'];

  constructor(options: SqsSimulatorOptions = {}) {
    this.clock = options.clock ?? new ScaledClock(1);
    this.region = options.region ?? 'us-east-1';
    this.accountId = options.accountId ?? '123456789012';
    const random = new SeededRandom(options.seed ?? 1);
    this.ids = new AwsIds(random.fork('sqs-ids'));
    this.requestIds = new AwsIds(random.fork('sqs-request-ids'));
    this.dice = random.fork('sqs-faults');
    this.faultRate = options.faultRate ?? 0;
    this.authorize = options.authorize;
    this.operations = sqsOperations({
      queueByUrl: (url) => this.queueByUrl(url),
      queueUrl: (queue) => this.queueUrl(queue),
      queueByName: (name, account) => (account === undefined || account === this.accountId ? this.queues.get(name) : undefined),
      queues: () => [...this.queues.values()],
      senderId: options.senderId ?? 'AROASANDBOXCONTROLPLANE:sandbox',
      receive: (queue, max, visibility, wait) => this.receiveWaiting(queue, max, visibility, wait),
    });
  }

  async start(): Promise<void> {
    this.server = await listenOnLoopback((req, res) => this.handle(req, res));
  }

  /** Stops every event source mapping, ends long polls and closes the server. */
  async stop(): Promise<void> {
    await Promise.all(this.mappings.map((m) => m.stop()));
    for (const wake of [...this.waiters]) wake();
    await this.server?.close();
    this.server = undefined;
  }

  /** The endpoint for AWS_ENDPOINT_URL_SQS or `new SQSClient({ endpoint })`. */
  get url(): string {
    if (!this.server) throw new Error('the SQS simulator is not started');
    return this.server.url;
  }

  createQueue(name: string, options: CreateQueueOptions = {}): SqsQueue {
    if (!QUEUE_NAME.test(name.replace(/\.fifo$/, '')) || name.length > 80) {
      throw new Error(`queue name "${name}" is not valid: use 1-80 letters, digits, hyphens and underscores (a FIFO queue ends in .fifo)`);
    }
    if (this.queues.has(name)) throw new Error(`queue "${name}" exists already`);
    const fifo = name.endsWith('.fifo');
    if (options.contentBasedDeduplication && !fifo) throw new Error(`contentBasedDeduplication is for FIFO queues; "${name}" is a standard queue`);
    const settings: QueueSettings = {
      visibilityTimeoutSeconds: inRange('visibilityTimeoutSeconds', options.visibilityTimeoutSeconds, DEFAULT_QUEUE_SETTINGS.visibilityTimeoutSeconds, 0, 43_200),
      messageRetentionSeconds: inRange('messageRetentionSeconds', options.messageRetentionSeconds, DEFAULT_QUEUE_SETTINGS.messageRetentionSeconds, 60, 1_209_600),
      delaySeconds: inRange('delaySeconds', options.delaySeconds, DEFAULT_QUEUE_SETTINGS.delaySeconds, 0, 900),
      receiveMessageWaitTimeSeconds: inRange('receiveMessageWaitTimeSeconds', options.receiveMessageWaitTimeSeconds, 0, 0, 20),
      maximumMessageSize: inRange('maximumMessageSize', options.maximumMessageSize, DEFAULT_QUEUE_SETTINGS.maximumMessageSize, 1024, 1_048_576),
      contentBasedDeduplication: options.contentBasedDeduplication ?? false,
      redrivePolicy: options.deadLetterQueue && this.redrivePolicy(name, fifo, options.deadLetterQueue),
    };
    const queue = new SqsQueue(name, `arn:aws:sqs:${this.region}:${this.accountId}:${name}`, settings, {
      clock: this.clock,
      ids: this.ids,
      queueByArn: (arn) => [...this.queues.values()].find((q) => q.arn === arn),
    });
    this.queues.set(name, queue);
    return queue;
  }

  /** A queue by name, URL or ARN. */
  queue(ref: string): SqsQueue {
    const queue = this.queues.get(ref) ?? [...this.queues.values()].find((q) => q.arn === ref || (this.server && this.queueUrl(q) === ref));
    if (!queue) throw new Error(`no queue "${ref}"; created: ${[...this.queues.keys()].join(', ') || 'none'}`);
    return queue;
  }

  queueUrl(queue: SqsQueue | string): string {
    const q = typeof queue === 'string' ? this.queue(queue) : queue;
    return `${this.url}/${this.accountId}/${q.name}`;
  }

  /**
   * Starts polling a queue and invoking a handler with its messages, like a Lambda event source
   * mapping (enabled at once). Stopped by its own stop() or by the simulator's.
   */
  createEventSourceMapping(options: SqsEventSourceOptions): SqsEventSourceMapping {
    const queue = typeof options.queue === 'string' ? this.queue(options.queue) : options.queue;
    const mapping = new SqsEventSourceMapping(queue, options, { clock: this.clock, ids: this.ids, region: this.region, accountId: this.accountId });
    this.mappings.push(mapping);
    mapping.start();
    return mapping;
  }

  /** Fails the next `count` calls (of `operation`, e.g. 'SendMessage', or of any). */
  failNext(count: number, operation?: string, code: 'InternalError' | 'RequestThrottled' = 'InternalError'): void {
    this.forcedFaults.push({ operation, code, remaining: count });
  }

  setFaultRate(rate: number): void {
    this.faultRate = rate;
  }

  apiCalls(): SqsCallCounts {
    return { ...this.calls, byAction: { ...this.calls.byAction }, errorsByCode: { ...this.calls.errorsByCode } };
  }

  /** Message counts per queue and summed, and the event source mappings' invocation counts. */
  stats(): { readonly totals: QueueCounts; readonly byQueue: Readonly<Record<string, QueueCounts>>; readonly invocations: number } {
    const totals: QueueCounts = { sent: 0, deduplicated: 0, received: 0, deleted: 0, redriven: 0, expired: 0 };
    const byQueue: Record<string, QueueCounts> = {};
    for (const queue of this.queues.values()) {
      byQueue[queue.name] = { ...queue.counts };
      for (const key of Object.keys(totals) as (keyof QueueCounts)[]) totals[key] += queue.counts[key];
    }
    return { totals, byQueue, invocations: this.mappings.reduce((sum, m) => sum + m.counts.invocations, 0) };
  }

  private redrivePolicy(name: string, fifo: boolean, dlq: NonNullable<CreateQueueOptions['deadLetterQueue']>) {
    const target = typeof dlq.queue === 'string' ? this.queue(dlq.queue) : dlq.queue;
    if (target.fifo !== fifo) {
      throw new Error(`the dead-letter queue of ${fifo ? 'FIFO' : 'standard'} queue "${name}" must be ${fifo ? 'FIFO' : 'standard'} too; "${target.name}" is not`);
    }
    if (!Number.isInteger(dlq.maxReceiveCount) || dlq.maxReceiveCount < 1 || dlq.maxReceiveCount > 1000) {
      throw new Error(`maxReceiveCount must be an integer from 1 to 1000, got ${dlq.maxReceiveCount}`);
    }
    return { deadLetterTargetArn: target.arn, maxReceiveCount: dlq.maxReceiveCount };
  }

  private queueByUrl(url: string): SqsQueue {
    let path: string;
    try {
      path = new URL(url).pathname;
    } catch {
      throw sqsErrors.invalidAddress(url);
    }
    const [account, name, ...rest] = path.split('/').filter((p) => p !== '');
    const queue = account === this.accountId && rest.length === 0 ? this.queues.get(name) : undefined;
    if (!queue) throw sqsErrors.queueDoesNotExist();
    return queue;
  }

  /** ReceiveMessage with long polling: returns once a message is receivable or `waitSeconds` pass. */
  private receiveWaiting(
    queue: SqsQueue, maxMessages: number, visibilityTimeoutSeconds: number | undefined, waitSeconds: number,
  ): Promise<ReceivedMessage[]> {
    const attempt = () => queue.receive({ maxMessages, visibilityTimeoutSeconds });
    const first = attempt();
    if (first.length > 0 || waitSeconds === 0 || !this.server) return Promise.resolve(first);
    const deadline = this.clock.now() + waitSeconds * 1000;
    return new Promise((resolve) => {
      let cancelTimer = () => {};
      let unsubscribe = () => {};
      const finish = (messages: ReceivedMessage[]) => {
        cancelTimer();
        unsubscribe();
        this.waiters.delete(wake);
        resolve(messages);
      };
      const wake = () => finish([]);
      const retry = () => {
        const got = attempt();
        if (got.length > 0 || this.clock.now() >= deadline) finish(got);
        else schedule();
      };
      const schedule = () => {
        cancelTimer();
        const next = Math.min(deadline, queue.nextVisibleAt() ?? deadline);
        cancelTimer = this.clock.after(Math.max(0, next - this.clock.now()), retry);
      };
      // A send wakes the poll; it runs after the sender's call returns.
      unsubscribe = queue.onChange(() => setImmediate(() => {
        if (this.waiters.has(wake)) retry();
      }));
      this.waiters.add(wake);
      schedule();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = this.requestIds.uuid();
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': requestId, ...headers });
      res.end(JSON.stringify(body));
    };
    const target = String(req.headers['x-amz-target'] ?? '');
    const operation = target.startsWith('AmazonSQS.') ? target.slice('AmazonSQS.'.length) : '';
    try {
      const body = (await readBody(req, 2 * 1024 * 1024)).toString('utf8');
      if (!Object.prototype.hasOwnProperty.call(this.operations, operation)) throw sqsErrors.unsupportedOperation(target || '(no X-Amz-Target)');
      this.calls.total++;
      this.calls.byAction[operation] = (this.calls.byAction[operation] ?? 0) + 1;
      this.injectFault(operation);
      let input: unknown;
      try {
        input = body === '' ? {} : JSON.parse(body);
      } catch {
        throw sqsErrors.invalidParameterValue('The request body is not valid JSON.');
      }
      if (typeof input !== 'object' || input === null || Array.isArray(input)) throw sqsErrors.invalidParameterValue('The request body must be a JSON object.');
      const denied = await this.authorize?.(operation, input as Record<string, unknown>, req.headers.authorization);
      if (denied !== undefined) throw sqsErrors.accessDenied(denied);
      send(200, await this.operations[operation](input as Record<string, unknown>));
    } catch (err) {
      const apiError = err instanceof SqsApiError ? err : sqsErrors.internal();
      if (!(err instanceof SqsApiError)) console.error('SQS simulator: internal error', err);
      this.calls.errorsByCode[apiError.code] = (this.calls.errorsByCode[apiError.code] ?? 0) + 1;
      send(apiError.status, { __type: `com.amazonaws.sqs#${apiError.code}`, message: apiError.message },
        { 'x-amzn-query-error': `${apiError.queryCode};${apiError.senderFault ? 'Sender' : 'Receiver'}` });
    }
  }

  private injectFault(operation: string): void {
    const forced = this.forcedFaults.find((f) => f.remaining > 0 && (f.operation === undefined || f.operation === operation));
    if (forced) {
      forced.remaining--;
      throw forced.code === 'RequestThrottled' ? sqsErrors.throttled() : sqsErrors.internal();
    }
    if (this.dice.chance(this.faultRate)) throw sqsErrors.internal();
  }
}

function inRange(name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min || v > max) throw new Error(`${name} must be an integer from ${min} to ${max}, got ${v}`);
  return v;
}
