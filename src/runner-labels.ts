// The label rule shared by synth-time validation (the construct) and job routing (the functions):
// one implementation, so a config set the construct accepts routes exactly as validated.
// Pure: no CDK, no I/O.

/** GitHub's implicit label for every self-hosted runner; ignored when routing (see DESIGN.md section 5). */
export const SELF_HOSTED_LABEL = 'self-hosted';

/**
 * Case-folds a label the way GitHub compares runner labels: ASCII letters only. JavaScript's
 * `toLowerCase()` would also fold look-alikes such as the Kelvin sign into `k`, and route a job to
 * a config whose runners GitHub would never give it.
 */
export function foldLabel(label: string): string {
  return label.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32));
}

/** The labels that decide routing: folded, without `self-hosted`, without duplicates, sorted. */
export function routingLabels(labels: readonly string[]): string[] {
  const folded = new Set(labels.map(foldLabel));
  folded.delete(SELF_HOSTED_LABEL);
  return [...folded].sort();
}

/** What routing needs to know of a runner config. */
export interface LabelledConfig {
  readonly name: string;
  /** Routing labels, as returned by {@link routingLabels}. */
  readonly labels: readonly string[];
}

export type LabelMatch<C extends LabelledConfig> =
  | { readonly kind: 'matched'; readonly config: C; readonly extraLabels: number }
  | { readonly kind: 'unmatched' }
  | { readonly kind: 'ambiguous'; readonly candidates: readonly C[]; readonly extraLabels: number };

/**
 * Finds the config for a job: the job's routing labels must be a subset of the config's; the most
 * specific config (fewest labels beyond the job's) wins; a tie between configs is ambiguous.
 */
export function matchLabels<C extends LabelledConfig>(jobLabels: readonly string[], configs: readonly C[]): LabelMatch<C> {
  const wanted = routingLabels(jobLabels);
  let best: C[] = [];
  let bestExtra = Number.POSITIVE_INFINITY;
  for (const config of configs) {
    const offered = new Set(config.labels);
    if (!wanted.every((label) => offered.has(label))) continue;
    const extra = offered.size - wanted.length;
    if (extra < bestExtra) {
      best = [config];
      bestExtra = extra;
    } else if (extra === bestExtra) {
      best.push(config);
    }
  }
  if (best.length === 0) return { kind: 'unmatched' };
  if (best.length > 1) return { kind: 'ambiguous', candidates: best, extraLabels: bestExtra };
  return { kind: 'matched', config: best[0], extraLabels: bestExtra };
}

/** Two configs that a job with `jobLabels` would match equally well. */
export interface LabelAmbiguity {
  readonly configs: readonly [string, string];
  readonly jobLabels: readonly string[];
}

/**
 * Every pair of configs that some job with at least one label would match equally well.
 *
 * For configs A and B the job labels matched by both are the subsets of A ∩ B, and they tie only
 * when |A| = |B|. Checking the job A ∩ B itself suffices: a config C that wins for A ∩ B also wins
 * for each of its subsets. A job with no label besides `self-hosted` is not checked here; routing
 * treats it like any other job and reports a tie as ambiguous at run time.
 */
export function findAmbiguities(configs: readonly LabelledConfig[]): LabelAmbiguity[] {
  const found = new Map<string, LabelAmbiguity>();
  for (let i = 0; i < configs.length; i++) {
    for (let j = i + 1; j < configs.length; j++) {
      const a = configs[i];
      const b = configs[j];
      if (a.labels.length !== b.labels.length) continue;
      const inB = new Set(b.labels);
      const shared = a.labels.filter((label) => inB.has(label));
      if (shared.length === 0 || shared.length === a.labels.length) continue;
      const match = matchLabels(shared, configs);
      if (match.kind === 'ambiguous') {
        const [first, second] = match.candidates.map((c) => c.name).sort();
        found.set(`${first} ${second} ${shared.join(',')}`, { configs: [first, second], jobLabels: shared });
      }
    }
  }
  return [...found.values()];
}
