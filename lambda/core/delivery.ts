// A webhook delivery as remembered for idempotency: GitHub identifies each delivery by a GUID
// that a redelivery reuses, so the GUID and the answer given are enough to answer it again.

import { JobKey } from './job';

/** GitHub keeps deliveries (and offers redelivery) for a week; so do we. */
export const DELIVERY_RETENTION_SECONDS = 7 * 24 * 60 * 60;

/** An HTTP answer to a delivery; `body` is JSON text, stored verbatim so a duplicate gets the same bytes. */
export interface WebhookAnswer {
  readonly status: number;
  readonly body: string;
}

export interface DeliveryRecord {
  readonly deliveryId: string;
  readonly event: string;
  readonly action?: string;
  readonly answer: WebhookAnswer;
  /** ISO 8601. */
  readonly receivedAt: string;
  /** Epoch seconds. */
  readonly expiresAt: number;
  /** The job the delivery moved, for tracing. */
  readonly job?: JobKey;
  readonly poolId?: string;
}

export function deliveryExpiry(now: number): number {
  return Math.floor(now / 1000) + DELIVERY_RETENTION_SECONDS;
}
