// Missed webhooks: GitHub never retries a failed delivery (reference/github.md 6), so the reconciler
// reads the App's delivery log and asks for a redelivery of every workflow_job event none of whose
// attempts succeeded — a bounded number of times per event, each wait longer than the one before,
// so that an outage of the webhook does not use every attempt up before it ends.
import { WebhookDelivery } from '../core/github';
import { RedeliveryRecord } from '../core/reconciler-state';

export interface RedeliveryLimits {
  /** Redeliveries asked for one event, ever. */
  readonly maxAttemptsPerGuid: number;
  readonly maxPerRun: number;
  /**
   * How long after its nth redelivery an event may be redelivered again: the nth entry, or the last
   * one past the list's end. Growing waits spread the attempts over hours, well within the week
   * GHES keeps deliveries for redelivery.
   */
  readonly redeliverySpacingMs: readonly number[];
  /**
   * Each run reads back this far before the cursor: an attempt is logged with the time it
   * started (up to GitHub's 30 s timeout earlier), and the two clocks may differ a little.
   */
  readonly overlapMs: number;
  /** How far back the very first run looks. */
  readonly initialLookbackMs: number;
  /**
   * How far back any run looks, however old its cursor: longer than an event waits for its last
   * redelivery. A cursor left behind (a backlog no run could read through, a reconciler stopped for
   * days) would otherwise make every later window larger than the last, never read to its end.
   */
  readonly maxLookbackMs: number;
}

export interface Redelivery {
  readonly guid: string;
  /** The latest attempt's id: the one the redelivery is asked for. */
  readonly deliveryId: number;
  /** Epoch ms of the event's first attempt in the listing. */
  readonly firstDeliveredAt: number;
  readonly action: string | null;
}

export interface RedeliveryPlan {
  /** Oldest first, at most `maxPerRun`. */
  readonly redeliver: readonly Redelivery[];
  /** Failed events that wait for a later run: over this run's cap. */
  readonly deferred: readonly Redelivery[];
  /** Failed events redelivered before whose next redelivery is not due yet. */
  readonly waiting: readonly Redelivery[];
  /** Failed events that were redelivered `maxAttemptsPerGuid` times already: given up. */
  readonly exhausted: readonly Redelivery[];
}

/** The `sinceMs` to list deliveries from. */
export function listingStart(cursor: number | undefined, now: number, limits: RedeliveryLimits): number {
  return Math.max((cursor ?? now - limits.initialLookbackMs) - limits.overlapMs, now - limits.maxLookbackMs);
}

const isSuccess = (statusCode: number) => statusCode >= 200 && statusCode < 300;

export function planRedeliveries(
  deliveries: readonly WebhookDelivery[], records: readonly RedeliveryRecord[], now: number, limits: RedeliveryLimits,
): RedeliveryPlan {
  const byGuid = new Map<string, WebhookDelivery[]>();
  for (const d of deliveries) {
    if (d.event !== 'workflow_job') continue;
    byGuid.set(d.guid, [...(byGuid.get(d.guid) ?? []), d]);
  }
  const attempts = new Map(records.map((r) => [r.guid, r]));
  const failed: Redelivery[] = [];
  const waiting: Redelivery[] = [];
  const exhausted: Redelivery[] = [];
  for (const [guid, group] of byGuid) {
    if (group.some((d) => isSuccess(d.statusCode))) continue;
    const latest = group.reduce((a, b) => (b.id > a.id ? b : a));
    const redelivery: Redelivery = {
      guid,
      deliveryId: latest.id,
      firstDeliveredAt: Math.min(...group.map((d) => Date.parse(d.deliveredAt))),
      action: latest.action,
    };
    const record = attempts.get(guid);
    if (record && record.attempts >= limits.maxAttemptsPerGuid) {
      exhausted.push(redelivery);
    } else if (!record || now - record.lastAttemptAt >= spacingAfter(record.attempts, limits)) {
      failed.push(redelivery);
    } else {
      // The last redelivery is still on its way (or its attempt not yet listed), or the next one not due.
      waiting.push(redelivery);
    }
  }
  failed.sort((a, b) => a.firstDeliveredAt - b.firstDeliveredAt || a.deliveryId - b.deliveryId);
  const cap = Math.max(0, limits.maxPerRun);
  return { redeliver: failed.slice(0, cap), deferred: failed.slice(cap), waiting, exhausted };
}

/** The least time after an event's `attempts`th redelivery before the next one. */
export function spacingAfter(attempts: number, limits: Pick<RedeliveryLimits, 'redeliverySpacingMs'>): number {
  const spacing = limits.redeliverySpacingMs;
  if (spacing.length === 0) return 0;
  return spacing[Math.min(Math.max(attempts, 1), spacing.length) - 1];
}

/** Counts one more redelivery of `guid` at `at`. */
export function recordRedelivery(records: readonly RedeliveryRecord[], guid: string, at: number): RedeliveryRecord[] {
  const known = records.find((r) => r.guid === guid);
  const next = { guid, attempts: (known?.attempts ?? 0) + 1, lastAttemptAt: at };
  return [...records.filter((r) => r.guid !== guid), next];
}

/**
 * Where the next run starts reading: at the newest attempt seen, but never past an event that still
 * waits for its redelivery (deferred by the cap, its next redelivery not due yet, or its request
 * failed), so it is listed again when its turn comes.
 * A listing its page cap stopped short of the cursor (`complete` false) left older deliveries unread:
 * the cursor then stays where it was, behind every delivery listed, so the next run reads them.
 */
export function nextCursor(
  previous: number | undefined, deliveries: readonly WebhookDelivery[], unfinished: readonly Redelivery[], overlapMs: number, complete = true,
): number | undefined {
  const seen = deliveries.map((d) => Date.parse(d.deliveredAt)).filter((t) => Number.isFinite(t));
  let cursor = complete && seen.length > 0 ? Math.max(previous ?? -Infinity, ...seen) : previous;
  if (cursor !== undefined && unfinished.length > 0) {
    cursor = Math.min(cursor, Math.min(...unfinished.map((r) => r.firstDeliveredAt)) + overlapMs);
  }
  return cursor;
}
