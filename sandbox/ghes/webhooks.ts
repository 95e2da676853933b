// Sends the App's webhook deliveries the way GitHub's Hookshot does (reference/github.md 1): signed
// POSTs with GitHub's headers, a response timeout, every attempt recorded, never retried on its own.
// Drop, duplicate and reorder faults apply here.
import { createHmac } from 'crypto';
import { request } from 'http';
import { DeliveryLog, DeliveryRecord } from './deliveries';
import { FaultInjector } from './faults';
import { SimTime } from './sim-time';
import { SeededRandom } from '../common/random';

export interface WebhookConfig {
  url?: string;
  secret?: string;
  /** GitHub App deliveries are JSON in practice; `form` sends `payload=<url-encoded JSON>`. */
  contentType: 'json' | 'form';
  /** `X-GitHub-Hook-ID`: the App's hook, not the App. */
  readonly hookId: number;
  /** `X-GitHub-Hook-Installation-Target-ID` is the App id for App deliveries. */
  readonly appId: number;
  /** `X-GitHub-Enterprise-Host` */
  readonly hostname: () => string;
  /** `X-GitHub-Enterprise-Version`, bare X.Y.Z. */
  readonly version: string;
  /** GHES waits 30 s for a response. */
  readonly timeoutMs: number;
}

export interface DeliveryMeta {
  readonly installationId: number | null;
  readonly repositoryId: number | null;
}

interface Attempt {
  readonly guid: string;
  readonly event: string;
  readonly action: string | null;
  readonly payload: Record<string, unknown>;
  readonly meta: DeliveryMeta;
  readonly redelivery: boolean;
}

const HOOKSHOT_BUILD = '5d3a1f2';

export class WebhookSender {
  private readonly inFlight = new Set<Promise<void>>();
  private readonly aborts = new Set<() => void>();
  private nextId = 1;
  private stopped = false;

  constructor(
    private readonly config: WebhookConfig,
    private readonly time: SimTime,
    private readonly rng: SeededRandom,
    private readonly faults: FaultInjector,
    private readonly log: DeliveryLog,
    private readonly onDelivery: (record: DeliveryRecord) => void,
  ) {}

  setUrl(url: string | undefined): void {
    this.config.url = url;
  }

  /** A new event: a new GUID. Nothing is sent while no webhook URL is configured (no hook). */
  send(event: string, action: string | null, payload: Record<string, unknown>, meta: DeliveryMeta): void {
    if (!this.config.url || this.stopped) return;
    const attempt: Attempt = { guid: this.guid(), event, action, payload, meta, redelivery: false };
    const plan = this.faults.deliveryPlan();
    this.schedule(attempt, plan.delayMs, plan.drop);
    if (plan.duplicate) this.schedule(attempt, plan.delayMs, false);
  }

  /** POST /app/hook/deliveries/{id}/attempts: the same GUID and payload again, as a redelivery. */
  redeliver(original: DeliveryRecord): void {
    const plan = this.faults.deliveryPlan();
    const attempt: Attempt = { ...original, payload: { ...original.payload }, meta: original, redelivery: true };
    this.schedule(attempt, plan.delayMs, plan.drop);
  }

  /** Resolves once every scheduled attempt has been made and recorded. */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  stop(): void {
    this.stopped = true;
    for (const abort of [...this.aborts]) abort();
  }

  private schedule(attempt: Attempt, delayMs: number, drop: boolean): void {
    const done = new Promise<void>((resolve) => {
      const cancel = this.time.after(delayMs, () => {
        this.aborts.delete(abort);
        void this.attempt(attempt, drop).finally(resolve);
      });
      const abort = (): void => {
        cancel();
        resolve();
      };
      this.aborts.add(abort);
    });
    this.inFlight.add(done);
    void done.finally(() => this.inFlight.delete(done));
  }

