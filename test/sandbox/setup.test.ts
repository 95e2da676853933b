// Setup and status end to end, with nothing seeded: the stack's setup page creates the App on the
// simulated GHES by the manifest flow and stores its credentials; a job then runs on them; and the
// shipped status command names each problem made on purpose, with its fix.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DeleteParametersCommand, GetParameterCommand, GetParametersCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { CookieJar, formOf, runCommand, setupScenario, startSetup, status, StatusResult } from './setup-flow';
import { JobEvent, planJobTransition } from '../../lambda/core/job';
import { holdAfterRefusal } from '../../lambda/core/launch-hold';
import { emptyPool } from '../../lambda/core/pool';
import { Pool } from '../../lambda/core/routing';
import { DynamoRunnerStore } from '../../lambda/state/dynamo-runner-store';
import { DynamoStateStore } from '../../lambda/state/dynamo-state-store';
import { generateKey } from '../../sandbox/ghes/auth';
import { RunningSandbox, startSandbox } from '../../sandbox/system';

jest.setTimeout(600_000);

const scenario = setupScenario('setup', 21);

const problems = (result: StatusResult) => Object.fromEntries(result.json!.checks.filter((c) => !c.ok).map((c) => [c.check, `${c.detail} | ${c.fix}`]));

describe('setup page and status command against the sandbox', () => {
  let sandbox: RunningSandbox;
  beforeAll(async () => {
    sandbox = await startSandbox(scenario, { withApp: false });
  });
  afterAll(() => sandbox.stop());

  test('before setup: no App, and status says to open the setup page', async () => {
    const result = await status(sandbox);
    expect(result.exitCode).toBe(1);
    expect(problems(result)['App credentials']).toMatch(/not set: .*app-id.*private-key.*webhook-secret \| .*open the SetupUrl output of stack EphemeralRunnersSandbox/);
    expect(problems(result)['App authentication']).toMatch(/skipped: no credentials/);
  });

  test('bad input gets a page saying what to do, and changes nothing', async () => {
    const setupUrl = new URL(sandbox.setupUrl!);
    const page = async (url: string, init?: RequestInit) => {
      const response = await new CookieJar().fetch(url, init);
      return { status: response.status, html: await response.text() };
    };
    const noToken = `${setupUrl.origin}${setupUrl.pathname}`;
    expect(await page(noToken)).toEqual({ status: 403, html: expect.stringContaining('This setup link is not valid') });
    expect(await page(`${noToken}?token=guessed`)).toEqual({ status: 403, html: expect.stringContaining('This setup link is not valid') });
    // A hostile owner name never reaches the GHES.
    const jar = new CookieJar();
    const start = formOf(await (await jar.fetch(sandbox.setupUrl!)).text());
    const hostile = await jar.fetch(start.action, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...start.fields, owner: '../evil"><script>' }).toString(),
    });
    expect(hostile.status).toBe(400);
    const html = await hostile.text();
    expect(html).toContain('is not an organization or user name');
    expect(html).not.toContain('<script>');
    const unknown = await jar.fetch(start.action, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...start.fields, owner: 'no-such-org' }).toString(),
    });
    expect(await unknown.text()).toContain('There is no organization or user named &#39;no-such-org&#39;');
    // GitHub's redirect in a browser that did not start the setup: refused by the state.
    const { callback } = await startSetup(new CookieJar(), sandbox.setupUrl!, sandbox.org);
    expect(await page(callback)).toEqual({ status: 403, html: expect.stringContaining('This browser did not start this setup') });
    // A code GitHub does not know, with a valid state: refused, nothing stored.
    const ownJar = new CookieJar();
    const own = await startSetup(ownJar, sandbox.setupUrl!, sandbox.org);
    const forged = new URL(own.callback);
    forged.searchParams.set('code', 'f'.repeat(40));
    const refused = await ownJar.fetch(forged.toString());
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain('GitHub does not know this code');
    expect(problems(await status(sandbox))['App credentials']).toMatch(/not set/);
  });

  test('the setup page creates the App; before it is installed, status says where to install it', async () => {
    const jar = new CookieJar();
    const { callback } = await startSetup(jar, sandbox.setupUrl!, sandbox.org);
    const done = await jar.fetch(callback);
    expect(done.status).toBe(200);
    expect(await done.text()).toContain('The GitHub App is ready');
    // The code works once: GitHub's redirect replayed stores nothing more.
    const replay = await jar.fetch(callback);
    expect(replay.status).toBe(409);
    expect(await replay.text()).toContain('set up already');
    // The token has ended: the setup link no longer opens the form.
    expect((await new CookieJar().fetch(sandbox.setupUrl!)).status).toBe(409);

    const result = await status(sandbox);
    expect(problems(result)).toEqual({
      'App installations': expect.stringMatching(/installed nowhere.*\| install it: http:\/\/127\.0\.0\.1:\d+\/github-apps\/runners-ephemeralrunnerssandbox\/installations\/new$/),
    });
  });

  test('installed, a job runs on the credentials setup stored, and status is all OK', async () => {
    const install = sandbox.ghes.appInfo!;
    const page = formOf(await (await fetch(`${install.htmlUrl}/installations/new`)).text());
    await fetch(new URL(page.action, install.htmlUrl).toString(), { method: 'POST', body: new URLSearchParams(page.fields) });
    const jobId = sandbox.ghes.queueJob('app', ['self-hosted', 'linux', 'x64'], 10_000);
    const job = await sandbox.ghes.waitForJob(jobId);
    expect(job.conclusion).toBe('success');

    const result = await status(sandbox);
    expect(problems(result)).toEqual({});
    expect(result.exitCode).toBe(0);
    expect(result.json!.checks.map((c) => c.check)).toEqual([
      'App credentials', 'App authentication', 'App installations', 'Webhook deliveries (24 h)', 'Runner configs', 'Runner images',
      'Pools and jobs', 'Launch holds', 'Instances', 'Launch errors (24 h)', 'Dead-letter queues', 'Alarms',
    ]);
    const human = await runCommand(sandbox, ['status', '--stack', sandbox.stackName, '--github-api-url', sandbox.ghes.apiUrl]);
    expect(human.exitCode).toBe(0);
    expect(human.output).toMatch(/OK\s+App installations\s+installed on octo-org/);
    expect(human.output).toContain('All checks passed.');
  });

  test('each problem made on purpose is named with its fix, and status exits non-zero', async () => {
    const env = sandbox.operatorEnvironment;
    const config = { region: env.AWS_REGION, credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY } };
    const ssm = new SSMClient({ ...config, endpoint: env.AWS_ENDPOINT_URL_SSM });
    const sqs = new SQSClient({ ...config, endpoint: env.AWS_ENDPOINT_URL_SQS });
    const document = await ssm.send(new GetParameterCommand({ Name: sandbox.stack.output('Deployment') }));
    const names = JSON.parse(document.Parameter!.Value!) as { privateKeyParameterName: string; deadLetterQueueUrls: string[]; tableName: string };

    // Failed deliveries: the App's webhook URL points nowhere (the GHES cannot connect), so the next delivery fails.
    sandbox.ghes.setWebhookUrl('http://127.0.0.1:9/webhook');
    const jobId = sandbox.ghes.queueJob('app', ['self-hosted', 'linux', 'x64'], 10_000);
    await sandbox.ghes.deliveriesSettled();
    const refused = await status(sandbox);
    expect(refused.exitCode).toBe(1);
    expect(problems(refused)).toEqual({ 'Webhook deliveries (24 h)': expect.stringMatching(/, 1 failed .*\| .*the webhook function's log/) });
    sandbox.ghes.cancelJob(jobId);

    // Messages in the dead-letter queue, a private key that is not the App's, and no runner image.
    await sqs.send(new SendMessageCommand({ QueueUrl: names.deadLetterQueueUrls[0], MessageBody: '{}', MessageGroupId: 'g', MessageDeduplicationId: 'd' }));
    await ssm.send(new PutParameterCommand({ Name: names.privateKeyParameterName, Value: generateKey(), Type: 'SecureString', Overwrite: true }));
    await ssm.send(new DeleteParametersCommand({ Names: [...sandbox.stack.imageParameters] }));
    // A pool whose runners the register endpoint turned away for a missing runner group, with its job still queued (as the
    // register function and the webhook write them).
    const documents = DynamoDBDocumentClient.from(new DynamoDBClient({ ...config, endpoint: env.AWS_ENDPOINT_URL_DYNAMODB }));
    const pool: Pool = { poolId: 'octo-org#linux-x64', configName: 'linux-x64', scope: { kind: 'org', org: 'octo-org' } };
    const now = Date.now();
    const queued: JobEvent = { key: { githubHost: 'ghes.example.com', jobId: 990_001 }, state: 'queued', runId: 990, origin: { owner: 'octo-org', repo: 'app', org: 'octo-org' }, labels: ['self-hosted', 'linux', 'x64'] };
    await new DynamoStateStore(documents, names.tableName).applyJobTransition(planJobTransition(queued, pool, now));
    const pools = new DynamoRunnerStore(documents, names.tableName);
    const saved = await pools.getPool(pool.poolId);
    await pools.savePool({ ...(saved ?? emptyPool(pool.poolId, pool.configName, pool.scope)), launchHold: holdAfterRefusal(undefined, 'no-runner-group', now) }, now);
    const broken = await status(sandbox);
    expect(broken.exitCode).toBe(1);
    const found = problems(broken);
    expect(found['App authentication']).toMatch(/refused the App's JWT \(401\).*\| store the App's current private key: run npx cdk-ephemeral-runners reset --stack EphemeralRunnersSandbox --yes/);
    expect(found['Runner images']).toMatch(/no image yet for x64.*\| the image pipeline builds the first image/);
    expect(found['Dead-letter queues']).toMatch(/^1 in .*\| .*read their logs/);
    expect(found['Launch holds']).toMatch(/^pool octo-org#linux-x64: no-runner-group, 1 refusal\(s\), next probe after .*\| create the runner group the pool's runner config names/);
  });

  test('deleting the stack deletes the setup token and the App\'s credentials: no secret outlives it', async () => {
    const env = sandbox.operatorEnvironment;
    const credentials = { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY };
    const ssm = new SSMClient({ region: env.AWS_REGION, endpoint: env.AWS_ENDPOINT_URL_SSM, credentials });
    const stored = await ssm.send(new GetParameterCommand({ Name: sandbox.stack.output('Deployment') }));
    const document = JSON.parse(stored.Parameter!.Value!) as Record<string, string>;
    const names = ['setupTokenParameterName', 'appIdParameterName', 'privateKeyParameterName', 'webhookSecretParameterName'].map((key) => document[key]);
    expect((await ssm.send(new GetParametersCommand({ Names: names }))).Parameters!.length).toBe(3); // the token ended at setup
    // A Delete that is not the stack's (the resource left the template, a rollback): the credentials stay, they may be in use.
    await sandbox.deleteCustomResources(false);
    expect((await ssm.send(new GetParametersCommand({ Names: names }))).Parameters!.length).toBe(3);
    await sandbox.deleteCustomResources();
    expect((await ssm.send(new GetParametersCommand({ Names: names }))).Parameters).toEqual([]);
  });
});
