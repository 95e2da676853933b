// The register function wired as in production, except for what needs AWS or a real GitHub: runners
// and jobs in the real DynamoDB stores on dynalite (signing as the engine's role: with `asRole`,
// what the construct grants the register function), GitHub as the real GitHubApi (Octokit) talking
// to the GHES simulator, configs in memory. Also the events a Function URL or REST API sends.
import type { APIGatewayProxyEvent, LambdaFunctionURLEvent } from 'aws-lambda';
import { Logger } from '../../../lambda/common/logger';
import { GitHubPort } from '../../../lambda/core/github';
import { JobEvent, JobState, planJobTransition } from '../../../lambda/core/job';
import { poolFor, Pool } from '../../../lambda/core/routing';
import { RunnerRecord, RunnerState } from '../../../lambda/core/runner';
import { RunnerConfig } from '../../../lambda/core/runner-config';
import { warmPoolIdOf } from '../../../lambda/core/warm-pool';
import { GitHubApi } from '../../../lambda/github/github-api';
import { createRegisterHandler, RegisterHandler } from '../../../lambda/register/register-handler';
import { RefusalReason, RegisterMetrics } from '../../../lambda/register/register-metrics';
import { RegisterDeps } from '../../../lambda/register/register-runner';
import { DynamoRunnerStore } from '../../../lambda/state/dynamo-runner-store';
import { DynamoStateStore } from '../../../lambda/state/dynamo-state-store';
import { GhesSimulator } from '../../../sandbox/ghes';
import { testConfig } from '../support/configs';
import { DynamoTestEngine } from '../support/dynalite';
import { InMemoryConfigSource, ManualClock, silentLogger } from '../support/in-memory-ports';

export const ACCOUNT = '123456789012';
export const RUNNER_ROLE = 'runner-role';
export const PREFIX = 'er-';
export const ORG = 'octo-org';
export const GITHUB_HOST = 'ghes.example.com';
/** Registers with ['self-hosted', 'linux', 'x64'] at the organization, Default group. */
export const CONFIG = testConfig('linux-x64', ['linux', 'x64']);
export const POOL: Pool = poolFor(CONFIG, { owner: ORG, repo: 'app', org: ORG });

export class InMemoryRegisterMetrics implements RegisterMetrics {
  readonly registered: string[] = [];
  readonly refused: RefusalReason[] = [];

  runnerRegistered(configName: string): void {
    this.registered.push(configName);
  }

  registrationRefused(reason: RefusalReason): void {
    this.refused.push(reason);
  }
}

export interface RegisterWorld {
  readonly tableName: string;
  /** The table as the test sees it (set-up and reads, unchecked by IAM); the function has its own stores. */
  readonly runners: DynamoRunnerStore;
  readonly jobs: DynamoStateStore;
  readonly github: GitHubApi;
  readonly metrics: InMemoryRegisterMetrics;
  readonly clock: ManualClock;
  readonly deps: RegisterDeps;
  readonly handler: RegisterHandler;
  /** Records a launched runner in `state` (moved there through the store's transitions). */
  launch(instanceId: string, options?: { state?: RunnerState; pool?: Pool }): Promise<RunnerRecord>;
  /** Records a queued job of the pool, as the webhook does. */
  queueJob(jobId: number, pool?: Pool): Promise<void>;
  /** A queued job of POOL starts on an idle runner, as the webhook's `in_progress` and the runner's claim record it. */
  startJob(jobId: number, instanceId: string): Promise<void>;
  /** Every item of the table, as stored. */
  items(): Promise<Record<string, unknown>[]>;
}

export interface WorldOptions {
  readonly logger?: Logger;
  /** Wraps the runner store the function uses (the test's own view stays unwrapped). */
  readonly runners?: (store: DynamoRunnerStore) => RegisterDeps['runners'];
  readonly githubPort?: (api: GitHubApi) => GitHubPort;
  /** The runner configs. @default [CONFIG] */
  readonly configs?: readonly RunnerConfig[];
  /** The enterprise credential the GitHub client reads. @default none */
  readonly enterpriseToken?: () => Promise<string>;
}

