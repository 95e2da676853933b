import * as fc from 'fast-check';
import { poolFor, routeJob } from '../../../lambda/core/routing';
import { parseRunnerConfigParameter, RunnerConfig } from '../../../lambda/core/runner-config';
import { rankedConfigs } from '../../../src/private/routing-ties';
import { RunnerConfig as RunnerConfigProps, toRunnerConfigDocument } from '../../../src/runner-config';
import { compareRanks, findTies, matchLabels, routingLabels } from '../../../src/runner-labels';
import { testConfig } from '../support/configs';

// As the construct writes them: each with its priority (0 unless given) and its order in runnerConfigs.
const ranked = (order: number, priority = 0) => ({ priority, order });
const linuxX64 = testConfig('linux-x64', ['linux', 'x64'], 'org', ranked(0));
const linuxX64Large = testConfig('linux-x64-large', ['linux', 'x64', 'large'], 'org', ranked(1));
const linuxArm64 = testConfig('linux-arm64', ['linux', 'arm64'], 'org', ranked(2));
const dependabot = testConfig('dependabot', ['dependabot'], 'org', ranked(3));
const k8s = testConfig('k8s', ['k8s'], 'repo', ranked(4));
const configs = [linuxX64, linuxX64Large, linuxArm64, dependabot, k8s];

function routedName(labels: readonly string[], from: readonly RunnerConfig[] = configs): string {
  const match = routeJob(labels, from);
  if (match.kind === 'matched') return match.config.name;
  if (match.kind === 'ambiguous') return `ambiguous:${match.candidates.map((c) => c.name).sort().join(',')}`;
  return 'unmatched';
}

describe('routing a job to a runner config', () => {
  test('labels compare case-insensitively', () => {
    expect(routedName(['Linux', 'X64'])).toBe('linux-x64');
    expect(routedName(['LINUX', 'x64', 'Large'])).toBe('linux-x64-large');
  });

  test('self-hosted is ignored whether present or absent, in any case', () => {
    expect(routedName(['self-hosted', 'linux', 'x64'])).toBe('linux-x64');
    expect(routedName(['Self-Hosted', 'linux', 'x64'])).toBe('linux-x64');
    expect(routedName(['linux', 'x64'])).toBe('linux-x64');
  });

  test('a dependabot job without self-hosted routes to the dependabot config', () => {
    // GHES sends dependabot jobs as labels: ["dependabot"] (CloudSnorkel/cdk-github-runners#462).
    expect(routedName(['dependabot'])).toBe('dependabot');
  });

  test('the most specific config wins', () => {
    expect(routedName(['linux'], [linuxX64Large, linuxX64])).toBe('linux-x64');
  });

  test('a tie between configs with equally many extra labels goes to the config listed first, whatever the order they are read in', () => {
    expect(routedName(['linux'], [linuxX64, linuxArm64])).toBe('linux-x64');
    expect(routedName(['linux'], [linuxArm64, linuxX64])).toBe('linux-x64');
    const gpu = testConfig('linux-x64-gpu', ['linux', 'x64', 'gpu'], 'org', ranked(5));
    expect(routedName(['linux', 'x64'], [gpu, linuxX64Large])).toBe('linux-x64-large');
  });

  test('a tie goes to the higher priority before the order, and the match names the configs it beat', () => {
    const arm64First = testConfig('linux-arm64', ['linux', 'arm64'], 'org', ranked(7, 10));
    const gpu = testConfig('linux-gpu', ['linux', 'gpu'], 'org', ranked(8, 10));
    const match = routeJob(['self-hosted', 'linux'], [linuxX64, gpu, arm64First]);
    expect(match).toMatchObject({ kind: 'matched', config: { name: 'linux-arm64' }, extraLabels: 1 });
    expect(match.kind === 'matched' && match.tiedWith.map((c) => c.name)).toEqual(['linux-gpu', 'linux-x64']);
  });

  test('configs written by an older deployment (no priority and order) stay ambiguous when tied, and name both', () => {
    const oldX64 = testConfig('linux-x64', ['linux', 'x64']);
    const oldArm64 = testConfig('linux-arm64', ['linux', 'arm64']);
    expect(routedName(['linux'], [oldX64, oldArm64])).toBe('ambiguous:linux-arm64,linux-x64');
    expect(routedName(['linux'], [oldX64, linuxArm64])).toBe('ambiguous:linux-arm64,linux-x64');
    // Untied, they route as before.
    expect(routedName(['linux', 'x64'], [oldX64, oldArm64])).toBe('linux-x64');
  });

  test('configs of the same rank (a hand-edited parameter) stay ambiguous when tied', () => {
    const sameRank = testConfig('linux-arm64', ['linux', 'arm64'], 'org', ranked(0));
    expect(routedName(['linux'], [linuxX64, sameRank])).toBe('ambiguous:linux-arm64,linux-x64');
  });

  test('labels no config offers match nothing', () => {
    expect(routedName(['ubuntu-latest'])).toBe('unmatched');
    expect(routedName(['linux', 'x64', 'gpu'])).toBe('unmatched');
  });

  test('a job with no labels (older GHES) goes to the config with the fewest labels, ties by the same rule', () => {
    expect(routedName([], [linuxX64, linuxX64Large])).toBe('linux-x64');
    expect(routedName(['self-hosted'], [linuxArm64, linuxX64])).toBe('linux-x64');
    expect(routedName([], [])).toBe('unmatched');
  });

  test('look-alike letters do not fold: the Kelvin sign is not a K', () => {
    expect(routedName(['\u212A8s'])).toBe('unmatched');
    expect(routedName(['K8s'])).toBe('k8s');
    expect(routedName(['L\u0130NUX', 'x64'])).toBe('unmatched');
  });

  test.each([
    ['a very long label', ['linux', 'x'.repeat(100_000)]],
    ['a label with #', ['linux#x64']],
    ['a label with /', ['linux/x64']],
    ['a label with a newline', ['linux\nx64']],
    ['SQL metacharacters', ["linux'; DROP TABLE jobs; --"]],
    ['shell metacharacters', ['$(rm -rf /)', '`id`', 'linux && reboot']],
    ['an empty label', ['', 'linux', 'x64']],
    ['control characters', ['\u0000', 'linux']],
  ])('%s matches nothing', (_, labels) => {
    expect(routedName(labels)).toBe('unmatched');
  });
});

