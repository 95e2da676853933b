// The provisioner's queue handler: pool messages from the FIFO queue, one pool per message group.
// Powertools' FIFO processor reports failures per message and keeps a failed pool's later
// messages behind it; other pools go on.
import { processPartialResponse, SqsFifoPartialProcessorAsync } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { ProvisionerDeps } from './deps';
import { reconcilePool } from './reconcile-pool';
import { reconcileWarmPool } from './reconcile-warm-pool';
import { PoolMessageError } from '../core/errors';
import { isWarmPoolMessage, parsePoolMessage } from '../core/pool-message';

/** Makes a failed message visible again after `delaySeconds`. */
export type RetryScheduler = (record: SQSRecord, delaySeconds: number) => Promise<void>;

/**
 * The delay before a failed pool is tried again: 5 s, doubling, at most 60 s. Capacity shortages
 * usually pass within minutes; the queue's visibility timeout (minutes) would be far too slow.
 */
export function retryDelaySeconds(receiveCount: number): number {
  return Math.min(60, 5 * 2 ** Math.max(0, receiveCount - 1));
}

export function createProvisionerHandler(deps: () => ProvisionerDeps, scheduleRetry: RetryScheduler) {
  return async (event: SQSEvent, context?: Context): Promise<SQSBatchResponse> => {
    const d = deps();
    const reconciled = new Set<string>();
    const handleRecord = async (record: SQSRecord): Promise<void> => {
      let message;
      try {
        message = parsePoolMessage(record.body);
      } catch (error) {
        // A malformed message can never succeed: log it and let it go, do not block the pool.
        if (error instanceof PoolMessageError) {
          d.logger.error('dropping a malformed pool message', { messageId: record.messageId, error: error.message });
          return;
        }
        throw error;
      }
      // Later messages of a pool already reconciled in this batch are covered: the state read
      // includes every write that sent them.
      if (reconciled.has(message.poolId)) return;
      try {
        await (isWarmPoolMessage(message) ? reconcileWarmPool(d, message) : reconcilePool(d, message));
        reconciled.add(message.poolId);
      } catch (error) {
        const receiveCount = Number(record.attributes.ApproximateReceiveCount ?? '1');
        d.logger.warn('pool reconcile failed; retrying', { pool: message.poolId, receiveCount, error: (error as Error).message, errorName: (error as Error).name });
        await scheduleRetry(record, retryDelaySeconds(receiveCount)).catch((e: Error) =>
          d.logger.warn('could not shorten the retry delay', { pool: message.poolId, error: e.message }));
        throw error;
      }
    };
    // A batch in which every pool failed is still reported message by message (each with its delay).
    return processPartialResponse(event, handleRecord, new SqsFifoPartialProcessorAsync(), {
      context: context as Context, skipGroupOnError: true, throwOnFullBatchFailure: false,
    });
  };
}