  private async attempt(a: Attempt, drop: boolean): Promise<void> {
    const url = this.config.url;
    if (!url || this.stopped) return;
    const id = this.nextId++;
    const started = this.time.now();
    const json = JSON.stringify(a.payload);
    const body = this.config.contentType === 'form' ? `payload=${encodeURIComponent(json)}` : json;
    const headers = this.headers(a, body);
    // A dropped delivery is recorded the way GitHub records a receiver that never answered.
    const outcome = drop
      ? { statusCode: 0, status: 'timed out', headers: null, body: null, durationMs: this.config.timeoutMs }
      : await this.post(url, headers, body);
    const record: DeliveryRecord = {
      id,
      guid: a.guid,
      deliveredAt: started,
      redelivery: a.redelivery,
      duration: Math.round(outcome.durationMs) / 1000,
      status: outcome.status,
      statusCode: outcome.statusCode,
      event: a.event,
      action: a.action,
      installationId: a.meta.installationId,
      repositoryId: a.meta.repositoryId,
      url,
      requestHeaders: headers,
      payload: a.payload,
      body,
      responseHeaders: outcome.headers,
      responseBody: outcome.body,
    };
    this.log.add(record);
    this.onDelivery(record);
  }

  private headers(a: Attempt, body: string): Record<string, string> {
    const headers: Record<string, string> = {
      'Accept': '*/*',
      'Content-Type': this.config.contentType === 'form' ? 'application/x-www-form-urlencoded' : 'application/json',
      'User-Agent': `GitHub-Hookshot/${HOOKSHOT_BUILD}`,
      'X-GitHub-Delivery': a.guid,
      'X-GitHub-Event': a.event,
      'X-GitHub-Hook-ID': String(this.config.hookId),
      'X-GitHub-Hook-Installation-Target-ID': String(this.config.appId),
      'X-GitHub-Hook-Installation-Target-Type': 'integration',
      'X-GitHub-Enterprise-Host': this.config.hostname(),
      'X-GitHub-Enterprise-Version': this.config.version,
    };
    const secret = this.config.secret;
    if (secret) {
      // Both signatures cover the raw body bytes; X-Hub-Signature (SHA-1) is still sent on GHES.
      headers['X-Hub-Signature'] = `sha1=${createHmac('sha1', secret).update(body, 'utf8').digest('hex')}`;
      headers['X-Hub-Signature-256'] = `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
    }
    return headers;
  }

  private post(url: string, headers: Record<string, string>, body: string): Promise<{
    statusCode: number; status: string; headers: Record<string, string> | null; body: string | null; durationMs: number;
  }> {
    const started = this.time.now();
    return new Promise((resolve) => {
      let settled = false;
      const finish = (statusCode: number, status: string, resHeaders: Record<string, string> | null, resBody: string | null): void => {
        if (settled) return;
        settled = true;
        cancelTimeout();
        this.aborts.delete(abort);
        resolve({ statusCode, status, headers: resHeaders, body: resBody, durationMs: this.time.now() - started });
      };
      // `agent: false`: one connection per delivery, closed afterwards, as Hookshot does.
      const req = request(url, { method: 'POST', headers, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', () => finish(0, 'timed out', null, null));
        res.on('end', () => {
          const code = res.statusCode ?? 0;
          const resHeaders = Object.fromEntries(
            Object.entries(res.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : String(v)]),
          );
          const text = Buffer.concat(chunks).toString('utf8').slice(0, 64 * 1024);
          finish(code, code >= 200 && code < 300 ? 'OK' : `Invalid HTTP Response: ${code}`, resHeaders, text);
        });
      });
      const cancelTimeout = this.time.after(this.config.timeoutMs, () => {
        req.destroy();
        finish(0, 'timed out', null, null);
      });
      const abort = (): void => {
        req.destroy();
        finish(0, 'timed out', null, null);
      };
      this.aborts.add(abort);
      req.on('error', () => finish(0, 'failed to connect to host', null, null));
      req.end(body);
    });
  }

  /** A seeded UUID v4, so a seed replays the same delivery GUIDs. */
  private guid(): string {
    const hex = (n: number): string => Array.from({ length: n }, () => this.rng.integer(0, 15).toString(16)).join('');
    return `${hex(8)}-${hex(4)}-4${hex(3)}-${'89ab'[this.rng.integer(0, 3)]}${hex(3)}-${hex(12)}`;
  }
}
