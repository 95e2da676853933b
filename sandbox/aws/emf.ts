// What CloudWatch Logs makes of the functions' output: each line that is an embedded metric format
// (EMF) document becomes metric values, as the Lambda service's log pipeline extracts them
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html).
// A line that claims to be EMF (it has `_aws`) but breaks the specification is counted as invalid:
// CloudWatch would drop its metrics. Every other line goes on to `forward`, as the log stream would show it.
import { Writable } from 'stream';
import { percentiles } from '../report';

/** One extracted value: its namespace, name, dimensions (one of the document's dimension sets) and unit. */
export interface MetricValue {
  readonly namespace: string;
  readonly name: string;
  readonly dimensions: Readonly<Record<string, string>>;
  readonly value: number;
  readonly unit?: string;
}

/** A metric's values over a run, every dimension set taken together. */
export interface MetricSummary {
  readonly samples: number;
  readonly sum: number;
  readonly p50: number;
}

export interface EmfSummary {
  /** Lines that were EMF documents, and those of them that broke the specification (with the first reason). */
  readonly documents: number;
  readonly invalid: number;
  readonly firstInvalid?: string;
  /** By metric name, each value counted once (the first dimension set of its directive). */
  readonly metrics: Readonly<Record<string, MetricSummary>>;
}

// The specification's limits: "DimensionSet … MUST NOT contain more than 30 dimension keys"; "Metrics … MUST NOT contain more
// than 100 MetricDefinition objects"; a target member that is an array "MUST NOT contain more than 100 values".
const MAX_DIMENSIONS = 30;
const MAX_METRICS = 100;
const MAX_VALUES = 100;

export class EmfRecorder extends Writable {
  readonly values: MetricValue[] = [];
  private documents = 0;
  private invalid = 0;
  private firstInvalid?: string;
  private partial = '';

  constructor(private readonly forward: NodeJS.WritableStream) {
    super();
  }

  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    const lines = (this.partial + chunk.toString()).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) this.line(line);
    done();
  }

  summary(): EmfSummary {
    const byName = new Map<string, number[]>();
    for (const v of this.values) {
      const values = byName.get(v.name);
      if (values) values.push(v.value);
      else byName.set(v.name, [v.value]);
    }
    const metrics = Object.fromEntries([...byName].sort(([a], [b]) => a.localeCompare(b))
      .map(([name, values]) => [name, { samples: values.length, sum: values.reduce((s, v) => s + v, 0), p50: percentiles(values).p50 }]));
    return { documents: this.documents, invalid: this.invalid, ...(this.firstInvalid ? { firstInvalid: this.firstInvalid } : {}), metrics };
  }

  private line(line: string): void {
    let document: unknown;
    try {
      document = line.startsWith('{') ? JSON.parse(line) : undefined;
    } catch {
      document = undefined;
    }
    if (typeof document !== 'object' || document === null || !('_aws' in document)) {
      this.forward.write(`${line}\n`);
      return;
    }
    this.documents++;
    const extracted = extract(document as Record<string, unknown>);
    if (typeof extracted === 'string') {
      this.invalid++;
      this.firstInvalid ??= extracted;
      return;
    }
    this.values.push(...extracted);
  }
}

/** The values a document holds, or why CloudWatch would reject it. */
function extract(root: Record<string, unknown>): MetricValue[] | string {
  const aws = root._aws as Record<string, unknown>;
  if (typeof aws !== 'object' || aws === null) return '_aws is not an object';
  if (typeof aws.Timestamp !== 'number') return '_aws.Timestamp is not a number';
  if (!Array.isArray(aws.CloudWatchMetrics)) return '_aws.CloudWatchMetrics is not an array';
  const values: MetricValue[] = [];
  for (const directive of aws.CloudWatchMetrics as Array<Record<string, unknown>>) {
    if (typeof directive?.Namespace !== 'string' || directive.Namespace === '') return 'a directive has no Namespace';
    if (!Array.isArray(directive.Dimensions)) return `directive ${directive.Namespace}: Dimensions is not an array`;
    const sets = directive.Dimensions as unknown[];
    for (const set of sets) {
      if (!Array.isArray(set) || set.length > MAX_DIMENSIONS) return `directive ${directive.Namespace}: a dimension set is not an array of at most ${MAX_DIMENSIONS} keys`;
      for (const key of set) {
        if (typeof key !== 'string' || typeof root[key] !== 'string') return `dimension ${String(key)} has no string member at the root`;
      }
    }
    if (!Array.isArray(directive.Metrics) || directive.Metrics.length > MAX_METRICS) return `directive ${directive.Namespace}: Metrics is not an array of at most ${MAX_METRICS}`;
    const dimensions = Object.fromEntries(((sets[0] ?? []) as string[]).map((key) => [key, root[key] as string]));
    for (const metric of directive.Metrics as Array<Record<string, unknown>>) {
      if (typeof metric?.Name !== 'string') return 'a metric definition has no Name';
      const member = root[metric.Name];
      const list = Array.isArray(member) ? member : [member];
      if (list.length > MAX_VALUES || !list.every((v) => typeof v === 'number' && Number.isFinite(v))) {
        return `metric ${metric.Name}: its member is not a number or an array of at most ${MAX_VALUES} numbers`;
      }
      const unit = typeof metric.Unit === 'string' ? metric.Unit : undefined;
      const namespace = directive.Namespace;
      for (const value of list as number[]) values.push({ namespace, name: metric.Name, dimensions, value, ...(unit ? { unit } : {}) });
    }
  }
  return values;
}
