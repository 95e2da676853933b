import { GetParameterCommand, GetParametersByPathCommand, paginateGetParametersByPath, SSMClient } from '@aws-sdk/client-ssm';
import { ScaledClock } from '../../../sandbox/common/time';
import { SsmSimulator } from '../../../sandbox/ssm';

type SdkError = Error & { $metadata: { httpStatusCode?: number } };

async function failure(fn: () => Promise<unknown>): Promise<SdkError> {
  try {
    await fn();
  } catch (err) {
    return err as SdkError;
  }
  throw new Error('expected the call to fail');
}

describe('SSM Parameter Store simulator', () => {
  let sim: SsmSimulator;
  let ssm: SSMClient;

  beforeAll(async () => {
    sim = new SsmSimulator({ clock: new ScaledClock(0.001) });
    await sim.start();
    ssm = client(1);
  });

  afterAll(async () => {
    ssm.destroy();
    await sim.stop();
  });

  function client(maxAttempts: number): SSMClient {
    return new SSMClient({ endpoint: sim.url, region: 'us-east-1', maxAttempts, credentials: { accessKeyId: 'AKIDSANDBOX', secretAccessKey: 'sandbox-secret' } });
  }

  const put = (name: string, value: string, type: 'String' | 'StringList' | 'SecureString' = 'String'): void =>
    sim.seedParameter({ name, value, type });

  test('a String parameter round-trips with version, type, ARN and modification date', async () => {
    put('/runners/config/linux-x64', '{"labels":["linux"]}');

    const got = await ssm.send(new GetParameterCommand({ Name: '/runners/config/linux-x64' }));

    expect(got.Parameter).toMatchObject({
      Name: '/runners/config/linux-x64',
      Type: 'String',
      Value: '{"labels":["linux"]}',
      Version: 1,
      ARN: 'arn:aws:ssm:us-east-1:123456789012:parameter/runners/config/linux-x64',
      DataType: 'text',
    });
    expect(got.Parameter!.LastModifiedDate).toBeInstanceOf(Date);
  });

  test('seeding a parameter again makes a new version', async () => {
    put('/versioned', 'one');

    put('/versioned', 'two');
    const latest = await ssm.send(new GetParameterCommand({ Name: '/versioned' }));

    expect(latest.Parameter).toMatchObject({ Value: 'two', Version: 2 });
  });

  test('a SecureString is ciphertext unless WithDecryption is true; String ignores WithDecryption', async () => {
    put('/runners/github/private-key', '-----BEGIN RSA PRIVATE KEY-----secret', 'SecureString');
    put('/runners/plain', 'visible');

    const hidden = await ssm.send(new GetParameterCommand({ Name: '/runners/github/private-key' }));
    const shown = await ssm.send(new GetParameterCommand({ Name: '/runners/github/private-key', WithDecryption: true }));
    const plain = await ssm.send(new GetParameterCommand({ Name: '/runners/plain', WithDecryption: true }));

    expect(hidden.Parameter!.Type).toBe('SecureString');
    expect(hidden.Parameter!.Value).not.toContain('secret');
    expect(hidden.Parameter!.Value).toMatch(/^AQICAH[A-Za-z0-9+/=]+$/);
    expect(shown.Parameter!.Value).toBe('-----BEGIN RSA PRIVATE KEY-----secret');
    expect(plain.Parameter!.Value).toBe('visible');
  });

  test('a StringList comes back comma-joined', async () => {
    put('/lists/labels', 'linux,x64,large', 'StringList');

    const got = await ssm.send(new GetParameterCommand({ Name: '/lists/labels' }));

    expect(got.Parameter).toMatchObject({ Type: 'StringList', Value: 'linux,x64,large' });
  });

  test('GetParameter of a missing name is ParameterNotFound with no message in the body', async () => {
    const err = await failure(() => ssm.send(new GetParameterCommand({ Name: '/nope' })));

    expect(err.name).toBe('ParameterNotFound');
    expect(err.$metadata.httpStatusCode).toBe(400);
    const raw = await fetch(sim.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AmazonSSM.GetParameter' },
      body: JSON.stringify({ Name: '/nope' }),
    });
    expect(raw.headers.get('x-amzn-requestid')).toBeTruthy();
    expect(await raw.json()).toEqual({ __type: 'ParameterNotFound' });
  });

  test('GetParametersByPath: one level, or recursive, paged, and decrypting on request', async () => {
    // Arrange
    for (let n = 0; n < 12; n++) put(`/tree/configs/c${String(n).padStart(2, '0')}`, `v${n}`);
    put('/tree/configs/deep/secret', 'hush', 'SecureString');
    put('/tree/other', 'x');

    // Act
    const names: string[] = [];
    let pages = 0;
    for await (const page of paginateGetParametersByPath({ client: ssm, pageSize: 5 }, { Path: '/tree/configs' })) {
      pages += 1;
      names.push(...page.Parameters!.map((p) => p.Name!));
    }
    const recursive = await ssm.send(new GetParametersByPathCommand({ Path: '/tree/configs/', Recursive: true, MaxResults: 10 }));
    const deep = await ssm.send(new GetParametersByPathCommand({ Path: '/tree/configs/deep', WithDecryption: true }));

    // Assert
    expect(pages).toBe(3);
    expect(names).toHaveLength(12);
    expect(names).not.toContain('/tree/configs/deep/secret');
    expect(recursive.Parameters).toHaveLength(10);
    expect(recursive.NextToken).toBeDefined();
    expect(deep.Parameters).toEqual([expect.objectContaining({ Name: '/tree/configs/deep/secret', Value: 'hush' })]);
  });

  test('seedParameter writes reserved names the API would refuse, for public parameters', async () => {
    sim.seedParameter({ name: '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64', value: 'ami-0123456789abcdef0', type: 'String' });

    const got = await ssm.send(new GetParameterCommand({ Name: '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64' }));

    expect(got.Parameter!.Value).toBe('ami-0123456789abcdef0');
  });
});
