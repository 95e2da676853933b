import { execFile } from 'child_process';
import { promisify } from 'util';
import { EC2Client } from '@aws-sdk/client-ec2';
import { createFleet, ec2Client, fleetInput, RUNNER_TEMPLATE, startSimulator, waitFor } from './helpers';
import { Ec2Simulator } from '../../../sandbox/ec2';

const run = promisify(execFile);

/** Runs the real curl; returns the HTTP status and body. */
async function curl(args: string[]): Promise<{ status: number; body: string }> {
  const { stdout } = await run('curl', ['-s', '-w', '\n%{http_code}', ...args]);
  const cut = stdout.lastIndexOf('\n');
  return { status: Number(stdout.slice(cut + 1)), body: stdout.slice(0, cut) };
}

describe('simulated IMDSv2', () => {
  let sim: Ec2Simulator;
  let ec2: EC2Client;
  let templateId: string;

  beforeAll(async () => {
    sim = await startSimulator({ seed: 5 });
    ec2 = ec2Client(sim);
    templateId = sim.registerLaunchTemplate(RUNNER_TEMPLATE).launchTemplateId;
  });

  afterAll(async () => {
    ec2.destroy();
    await sim.stop();
  });

  async function runningInstance(lt = templateId): Promise<string> {
    const result = await createFleet(ec2, fleetInput(lt, 1));
    const id = result.Instances![0].InstanceIds![0];
    await waitFor(() => sim.instance(id)?.state === 'running');
    return id;
  }

  async function token(base: string, ttl = '21600'): Promise<string> {
    const res = await fetch(`${base}/latest/api/token`, { method: 'PUT', headers: { 'X-aws-ec2-metadata-token-ttl-seconds': ttl } });
    expect(res.status).toBe(200);
    return res.text();
  }

  test('a shell script with curl reads what the bootstrap reads with only the base URL changed', async () => {
    // Arrange
    const id = await runningInstance();
    const script = [
      'set -eu',
      'TOKEN=$(curl -sf -X PUT "$IMDS/latest/api/token" -H "X-aws-ec2-metadata-token-ttl-seconds: 21600")',
      'md() { curl -sf -H "X-aws-ec2-metadata-token: $TOKEN" "$IMDS/latest/$1"; }',
      'echo "$(md meta-data/instance-id) $(md meta-data/placement/region)"',
      'ROLE=$(md meta-data/iam/security-credentials/)',
      'md "meta-data/iam/security-credentials/$ROLE"',
    ].join('\n');

    // Act
    const { stdout } = await run('bash', ['-c', script], { env: { ...process.env, IMDS: `${sim.imds.url}/${id}` } });

    // Assert
    const [first, ...rest] = stdout.split('\n');
    expect(first).toBe(`${id} us-east-1`);
    const credentials = JSON.parse(rest.join('\n')) as Record<string, string>;
    expect(credentials).toMatchObject({ Code: 'Success', Type: 'AWS-HMAC' });
    expect(credentials.AccessKeyId).toMatch(/^ASIA[A-Z2-7]{16}$/);
    expect(credentials.Expiration).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(credentials.LastUpdated).toMatch(/Z$/);
    expect(credentials.SecretAccessKey).toBeTruthy();
    expect(credentials.Token).toBeTruthy();
  });

  test('curl without a token gets 401 (IMDSv2 required)', async () => {
    const id = await runningInstance();

    const res = await curl([`${sim.imds.url}/${id}/latest/meta-data/instance-id`]);

    expect(res.status).toBe(401);
  });

  test.each([
    [undefined, 400],
    ['0', 400],
    ['21601', 400],
    ['ten', 400],
    ['1', 200],
    ['21600', 200],
  ])('a token PUT with TTL header %s answers %i', async (ttl, status) => {
    const id = await runningInstance();
    const headers = ttl === undefined ? [] : ['-H', `X-aws-ec2-metadata-token-ttl-seconds: ${ttl}`];

    const res = await curl(['-X', 'PUT', ...headers, `${sim.imds.url}/${id}/latest/api/token`]);

    expect(res.status).toBe(status);
  });

  test('a token is good only for its own instance and only until its TTL runs out', async () => {
    // Arrange
    const a = `${sim.imds.url}/${await runningInstance()}`;
    const b = `${sim.imds.url}/${await runningInstance()}`;
    const tokenA = await token(a);
    const shortLived = await token(a, '1');

    // Act
    const onB = await fetch(`${b}/latest/meta-data/instance-id`, { headers: { 'X-aws-ec2-metadata-token': tokenA } });
    const garbage = await fetch(`${a}/latest/meta-data/instance-id`, { headers: { 'X-aws-ec2-metadata-token': 'AQAEAnot-a-token' } });
    await sim.clock.sleep(2_000);
    const expired = await fetch(`${a}/latest/meta-data/instance-id`, { headers: { 'X-aws-ec2-metadata-token': shortLived } });
    const valid = await fetch(`${a}/latest/meta-data/instance-id`, { headers: { 'X-aws-ec2-metadata-token': tokenA } });

    // Assert
    expect(onB.status).toBe(401);
    expect(garbage.status).toBe(401);
    expect(expired.status).toBe(401);
    expect(valid.status).toBe(200);
  });

  test('answers as text/plain, lists a directory and knows no other path', async () => {
    // Arrange
    const base = `${sim.imds.url}/${await runningInstance()}`;
    const t = await token(base);
    const get = (path: string) => fetch(`${base}/latest/${path}`, { headers: { 'X-aws-ec2-metadata-token': t } });

    // Act
    const listing = await get('meta-data/iam/security-credentials/');
    const missing = await get('meta-data/no-such-thing');
    const post = await fetch(`${base}/latest/meta-data/instance-id`, { method: 'POST', headers: { 'X-aws-ec2-metadata-token': t } });

    // Assert
    expect(listing.headers.get('content-type')).toBe('text/plain');
    expect(await listing.text()).toBe('runner-role');
    expect(missing.status).toBe(404);
    expect(post.status).toBe(405);
  });

  test('each instance gets its own credentials, and the access key id leads back to the instance and role', async () => {
    // Arrange
    const ids = [await runningInstance(), await runningInstance()];

    // Act
    const creds = await Promise.all(ids.map(async (id) => {
      const base = `${sim.imds.url}/${id}`;
      const t = await token(base);
      const res = await fetch(`${base}/latest/meta-data/iam/security-credentials/runner-role`, { headers: { 'X-aws-ec2-metadata-token': t } });
      return JSON.parse(await res.text()) as { AccessKeyId: string; SecretAccessKey: string; Token: string; Expiration: string };
    }));

    // Assert
    expect(creds[0].AccessKeyId).not.toBe(creds[1].AccessKeyId);
    ids.forEach((id, n) => {
      const identity = sim.credentialsFor(creds[n].AccessKeyId)!;
      expect(identity).toMatchObject({
        instanceId: id,
        roleName: 'runner-role',
        secretAccessKey: creds[n].SecretAccessKey,
        sessionToken: creds[n].Token,
        arn: `arn:aws:sts::123456789012:assumed-role/runner-role/${id}`,
      });
      expect(identity.userId).toMatch(new RegExp(`^AROA[A-Z2-7]{17}:${id}$`));
      expect(Math.abs(identity.expiration - Date.parse(creds[n].Expiration))).toBeLessThan(1_000);
    });
    expect(sim.credentialsFor('ASIAUNKNOWN0000000')).toBeUndefined();
  });

  test('a template without an instance profile answers 404 for credentials; httpTokens optional allows IMDSv1', async () => {
    // Arrange
    const bare = sim.registerLaunchTemplate({
      launchTemplateName: 'bare',
      imageId: 'ami-0123456789abcdef0',
      instanceInitiatedShutdownBehavior: 'terminate',
      metadataOptions: { httpTokens: 'optional' },
    });
    const base = `${sim.imds.url}/${await runningInstance(bare.launchTemplateId)}`;

    // Act
    const v1 = await curl([`${base}/latest/meta-data/instance-id`]);
    const role = await curl([`${base}/latest/meta-data/iam/security-credentials/`]);

    // Assert
    expect(v1.status).toBe(200);
    expect(role.status).toBe(404);
  });

  test('a terminated instance\'s IMDS is gone', async () => {
    const id = await runningInstance();
    const base = `${sim.imds.url}/${id}`;
    sim.poweroff(id);
    await waitFor(() => sim.instance(id)?.state === 'terminated');

    const res = await fetch(`${base}/latest/api/token`, { method: 'PUT', headers: { 'X-aws-ec2-metadata-token-ttl-seconds': '60' } });

    expect(res.status).toBe(404);
  });
});
