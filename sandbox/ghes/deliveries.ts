// The App's record of webhook delivery attempts, as GET /app/hook/deliveries shows it: newest first,
// cursor pagination through the Link header, `status` filter by status_code range (reference/github.md 6).
import { BadRequestError, NotFoundError, ValidationError } from './errors';
import { isoSeconds } from './sim-time';

export interface DeliveryRecord {
  /** Unique per attempt. */
  readonly id: number;
  /** The event's GUID (`X-GitHub-Delivery`), shared by redeliveries and duplicates. */
  readonly guid: string;
  /** Simulated epoch ms at which the attempt started. */
  readonly deliveredAt: number;
  readonly redelivery: boolean;
  /** Seconds. */
  readonly duration: number;
  /** `OK`, `Invalid HTTP Response: 502`, `timed out`, `failed to connect to host`. */
  readonly status: string;
  /** 0 when no HTTP response came back. */
  readonly statusCode: number;
  readonly event: string;
  readonly action: string | null;
  readonly installationId: number | null;
  readonly repositoryId: number | null;
  readonly url: string;
  readonly requestHeaders: Readonly<Record<string, string>>;
  readonly payload: Readonly<Record<string, unknown>>;
  /** The exact body sent, so a redelivery sends the same bytes. */
  readonly body: string;
  readonly responseHeaders: Readonly<Record<string, string>> | null;
  readonly responseBody: string | null;
}

export interface DeliveryPage {
  readonly items: readonly DeliveryRecord[];
  /** The cursor of the next page, if there is one. */
  readonly nextCursor?: string;
}

const MAX_PER_PAGE = 100;

export class DeliveryLog {
  private readonly records: DeliveryRecord[] = [];

  add(record: DeliveryRecord): void {
    this.records.push(record);
  }

  /** All attempts, oldest first. */
  all(): readonly DeliveryRecord[] {
    return [...this.records].sort((a, b) => a.id - b.id);
  }

  get(id: number): DeliveryRecord {
    const record = this.records.find((r) => r.id === id);
    if (!record) throw new NotFoundError();
    return record;
  }

  /** A page of attempts, newest first. `cursor` is opaque to clients: `v1_<id>` of the page's last item. */
  page(query: { perPage?: string; cursor?: string; status?: string }): DeliveryPage {
    const perPage = Math.min(MAX_PER_PAGE, Math.max(1, Number(query.perPage ?? 30) || 30));
    let before = Number.POSITIVE_INFINITY;
    if (query.cursor !== undefined) {
      const m = /^v1_(\d+)$/.exec(query.cursor);
      if (!m) throw new BadRequestError(`Invalid cursor: ${query.cursor}`);
      before = Number(m[1]);
    }
    if (query.status !== undefined && query.status !== 'success' && query.status !== 'failure') {
      throw new ValidationError('Validation Failed', [{ resource: 'HookDelivery', field: 'status', code: 'invalid' }]);
    }
    // The spec defines the filter by status_code: success 200–399, failure 400–599. A timeout or a
    // refused connection has no status code (0) and so is in neither; only an unfiltered list shows it.
    const matches = (r: DeliveryRecord): boolean =>
      query.status === 'success' ? r.statusCode >= 200 && r.statusCode <= 399
        : query.status === 'failure' ? r.statusCode >= 400 && r.statusCode <= 599
          : true;
    const newestFirst = [...this.records].sort((a, b) => b.id - a.id).filter((r) => r.id < before && matches(r));
    const items = newestFirst.slice(0, perPage);
    const more = newestFirst.length > perPage;
    return { items, nextCursor: more ? `v1_${items[items.length - 1].id}` : undefined };
  }
}

/** The list item ("Simple webhook delivery"). */
export function deliveryItemJson(r: DeliveryRecord): Record<string, unknown> {
  return {
    id: r.id,
    guid: r.guid,
    delivered_at: isoSeconds(r.deliveredAt),
    redelivery: r.redelivery,
    duration: r.duration,
    status: r.status,
    status_code: r.statusCode,
    event: r.event,
    action: r.action,
    installation_id: r.installationId,
    repository_id: r.repositoryId,
    throttled_at: null,
  };
}

/** One delivery with its request and response. */
export function deliveryJson(r: DeliveryRecord): Record<string, unknown> {
  return {
    ...deliveryItemJson(r),
    url: r.url,
    request: { headers: r.requestHeaders, payload: r.payload },
    response: { headers: r.responseHeaders, payload: r.responseBody },
  };
}