export async function registerWorld(engine: DynamoTestEngine, ghes: GhesSimulator, options: WorldOptions = {}): Promise<RegisterWorld> {
  const tableName = await engine.createStateTable();
  const runners = new DynamoRunnerStore(engine.operator, tableName);
  const jobs = new DynamoStateStore(engine.operator, tableName);
  const own = { runners: new DynamoRunnerStore(engine.client, tableName), jobs: new DynamoStateStore(engine.client, tableName) };
  // retryBaseMs: plugin-retry's waits in milliseconds instead of seconds.
  const github = new GitHubApi({
    baseUrl: ghes.apiUrl, appId: String(ghes.appId), privateKeyPem: ghes.privateKey, retryBaseMs: 1, enterpriseToken: options.enterpriseToken,
  });
  const port = options.githubPort?.(github) ?? github;
  const metrics = new InMemoryRegisterMetrics();
  const clock = new ManualClock(Date.now());
  const logger = options.logger ?? silentLogger();
  const deps: RegisterDeps = {
    runnerRoleName: RUNNER_ROLE,
    runnerNamePrefix: PREFIX,
    runners: options.runners?.(own.runners) ?? own.runners,
    jobs: own.jobs,
    pools: own.runners,
    configs: new InMemoryConfigSource(options.configs ?? [CONFIG]),
    github: async () => port,
    clock,
    logger,
    metrics,
  };
  return {
    tableName,
    runners,
    jobs,
    github,
    metrics,
    clock,
    deps,
    handler: createRegisterHandler(() => deps, logger),
    async launch(instanceId, { state = 'booting', pool = POOL } = {}) {
      const at = clock.now();
      // A warm pool instance belongs to its config's warm pool, with no scope, until a pool claims it.
      const warm = state === 'warming' || state === 'warm';
      await runners.putRunner({
        instanceId,
        state: 'booting',
        market: warm ? 'on-demand' : 'spot',
        launchedAt: at,
        poolId: warm ? warmPoolIdOf(pool.configName) : pool.poolId,
        configName: pool.configName,
        ...(warm ? {} : { scope: pool.scope }),
        updatedAt: at,
        version: 1,
      });
      const path: Record<RunnerState, RunnerState[]> = {
        warming: ['warming'], warm: ['warming', 'warm'], booting: [], registered: ['registered'], busy: ['registered', 'busy'], retiring: ['retiring'], gone: ['gone'],
      };
      let runner = (await runners.getRunner(instanceId))!;
      for (const next of path[state]) {
        const changes = next === 'registered' ? { runnerName: `${PREFIX}${instanceId}`, registeredAt: at } : {};
        runner = (await runners.transitionRunner(instanceId, [runner.state], next, changes, at))!;
      }
      return runner;
    },
    async queueJob(jobId, pool = POOL) {
      await jobs.applyJobTransition(planJobTransition(jobEvent(jobId, 'queued'), pool, clock.now()));
    },
    async startJob(jobId, instanceId) {
      await jobs.applyJobTransition(planJobTransition(jobEvent(jobId, 'in_progress', `${PREFIX}${instanceId}`), POOL, clock.now()));
      await runners.transitionRunner(instanceId, ['registered'], 'busy', {}, clock.now());
    },
    items: () => engine.scan(tableName),
  };
}

/** A `workflow_job` event of the harness's repository, as the webhook parses it. */
function jobEvent(jobId: number, state: JobState, runnerName?: string): JobEvent {
  return {
    key: { githubHost: GITHUB_HOST, jobId }, state, runId: jobId * 10, origin: { owner: ORG, repo: 'app', org: ORG }, labels: ['self-hosted', 'linux', 'x64'], runnerName,
  };
}

export interface CallerOptions {
  readonly roleName?: string;
  readonly account?: string;
  /** Replaces the assumed-role ARN built from the other options. */
  readonly userArn?: string;
  readonly callerId?: string;
  readonly method?: string;
  /** The request body. @default '{}' */
  readonly body?: string;
}

function claims(session: string, o: CallerOptions) {
  const account = o.account ?? ACCOUNT;
  const roleName = o.roleName ?? RUNNER_ROLE;
  return {
    userArn: o.userArn ?? `arn:aws:sts::${account}:assumed-role/${roleName}/${session}`,
    callerId: o.callerId ?? `AROAEXAMPLERUNNERROLE:${session}`,
    account,
  };
}

/** The payload 2.0 event a Function URL with AWS_IAM auth sends for a caller signing as role session `session`. */
export function functionUrlEvent(session: string, o: CallerOptions = {}): LambdaFunctionURLEvent {
  const c = claims(session, o);
  const method = o.method ?? 'POST';
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: '/',
    rawQueryString: '',
    headers: { 'content-type': 'application/json', 'x-amz-date': '20260115T120000Z' },
    requestContext: {
      accountId: ACCOUNT,
      apiId: 'registerurlid',
      authorizer: {
        iam: {
          accessKey: 'ASIAEXAMPLEKEY000001',
          accountId: c.account,
          callerId: c.callerId,
          cognitoIdentity: null,
          principalOrgId: null,
          userArn: c.userArn,
          userId: c.callerId,
        },
      },
      domainName: 'registerurlid.lambda-url.us-east-1.on.aws',
      domainPrefix: 'registerurlid',
      http: { method, path: '/', protocol: 'HTTP/1.1', sourceIp: '10.0.1.23', userAgent: 'curl/8.5.0' },
      requestId: 'request-1',
      routeKey: '$default',
      stage: '$default',
      time: '15/Jan/2026:12:00:00 +0000',
      timeEpoch: Date.UTC(2026, 0, 15, 12),
    },
    // What the bootstrap sends to ask for its config (a problem report is `{"problem":…}`).
    body: o.body ?? '{}',
    isBase64Encoded: false,
  } as LambdaFunctionURLEvent;
}

/** The v1 event of an IAM-authorized (private) REST API route for the same caller. */
export function restApiEvent(session: string, o: CallerOptions = {}): APIGatewayProxyEvent {
  const c = claims(session, o);
  return {
    resource: '/register',
    path: '/register',
    httpMethod: o.method ?? 'POST',
    headers: { 'Content-Type': 'application/json' },
    multiValueHeaders: { 'Content-Type': ['application/json'] },
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    body: o.body ?? '{}',
    isBase64Encoded: false,
    requestContext: {
      accountId: ACCOUNT,
      apiId: 'restapiid',
      authorizer: null,
      httpMethod: o.method ?? 'POST',
      identity: {
        accessKey: 'ASIAEXAMPLEKEY000001',
        accountId: c.account,
        caller: c.callerId,
        user: c.callerId,
        userArn: c.userArn,
        principalOrgId: null,
        sourceIp: '10.0.1.23',
        userAgent: 'curl/8.5.0',
        apiKey: null,
        apiKeyId: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
      },
      path: '/prod/register',
      protocol: 'HTTP/1.1',
      requestId: 'request-1',
      requestTimeEpoch: Date.UTC(2026, 0, 15, 12),
      resourceId: 'abc123',
      resourcePath: '/register',
      stage: 'prod',
    },
  };
}
