// The benchmark's recorded results: one JSON file per benchmark in bench/results/, each with the machine,
// the date and the command that produced it, and the table docs/benchmarks.md shows of them — written
// from the files, between two markers, so the page cannot drift from the results.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export const ROOT = path.join(__dirname, '..');
export const RESULTS_DIR = path.join(ROOT, 'bench', 'results');
export const DOC = path.join(ROOT, 'docs', 'benchmarks.md');
const START = '<!-- bench:results:start (written by `npm run bench` from bench/results/*.json; do not edit) -->';
const END = '<!-- bench:results:end -->';

/** One row of the page's table. `value` undefined: the figure has no measurement yet, and `pending` says what it waits for. */
export interface Figure { readonly figure: string; readonly value?: string; readonly pending?: string }

export interface Machine {
  readonly cpus: number;
  readonly model: string;
  readonly memoryGiB: number;
  readonly node: string;
  readonly platform: string;
  /** The 1-minute load average when the benchmark started: other work on the machine slows every timing. */
  readonly loadAverage: number;
}

export interface BenchResult {
  readonly name: string;
  readonly title: string;
  /** The command that reproduces this file. */
  readonly command: string;
  readonly date: string;
  readonly machine: Machine;
  readonly wallMs: number;
  readonly figures: readonly Figure[];
  /** Everything measured, for a reader who wants more than the table. */
  readonly details: unknown;
}

export function machine(): Machine {
  return {
    cpus: os.cpus().length,
    model: os.cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    loadAverage: Math.round(os.loadavg()[0] * 100) / 100,
  };
}

export function writeResult(result: BenchResult): string {
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `${result.name}.json`);
  fs.writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  return file;
}

/** The page's order: the issue's figures first, then any other result by name. */
const ORDER = ['cold-start', 'warm-start', 'burst-1000', 'webhook-bundle', 'cost'];

export function readResults(): BenchResult[] {
  if (!fs.existsSync(RESULTS_DIR)) return [];
  const rank = (name: string) => (ORDER.includes(name) ? ORDER.indexOf(name) : ORDER.length);
  return fs.readdirSync(RESULTS_DIR).filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(fs.readFileSync(path.join(RESULTS_DIR, f), 'utf8')) as BenchResult)
    .sort((a, b) => rank(a.name) - rank(b.name) || a.name.localeCompare(b.name));
}

/** The results section of docs/benchmarks.md: per result, its command, date and machine, then its figures. */
export function renderResults(results: readonly BenchResult[]): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|');
  return results.map((r) => {
    const m = r.machine;
    const rows = r.figures.map((f) => `| ${cell(f.figure)} | ${f.value !== undefined ? cell(f.value) : `— *${cell(f.pending ?? 'not measured')}*`} |`);
    return [
      `### ${r.title}`,
      '',
      `\`${r.command}\` — ${r.date.slice(0, 16).replace('T', ' ')} UTC, ${m.cpus} × ${m.model}, ${m.memoryGiB} GiB, Node.js ${m.node}, `
        + `load average ${m.loadAverage} at the start, ${(r.wallMs / 1000).toFixed(0)} s (bench/results/${r.name}.json)`,
      '',
      '| figure | value |',
      '| --- | --- |',
      ...rows,
    ].join('\n');
  }).join('\n\n');
}

/** Rewrites the page's results section from bench/results/*.json; the page must hold both markers. */
export function updateDoc(): void {
  const page = fs.readFileSync(DOC, 'utf8');
  const start = page.indexOf(START);
  const end = page.indexOf(END);
  if (start < 0 || end < start) throw new Error(`${path.relative(ROOT, DOC)} lacks the results markers ${START} … ${END}: put them back where the table goes`);
  fs.writeFileSync(DOC, `${page.slice(0, start + START.length)}\n\n${renderResults(readResults())}\n\n${page.slice(end)}`);
}

/** Nearest-rank quantile `q` (0 … 1] of `values`. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

export const ms = (n: number) => `${n.toFixed(n < 10 ? 2 : n < 100 ? 1 : 0)} ms`;
export const s = (n: number) => `${(n / 1000).toFixed(1)} s`;
export const kib = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;
/** Dollars: cents from a tenth of a dollar, four decimals below (a job costs cents), three significant digits below a tenth of a cent. */
export const usd = (n: number) => `$${n >= 0.1 || n === 0 ? n.toFixed(2) : n >= 0.001 ? n.toFixed(4) : n.toPrecision(3)}`;
