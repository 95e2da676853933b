// Ties between runner configs as synth reports them: the same rank and the same rule the functions
// route by (runner-labels.ts), from the construct's props.
import { RunnerConfig } from '../runner-config';
import { findTies, LabelledConfig, LabelTie, RoutingRank, routingLabels } from '../runner-labels';

/** A config as routing sees it: folded labels, and its rank among equally specific configs. */
export interface RankedConfig extends LabelledConfig {
  readonly rank: RoutingRank;
}

/** The configs as routing ranks them, `order` being each one's index in `runnerConfigs`. */
export function rankedConfigs(configs: readonly RunnerConfig[]): RankedConfig[] {
  return configs.map((config, order) => ({
    name: config.name,
    labels: routingLabels(config.labels),
    rank: { priority: config.priority ?? 0, order },
  }));
}

/**
 * One line per tie between configs that a job matches equally well, naming the job's labels, the
 * configs and the one it goes to. Configs with identical labels are an error of their own, not a tie.
 */
export function describeRoutingTies(configs: readonly RunnerConfig[]): string[] {
  const ties = findTies(rankedConfigs(configs)).filter((tie): tie is Required<LabelTie<RankedConfig>> => tie.winner !== undefined);
  return ties.map(({ jobLabels, configs: tied, winner }) => {
    const names = tied.map((c) => `'${c.name}'`).join(', ');
    const top = tied.filter((c) => c.rank.priority === winner.rank.priority).length;
    const by = top === 1 ? `whose priority ${winner.rank.priority} is the highest`
      : top === tied.length ? `listed first in runnerConfigs (runnerConfigs[${winner.rank.order}])`
        : `listed first (runnerConfigs[${winner.rank.order}]) of those with the highest priority, ${winner.rank.priority}`;
    return `runner configs ${names} match a job with runs-on ${JSON.stringify(jobLabels)} equally well (the same number of labels beyond it); `
      + `it goes to '${winner.name}', ${by}. To send it elsewhere, give another of them a higher priority, or add a config whose labels are exactly ${JSON.stringify(jobLabels)}.`;
  });
}
