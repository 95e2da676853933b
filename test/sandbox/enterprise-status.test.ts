// The status command's check of the enterprise credential, against the sandbox: it names what is wrong with the token the
// operator wrote (not set, without manage_runners:enterprise, with scopes beyond it) and a runner group the enterprise lacks,
// each with its fix, and passes once the token has that scope only and the group exists.
import { DeleteParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { status } from './setup-flow';
import { parseScenario } from '../../sandbox/scenario';
import { RunningSandbox, startSandbox } from '../../sandbox/system';

jest.setTimeout(600_000);

const scenario = parseScenario({
  name: 'enterprise-status',
  seed: 16,
  timeScale: 0.05,
  enterprise: { slug: 'octo-enterprise', organizations: ['other-org'], tokenScopes: ['repo'], missingGroups: ['GPU'] },
  runnerConfigs: [{ name: 'shared', labels: ['linux', 'shared'], instanceTypes: ['m7i.large'], scope: 'enterprise', runnerGroup: 'GPU' }],
  jobs: [{ repo: 'other-org/api', labels: ['self-hosted', 'linux', 'shared'], count: 0, durationMs: 10_000 }],
  faults: { github: { errorRate: 0, latencyMs: [0, 0] }, webhooks: { dropRate: 0, duplicateRate: 0, reorderRate: 0 } },
});

let sandbox: RunningSandbox;
let ssm: SSMClient;
let parameter: string;
beforeAll(async () => {
  sandbox = await startSandbox(scenario);
  const env = sandbox.operatorEnvironment;
  const credentials = { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY };
  ssm = new SSMClient({ region: env.AWS_REGION, endpoint: env.AWS_ENDPOINT_URL_SSM, credentials });
  parameter = sandbox.stack.output('EnterpriseTokenParameter');
});
afterAll(() => sandbox.stop());

async function enterpriseCheck() {
  const result = await status(sandbox);
  return result.json!.checks.find((c) => c.check === 'Enterprise credential')!;
}
const writeToken = (scopes: readonly string[]) => ssm.send(new PutParameterCommand({
  Name: parameter, Value: sandbox.ghes.createPersonalToken(scopes), Type: 'SecureString', Overwrite: true,
}));

test('a token without manage_runners:enterprise is named with its scopes and the fix', async () => {
  expect(await enterpriseCheck()).toMatchObject({
    ok: false,
    detail: 'the token lacks the manage_runners:enterprise scope (its scopes: repo)',
    fix: expect.stringMatching(/personal access token \(classic\) of an owner of enterprise octo-enterprise with the manage_runners:enterprise scope only: aws ssm put-parameter --type SecureString --overwrite --name \/ephemeral-runners\/.*\/github-enterprise\/token/),
  });
});

test('with the scope, a runner group the enterprise lacks is named; with more scopes than needed, least privilege is asked for', async () => {
  await writeToken(['manage_runners:enterprise']);
  expect(await enterpriseCheck()).toMatchObject({ ok: false, detail: 'enterprise octo-enterprise has no runner group named \'GPU\'' });

  sandbox.ghes.createRunnerGroup('enterprise', 'GPU');
  expect(await enterpriseCheck()).toMatchObject({ ok: true, detail: 'a token with manage_runners:enterprise only reaches enterprise octo-enterprise (2 runner groups)' });

  await writeToken(['admin:enterprise', 'manage_runners:enterprise']);
  expect(await enterpriseCheck()).toMatchObject({ ok: false, detail: 'the token works but has scopes it does not need: admin:enterprise' });
});

test('no token at all is named, with the parameter to write', async () => {
  await ssm.send(new DeleteParameterCommand({ Name: parameter }));
  expect(await enterpriseCheck()).toMatchObject({ ok: false, detail: `not set: ${parameter}; enterprise runners cannot register` });
});
