// Sends the App's deliveries as GitHub's Hookshot does (reference/github.md 1): signed POSTs with GitHub's headers and a response
// timeout, never retried on its own, under drop/duplicate/reorder faults; every attempt is recorded for GET /app/hook/deliveries (6).
import { createHmac } from 'crypto';
import { request } from 'http';
import { randomHex } from './directory';
import { GhesApiError, notFound } from './errors';
import { FaultInjector } from './faults';
import { isoSeconds, SimTime } from './sim-time';
import { SeededRandom } from '../common/random';

/** One attempt; `guid` (`X-GitHub-Delivery`) is shared by redeliveries and duplicates, `id` is not. */
export interface DeliveryRecord {
  readonly id: number;
  readonly guid: string;
  /** Simulated epoch ms at which the attempt started. */
  readonly deliveredAt: number;
  readonly redelivery: boolean;
  /** Seconds. */
  readonly duration: number;
  /** `OK`, `Invalid HTTP Response: 502`, `timed out`, `failed to connect to host`; `statusCode` 0 without an HTTP response. */
  readonly status: string;
  readonly statusCode: number;
  readonly event: string;
  readonly action: string | null;
  readonly installationId: number | null;
  readonly repositoryId: number | null;
  readonly payload: Readonly<Record<string, unknown>>;
}

export interface WebhookConfig {
  url?: string;
  secret?: string;
  readonly appId: number;
  /** `X-GitHub-Enterprise-Host` */
  readonly hostname: () => string;
  /** `X-GitHub-Enterprise-Version`; none as github.com. */
  readonly release: () => string | undefined;
  /** GHES waits 30 s for a response. */
  readonly timeoutMs: number;
}

type Attempt = Pick<DeliveryRecord, 'guid' | 'event' | 'action' | 'payload' | 'installationId' | 'repositoryId' | 'redelivery'>;
type Outcome = Pick<DeliveryRecord, 'status' | 'statusCode'>;

const HOOKSHOT_BUILD = '5d3a1f2';
/** The release the simulated server names until it is upgraded (`GhesSimulator.upgrade`). */
export const GHES_VERSION = '3.19.0';