describe('routing properties', () => {
  const vocabulary = ['linux', 'x64', 'arm64', 'gpu', 'large', 'k8s', 'dependabot', 'db-app', 'dc-03'];
  const hostile = ['\u212A8s', 'linux#1', 'a/b', 'line\nbreak', "'; DROP TABLE x; --", '$(id)', 'LİNUX', '', 'x'.repeat(300)];
  const label = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...vocabulary) },
    { weight: 1, arbitrary: fc.constantFrom(...hostile) },
    { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
  );
  const jobLabels = fc.array(label, { maxLength: 5 });
  // Label sets distinct (the construct refuses twins), from a small vocabulary so that ties are frequent.
  const labelSets = fc.uniqueArray(fc.uniqueArray(fc.constantFrom(...vocabulary), { minLength: 1, maxLength: 4 }), {
    maxLength: 6,
    selector: (labels) => routingLabels(labels).join(','),
  });
  /** Configs as the construct writes them: each with a priority (few values, so that equal ones are frequent) and its order. */
  const rankedSet = labelSets.chain((sets) => fc.array(fc.integer({ min: 0, max: 2 }), { minLength: sets.length, maxLength: sets.length })
    .map((priorities) => sets.map((labels, i) => testConfig(`config-${i}`, labels, 'org', { priority: priorities[i], order: i }))));
  /** Configs of an older deployment's documents: no rank. */
  const unrankedSet = labelSets.map((sets) => sets.map((labels, i) => testConfig(`config-${i}`, labels)));
  const configSet = fc.oneof(rankedSet, unrankedSet);
  /** A set and the same configs in another order, as SSM or a cache might list them. */
  const reordered = <C>(set: fc.Arbitrary<C[]>) =>
    set.chain((listed) => fc.tuple(fc.constant(listed), fc.shuffledSubarray(listed, { minLength: listed.length })));
  /** Flips the case of ASCII letters only, as a workflow author might write them. */
  const recased = (labels: readonly string[]) => fc.array(fc.boolean(), { minLength: 64, maxLength: 64 }).map((flips) =>
    labels.map((l, i) => [...l].map((c, j) => (/[a-z]/i.test(c) && flips[(i * 7 + j) % 64] ? (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase()) : c)).join('')));

  test('routing does not change when ASCII letters change case', () => {
    fc.assert(fc.property(configSet, jobLabels.chain((labels) => fc.tuple(fc.constant(labels), recased(labels))), (set, [labels, changed]) => {
      expect(routedName(changed, set)).toBe(routedName(labels, set));
    }));
  });

  test('routing does not change when self-hosted is added or removed', () => {
    fc.assert(fc.property(configSet, jobLabels, fc.constantFrom('self-hosted', 'Self-Hosted', 'SELF-HOSTED'), (set, labels, selfHosted) => {
      const without = labels.filter((l) => l.toLowerCase() !== 'self-hosted');
      expect(routedName([selfHosted, ...without], set)).toBe(routedName(without, set));
      expect(routedName([...without, selfHosted], set)).toBe(routedName(without, set));
    }));
  });

  test('the outcome is the same for any order the configs are read in', () => {
    fc.assert(fc.property(reordered(configSet), fc.array(fc.constantFrom(...vocabulary), { maxLength: 3 }), ([set, shuffled], labels) => {
      expect(routedName(labels, shuffled)).toBe(routedName(labels, set));
    }));
  });

  test('a matched config holds every job label, and no config that does has fewer extra labels', () => {
    fc.assert(fc.property(configSet, jobLabels, (set, labels) => {
      const wanted = routingLabels(labels);
      const fitting = set.filter((c) => wanted.every((l) => c.labels.includes(l)));
      const match = routeJob(labels, set);
      if (match.kind === 'unmatched') {
        expect(fitting).toEqual([]);
        return;
      }
      const chosen = match.kind === 'matched' ? [match.config, ...match.tiedWith] : match.candidates;
      for (const config of chosen) {
        expect(wanted.every((l) => config.labels.includes(l))).toBe(true);
        expect(config.labels.length - wanted.length).toBe(match.extraLabels);
      }
      for (const config of fitting) {
        const extra = config.labels.length - wanted.length;
        expect(extra).toBeGreaterThanOrEqual(match.extraLabels);
        if (extra === match.extraLabels) expect(chosen).toContain(config);
      }
    }));
  });

  test('among configs the construct ranked, a tie always has a winner: the highest priority, then the first listed', () => {
    fc.assert(fc.property(rankedSet, fc.array(fc.constantFrom(...vocabulary), { maxLength: 3 }), (set, labels) => {
      const match = routeJob(labels, set);
      expect(match.kind).not.toBe('ambiguous');
      if (match.kind !== 'matched') return;
      const tied = [match.config, ...match.tiedWith];
      const topPriority = Math.max(...tied.map((c) => c.priority!));
      const firstListed = Math.min(...tied.filter((c) => c.priority === topPriority).map((c) => c.order!));
      expect(match.config).toMatchObject({ priority: topPriority, order: firstListed });
    }));
  });

  test('configs without a rank (an older deployment\'s) never win a tie: it is ambiguous', () => {
    fc.assert(fc.property(unrankedSet, fc.array(fc.constantFrom(...vocabulary), { maxLength: 3 }), (set, labels) => {
      const match = routeJob(labels, set);
      if (match.kind === 'matched') expect(match.tiedWith).toEqual([]);
      if (match.kind === 'ambiguous') expect(match.candidates.length).toBeGreaterThan(1);
    }));
  });

  test('a label outside the ASCII folding of a config label never matches it', () => {
    fc.assert(fc.property(configSet, fc.constantFrom(...hostile.filter((h) => h !== '')), (set, odd) => {
      expect(routeJob([odd], set).kind).toBe('unmatched');
    }));
  });
});

