// The status checks: each reads (never writes) one part of a deployment and answers OK, or the
// problem with its fix. A check that cannot run says why, as a problem of its own.
import { CloudWatchClient, DescribeAlarmsCommand, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { DescribeImagesCommand, DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetParameterCommand, GetParametersByPathCommand, GetParametersCommand, SSMClient } from '@aws-sdk/client-ssm';
import { createAppAuth } from '@octokit/auth-app';
import { Octokit } from '@octokit/core';
import { FoundDeployment } from './deployment';
import { DeploymentDocument } from '../src/contracts/deployment-document';
import { allowsEnterpriseRunners, APP_EVENTS, appPermissions, ENTERPRISE_RUNNER_SCOPE, missingPermissions } from '../src/contracts/github-app';
import { TAG_MANAGED_BY } from '../src/contracts/instance-tags';
import { HOLD_FIXES, isHoldReason } from '../src/contracts/launch-hold';
import { FunctionName, LaunchErrorKindValue, METRICS_NAMESPACE, MetricDimension, ProvisionerMetric } from '../src/contracts/metrics';
import { POOL_INDEX } from '../src/contracts/state-table';
import type { RunnerConfigDocument } from '../src/runner-config-document';

export interface CheckResult {
  readonly check: string;
  readonly ok: boolean;
  /** What was found. */
  readonly detail: string;
  /** What to do, when not ok. */
  readonly fix?: string;
}

export interface Clients {
  readonly ssm: SSMClient;
  readonly ec2: EC2Client;
  readonly sqs: SQSClient;
  readonly dynamodb: DynamoDBClient;
  readonly cloudwatch: CloudWatchClient;
  /** GitHub's REST API; the sandbox points it elsewhere. */
  readonly githubApiUrl?: string;
  readonly now?: () => number;
}

/** The read-only IAM actions the checks call (kms:Decrypt too, when the secrets use a key of your own). */
export const STATUS_PERMISSIONS = [
  'cloudformation:DescribeStacks', 'ssm:GetParameter', 'ssm:GetParameters', 'ssm:GetParametersByPath', 'ec2:DescribeImages',
  'ec2:DescribeInstances', 'dynamodb:Scan', 'sqs:GetQueueAttributes', 'cloudwatch:GetMetricData', 'cloudwatch:DescribeAlarms',
];

const DAY_MS = 24 * 3600 * 1000;

/** The fields read of an installation and a delivery, as GitHub's REST API names them. */
type Installation = {
  account: { login: string; type?: string } | null;
  permissions: Record<string, string>;
  events: string[];
  suspended_at: string | null;
};
type Delivery = { guid: string; status_code: number; delivered_at: string };

export async function runChecks(found: FoundDeployment, clients: Clients): Promise<CheckResult[]> {
  const doc = found.document;
  const now = clients.now ?? Date.now;
  // The setup link works while its token does: until setup stored credentials (or after a reset).
  const tokenLive = doc.setupUrl !== undefined && await parameterValue(clients.ssm, doc.setupTokenParameterName).catch(() => undefined) !== undefined;
  const setupHint = doc.setupUrl === undefined
    ? 'write them with `aws ssm put-parameter --type SecureString` (see the README)'
    : tokenLive ? `open the SetupUrl output of stack ${found.stackName}` : `run npx cdk-ephemeral-runners reset --stack ${found.stackName} --yes`;
  const results: CheckResult[] = [];
  const run = async (check: string, body: () => Promise<Omit<CheckResult, 'check'>>) => {
    try {
      const result = { check, ...await body() };
      results.push(result);
      return result;
    } catch (e) {
      const result = { check, ok: false, detail: `could not check: ${(e as Error).message}`, fix: 'see the error; the command needs read access (README: status)' };
      results.push(result);
      return result;
    }
  };

  // The App: credentials, authentication, installations, deliveries.
  let app: { appId: string; privateKey: string } | undefined;
  await run('App credentials', async () => {
    const names = [...(doc.appId === undefined ? [doc.appIdParameterName] : []), doc.privateKeyParameterName, doc.webhookSecretParameterName];
    const { Parameters } = await clients.ssm.send(new GetParametersCommand({ Names: names, WithDecryption: true }));
    const missing = names.filter((name) => !Parameters?.some((p) => p.Name === name && p.Value));
    if (missing.length > 0) return { ok: false, detail: `not set: ${missing.join(', ')}`, fix: `create the App and store its credentials: ${setupHint}` };
    const value = (name: string) => Parameters!.find((p) => p.Name === name)!.Value!;
    app = { appId: doc.appId ?? value(doc.appIdParameterName), privateKey: value(doc.privateKeyParameterName) };
    return { ok: true, detail: `App ${app.appId}: id, private key and webhook secret set` };
  });
  const configs = await loadConfigs(clients.ssm, doc);
  const github = app && githubClient(clients.githubApiUrl ?? doc.githubApiUrl, app);
  let htmlUrl: string | undefined;
  await run('App authentication', async () => {
    if (!github) return { ok: false, detail: 'skipped: no credentials', fix: `store the App's credentials first: ${setupHint}` };
    try {
      const { data } = await github.request('GET /app');
      htmlUrl = data?.html_url;
      return { ok: true, detail: `signed in as the App '${data?.name}' (${data?.slug}) at ${doc.githubUrl}` };
    } catch (e) {
      const status = (e as { status?: number }).status;
      if (status === 401) {
        return { ok: false, detail: `${doc.githubUrl} refused the App's JWT (401): the private key is not one of App ${app!.appId}'s`, fix: `store the App's current private key: ${setupHint}` };
      }
      return { ok: false, detail: `${doc.githubUrl} could not be reached or failed: ${(e as Error).message}`, fix: 'run the command where the GitHub server is reachable' };
    }
  });
  await run('App installations', async () => {
    if (!github || htmlUrl === undefined) return { ok: false, detail: 'skipped: the App cannot sign in', fix: 'fix the App authentication first' };
    const install = `${htmlUrl.replace(/\/$/, '')}/installations/new`;
    const { data } = await github.request('GET /app/installations', { per_page: 100 });
    const installations = data as Installation[];
    if (installations.length === 0) return { ok: false, detail: 'the App is installed nowhere: no job reaches the runners', fix: `install it: ${install}` };
    const scopes = [...new Set(configs.map((c) => c.scope))];
    const problems = installations.flatMap((i) => {
      const where = i.account?.login ?? 'an account';
      const missing = missingPermissions(appPermissions(scopes, i.account?.type === 'User'), i.permissions);
      const events = APP_EVENTS.filter((e) => !i.events.includes(e));
      return [
        ...(missing.length > 0 ? [`${where} lacks ${missing.join(', ')}`] : []),
        ...(events.length > 0 ? [`${where} does not send ${events.join(', ')}`] : []),
        ...(i.suspended_at ? [`${where} is suspended`] : []),
      ];
    });
    const accounts = installations.map((i) => i.account?.login ?? '?').join(', ');
    if (problems.length > 0) {
      return { ok: false, detail: `installed on ${accounts}; ${problems.join('; ')}`, fix: 'grant the permissions in the App\'s settings and accept them in each installation (README: GitHub Enterprise Server requirements)' };
    }
    return { ok: true, detail: `installed on ${accounts}, with the permissions and the ${APP_EVENTS.join(', ')} event` };
  });
  if (doc.enterprise !== undefined && doc.enterpriseTokenParameterName !== undefined) {
    await run('Enterprise credential', () => checkEnterpriseCredential(clients, doc, configs));
  }
  await run('Webhook deliveries (24 h)', async () => {
    if (!github || htmlUrl === undefined) return { ok: false, detail: 'skipped: the App cannot sign in', fix: 'fix the App authentication first' };
    const { data } = await github.request('GET /app/hook/deliveries', { per_page: 100 });
    const recent = (data as Delivery[]).filter((d) => Date.parse(d.delivered_at) >= now() - DAY_MS);
    const delivered = new Set(recent.filter((d) => d.status_code >= 200 && d.status_code < 300).map((d) => d.guid));
    const failed = new Set(recent.filter((d) => !delivered.has(d.guid)).map((d) => d.guid));
    const detail = `${new Set(recent.map((d) => d.guid)).size} deliveries, ${failed.size} failed (without a later successful redelivery)`;
    if (failed.size > 0) {
      return { ok: false, detail, fix: `see why in the App's advanced settings (${htmlUrl}/advanced) and the webhook function's log; the reconciler redelivers failed deliveries` };
    }
    return { ok: true, detail };
  });

  // The runners: configs, images, what is running, what failed.
  await run('Runner configs', async () => (configs.length === 0
    ? { ok: false, detail: `no runner config under ${doc.runnerConfigPath}`, fix: 'redeploy the stack (the construct writes one parameter per config)' }
    : { ok: true, detail: configs.map((c) => `${c.name} [${c.labels.join(', ')}] up to ${c.maxRunners}`).join('; ') }));
  await run('Runner images', async () => {
    const problems: string[] = [];
    const images: string[] = [];
    const sources = new Map(configs.map((c) => [c.image?.parameterName ?? c.image?.amiId ?? '', c]));
    for (const [source, config] of sources) {
      if (source === '') continue;
      let amiId = config.image?.amiId;
      if (!amiId) {
        const value = await parameterValue(clients.ssm, source);
        if (value === undefined) {
          problems.push(`no image yet for ${config.architecture} (${source} is not set)`);
          continue;
        }
        amiId = value;
      }
      // An image that is gone is InvalidAMIID.NotFound (or .Malformed); any other error is the check's own failure.
      const { Images } = await clients.ec2.send(new DescribeImagesCommand({ ImageIds: [amiId] }))
        .catch((e: Error) => { if (e.name.startsWith('InvalidAMIID.')) return { Images: [] }; throw e; });
      if (Images?.[0]?.State === 'available') images.push(`${config.architecture}: ${amiId}`);
      else problems.push(`${config.architecture}: ${amiId} is ${Images?.[0]?.State ?? 'gone'}`);
    }
    if (problems.length > 0) {
      return { ok: false, detail: problems.join('; '), fix: 'the image pipeline builds the first image about half an hour after the first deploy; if it failed, see EC2 Image Builder\'s console for the pipeline' };
    }
    return { ok: true, detail: images.join('; ') || 'every config names its image in its launch template' };
  });
  const holds: { pool: string; reason: string; refusals: string; until: string }[] = [];
  const pools = await run('Pools and jobs', async () => {
    const counts = { pools: new Set<string>(), queued: 0, inProgress: 0 };
    let start: Record<string, never> | undefined;
    do {
      const page = await clients.dynamodb.send(new ScanCommand({ TableName: doc.tableName, IndexName: POOL_INDEX.name, ExclusiveStartKey: start }));
      for (const item of page.Items ?? []) {
        const pool = item[POOL_INDEX.partitionKey]?.S ?? '';
        counts.pools.add(pool);
        const sort = item[POOL_INDEX.sortKey]?.S ?? '';
        if (sort.startsWith('JOB#queued#')) counts.queued++;
        if (sort.startsWith('JOB#in_progress#')) counts.inProgress++;
        // A pool item is in the index while it has work pending, a launch hold among it (lambda/core/launch-hold.ts).
        const hold = item.launchHold?.M;
        if (hold) holds.push({ pool, reason: hold.reason?.S ?? '?', refusals: hold.refusals?.N ?? '?', until: new Date(Number(hold.until?.N)).toISOString() });
      }
      start = page.LastEvaluatedKey as never;
    } while (start);
    return { ok: true, detail: `${counts.pools.size} active pools, ${counts.queued} jobs queued, ${counts.inProgress} in progress` };
  });
  await run('Launch holds', async () => {
    if (!pools.ok) return { ok: false, detail: 'skipped: the pools could not be read', fix: 'fix the Pools and jobs check first' };
    if (holds.length === 0) return { ok: true, detail: 'none: no pool\'s runners were turned away' };
    return {
      ok: false,
      detail: holds.map((h) => `pool ${h.pool}: ${h.reason}, ${h.refusals} refusal(s), next probe after ${h.until}`).join('; '),
      fix: [...new Set(holds.map((h) => isHoldReason(h.reason) ? HOLD_FIXES[h.reason] : 'see the register function\'s log'))].join('; ')
        + '; its jobs start once a runner registers (docs/operations.md, "Held launches")',
    };
  });
  await run('Instances', async () => {
    const { Reservations } = await clients.ec2.send(new DescribeInstancesCommand({
      Filters: [{ Name: `tag:${TAG_MANAGED_BY}`, Values: [doc.managedBy] }, { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'shutting-down'] }],
    }));
    const instances = (Reservations ?? []).flatMap((r) => r.Instances ?? []);
    return { ok: true, detail: `${instances.length} live (${instances.filter((i) => i.InstanceLifecycle === 'spot').length} spot)` };
  });
  await run('Launch errors (24 h)', async () => {
    const kinds = Object.values(LaunchErrorKindValue);
    const { MetricDataResults } = await clients.cloudwatch.send(new GetMetricDataCommand({
      StartTime: new Date(now() - DAY_MS),
      EndTime: new Date(now()),
      MetricDataQueries: kinds.map((kind, i) => ({
        Id: `k${i}`,
        MetricStat: {
          Metric: {
            Namespace: METRICS_NAMESPACE,
            MetricName: ProvisionerMetric.LAUNCH_ERRORS,
            Dimensions: [{ Name: MetricDimension.SERVICE, Value: FunctionName.PROVISIONER }, { Name: MetricDimension.KIND, Value: kind }],
          },
          Period: DAY_MS / 1000,
          Stat: 'Sum',
        },
      })),
    }));
    const byKind = kinds.map((kind, i) => [kind, (MetricDataResults?.find((r) => r.Id === `k${i}`)?.Values ?? []).reduce((a, b) => a + b, 0)] as const)
      .filter(([, n]) => n > 0);
    if (byKind.length === 0) return { ok: true, detail: 'none' };
    return {
      ok: false,
      detail: byKind.map(([kind, n]) => `${kind}: ${n}`).join(', '),
      fix: 'capacity: add instance types or subnets; quota: raise the EC2 vCPU quota; spot: create the Spot service-linked role; config: see the provisioner\'s log',
    };
  });
  await run('Dead-letter queues', async () => {
    const depths = await Promise.all(doc.deadLetterQueueUrls.map(async (url) => {
      const { Attributes } = await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages'] }));
      return [url, Number(Attributes?.ApproximateNumberOfMessages ?? 0)] as const;
    }));
    const full = depths.filter(([, n]) => n > 0);
    if (full.length === 0) return { ok: true, detail: 'empty' };
    return {
      ok: false,
      detail: full.map(([url, n]) => `${n} in ${url.split('/').pop()}`).join(', '),
      fix: 'the provisioner or lifecycle function failed on these messages repeatedly: read their logs, fix the cause, then redrive (aws sqs start-message-move-task)',
    };
  });
  await run('Alarms', async () => {
    if (doc.alarmNames.length === 0) return { ok: true, detail: 'none configured' };
    const { MetricAlarms } = await clients.cloudwatch.send(new DescribeAlarmsCommand({ AlarmNames: [...doc.alarmNames], StateValue: 'ALARM' }));
    const firing = (MetricAlarms ?? []).map((a) => a.AlarmName!);
    if (firing.length === 0) return { ok: true, detail: `${doc.alarmNames.length} alarms, none in ALARM` };
    return { ok: false, detail: `in ALARM: ${firing.join(', ')}`, fix: 'open the alarms in the CloudWatch console; each one\'s description says what it watches' };
  });
  return results;
}

