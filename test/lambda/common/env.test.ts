import { parseGitHubHost } from '../../../lambda/common/env';
import { CONTROL_PLANE_ENVIRONMENT, decodeEnvironment, EnvironmentVariableError, PACING_ENVIRONMENT } from '../../../src/contracts/environment';

describe('reading the environment', () => {
  test('only the variables of the spec are returned', () => {
    const env = decodeEnvironment({ tableName: CONTROL_PLANE_ENVIRONMENT.tableName }, { TABLE_NAME: 'state', QUEUE_URL: 'q' });

    expect(env).toEqual({ tableName: 'state' });
  });

  test('every missing or empty variable is named at once', () => {
    const { tableName, queueUrl, runnerConfigPath } = CONTROL_PLANE_ENVIRONMENT;

    expect(() => decodeEnvironment({ tableName, queueUrl, runnerConfigPath }, { QUEUE_URL: '' })).toThrow(new EnvironmentVariableError(
      'missing environment variables TABLE_NAME, QUEUE_URL, RUNNER_CONFIG_PATH: the construct sets them; redeploy it', ['TABLE_NAME', 'QUEUE_URL', 'RUNNER_CONFIG_PATH'],
    ));
  });
});

describe('optional pacing', () => {
  test('the variables that are set are returned as numbers; unset or empty ones are left out', () => {
    const pacing = decodeEnvironment(PACING_ENVIRONMENT, { GITHUB_WRITE_SPACING_MS: '0', GITHUB_RETRY_BASE_MS: '', OTHER_MS: '9' });

    expect(pacing).toEqual({ githubWriteSpacingMs: 0 });
  });

  test('every variable set to anything but a whole number is named at once', () => {
    const read = () => decodeEnvironment(PACING_ENVIRONMENT, { GITHUB_WRITE_SPACING_MS: '1.5', GITHUB_RETRY_BASE_MS: 'soon', RECONCILER_GITHUB_SWEEP_MS: '250' });

    expect(read).toThrow(EnvironmentVariableError);
    expect(read).toThrow(/^GITHUB_WRITE_SPACING_MS="1\.5": expected a whole number of milliseconds; GITHUB_RETRY_BASE_MS="soon": expected a whole number of milliseconds/);
  });
});

describe('the GitHub host', () => {
  test('is lower-cased', () => {
    expect(parseGitHubHost('GHES.Example.com')).toBe('ghes.example.com');
  });

  test.each(['https://ghes.example.com', 'ghes.example.com/api', 'ghes.example.com:8443', 'ghes#1', '', 'ghes example'])('%j is refused, naming the variable', (value) => {
    expect(() => parseGitHubHost(value)).toThrow(EnvironmentVariableError);
    expect(() => parseGitHubHost(value)).toThrow(/GITHUB_HOST must be a hostname/);
  });
});

describe('the deployment-wide cap', () => {
  test('MAX_INSTANCES is read as a whole number, left out when unset, and a malformed one is named', () => {
    const { maxInstances } = CONTROL_PLANE_ENVIRONMENT;

    expect(decodeEnvironment({ maxInstances }, { MAX_INSTANCES: '25' })).toEqual({ maxInstances: 25 });
    expect(decodeEnvironment({ maxInstances }, {})).toEqual({});
    expect(() => decodeEnvironment({ maxInstances }, { MAX_INSTANCES: 'ten' })).toThrow(/^MAX_INSTANCES="ten": expected a whole number: the construct writes it/);
  });
});