export class WebhookSender {
  private readonly records: DeliveryRecord[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  /** Aborted on stop: ends every delivery in flight. */
  private readonly stopping = new AbortController();
  private nextId = 1;

  constructor(
    readonly config: WebhookConfig,
    private readonly time: SimTime,
    private readonly rng: SeededRandom,
    private readonly faults: FaultInjector,
  ) {}

  /** A new event: a new GUID. Nothing is sent while no webhook URL is configured (no hook). */
  send(event: string, action: string, payload: Record<string, unknown>, ids: Pick<DeliveryRecord, 'installationId' | 'repositoryId'>): void {
    if (!this.config.url || this.stopping.signal.aborted) return;
    // A seeded UUID v4, so a seed replays the same delivery GUIDs.
    const hex = (n: number): string => randomHex(this.rng, n);
    const guid = `${hex(8)}-${hex(4)}-4${hex(3)}-${'89ab'[this.rng.integer(0, 3)]}${hex(3)}-${hex(12)}`;
    const attempt: Attempt = { guid, event, action, payload, ...ids, redelivery: false };
    const plan = this.faults.deliveryPlan();
    this.schedule(attempt, plan.delayMs, plan.drop);
    if (plan.duplicate) this.schedule(attempt, plan.delayMs, false);
  }

  /** POST /app/hook/deliveries/{id}/attempts: the same GUID and payload again, as a redelivery. */
  redeliver(id: number): void {
    const plan = this.faults.deliveryPlan();
    const original = this.records.find((r) => r.id === id);
    if (!original) throw notFound();
    const { guid, event, action, payload, installationId, repositoryId } = original;
    this.schedule({ guid, event, action, payload, installationId, repositoryId, redelivery: true }, plan.delayMs, plan.drop);
  }

  /** Every attempt, oldest first. */
  all(): DeliveryRecord[] {
    return [...this.records].sort((a, b) => a.id - b.id);
  }

  /** A page of attempts, newest first. `cursor` is opaque to clients: `v1_<id>` of the previous page's last item. */
  page(perPage: number, cursor: string | null): { items: DeliveryRecord[]; nextCursor?: string } {
    const before = cursor === null ? Infinity : Number(/^v1_(\d+)$/.exec(cursor)?.[1] ?? NaN);
    if (Number.isNaN(before)) throw new GhesApiError(400, `Invalid cursor: ${cursor}`);
    const matching = this.all().reverse().filter((r) => r.id < before);
    const items = matching.slice(0, perPage);
    return { items, nextCursor: matching.length > perPage ? `v1_${items[items.length - 1].id}` : undefined };
  }

  /** Resolves once every scheduled attempt has been made and recorded. */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  /** Ends the deliveries in flight; the simulator's stop cancels the scheduled ones with its timers. */
  stop(): void {
    this.stopping.abort();
  }

  private schedule(attempt: Attempt, delayMs: number, drop: boolean): void {
    const done = this.time.sleep(delayMs).then(() => this.attempt(attempt, drop));
    this.inFlight.add(done);
    void done.finally(() => this.inFlight.delete(done));
  }

  private async attempt(a: Attempt, drop: boolean): Promise<void> {
    const url = this.config.url;
    if (!url || this.stopping.signal.aborted) return;
    const id = this.nextId++;
    const started = this.time.now();
    const body = JSON.stringify(a.payload);
    const headers: Record<string, string> = {
      'Accept': '*/*',
      'Content-Type': 'application/json',
      'User-Agent': `GitHub-Hookshot/${HOOKSHOT_BUILD}`,
      'X-GitHub-Delivery': a.guid,
      'X-GitHub-Event': a.event,
      'X-GitHub-Hook-ID': String(100_000 + this.config.appId), // the App's hook, not the App
      'X-GitHub-Hook-Installation-Target-ID': String(this.config.appId), // the App, for App deliveries
      'X-GitHub-Hook-Installation-Target-Type': 'integration',
      'X-GitHub-Enterprise-Host': this.config.hostname(),
    };
    const release = this.config.release();
    if (release !== undefined) headers['X-GitHub-Enterprise-Version'] = release;
    if (this.config.secret) {
      // Both signatures cover the raw body bytes; X-Hub-Signature (SHA-1) is still sent on GHES.
      headers['X-Hub-Signature'] = `sha1=${createHmac('sha1', this.config.secret).update(body, 'utf8').digest('hex')}`;
      headers['X-Hub-Signature-256'] = `sha256=${createHmac('sha256', this.config.secret).update(body, 'utf8').digest('hex')}`;
    }
    // A dropped delivery is recorded the way GitHub records a receiver that never answered.
    const outcome: Outcome = drop ? { statusCode: 0, status: 'timed out' } : await this.post(url, headers, body);
    const duration = Math.round(drop ? this.config.timeoutMs : this.time.now() - started) / 1000;
    this.records.push({ ...a, ...outcome, id, deliveredAt: started, duration });
  }

  private post(url: string, headers: Record<string, string>, body: string): Promise<Outcome> {
    return new Promise((resolve) => {
      // The first outcome counts: a response, a refused connection, or the timeout (or stop) that ends the request.
      const finish = (statusCode: number, status: string): void => {
        cancelTimeout();
        this.stopping.signal.removeEventListener('abort', timedOut);
        resolve({ statusCode, status });
      };
      // `agent: false`: one connection per delivery, closed afterwards, as Hookshot does.
      const req = request(url, { method: 'POST', headers, agent: false }, (res) => {
        res.resume();
        res.on('error', () => finish(0, 'timed out'));
        res.on('end', () => {
          const code = res.statusCode ?? 0;
          finish(code, code >= 200 && code < 300 ? 'OK' : `Invalid HTTP Response: ${code}`);
        });
      });
      const timedOut = (): void => {
        finish(0, 'timed out');
        req.destroy();
      };
      const cancelTimeout = this.time.after(this.config.timeoutMs, timedOut);
      this.stopping.signal.addEventListener('abort', timedOut, { once: true });
      req.on('error', () => finish(0, 'failed to connect to host'));
      req.end(body);
    });
  }
}

/** The list item ("Simple webhook delivery"): the record's fields but the payload, in snake case. */
export function deliveryItemJson({ payload: _payload, deliveredAt, ...record }: DeliveryRecord): Record<string, unknown> {
  const fields = Object.entries({ ...record, deliveredAt: isoSeconds(deliveredAt), throttledAt: null });
  return Object.fromEntries(fields.map(([name, value]) => [name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), value]));
}
