// The SSM Parameter Store simulator: the JSON 1.1 protocol (`X-Amz-Target: AmazonSSM.<Op>`) that
// the real `@aws-sdk/client-ssm` speaks, over an in-memory store, with call counting and seeded throttling.
import { IncomingMessage, ServerResponse } from 'http';
import { SsmApiError, ssmErrors } from './errors';
import { ParameterOperations } from './operations';
import { ParameterStore, PutInput } from './store';
import { listenOnLoopback, LoopbackServer, readBody } from '../common/http';
import { SeededRandom } from '../common/random';
import { ScaledClock, SimClock } from '../common/time';

export { SsmApiError } from './errors';
export type { ParameterType, ParameterTier, PutInput } from './store';

export interface SsmSimulatorOptions {
  /** @default a real-time ScaledClock */
  readonly clock?: SimClock;
  /** @default 1 */
  readonly seed?: number;
  /** @default 'us-east-1' */
  readonly region?: string;
  /** @default '123456789012' */
  readonly accountId?: string;
  /** Probability that a call is refused with ThrottlingException ("Rate exceeded"). @default 0 */
  readonly throttleRate?: number;
  /**
   * IAM: decides each call before it runs, from the operation, its input and the SigV4
   * Authorization header; a message refuses it with AccessDeniedException. @default every call allowed
   */
  readonly authorize?: (operation: string, input: Record<string, unknown>, authorization: string | undefined) => Promise<string | undefined>;
}

export interface SsmCallCounts {
  readonly total: number;
  readonly byAction: Readonly<Record<string, number>>;
  readonly throttled: number;
  readonly errorsByCode: Readonly<Record<string, number>>;
}

type Operation = (input: Record<string, unknown>) => Record<string, unknown>;

export class SsmSimulator {
  readonly clock: SimClock;
  private readonly store: ParameterStore;
  private readonly operations: Readonly<Record<string, Operation>>;
  private readonly dice: SeededRandom;
  private throttleRate: number;
  private readonly forcedThrottles: { operation?: string; remaining: number }[] = [];
  private server?: LoopbackServer;
  private counts = { total: 0, byAction: {} as Record<string, number>, throttled: 0, errorsByCode: {} as Record<string, number> };
  private requestCounter = 0;
  private readonly authorize?: SsmSimulatorOptions['authorize'];

  constructor(options: SsmSimulatorOptions = {}) {
    this.clock = options.clock ?? new ScaledClock(1);
    this.store = new ParameterStore(this.clock);
    this.dice = new SeededRandom(options.seed ?? 1).fork('ssm-throttle');
    this.throttleRate = options.throttleRate ?? 0;
    this.authorize = options.authorize;
    const ops = new ParameterOperations(this.store, options.region ?? 'us-east-1', options.accountId ?? '123456789012');
    this.operations = {
      GetParameter: (i) => ops.getParameter(i),
      GetParameters: (i) => ops.getParameters(i),
      GetParametersByPath: (i) => ops.getParametersByPath(i),
      PutParameter: (i) => ops.putParameter(i),
      DeleteParameter: (i) => ops.deleteParameter(i),
      DeleteParameters: (i) => ops.deleteParameters(i),
    };
  }

  async start(): Promise<void> {
    this.server = await listenOnLoopback((req, res) => this.handle(req, res));
  }

  async stop(): Promise<void> {
    await this.server?.close();
    this.server = undefined;
  }

  /** The SSM endpoint: `new SSMClient({ endpoint: sim.url, … })`. */
  get url(): string {
    if (!this.server) throw new Error('the SSM simulator is not started');
    return this.server.url;
  }

  /**
   * Writes a parameter without the API's name rules, e.g. to seed public `/aws/service/…` parameters
   * that a real account can read but not write.
   */
  seedParameter(input: PutInput): number {
    return this.store.put({ ...input, overwrite: true }).version;
  }

  /** Throttles the next `count` calls (of `operation`, e.g. 'GetParameter', or of any). */
  throttleNext(count: number, operation?: string): void {
    this.forcedThrottles.push({ operation, remaining: count });
  }

  setThrottleRate(rate: number): void {
    this.throttleRate = rate;
  }

  apiCalls(): SsmCallCounts {
    return { ...this.counts, byAction: { ...this.counts.byAction }, errorsByCode: { ...this.counts.errorsByCode } };
  }

  resetApiCalls(): void {
    this.counts = { total: 0, byAction: {}, throttled: 0, errorsByCode: {} };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = `ssm-${String(++this.requestCounter).padStart(8, '0')}-0000-4000-8000-000000000000`;
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': requestId });
      res.end(JSON.stringify(body));
    };
    try {
      const target = String(req.headers['x-amz-target'] ?? '');
      const operation = target.startsWith('AmazonSSM.') ? target.slice('AmazonSSM.'.length) : undefined;
      const body = (await readBody(req, 1024 * 1024)).toString('utf8');
      if (operation === undefined || !Object.prototype.hasOwnProperty.call(this.operations, operation)) {
        throw ssmErrors.unknownOperation(target);
      }
      this.counts.total += 1;
      this.counts.byAction[operation] = (this.counts.byAction[operation] ?? 0) + 1;
      if (this.shouldThrottle(operation)) {
        this.counts.throttled += 1;
        throw ssmErrors.throttled();
      }
      let input: unknown;
      try {
        input = body === '' ? {} : JSON.parse(body);
      } catch {
        throw ssmErrors.serialization('The request body is not valid JSON.');
      }
      if (typeof input !== 'object' || input === null || Array.isArray(input)) throw ssmErrors.serialization('The request body must be a JSON object.');
      const denied = await this.authorize?.(operation, input as Record<string, unknown>, req.headers.authorization);
      if (denied !== undefined) throw ssmErrors.accessDenied(denied);
      send(200, this.operations[operation](input as Record<string, unknown>));
    } catch (err) {
      const apiError = err instanceof SsmApiError ? err : ssmErrors.internal();
      if (!(err instanceof SsmApiError)) console.error('SSM simulator: internal error', err);
      this.counts.errorsByCode[apiError.code] = (this.counts.errorsByCode[apiError.code] ?? 0) + 1;
      send(apiError.status, apiError.bodyMessage === undefined
        ? { __type: apiError.code }
        : { __type: apiError.code, message: apiError.bodyMessage });
    }
  }

  private shouldThrottle(operation: string): boolean {
    const forced = this.forcedThrottles.find((f) => f.remaining > 0 && (f.operation === undefined || f.operation === operation));
    if (forced) {
      forced.remaining -= 1;
      return true;
    }
    return this.dice.chance(this.throttleRate);
  }
}
