// A Lambda event source mapping for SQS: polls a queue, hands batches to a handler (up to five at once) and applies the answer as
// Lambda does with ReportBatchItemFailures: listed messages come back after their visibility timeout, the rest are deleted; a throw,
// a timeout or an invalid answer leaves the whole batch to come back (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html).
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import type { AwsContext } from './ids';
import { invokeFunction, LambdaFunction } from './lambda-invoke';
import { inRange, ReceivedMessage, SqsQueue, systemAttributes } from './sqs-queue';

/** The function's timeout: a longer invocation fails the batch. */
export interface SqsEventSourceOptions extends LambdaFunction<SQSEvent> {
  /** The queue (name, or the queue). */
  readonly queue: string | SqsQueue;
  /** Messages per invocation, 1–10 for a FIFO queue. @default 10 */
  readonly batchSize?: number;
  /** FunctionResponseTypes ["ReportBatchItemFailures"]. @default true (the provisioner's mapping sets it) */
  readonly reportBatchItemFailures?: boolean;
  /** ScalingConfig.MaximumConcurrency: concurrent invocations at most. @default 5, the pollers a mapping starts with */
  readonly maximumConcurrency?: number;
}

/** A mapping starts with five concurrent batches and scales up from there (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html); the sandbox stays at five. */
const DEFAULT_CONCURRENCY = 5;

export class SqsEventSourceMapping {
  private readonly batchSize: number;
  private readonly maximumConcurrency: number;
  private readonly running = new Set<Promise<void>>();
  private enabled = true;
  private pumpRequested = false;
  private readonly unsubscribe: () => void;
  private cancelWake: () => void;

  constructor(
    private readonly queue: SqsQueue,
    private readonly options: SqsEventSourceOptions,
    private readonly deps: AwsContext,
  ) {
    this.cancelWake = () => undefined;
    this.batchSize = inRange('batchSize (of a FIFO queue)', options.batchSize ?? 10, 1, 10);
    this.maximumConcurrency = inRange('maximumConcurrency', options.maximumConcurrency ?? DEFAULT_CONCURRENCY, 2, 1000);
    this.unsubscribe = queue.onChange(() => this.requestPump());
    this.requestPump();
  }

  /** Stops polling and waits for the invocations running (each ends by its function timeout at the latest). */
  async stop(): Promise<void> {
    this.enabled = false;
    this.unsubscribe();
    this.cancelWake();
    await Promise.all([...this.running]);
  }

  private requestPump(): void {
    if (this.pumpRequested || !this.enabled) return;
    this.pumpRequested = true;
    setImmediate(() => {
      this.pumpRequested = false;
      this.pump();
    });
  }

  private pump(): void {
    if (!this.enabled) return;
    this.cancelWake();
    while (this.running.size < this.maximumConcurrency) {
      const batch = this.queue.receive({ maxMessages: this.batchSize });
      if (batch.length === 0) break;
      const run = this.process(batch).catch((error: unknown) => console.error('SQS event source mapping: error', error)).finally(() => {
        this.running.delete(run);
        this.requestPump();
      });
      this.running.add(run);
    }
    // Wake when the next hidden message becomes visible; sends and visibility changes wake it earlier.
    const next = this.queue.nextVisibleAt();
    if (next !== undefined && this.running.size < this.maximumConcurrency) {
      this.cancelWake = this.deps.clock.after(Math.max(1, next - this.deps.clock.now()), () => this.pump());
    }
  }

  private async process(batch: ReceivedMessage[]): Promise<void> {
    // The SQS event (https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html); the sandbox's messages carry no messageAttributes.
    const event: SQSEvent = {
      Records: batch.map(({ message, receiptHandle }) => ({
        messageId: message.messageId,
        receiptHandle,
        body: message.body,
        attributes: systemAttributes(message) as unknown as SQSRecord['attributes'],
        messageAttributes: {},
        md5OfBody: message.md5OfBody,
        eventSource: 'aws:sqs',
        eventSourceARN: this.queue.arn,
        awsRegion: this.deps.region,
      })),
    };
    const outcome = await invokeFunction(this.options, event, this.deps);
    const failed = outcome.ok ? failedMessages(outcome.result, batch, this.options.reportBatchItemFailures ?? true) : undefined;
    // A failed invocation deletes nothing: every message returns when its visibility timeout ends.
    if (!failed) return;
    for (const { message, receiptHandle } of batch) if (!failed.has(message.messageId)) this.queue.delete(receiptHandle);
  }
}

/** The messages to keep, as Lambda reads a result: null, `{}` or an empty/null list keep none, a list naming only messages
 * of the batch keeps those, anything else fails the batch (undefined). */
function failedMessages(result: unknown, batch: readonly ReceivedMessage[], reportBatchItemFailures: boolean): ReadonlySet<string> | undefined {
  if (!reportBatchItemFailures || result === null || result === undefined) return new Set();
  // [GAP] The docs do not say what a non-object result means; failing the batch surfaces the bug.
  if (typeof result !== 'object' || Array.isArray(result)) return undefined;
  const list = (result as { batchItemFailures?: unknown }).batchItemFailures;
  if (list === undefined || list === null) return new Set();
  if (!Array.isArray(list)) return undefined;
  const known = new Set(batch.map((r) => r.message.messageId));
  const ids = list.map((item) => (item as { itemIdentifier?: unknown } | null)?.itemIdentifier);
  return ids.every((id): id is string => typeof id === 'string' && known.has(id)) ? new Set(ids) : undefined;
}
