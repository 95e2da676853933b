// A Lambda event source mapping for SQS: polls a queue, hands batches to a handler with up to
// `maximumConcurrency` invocations at once, and applies the answer as Lambda does with
// ReportBatchItemFailures — messages listed come back after their visibility timeout (or sooner
// if the handler changed it), the rest are deleted; a throw, a timeout or an invalid answer
// leaves the whole batch to come back. FIFO groups in flight are skipped by the queue itself, so
// different groups run in parallel and one group never does.
import type { SQSEvent } from 'aws-lambda';
import { AwsIds } from './ids';
import { DEFAULT_FUNCTION_SETTINGS, FunctionSettings, invokeFunction, InvokeOutcome, LambdaHandler } from './lambda-invoke';
import { batchVerdict, BatchVerdict, sqsRecord } from './sqs-lambda-event';
import { SqsQueue } from './sqs-queue';
import { ReceivedMessage } from './sqs-types';
import { SimClock } from '../common/time';

export interface SqsEventSourceOptions {
  /** The queue (name, URL or ARN, or the queue). */
  readonly queue: string | SqsQueue;
  readonly handler: LambdaHandler<SQSEvent, unknown>;
  /** @default 'sandbox-sqs-consumer' */
  readonly functionName?: string;
  /** The function's timeout: a longer invocation fails the batch. @default 3 (Lambda's default) */
  readonly functionTimeoutSeconds?: number;
  /** @default 128 */
  readonly memoryMb?: number;
  /** Messages per invocation: 1–10 for FIFO queues, 1–10000 for standard ones. @default 10 */
  readonly batchSize?: number;
  /** How long to gather a batch that is not full, 0–300 s. @default 0 */
  readonly maximumBatchingWindowSeconds?: number;
  /** Concurrent invocations at most (ScalingConfig.MaximumConcurrency). @default 5 */
  readonly maximumConcurrency?: number;
  /** FunctionResponseTypes ["ReportBatchItemFailures"]. @default true (the provisioner's mapping sets it) */
  readonly reportBatchItemFailures?: boolean;
}

export interface EventSourceCounts {
  invocations: number;
  /** Invocations whose whole batch was deleted. */
  succeeded: number;
  /** Invocations that reported some messages as failed. */
  partiallyFailed: number;
  /** Invocations that threw, timed out or answered something invalid: the whole batch stays. */
  failed: number;
  messagesProcessed: number;
  messagesReportedFailed: number;
  /**
   * FIFO: messages deleted although an earlier message of their group in the same batch failed —
   * the handler broke the group's order (it should report the failed message and every later one).
   */
  outOfOrderDeletes: number;
}

/** What one invocation saw and decided; for tests and the sandbox's report. */
export interface InvocationRecord {
  readonly requestId: string;
  readonly event: SQSEvent;
  readonly outcome: InvokeOutcome;
  readonly verdict: BatchVerdict;
}

export interface EventSourceDeps {
  readonly clock: SimClock;
  readonly ids: AwsIds;
  readonly region: string;
  readonly accountId: string;
}

interface GatheringBatch {
  readonly batch: ReceivedMessage[];
  /** The window has passed: send the batch as it is. */
  due: boolean;
  cancel: () => void;
}

export class SqsEventSourceMapping {
  readonly uuid: string;
  readonly counts: EventSourceCounts = {
    invocations: 0, succeeded: 0, partiallyFailed: 0, failed: 0, messagesProcessed: 0, messagesReportedFailed: 0, outOfOrderDeletes: 0,
  };
  private readonly batchSize: number;
  private readonly windowMs: number;
  private readonly maximumConcurrency: number;
  private readonly reportBatchItemFailures: boolean;
  private readonly settings: FunctionSettings;
  private readonly running = new Set<Promise<void>>();
  private readonly listeners = new Set<(record: InvocationRecord) => void>();
  /** A batch not yet full, waiting out the batching window; messages sent meanwhile join it. */
  private gathering?: GatheringBatch;
  private enabled = false;
  private pumpRequested = false;
  private cancelWake: () => void;
  private unsubscribe: () => void;

