import fc from 'fast-check';
import {
  CONTROL_PLANE_ENVIRONMENT, decodeEnvironment, encodeEnvironment, EnvironmentVariableError, LAUNCH_ENVIRONMENT, PACING_ENVIRONMENT,
} from '../../src/contracts/environment';

const LAUNCH_AND_PACING = { ...LAUNCH_ENVIRONMENT, ...PACING_ENVIRONMENT };

describe('function environment contract', () => {
  test('what the construct encodes, the function decodes unchanged', () => {
    const word = fc.stringMatching(/^[A-Za-z0-9:/._-]{1,20}$/);
    fc.assert(fc.property(
      fc.record({ subnetIds: fc.array(word, { minLength: 1, maxLength: 4 }), launchTemplates: fc.dictionary(word, word) }),
      fc.option(fc.nat(), { nil: undefined }),
      (launch, spacing) => {
        const values = { ...launch, ...(spacing === undefined ? {} : { githubWriteSpacingMs: spacing }) };
        expect(decodeEnvironment(LAUNCH_AND_PACING, encodeEnvironment(LAUNCH_AND_PACING, values))).toEqual(values);
      },
    ));
  });

  test('every missing variable is named at once, with the fix', () => {
    const decode = () => decodeEnvironment(CONTROL_PLANE_ENVIRONMENT, { TABLE_NAME: 'state', QUEUE_URL: '' });
    expect(decode).toThrow(EnvironmentVariableError);
    expect(decode).toThrow(/missing environment variables QUEUE_URL, RUNNER_CONFIG_PATH, .*MAX_LIFETIME_SECONDS: the construct sets them; redeploy it/);
  });

  test('a malformed number or JSON value is refused by name; an unset optional one is left out', () => {
    let error: unknown;
    try {
      decodeEnvironment(LAUNCH_AND_PACING, { SUBNET_IDS: 'subnet-1', LAUNCH_TEMPLATES: '["lt-1"]', GITHUB_RETRY_BASE_MS: '1.5' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(EnvironmentVariableError);
    expect((error as EnvironmentVariableError).variables).toEqual(['LAUNCH_TEMPLATES', 'GITHUB_RETRY_BASE_MS']);
    expect(decodeEnvironment(LAUNCH_AND_PACING, { SUBNET_IDS: 'subnet-1,subnet-2', LAUNCH_TEMPLATES: '{"linux":"lt-1"}' }))
      .toEqual({ subnetIds: ['subnet-1', 'subnet-2'], launchTemplates: { linux: 'lt-1' } });
  });
});
