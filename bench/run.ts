// `npm run bench`: measures what depends on the machine and on prices — the webhook bundle beside its peer's,
// scenarios end to end in the sandbox (latencies, GitHub calls and instances per job, the control plane's own
// latency, the phases of a cold start), and the deployment's cost — and writes bench/results/<name>.json for each
// (committed: machine, date, command) and the results table of docs/benchmarks.md from all of them. Full sandbox
// reports go to bench/out/ (not committed). Run it on an idle machine: every timing stretches under load.
//
//   npm run bench                        the default set (DEFAULT below; about 10 minutes on 2 cores)
//   npm run bench -- cost burst          only these: benchmark names, scenario names or scenario files
//   npm run bench -- all                 the default set and every scenario with bounds
import * as fs from 'fs';
import * as path from 'path';
import { benchCost } from './cost';
import { BenchResult, machine, ROOT, s, updateDoc, writeResult } from './results';
import { benchScenario, scenarioFiles } from './scenario-bench';
import { benchWebhookBundle } from './webhook-bundle';

const OUT = path.join(ROOT, 'bench', 'out');

/** What `npm run bench` runs with no argument, in this order (cost reads cold-start's usage per job). */
const DEFAULT = ['webhook-bundle', 'cold-start', 'warm-start', 'burst-50', 'burst-1000', 'cost'];
const BENCHMARKS: Record<string, () => Promise<BenchResult> | BenchResult> = {
  'webhook-bundle': () => benchWebhookBundle(),
  'cost': () => benchCost(),
};

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const scenarios = scenarioFiles();
  const known = [...Object.keys(BENCHMARKS), ...scenarios.keys()];
  const names = args.length === 0 ? DEFAULT
    : args.includes('all') ? [...new Set([...DEFAULT.filter((n) => n !== 'cost'), ...[...scenarios].filter(([, f]) => f.bounded).map(([n]) => n), 'cost'])]
      : args;
  const unknown = names.filter((n) => !known.includes(n) && !fs.existsSync(n));
  if (unknown.length > 0) {
    process.stderr.write(`bench: no benchmark or scenario named ${unknown.map((n) => JSON.stringify(n)).join(', ')}; known: ${known.join(', ')}, all\n`);
    return 2;
  }
  fs.mkdirSync(OUT, { recursive: true });
  const started = Date.now();
  process.stderr.write(`bench: ${names.join(', ')} on ${JSON.stringify(machine())}\n`);
  const overBounds: string[] = [];
  for (const name of names) {
    const at = Date.now();
    process.stderr.write(`bench: ${name} ...\n`);
    const file = scenarios.get(name)?.file ?? (fs.existsSync(name) ? path.resolve(name) : undefined);
    const result = file ? await benchScenario(file, OUT) : await BENCHMARKS[name]();
    const written = writeResult(result);
    type Check = { bound: string; value: number; limit: number; ok: boolean };
    const broken = (result.details as { checks?: Check[] }).checks?.filter((c) => !c.ok) ?? [];
    overBounds.push(...broken.map((c) => `${result.name}: ${c.bound} ${c.value} > ${c.limit}`));
    process.stdout.write(`\n${result.title} (${s(Date.now() - at)}, ${path.relative(ROOT, written)})\n${result.figures.map((f) => `  ${f.figure}: ${f.value ?? `— ${f.pending}`}`).join('\n')}\n`);
  }
  updateDoc();
  process.stdout.write(`\nbench: ${s(Date.now() - started)} in all; docs/benchmarks.md updated from bench/results/\n`);
  if (overBounds.length > 0) {
    process.stdout.write(`\nover a bound (on a busy machine, simulated latencies stretch; rerun on an idle one):\n${overBounds.map((b) => `  ${b}`).join('\n')}\n`);
    return 1;
  }
  return 0;
}

main().then((code) => process.exit(code), (error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