  constructor(private readonly queue: SqsQueue, private readonly options: SqsEventSourceOptions, private readonly deps: EventSourceDeps) {
    this.uuid = deps.ids.uuid();
    this.cancelWake = () => {};
    this.unsubscribe = () => {};
    this.batchSize = options.batchSize ?? 10;
    const maxBatch = queue.fifo ? 10 : 10_000;
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1 || this.batchSize > maxBatch) {
      throw new Error(`batchSize must be an integer from 1 to ${maxBatch} for ${queue.fifo ? 'a FIFO' : 'a standard'} queue, got ${this.batchSize}`);
    }
    const window = options.maximumBatchingWindowSeconds ?? 0;
    if (window < 0 || window > 300) throw new Error(`maximumBatchingWindowSeconds must be from 0 to 300, got ${window}`);
    this.windowMs = window * 1000;
    this.maximumConcurrency = options.maximumConcurrency ?? 5;
    if (!Number.isInteger(this.maximumConcurrency) || this.maximumConcurrency < 1) {
      throw new Error(`maximumConcurrency must be a positive integer, got ${this.maximumConcurrency}`);
    }
    this.reportBatchItemFailures = options.reportBatchItemFailures ?? true;
    this.settings = {
      functionName: options.functionName ?? 'sandbox-sqs-consumer',
      region: deps.region,
      accountId: deps.accountId,
      timeoutSeconds: options.functionTimeoutSeconds ?? DEFAULT_FUNCTION_SETTINGS.timeoutSeconds,
      memoryMb: options.memoryMb ?? DEFAULT_FUNCTION_SETTINGS.memoryMb,
    };
  }

  /** Invocations running now. */
  get activeInvocations(): number {
    return this.running.size;
  }

  start(): void {
    if (this.enabled) return;
    this.enabled = true;
    this.unsubscribe = this.queue.onChange(() => this.requestPump());
    this.requestPump();
  }

  /** Stops polling and waits for the invocations running (each ends by its function timeout at the latest). */
  async stop(): Promise<void> {
    this.enabled = false;
    this.unsubscribe();
    this.cancelWake();
    // A batch still gathering is abandoned: its messages come back after their visibility timeout.
    this.gathering?.cancel();
    this.gathering = undefined;
    await Promise.all([...this.running]);
  }

  /** Called after every invocation with what it saw and what was decided. */
  onInvocation(listener: (record: InvocationRecord) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
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
      const gathering = this.gathering;
      if (gathering) {
        const room = this.batchSize - gathering.batch.length;
        if (room > 0) gathering.batch.push(...this.queue.receive({ maxMessages: room }));
        if (gathering.batch.length < this.batchSize && !gathering.due) break;
        gathering.cancel();
        this.gathering = undefined;
        this.dispatch(gathering.batch);
        continue;
      }
      const batch = this.queue.receive({ maxMessages: this.batchSize });
      if (batch.length === 0) break;
      if (batch.length < this.batchSize && this.windowMs > 0) {
        const started: GatheringBatch = { batch, due: false, cancel: () => {} };
        started.cancel = this.deps.clock.after(this.windowMs, () => {
          started.due = true;
          this.pump();
        });
        this.gathering = started;
        continue;
      }
      this.dispatch(batch);
    }
    // Wake when the next hidden message becomes visible; sends and visibility changes wake it earlier.
    const next = this.queue.nextVisibleAt();
    if (next !== undefined && this.running.size < this.maximumConcurrency) {
      this.cancelWake = this.deps.clock.after(Math.max(1, next - this.deps.clock.now()), () => this.pump());
    }
  }

  private dispatch(batch: ReceivedMessage[]): void {
    const run = this.process(batch).catch((error: unknown) => console.error('SQS event source mapping: listener error', error)).finally(() => {
      this.running.delete(run);
      this.requestPump();
    });
    this.running.add(run);
  }

  private async process(batch: ReceivedMessage[]): Promise<void> {
    const event: SQSEvent = { Records: batch.map((r) => sqsRecord(r, this.queue.arn, this.deps.region)) };
    this.counts.invocations++;
    const outcome = await invokeFunction(this.options.handler as LambdaHandler<never, unknown>, event, this.settings, this.deps.clock, this.deps.ids);
    const verdict: BatchVerdict = outcome.ok
      ? batchVerdict(outcome.result, batch.map((r) => r.message.messageId), this.reportBatchItemFailures)
      : { kind: 'failure', reason: `${outcome.kind}: ${outcome.error.message}` };
    this.apply(batch, verdict);
    for (const listener of [...this.listeners]) listener({ requestId: outcome.requestId, event, outcome, verdict });
  }

  private apply(batch: ReceivedMessage[], verdict: BatchVerdict): void {
    if (verdict.kind === 'failure') {
      // Nothing is deleted: every message returns when its visibility timeout ends.
      this.counts.failed++;
      return;
    }
    const failed = verdict.kind === 'partial' ? verdict.failed : new Set<string>();
    if (failed.size > 0) this.counts.partiallyFailed++;
    else this.counts.succeeded++;
    const failedGroups = new Set<string>();
    for (const { message, receiptHandle } of batch) {
      const group = message.messageGroupId;
      if (failed.has(message.messageId)) {
        this.counts.messagesReportedFailed++;
        if (group !== undefined) failedGroups.add(group);
        continue;
      }
      if (this.queue.fifo && group !== undefined && failedGroups.has(group)) this.counts.outOfOrderDeletes++;
      this.queue.delete(receiptHandle);
      this.counts.messagesProcessed++;
    }
  }
}
