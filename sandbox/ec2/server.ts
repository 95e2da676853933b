// The EC2 Query endpoint: form-encoded `Action=…&Version=2016-11-15` in, EC2 XML out. Counts every
// call, applies throttling before an action runs (so a throttled call changes nothing and consumes
// no ClientToken), and renders request-level errors in the EC2 envelope.
import { IncomingMessage, ServerResponse } from 'http';
import { Ec2Authorizer, Ec2Decision } from './authorization';
import { apiErrors, Ec2ApiError } from './errors';
import { Ec2Faults } from './faults';
import { IdGenerator } from './ids';
import { QueryParams } from './query';
import { renderError, renderResponse, XmlObject } from './xml';
import { listenOnLoopback, LoopbackServer, readBody } from '../common/http';

export interface ActionContext {
  /** The fault injector chose to report throttling inside a 200 (CreateFleet only). */
  readonly throttledInResponse: boolean;
  /** What the caller may not do within the call (CreateFleet: pools it may not launch). */
  readonly decision?: Ec2Decision;
}

export type Ec2ActionHandler = (params: QueryParams, ctx: ActionContext) => XmlObject;

export interface ApiCallCounts {
  readonly total: number;
  readonly byAction: Readonly<Record<string, number>>;
  /** Calls refused with RequestLimitExceeded (503). */
  readonly throttled: number;
  /** Request-level errors returned, by code (throttling included). */
  readonly errorsByCode: Readonly<Record<string, number>>;
}

export interface Ec2ApiServerDeps {
  readonly handlers: Readonly<Record<string, Ec2ActionHandler>>;
  readonly faults: Ec2Faults;
  readonly ids: IdGenerator;
  readonly accountId: string;
  /** Called with unexpected exceptions (a simulator bug), which answer 500 InternalError. */
  readonly onInternalError: (err: unknown) => void;
  /** Decides each call before it runs; see {@link Ec2Authorizer}. @default every call allowed */
  readonly authorize?: (action: string, params: QueryParams, authorization: string | undefined) => ReturnType<Ec2Authorizer>;
}

export class Ec2ApiServer {
  private server?: LoopbackServer;
  private counts = { total: 0, byAction: {} as Record<string, number>, throttled: 0, errorsByCode: {} as Record<string, number> };

  constructor(private readonly deps: Ec2ApiServerDeps) {}

  async start(): Promise<void> {
    this.server = await listenOnLoopback((req, res) => this.handle(req, res));
  }

  async stop(): Promise<void> {
    await this.server?.close();
    this.server = undefined;
  }

  get url(): string {
    if (!this.server) throw new Error('the EC2 simulator is not started');
    return this.server.url;
  }

  calls(): ApiCallCounts {
    return { ...this.counts, byAction: { ...this.counts.byAction }, errorsByCode: { ...this.counts.errorsByCode } };
  }

  resetCalls(): void {
    this.counts = { total: 0, byAction: {}, throttled: 0, errorsByCode: {} };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = this.deps.ids.uuid();
    const send = (status: number, body: string) => {
      res.writeHead(status, { 'content-type': 'text/xml;charset=UTF-8', 'x-amzn-requestid': requestId });
      res.end(body);
    };
    try {
      // EC2 takes the Query parameters in a form-encoded POST body or in a GET query string.
      const form = req.method === 'POST' ? (await readBody(req)).toString('utf8') : new URL(req.url ?? '/', 'http://ec2').search.slice(1);
      const params = QueryParams.parse(form);
      const action = params.string('Action');
      if (action === undefined) throw new Ec2ApiError('MissingAction', 'The request must contain the parameter Action');
      this.counts.total += 1;
      this.counts.byAction[action] = (this.counts.byAction[action] ?? 0) + 1;
      const handler = Object.prototype.hasOwnProperty.call(this.deps.handlers, action) ? this.deps.handlers[action] : undefined;
      if (!handler) throw apiErrors.invalidAction(action);
      if (params.string('Version') === undefined) throw apiErrors.missingParameter('Version');
      const verdict = this.deps.faults.throttle(action);
      if (verdict === 'envelope') {
        this.counts.throttled += 1;
        throw apiErrors.requestLimitExceeded(this.deps.accountId, action);
      }
      const decision = await this.deps.authorize?.(action, params, req.headers.authorization);
      if (decision?.denied !== undefined) throw apiErrors.unauthorizedOperation(decision.denied, this.deps.ids.uuid());
      // DryRun is answered before the action runs; its parameters are not validated [simplification].
      if (params.boolean('DryRun')) throw apiErrors.dryRun();
      const body = handler(params, { throttledInResponse: verdict === 'in-response', decision });
      send(200, renderResponse(action, requestId, body));
    } catch (err) {
      const apiError = err instanceof Ec2ApiError ? err : apiErrors.internal(err);
      if (!(err instanceof Ec2ApiError)) this.deps.onInternalError(err);
      this.counts.errorsByCode[apiError.code] = (this.counts.errorsByCode[apiError.code] ?? 0) + 1;
      send(apiError.status, renderError(apiError.code, apiError.message, requestId));
    }
  }
}
