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

/**
 * Where a config stands among configs that match a job equally well: the higher `priority` wins,
 * then the lower `order` (its place in the construct's `runnerConfigs`).
 */
export interface RoutingRank {
  readonly priority: number;
  readonly order: number;
}

/** What routing needs to know of a runner config. */
export interface LabelledConfig {
  readonly name: string;
  /** Routing labels, as returned by {@link routingLabels}. */
  readonly labels: readonly string[];
  /**
   * Breaks ties with equally specific configs. Absent from documents written by a deployment older
   * than the rule: a tie involving such a config stays ambiguous.
   */
  readonly rank?: RoutingRank;
}

export type LabelMatch<C extends LabelledConfig> =
  /** `tiedWith`: the equally specific configs `config` won against by rank (empty when it matched alone). */
  | { readonly kind: 'matched'; readonly config: C; readonly extraLabels: number; readonly tiedWith: readonly C[] }
  | { readonly kind: 'unmatched' }
  /** Equally specific configs that no rank orders: some carry none, or two carry the same. */
  | { readonly kind: 'ambiguous'; readonly candidates: readonly C[]; readonly extraLabels: number };

/** Negative when `a` wins the tie against `b`, positive when `b` does, 0 when their ranks do not tell. */
export function compareRanks(a: RoutingRank, b: RoutingRank): number {
  return b.priority - a.priority || a.order - b.order;
}

/**
 * Finds the config for a job: the job's routing labels must be a subset of the config's; the most
 * specific config (fewest labels beyond the job's) wins; among equally specific configs the best
 * rank wins (higher priority, then earlier in `runnerConfigs`). The outcome does not depend on the
 * order of `configs`.
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
  if (best.length === 1) return { kind: 'matched', config: best[0], extraLabels: bestExtra, tiedWith: [] };
  if (best.some((config) => config.rank === undefined)) return { kind: 'ambiguous', candidates: best, extraLabels: bestExtra };
  // The name orders the losers among themselves only, so that the answer is the same for any order of `configs`.
  const ranked = [...best].sort((a, b) => compareRanks(a.rank!, b.rank!) || byName(a, b));
  if (compareRanks(ranked[0].rank!, ranked[1].rank!) === 0) return { kind: 'ambiguous', candidates: best, extraLabels: bestExtra };
  return { kind: 'matched', config: ranked[0], extraLabels: bestExtra, tiedWith: ranked.slice(1) };
}

/** By name, in code unit order: the same in every locale. */
function byName(a: LabelledConfig, b: LabelledConfig): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** Configs that a job with `jobLabels` matches equally well, and the one it goes to. */
export interface LabelTie<C extends LabelledConfig = LabelledConfig> {
  /** Routing labels of the job. */
  readonly jobLabels: readonly string[];
  /** The tied configs, the winner first, then by rank. */
  readonly configs: readonly C[];
  /** The winner; undefined when the ranks do not tell (see {@link matchLabels}). */
  readonly winner?: C;
}

/**
 * The ties between configs that jobs with at least one label meet, each with its winner.
 *
 * For configs A and B the job labels matched by both are the subsets of A ∩ B, and they tie only
 * when |A| = |B|. Each tie is reported for the job A ∩ B itself. A job asking for part of it only
 * ties between configs whose pair is reported in turn (or not at all, when a config with fewer
 * labels beats A and B), and it goes to the best ranked of them, by the same rule. A job with no
 * label besides `self-hosted` is not reported; routing resolves its ties by the same rule.
 */
export function findTies<C extends LabelledConfig>(configs: readonly C[]): LabelTie<C>[] {
  const found = new Map<string, LabelTie<C>>();
  for (let i = 0; i < configs.length; i++) {
    for (let j = i + 1; j < configs.length; j++) {
      const a = configs[i];
      const b = configs[j];
      if (a.labels.length !== b.labels.length) continue;
      const inB = new Set(b.labels);
      const shared = a.labels.filter((label) => inB.has(label));
      if (shared.length === 0 || shared.length === a.labels.length) continue;
      const match = matchLabels(shared, configs);
      const key = shared.join(',');
      if (match.kind === 'matched' && match.tiedWith.length > 0) {
        found.set(key, { jobLabels: shared, configs: [match.config, ...match.tiedWith], winner: match.config });
      } else if (match.kind === 'ambiguous') {
        found.set(key, { jobLabels: shared, configs: [...match.candidates].sort(byName) });
      }
    }
  }
  return [...found.values()];
}
