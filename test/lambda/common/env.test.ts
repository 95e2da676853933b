import { parseGitHubHost, readEnvironment } from '../../../lambda/common/env';
import { EnvironmentError } from '../../../lambda/common/errors';

describe('reading the environment', () => {
  test('the named variables are returned', () => {
    expect(readEnvironment(['A', 'B'], { A: '1', B: '2', C: '3' })).toEqual({ A: '1', B: '2' });
  });

  test('every missing or empty variable is named at once', () => {
    expect(() => readEnvironment(['A', 'B', 'C'], { B: '' })).toThrow(new EnvironmentError('missing environment variables A, B, C: the construct sets them; redeploy it', ['A', 'B', 'C']));
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