async function loadConfigs(ssm: SSMClient, doc: DeploymentDocument): Promise<RunnerConfigDocument[]> {
  const configs: RunnerConfigDocument[] = [];
  let token: string | undefined;
  do {
    const page = await ssm.send(new GetParametersByPathCommand({ Path: doc.runnerConfigPath, NextToken: token }));
    for (const p of page.Parameters ?? []) {
      try {
        configs.push(JSON.parse(p.Value ?? '') as RunnerConfigDocument);
      } catch {
        // A config the functions cannot read either: the runner config check lists what it read.
      }
    }
    token = page.NextToken;
  } while (token);
  return configs;
}

/**
 * The enterprise credential: set, a personal access token (classic) GitHub accepts for the enterprise's runner endpoints, with
 * manage_runners:enterprise and nothing more, and the runner groups the enterprise configs name exist. The scopes are read from
 * the `X-OAuth-Scopes` header GitHub answers a classic token with; a token lacking the scope is answered 404 or 403
 * (src/contracts/github-app.ts).
 */
async function checkEnterpriseCredential(clients: Clients, doc: DeploymentDocument, configs: readonly RunnerConfigDocument[]): Promise<Omit<CheckResult, 'check'>> {
  const parameter = doc.enterpriseTokenParameterName!;
  const enterprise = doc.enterprise!;
  const write = `write a personal access token (classic) of an owner of enterprise ${enterprise} with the ${ENTERPRISE_RUNNER_SCOPE} scope only: `
    + `aws ssm put-parameter --type SecureString --overwrite --name ${parameter} --value <token>`;
  const token = await parameterValue(clients.ssm, parameter, true);
  if (!token) return { ok: false, detail: `not set: ${parameter}; enterprise runners cannot register`, fix: write };
  const octokit = new Octokit({ baseUrl: clients.githubApiUrl ?? doc.githubApiUrl, auth: token, userAgent: 'cdk-ephemeral-runners-status' });
  let response: { data: unknown; headers: Record<string, string | number | undefined> };
  try {
    response = await octokit.request('GET /enterprises/{enterprise}/actions/runner-groups', { enterprise, per_page: 100 });
  } catch (e) {
    const { status, response: refused } = e as { status?: number; response?: { headers: Record<string, string | undefined> } };
    const scopes = refused?.headers['x-oauth-scopes'];
    if (status === 401) return { ok: false, detail: 'GitHub refused the token (401): revoked, expired or mistyped', fix: write };
    if ((status === 403 || status === 404) && scopes === undefined) {
      return { ok: false, detail: `GitHub answered ${status} without the token's scopes: it is not a personal access token (classic)`, fix: write };
    }
    if ((status === 403 || status === 404) && !allowsEnterpriseRunners(scopes)) {
      return { ok: false, detail: `the token lacks the ${ENTERPRISE_RUNNER_SCOPE} scope (its scopes: ${scopes || 'none'})`, fix: write };
    }
    if (status === 404) {
      return { ok: false, detail: `enterprise ${enterprise} is not found with this token: a wrong slug, or the token's user does not own it`, fix: `check github.enterprise; ${write}` };
    }
    throw e;
  }
  const groups = (response.data as { runner_groups: Array<{ name: string }> }).runner_groups.map((g) => g.name.toLowerCase());
  const missing = [...new Set(configs.filter((c) => c.scope === 'enterprise' && c.runnerGroupName !== undefined)
    .map((c) => c.runnerGroupName!).filter((name) => !groups.includes(name.toLowerCase())))];
  if (missing.length > 0) {
    return { ok: false, detail: `enterprise ${enterprise} has no runner group named ${missing.map((m) => `'${m}'`).join(', ')}`, fix: 'create it in the enterprise\'s Settings > Actions > Runner groups, or correct the runner config\'s runnerGroup' };
  }
  const scopes = String(response.headers['x-oauth-scopes'] ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  const extra = scopes.filter((s) => s !== ENTERPRISE_RUNNER_SCOPE);
  if (extra.length > 0) {
    return { ok: false, detail: `the token works but has scopes it does not need: ${extra.join(', ')}`, fix: `least privilege: ${write}` };
  }
  return { ok: true, detail: `a token with ${ENTERPRISE_RUNNER_SCOPE} only reaches enterprise ${enterprise} (${groups.length} runner groups)` };
}

async function parameterValue(ssm: SSMClient, name: string, withDecryption = false): Promise<string | undefined> {
  try {
    return (await ssm.send(new GetParameterCommand({ Name: name, WithDecryption: withDecryption }))).Parameter?.Value;
  } catch (e) {
    if ((e as Error).name === 'ParameterNotFound') return undefined;
    throw e;
  }
}

function githubClient(baseUrl: string, app: { appId: string; privateKey: string }) {
  return new Octokit({ baseUrl, authStrategy: createAppAuth, auth: { appId: app.appId, privateKey: app.privateKey }, userAgent: 'cdk-ephemeral-runners-status' });
}