describe('synth and run time agree on ties', () => {
  const vocabulary = ['linux', 'x64', 'arm64', 'gpu', 'large', 'k8s'];
  /** Runner configs as a user writes them in runnerConfigs: label sets distinct, some with a priority. */
  const runnerConfigs = fc.uniqueArray(fc.uniqueArray(fc.constantFrom(...vocabulary), { minLength: 1, maxLength: 3 }), {
    minLength: 2,
    maxLength: 6,
    selector: (labels) => routingLabels(labels).join(','),
  }).chain((sets) => fc.array(fc.option(fc.integer({ min: 0, max: 2 }), { nil: undefined }), { minLength: sets.length, maxLength: sets.length })
    .map((priorities): RunnerConfigProps[] => sets.map((labels, i) => ({ name: `config-${i}`, labels, priority: priorities[i] }))));
  /** The documents the construct writes to SSM, as the functions parse them, in the order given. */
  const atRunTime = (props: readonly RunnerConfigProps[], order: readonly number[]) =>
    order.map((i) => parseRunnerConfigParameter(`/runners/configs/${props[i].name}`, JSON.stringify(toRunnerConfigDocument(props[i], i))));
  const withReadOrder = runnerConfigs.chain((props) =>
    fc.tuple(fc.constant(props), fc.shuffledSubarray([...props.keys()], { minLength: props.length })));

  test('every tie synth reports goes, at run time, to the winner it names, whatever order SSM lists the parameters in', () => {
    fc.assert(fc.property(withReadOrder, ([props, order]) => {
      const functions = atRunTime(props, order);
      for (const tie of findTies(rankedConfigs(props))) {
        expect(tie.winner).toBeDefined();
        const match = routeJob(tie.jobLabels, functions);
        expect(match.kind === 'matched' && match.config.name).toBe(tie.winner!.name);
        expect(match.kind === 'matched' && [match.config, ...match.tiedWith].map((c) => c.name)).toEqual(tie.configs.map((c) => c.name));
      }
    }));
  });

  test('for any job, the config synth ranks first is the one the functions route to', () => {
    const job = fc.array(fc.constantFrom(...vocabulary, 'Linux', 'self-hosted'), { maxLength: 4 });
    fc.assert(fc.property(withReadOrder, job, ([props, order], labels) => {
      const atSynth = matchLabels(labels, rankedConfigs(props));
      const match = routeJob(labels, atRunTime(props, order));
      expect(match.kind).toBe(atSynth.kind);
      if (match.kind === 'matched' && atSynth.kind === 'matched') expect(match.config.name).toBe(atSynth.config.name);
    }));
  });

  test('every config that some labelled job meets in a tie is named by a reported tie', () => {
    fc.assert(fc.property(runnerConfigs, (props) => {
      const ranks = rankedConfigs(props);
      const reported = new Set(findTies(ranks).flatMap((tie) => tie.configs.map((c) => c.name)));
      // Brute force over every job that asks for some of the vocabulary.
      const subsets = vocabulary.reduce<string[][]>((found, label) => [...found, ...found.map((s) => [...s, label])], [[]]);
      for (const labels of subsets.filter((s) => s.length > 0)) {
        const match = matchLabels(labels, ranks);
        if (match.kind === 'matched' && match.tiedWith.length > 0) {
          for (const config of [match.config, ...match.tiedWith]) expect(reported).toContain(config.name);
        }
      }
    }));
  });

  test('the rank comparison is a strict order on distinct ranks', () => {
    const rank = fc.record({ priority: fc.nat(1000), order: fc.nat(50) });
    fc.assert(fc.property(rank, rank, (a, b) => {
      expect(Math.sign(compareRanks(a, b)) + Math.sign(compareRanks(b, a))).toBe(0);
      expect(compareRanks(a, b) === 0).toBe(a.priority === b.priority && a.order === b.order);
    }));
  });
});

