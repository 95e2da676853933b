// CloudWatch Logs as far as a runner instance uses it: CreateLogStream and PutLogEvents over JSON 1.1 (`X-Amz-Target:
// Logs_20140328.<Op>`), SigV4-signed for `logs`, authorized by IAM, with the rules of PutLogEvents the service enforces
// (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutLogEvents.html). Errors are a 400 (500 for the
// service's own) with the exception's name in `__type` (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/CommonErrors.html).
import { IncomingMessage, ServerResponse } from 'http';
import type { CallerIdentity } from './function-url';
import { CallAuthorizer, exceptionType, SigV4Verifier } from './sigv4-verifier';
import { flatHeaders, LoopbackService, readBody } from '../common/http';

export type LogEvent = { readonly timestamp: number; readonly message: string };

export interface CloudWatchLogsOptions {
  readonly region: string;
  readonly accountId: string;
  /** The log groups that exist. */
  readonly logGroups: readonly string[];
  readonly identityFor: (accessKeyId: string) => CallerIdentity | undefined;
  /** IAM: a message refuses the call with AccessDeniedException. @default every call allowed */
  readonly authorize?: CallAuthorizer;
}

class LogsError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

const MAX_EVENTS = 10_000;
const MAX_BATCH_BYTES = 1_048_576;
const EVENT_OVERHEAD_BYTES = 26;
const DAY_MS = 24 * 3600_000;

export type LogsOperation = 'CreateLogStream' | 'PutLogEvents';

export class CloudWatchLogsSimulator extends LoopbackService {
  private readonly streams = new Map<string, Map<string, LogEvent[]>>();
  private readonly refusals: { operation: LogsOperation; status: number; type: string }[] = [];
  private readonly callCounts = new Map<string, number>();
  private readonly verifier: SigV4Verifier;

  constructor(private readonly options: CloudWatchLogsOptions) {
    super();
    for (const group of options.logGroups) this.streams.set(group, new Map());
    // Signatures and event times are checked against wall time: instances sign and stamp with the real clock.
    this.verifier = new SigV4Verifier(options.region, 'logs', options.identityFor);
  }

  /** How many signed calls of `operation` arrived, answered or refused. */
  calls(operation: LogsOperation): number {
    return this.callCounts.get(operation) ?? 0;
  }

  /** The streams of a log group, by name, with their stored events. */
  logStreams(logGroupName: string): ReadonlyMap<string, readonly LogEvent[]> {
    return this.streams.get(logGroupName) ?? new Map();
  }

  /**
   * Answers the next call of `operation` with `status` and `type` instead of serving it: 400 ThrottlingException for a
   * throttled call (CreateLogStream is limited to 50 TPS per account and Region:
   * https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogStream.html), 500
   * ServiceUnavailableException for a service that cannot complete it.
   */
  refuseNext(operation: LogsOperation, status: number, type: string): void {
    this.refusals.push({ operation, status, type });
  }

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify(body));
    };
    const body = await readBody(req, 2 * MAX_BATCH_BYTES);
    const headers = flatHeaders(req);
    const verdict = await this.verifier.verify(req, body);
    // JSON-protocol services answer signature problems with 400 and an ...Exception type.
    if (!verdict.ok) return send(400, { __type: exceptionType(verdict.code), message: verdict.message });
    const operation = (headers['x-amz-target'] ?? '').replace(/^Logs_20140328\./, '');
    this.callCounts.set(operation, (this.callCounts.get(operation) ?? 0) + 1);
    const refusal = this.refusals.findIndex((r) => r.operation === operation);
    if (refusal >= 0) {
      const { status, type } = this.refusals.splice(refusal, 1)[0];
      return send(status, { __type: type, message: type === 'ThrottlingException' ? 'Rate exceeded' : 'The service cannot complete the request.' });
    }
    try {
      // The SDK's serializer always sends JSON.
      const input = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
      const group = requiredString(input, 'logGroupName', 512);
      if (operation !== 'CreateLogStream' && operation !== 'PutLogEvents') throw new LogsError('UnknownOperationException', `Unknown operation ${headers['x-amz-target']}`);
      const denied = await this.options.authorize?.(operation, input, headers.authorization);
      if (denied !== undefined) throw new LogsError('AccessDeniedException', denied);
      const streams = this.streams.get(group);
      if (!streams) throw new LogsError('ResourceNotFoundException', 'The specified log group does not exist.');
      const streamName = requiredString(input, 'logStreamName', 512);
      if (/[:*]/.test(streamName)) throw new LogsError('InvalidParameterException', 'Log stream names cannot contain \':\' or \'*\'.');
      if (operation === 'CreateLogStream') {
        if (streams.has(streamName)) throw new LogsError('ResourceAlreadyExistsException', 'The specified log stream already exists');
        streams.set(streamName, []);
        return send(200, {});
      }
      const stored = streams.get(streamName);
      if (!stored) throw new LogsError('ResourceNotFoundException', 'The specified log stream does not exist.');
      send(200, this.putLogEvents(stored, input.logEvents));
    } catch (e) {
      if (!(e instanceof LogsError)) throw e;
      send(400, { __type: e.code, message: e.message });
    }
  }

  private putLogEvents(stored: LogEvent[], value: unknown): Record<string, unknown> {
    if (!Array.isArray(value) || value.length === 0 || value.length > MAX_EVENTS) {
      throw new LogsError('InvalidParameterException', `logEvents must hold 1 to ${MAX_EVENTS} events`);
    }
    const events = value.map((e: unknown, i) => {
      const event = e as { timestamp?: unknown; message?: unknown };
      if (!Number.isInteger(event.timestamp) || typeof event.message !== 'string' || event.message === '') {
        throw new LogsError('InvalidParameterException', `logEvents.${i + 1}: each event needs an integer timestamp (ms) and a non-empty message`);
      }
      return { timestamp: event.timestamp as number, message: event.message };
    });
    const bytes = events.reduce((n, e) => n + Buffer.byteLength(e.message) + EVENT_OVERHEAD_BYTES, 0);
    if (bytes > MAX_BATCH_BYTES) throw new LogsError('InvalidParameterException', `Upload too large: ${bytes} bytes exceeds limit of ${MAX_BATCH_BYTES}`);
    if (events.some((e, i) => i > 0 && e.timestamp < events[i - 1].timestamp)) {
      throw new LogsError('InvalidParameterException', 'Log events in a single PutLogEvents request must be in chronological order.');
    }
    if (events[events.length - 1].timestamp - events[0].timestamp > DAY_MS) {
      throw new LogsError('InvalidParameterException', 'The batch of log events in a single PutLogEvents request cannot span more than 24 hours.');
    }
    const now = Date.now();
    const tooOld = events.filter((e) => e.timestamp < now - 14 * DAY_MS).length;
    const tooNew = events.findIndex((e) => e.timestamp > now + 2 * 3600_000);
    const accepted = events.slice(tooOld, tooNew < 0 ? undefined : tooNew);
    stored.push(...accepted);
    const rejected = { tooOldLogEventEndIndex: tooOld > 0 ? tooOld : undefined, tooNewLogEventStartIndex: tooNew >= 0 ? tooNew : undefined };
    return tooOld > 0 || tooNew >= 0 ? { rejectedLogEventsInfo: rejected } : {};
  }
}

function requiredString(input: Record<string, unknown>, field: string, max: number): string {
  const value = input[field];
  if (typeof value !== 'string' || value.length === 0 || value.length > max) {
    throw new LogsError('InvalidParameterException', `1 validation error detected: Value at '${field}' failed to satisfy constraint: Member must have length between 1 and ${max}`);
  }
  return value;
}
