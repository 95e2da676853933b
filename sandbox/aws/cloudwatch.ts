// CloudWatch as the status command reads it, over JSON 1.0 (`X-Amz-Target: GraniteServiceVersion20100801.<Op>`). The functions'
// embedded metric format is read into the run's report (aws/emf.ts), not into this service, so it is an account where none arrived: GetMetricData
// answers every query complete and empty, and every alarm is INSUFFICIENT_DATA, as CloudWatch has an alarm without data
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html#alarm-evaluation).
import { IncomingMessage, ServerResponse } from 'http';
import { flatHeaders, LoopbackService, readBody } from '../common/http';

export class CloudWatchSimulator extends LoopbackService {
  constructor(private readonly alarmNames: () => readonly string[]) {
    super();
  }

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const input = JSON.parse((await readBody(req)).toString('utf8') || '{}') as Record<string, unknown>;
    const operation = (flatHeaders(req)['x-amz-target'] ?? '').replace(/^GraniteServiceVersion20100801\./, '');
    const send = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' }).end(JSON.stringify(body));
    };
    if (operation === 'GetMetricData') {
      const queries = (input.MetricDataQueries ?? []) as Array<{ Id: string }>;
      return send(200, { MetricDataResults: queries.map((q) => ({ Id: q.Id, Label: q.Id, Timestamps: [], Values: [], StatusCode: 'Complete' })), Messages: [] });
    }
    if (operation === 'DescribeAlarms') {
      const named = (input.AlarmNames ?? this.alarmNames()) as string[];
      const state = 'INSUFFICIENT_DATA';
      const alarms = this.alarmNames().filter((n) => named.includes(n) && (input.StateValue === undefined || input.StateValue === state));
      return send(200, { MetricAlarms: alarms.map((AlarmName) => ({ AlarmName, StateValue: state })), CompositeAlarms: [] });
    }
    send(400, { __type: 'InvalidAction', message: `The sandbox serves GetMetricData and DescribeAlarms, not ${operation}` });
  }
}
