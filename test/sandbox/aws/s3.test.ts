// The S3 simulator's GetObject as a runner instance calls it: signed with the AWS SDK's own SigV4 signer
// (curl --aws-sigv4 signs it in test/image-builder/bootstrap.test.ts), authorized by the IAM engine.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { SignatureV4 } from '@smithy/signature-v4';
import type { CallerIdentity } from '../../../sandbox/aws/function-url';
import { S3Simulator } from '../../../sandbox/aws/s3';
import { NodeSha256 } from '../../../sandbox/aws/sigv4-verifier';
import { IamAuthorizer } from '../../../sandbox/iam/authorizer';
import { rolesWithPolicies, serviceAuthorizer } from '../../../sandbox/iam/services';

const ACCOUNT = '123456789012';
const BUCKET = 'cdk-hnb659fds-assets-123456789012-eu-west-1';
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const runner: CallerIdentity = {
  accountId: ACCOUNT, roleName: 'RunnerRole', roleId: 'AROARUNNERROLE000001', sessionName: 'i-0123456789abcdef0', secretAccessKey: 'runner-secret',
};
const keys: Record<string, CallerIdentity> = { ASIARUNNER: runner };
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 's3-sim-'));
const object = (key: string, text: string) => {
  fs.writeFileSync(path.join(dir, key), text);
  return [`${BUCKET}/${key}`, path.join(dir, key)] as const;
};
const iam = new IamAuthorizer({
  accountId: ACCOUNT,
  // As the construct grants it: the hook's object, nothing else of the bucket.
  roles: rolesWithPolicies({ RunnerRole: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${BUCKET}/hook.sh` }] }),
});
const sim = new S3Simulator({
  region: 'eu-west-1',
  objects: new Map([object('hook.sh', 'echo hook\n'), object('other.sh', 'echo other\n')]),
  identityFor: (key) => keys[key],
  authorize: serviceAuthorizer('s3', { authorizer: () => iam, context: { region: 'eu-west-1', accountId: ACCOUNT }, identityFor: (key) => keys[key] }),
});

beforeAll(() => sim.start());
afterAll(async () => {
  await sim.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** GET `key`, signed for s3 with `secret` (unsigned when 'unsigned'), with the content hash header unless told not to. */
async function get(key: string, secret: string = runner.secretAccessKey, contentHash = true) {
  const url = new URL(`${sim.url}/${BUCKET}/${key}`);
  const headers: Record<string, string> = { host: url.host, ...(contentHash ? { 'x-amz-content-sha256': EMPTY_SHA256 } : {}) };
  const signed = secret === 'unsigned' ? { headers } : await new SignatureV4({
    credentials: { accessKeyId: 'ASIARUNNER', secretAccessKey: secret }, region: 'eu-west-1', service: 's3', sha256: NodeSha256, uriEscapePath: false, applyChecksum: contentHash,
  }).sign({ method: 'GET', protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: url.pathname, query: {}, headers });
  const response = await fetch(url, { headers: signed.headers as Record<string, string> });
  const body = await response.text();
  return { status: response.status, body, code: /<Code>([^<]+)<\/Code>/.exec(body)?.[1] };
}

test('a signed GET of an object the role may read answers its bytes', async () => {
  expect(await get('hook.sh')).toEqual({ status: 200, body: 'echo hook\n', code: undefined });
});

test('an object the role may not read is AccessDenied, and so is a key that does not exist (no s3:ListBucket)', async () => {
  expect(await get('other.sh')).toMatchObject({ status: 403, code: 'AccessDenied' });
  expect(await get('missing.sh')).toMatchObject({ status: 403, code: 'AccessDenied' });
});

test('SigV4 is S3\'s: unsigned is AccessDenied, a wrong secret SignatureDoesNotMatch, no x-amz-content-sha256 InvalidRequest', async () => {
  const before = { ...sim.gets.refused };
  expect(await get('hook.sh', 'unsigned')).toMatchObject({ status: 403, code: 'AccessDenied' });
  expect(await get('hook.sh', 'guessed')).toMatchObject({ status: 403, code: 'SignatureDoesNotMatch' });
  expect(await get('hook.sh', runner.secretAccessKey, false)).toMatchObject({ status: 400, code: 'InvalidRequest' });
  const counted = (code: string) => (sim.gets.refused[code] ?? 0) - (before[code] ?? 0);
  expect(['AccessDenied', 'SignatureDoesNotMatch', 'InvalidRequest'].map(counted)).toEqual([1, 1, 1]);
});

test('the sandbox\'s DNS maps a bucket\'s virtual-hosted-style URL to the simulator', () => {
  expect(sim.localUrl(`https://${BUCKET}.s3.eu-west-1.amazonaws.com/hook.sh`)).toBe(`${sim.url}/${BUCKET}/hook.sh`);
  expect(sim.localUrl('https://other-bucket.s3.eu-west-1.amazonaws.com/x')).toBe('https://other-bucket.s3.eu-west-1.amazonaws.com/x');
});
