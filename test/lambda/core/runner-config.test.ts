import { ConfigError } from '../../../lambda/core/errors';
import { checkRunnerConfigSet, parseRunnerConfigParameter } from '../../../lambda/core/runner-config';
import { configDocument, testConfig } from '../support/configs';

const PARAMETER = '/runners/configs/linux-x64';

function parse(doc: unknown): unknown {
  return parseRunnerConfigParameter(PARAMETER, JSON.stringify(doc));
}

function withField(field: string, value: unknown): Record<string, unknown> {
  const doc = configDocument('linux-x64', ['linux', 'x64']);
  if (value === undefined) delete doc[field];
  else doc[field] = value;
  return doc;
}

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError, nothing was thrown');
}

describe('parsing a runner config parameter', () => {
  test('a document as the construct writes it parses, with its parameter name', () => {
    const config = parseRunnerConfigParameter(PARAMETER, JSON.stringify(configDocument('linux-x64', ['Linux', 'X64'])));

    expect(config).toEqual({
      parameterName: PARAMETER,
      version: 1,
      name: 'linux-x64',
      labels: ['linux', 'x64'],
      runnerLabels: ['self-hosted', 'Linux', 'X64'],
      instanceTypes: ['m7i.large', 'm6i.large'],
      architecture: 'x64',
      spot: 'SPOT_PREFERRED',
      maxRunners: 10,
      scope: 'org',
      runnerGroupId: 1,
    });
  });

  test('an enterprise config keeps its slug and its runner group name; an organization config ignores a stray slug', () => {
    const enterprise = parse({ ...withField('scope', 'enterprise'), enterprise: 'octo-enterprise', runnerGroupName: 'linux builders' });
    expect(enterprise).toMatchObject({ scope: 'enterprise', enterprise: 'octo-enterprise', runnerGroupName: 'linux builders' });
    expect(parse({ ...withField('scope', 'org'), enterprise: 'octo-enterprise' })).not.toHaveProperty('enterprise');
  });

  test('priority and order parse into the config\'s routing rank; a document without them (an older deployment\'s) has none', () => {
    const ranked = parse({ ...withField('priority', 5), order: 2 }) as Record<string, unknown>;
    expect(ranked).toMatchObject({ priority: 5, order: 2, rank: { priority: 5, order: 2 } });
    expect(parse(withField('order', undefined))).not.toHaveProperty('rank');
  });

  test.each<[string, Record<string, unknown>, RegExp]>([
    ['priority without order', { priority: 1 }, /`order` must be a whole number of at least 0 when `priority` is given, found nothing/],
    ['order without priority', { order: 1 }, /`priority` must be a whole number from 0 to 1000 when `order` is given, found nothing/],
    ['a priority above the range', { priority: 1001, order: 0 }, /`priority` must be a whole number from 0 to 1000.*found 1001/],
    ['a fractional order', { priority: 0, order: 0.5 }, /`order` must be a whole number.*found 0\.5/],
    ['a priority as text', { priority: '1', order: 0 }, /`priority` must be a whole number.*found "1"/],
  ])('%s is refused, naming the parameter', (_, rank, message) => {
    const error = configError(() => parse({ ...configDocument('linux-x64', ['linux', 'x64']), ...rank }));
    expect(error.message).toMatch(message);
    expect(error.message).toContain(PARAMETER);
  });

  test('a document without an architecture (written before it existed) is x64; an unknown one is refused', () => {
    expect(parseRunnerConfigParameter(PARAMETER, JSON.stringify(withField('architecture', undefined))).architecture).toBe('x64');
    expect(parseRunnerConfigParameter(PARAMETER, JSON.stringify(withField('architecture', 'arm64'))).architecture).toBe('arm64');
    expect(configError(() => parse(withField('architecture', 'mips'))).message).toMatch(/`architecture` must be x64 or arm64, found "mips"/);
  });

  test('instance requirements parse in place of instance types; neither, both, or a bad range is refused', () => {
    const requirements = { vCpuMin: 2, vCpuMax: 8, memoryMiBMin: 8192 };
    const doc = { ...withField('instanceTypes', []), instanceRequirements: requirements };
    expect(parse(doc)).toMatchObject({ instanceTypes: [], instanceRequirements: { ...requirements, memoryMiBMax: undefined } });
    expect(configError(() => parse(withField('instanceTypes', []))).message).toMatch(/at least one EC2 instance type, or `instanceRequirements`/);
    expect(configError(() => parse({ ...withField('instanceTypes', ['m7i.large']), instanceRequirements: requirements })).message).toMatch(/not both/);
    expect(configError(() => parse({ ...doc, instanceRequirements: { vCpuMin: 0, memoryMiBMin: 1 } })).message).toMatch(/vCpuMin` must be a whole number of at least 1, found 0/);
  });

  test('fields the reader does not know are ignored', () => {
    expect(parse({ ...configDocument('a', ['b']), futureField: true })).toMatchObject({ name: 'a' });
  });

  test('a value that is not JSON names the parameter', () => {
    const error = configError(() => parseRunnerConfigParameter(PARAMETER, '{"version": 1,'));
    expect(error.message).toContain(PARAMETER);
    expect(error.message).toContain('not JSON');
    expect(error.parameterName).toBe(PARAMETER);
  });

  test.each<[string, unknown, string]>([
    ['not an object', [1, 2], 'expected a JSON object'],
    ['null', null, 'expected a JSON object'],
    ['a newer version', withField('version', 2), '`version` must be 1, found 2'],
    ['no version', withField('version', undefined), '`version` must be 1, found nothing'],
    ['an upper-case name', withField('name', 'Linux'), '`name` must be'],
    ['a name with #', withField('name', 'a#b'), '`name` must be'],
    ['labels not an array', withField('labels', 'linux'), '`labels` must be an array of strings'],
    ['a non-string label', withField('labels', ['linux', 5]), '`labels` must be an array of strings'],
    ['an empty label', withField('labels', ['', 'linux']), '`labels` contains an empty string'],
    ['unfolded labels', withField('labels', ['Linux', 'x64']), 'must be case-folded: found "Linux", expected "linux"'],
    ['self-hosted among labels', withField('labels', ['linux', 'self-hosted', 'x64']), 'must not contain self-hosted'],
    ['unsorted labels', withField('labels', ['x64', 'linux']), 'must be sorted and without duplicates'],
    ['duplicate labels', withField('labels', ['linux', 'linux', 'x64']), 'must be sorted and without duplicates'],
    ['runnerLabels without self-hosted first', withField('runnerLabels', ['linux', 'x64']), '`runnerLabels` must start with self-hosted'],
    ['runnerLabels that differ from labels', withField('runnerLabels', ['self-hosted', 'linux', 'arm64']), 'do not fold to `labels`'],
    ['no instance types', withField('instanceTypes', []), 'at least one EC2 instance type'],
    ['a malformed instance type', withField('instanceTypes', ['m7i large']), 'not an EC2 instance type name'],
    ['an unknown spot strategy', withField('spot', 'CHEAP'), '`spot` must be one of SPOT_ONLY, SPOT_PREFERRED, ON_DEMAND_ONLY, found "CHEAP"'],
    ['a fractional maxRunners', withField('maxRunners', 1.5), '`maxRunners` must be a whole number'],
    ['a negative maxRunners', withField('maxRunners', -1), '`maxRunners` must be a whole number'],
    ['maxRunners as a string', withField('maxRunners', '10'), '`maxRunners` must be a whole number'],
    ['an unknown scope', withField('scope', 'team'), '`scope` must be one of enterprise, org, repo, found "team"'],
    ['the enterprise scope without its slug', withField('scope', 'enterprise'), '`enterprise` must be the enterprise\'s slug'],
    ['the enterprise scope with a slug of capitals', { ...withField('scope', 'enterprise'), enterprise: 'Octo' }, '`enterprise` must be the enterprise\'s slug'],
    ['runner group 0', withField('runnerGroupId', 0), '`runnerGroupId` must be a positive whole number'],
    ['a blank runner group name', withField('runnerGroupName', ' '), '`runnerGroupName` must be a runner group\'s name'],
  ])('%s is a ConfigError naming the problem and the parameter', (_, doc, problem) => {
    const error = configError(() => parse(doc));

    expect(error.message).toContain(problem);
    expect(error.message).toContain(PARAMETER);
    expect(error.message).toContain('redeploy');
  });

  test('a very long value in an error message is shortened', () => {
    const error = configError(() => parse(withField('spot', 'x'.repeat(10_000))));
    expect(error.message.length).toBeLessThan(500);
  });
});

describe('checking the set of configs under the path', () => {
  test('no config at all is an error naming the path', () => {
    const error = configError(() => checkRunnerConfigSet([], '/runners/configs'));
    expect(error.message).toContain('/runners/configs');
  });

  test('two parameters with the same config name is an error naming both', () => {
    const a = { ...testConfig('linux', ['linux']), parameterName: '/p/a' };
    const b = { ...testConfig('linux', ['linux', 'x64']), parameterName: '/p/b' };
    const error = configError(() => checkRunnerConfigSet([a, b], '/p'));
    expect(error.message).toContain('/p/a');
    expect(error.message).toContain('/p/b');
  });

  test('distinct configs pass unchanged', () => {
    const set = [testConfig('a', ['a']), testConfig('b', ['b'])];
    expect(checkRunnerConfigSet(set, '/p')).toBe(set);
  });
});
