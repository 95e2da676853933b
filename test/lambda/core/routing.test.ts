import * as fc from 'fast-check';
import { poolFor, routeJob } from '../../../lambda/core/routing';
import { RunnerConfig } from '../../../lambda/core/runner-config';
import { routingLabels } from '../../../src/runner-labels';
import { testConfig } from '../support/configs';

const linuxX64 = testConfig('linux-x64', ['linux', 'x64']);
const linuxX64Large = testConfig('linux-x64-large', ['linux', 'x64', 'large']);
const linuxArm64 = testConfig('linux-arm64', ['linux', 'arm64']);
const dependabot = testConfig('dependabot', ['dependabot']);
const k8s = testConfig('k8s', ['k8s'], 'repo');
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

  test('a tie between configs with equally many extra labels is ambiguous and names both', () => {
    expect(routedName(['linux'], [linuxX64, linuxArm64])).toBe('ambiguous:linux-arm64,linux-x64');
    const gpu = testConfig('linux-x64-gpu', ['linux', 'x64', 'gpu']);
    expect(routedName(['linux', 'x64'], [linuxX64Large, gpu])).toBe('ambiguous:linux-x64-gpu,linux-x64-large');
  });

  test('labels no config offers match nothing', () => {
    expect(routedName(['ubuntu-latest'])).toBe('unmatched');
    expect(routedName(['linux', 'x64', 'gpu'])).toBe('unmatched');
  });

  test('a job with no labels (older GHES) goes to the config with the fewest labels, or is ambiguous', () => {
    expect(routedName([], [linuxX64, linuxX64Large])).toBe('linux-x64');
    expect(routedName(['self-hosted'], [linuxX64, linuxArm64])).toBe('ambiguous:linux-arm64,linux-x64');
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
  const configSet = fc.uniqueArray(fc.uniqueArray(fc.constantFrom(...vocabulary), { minLength: 1, maxLength: 4 }), {
    maxLength: 6,
    selector: (labels) => routingLabels(labels).join(','),
  }).map((sets) => sets.map((labels, i) => testConfig(`config-${i}`, labels)));
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

  test('a matched config holds every job label, and no config that does has fewer extra labels', () => {
    fc.assert(fc.property(configSet, jobLabels, (set, labels) => {
      const wanted = routingLabels(labels);
      const fitting = set.filter((c) => wanted.every((l) => c.labels.includes(l)));
      const match = routeJob(labels, set);
      if (match.kind === 'unmatched') {
        expect(fitting).toEqual([]);
        return;
      }
      const chosen = match.kind === 'matched' ? [match.config] : match.candidates;
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

  test('a label outside the ASCII folding of a config label never matches it', () => {
    fc.assert(fc.property(configSet, fc.constantFrom(...hostile.filter((h) => h !== '')), (set, odd) => {
      expect(routeJob([odd], set).kind).toBe('unmatched');
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