describe('pool of a routed job', () => {
  const orgConfig = testConfig('linux-x64', ['linux', 'x64'], 'org');
  const repoConfig = testConfig('k8s', ['k8s'], 'repo');

  test('an org config pools by the folded organization login', () => {
    expect(poolFor(orgConfig, { owner: 'Octo-Org', repo: 'Hello.World', org: 'Octo-Org' })).toEqual({
      poolId: 'octo-org#linux-x64', configName: 'linux-x64', scope: { kind: 'org', org: 'octo-org' },
    });
  });

  test('an org config falls back to the repository when it has no organization (user-owned)', () => {
    expect(poolFor(orgConfig, { owner: 'Codertocat', repo: 'Hello-World' })).toEqual({
      poolId: 'codertocat/hello-world#linux-x64', configName: 'linux-x64', scope: { kind: 'repo', owner: 'codertocat', repo: 'hello-world' },
    });
  });

  test('an enterprise config pools jobs of every organization into one pool at the enterprise; user-owned repositories at the repository', () => {
    const enterpriseConfig = { ...testConfig('shared', ['shared'], 'org'), scope: 'enterprise' as const, enterprise: 'octo-ent' };
    const first = poolFor(enterpriseConfig, { owner: 'Octo-Org', repo: 'app', org: 'Octo-Org' });
    const second = poolFor(enterpriseConfig, { owner: 'Other-Org', repo: 'api', org: 'Other-Org' });
    expect(first).toEqual({ poolId: 'enterprise:octo-ent#shared', configName: 'shared', scope: { kind: 'enterprise', enterprise: 'octo-ent' } });
    expect(second).toEqual(first);
    expect(poolFor(enterpriseConfig, { owner: 'Codertocat', repo: 'Hello' }).scope).toEqual({ kind: 'repo', owner: 'codertocat', repo: 'hello' });
  });

  test('a repo config pools by the folded owner/name even in an organization', () => {
    expect(poolFor(repoConfig, { owner: 'Octo-Org', repo: 'Infra', org: 'Octo-Org' }).poolId).toBe('octo-org/infra#k8s');
  });

  test('pool ids of valid names have exactly one # and no upper case', () => {
    const login = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_-]{0,20}$/);
    const repo = fc.stringMatching(/^[A-Za-z0-9._-]{1,20}$/).filter((r) => r !== '.' && r !== '..');
    fc.assert(fc.property(login, repo, fc.option(login, { nil: undefined }), fc.constantFrom(orgConfig, repoConfig), (owner, name, org, config) => {
      const { poolId } = poolFor(config, { owner, repo: name, org });
      expect(poolId.split('#')).toHaveLength(2);
      expect(poolId).toBe(poolId.toLowerCase());
      expect(poolId.endsWith(`#${config.name}`)).toBe(true);
    }));
  });
});
