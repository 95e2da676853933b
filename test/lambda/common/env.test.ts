import { parseGitHubHost, readEnvironment, readOptionalMilliseconds } from '../../../lambda/common/env';
import { EnvironmentError } from '../../../lambda/common/errors';

describe('reading the environment', () => {
  test('the named variables are returned', () => {
    expect(readEnvironment(['A', 'B'], { A: '1', B: '2', C: '3' })).toEqual({ A: '1', B: '2' });
  });

  test('every missing or empty variable is named at once', () => {
    expect(() => readEnvironment(['A', 'B', 'C'], { B: '' })).toThrow(new EnvironmentError('missing environment variables A, B, C: the construct sets them; redeploy it', ['A', 'B', 'C']));
  });
});

describe('optional durations', () => {
  test('the variables that are set are returned as numbers; unset or empty ones are left out', () => {
    const durations = readOptionalMilliseconds(['A', 'B', 'C'], { A: '0', B: '', D: '9' });

    expect(durations).toEqual({ A: 0 });
  });

  test('every variable set to anything but a whole number is named at once', () => {
    const read = () => readOptionalMilliseconds(['A', 'B', 'C'], { A: '1.5', B: 'soon', C: '250' });

    expect(read).toThrow(EnvironmentError);
    expect(read).toThrow(/^A="1\.5", B="soon": expected a whole number of milliseconds/);
  });
});

describe('the GitHub host', () => {
  test('is lower-cased', () => {
    expect(parseGitHubHost('GHES.Example.com')).toBe('ghes.example.com');
  });

  test.each(['https://ghes.example.com', 'ghes.example.com/api', 'ghes.example.com:8443', 'ghes#1', '', 'ghes example'])('%j is refused, naming the variable', (value) => {
    expect(() => parseGitHubHost(value)).toThrow(/GITHUB_HOST must be a hostname/);
  });
});
