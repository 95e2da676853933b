// The SSM adapters through the real SDK client, against a minimal JSON 1.1 endpoint.

import { SSMClient } from '@aws-sdk/client-ssm';
import { SsmConfigSource } from '../../../lambda/config/ssm-config-source';
import { SsmSecret } from '../../../lambda/config/ssm-secret';
import { ConfigError, SecretNotSetError } from '../../../lambda/core/errors';
import { AwsJsonStub, startAwsJsonStub, StubReply, StubRequest, TEST_CLIENT_CONFIG } from '../support/aws-json-stub';
import { configDocument } from '../support/configs';

let stub: AwsJsonStub;
let answer: (request: StubRequest) => StubReply;
let ssm: SSMClient;

beforeAll(async () => {
  stub = await startAwsJsonStub((request) => answer(request));
  ssm = new SSMClient({ ...TEST_CLIENT_CONFIG, endpoint: stub.endpoint });
});
afterAll(async () => {
  ssm.destroy();
  await stub.stop();
});
beforeEach(() => {
  stub.requests.length = 0;
});

function parameter(name: string, value: unknown, type = 'String') {
  return { Name: name, Type: type, Value: typeof value === 'string' ? value : JSON.stringify(value), Version: 1 };
}

describe('runner configs from SSM', () => {
  test('every page under the path is read, recursively', async () => {
    answer = ({ body }) => (body.NextToken === undefined
      ? { body: { Parameters: [parameter('/r/configs/a', configDocument('a', ['a']))], NextToken: 'page-2' } }
      : { body: { Parameters: [parameter('/r/configs/nested/b', configDocument('b', ['b']))] } });

    const configs = await new SsmConfigSource(ssm, '/r/configs').loadConfigs();

    expect(configs.map((c) => [c.name, c.parameterName])).toEqual([['a', '/r/configs/a'], ['b', '/r/configs/nested/b']]);
    expect(stub.requests.map((r) => r.operation)).toEqual(['GetParametersByPath', 'GetParametersByPath']);
    expect(stub.requests[0].body).toMatchObject({ Path: '/r/configs', Recursive: true });
  });

  test('a broken parameter is a ConfigError naming it', async () => {
    answer = () => ({ body: { Parameters: [parameter('/r/configs/bad', { ...configDocument('bad', ['x']), spot: 'CHEAP' })] } });
    await expect(new SsmConfigSource(ssm, '/r/configs').loadConfigs()).rejects.toThrow(/\/r\/configs\/bad: `spot` must be one of/);
  });

  test('a SecureString among the configs is a ConfigError', async () => {
    answer = () => ({ body: { Parameters: [parameter('/r/configs/secret', 'AQICAH...', 'SecureString')] } });
    await expect(new SsmConfigSource(ssm, '/r/configs').loadConfigs()).rejects.toBeInstanceOf(ConfigError);
  });

  test('an empty path is a ConfigError naming the path', async () => {
    answer = () => ({ body: { Parameters: [] } });
    await expect(new SsmConfigSource(ssm, '/r/configs').loadConfigs()).rejects.toThrow(/no runner config parameters found under \/r\/configs/);
  });
});

describe('the webhook secret from SSM', () => {
  test('is read decrypted', async () => {
    answer = () => ({ body: { Parameter: parameter('/r/webhook-secret', 'hunter2', 'SecureString') } });

    expect(await new SsmSecret(ssm, '/r/webhook-secret').readSecret()).toBe('hunter2');
    expect(stub.requests[0]).toEqual({ operation: 'GetParameter', body: { Name: '/r/webhook-secret', WithDecryption: true } });
  });

  test('a parameter that does not exist (SSM answers without a message) is SecretNotSetError naming it', async () => {
    answer = () => ({ status: 400, body: { __type: 'ParameterNotFound' } });

    const read = new SsmSecret(ssm, '/r/webhook-secret').readSecret();

    await expect(read).rejects.toBeInstanceOf(SecretNotSetError);
    await expect(read).rejects.toThrow('/r/webhook-secret');
  });

  test('other SSM errors pass through', async () => {
    answer = () => ({ status: 400, body: { __type: 'ThrottlingException', message: 'Rate exceeded' } });
    await expect(new SsmSecret(ssm, '/r/webhook-secret').readSecret()).rejects.toThrow('Rate exceeded');
  });
});
