// The adapters every control-plane function (provisioner, register, lifecycle, reconciler) shares,
// built from the function's decoded environment once per container. The GitHub client is built on
// first use: a cold start that needs no GitHub call reads no private key.
import { DynamoDBClient, DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  CONTROL_PLANE_ENVIRONMENT, EnvironmentValues, LAUNCH_ENVIRONMENT, PACING_ENVIRONMENT,
} from '../../../src/contracts/environment';
import { systemClock } from '../../common/clock';
import { ControlPlane } from '../../common/control-plane';
import { createLogger } from '../../common/logger';
import { Ec2Fleet } from '../../compute/ec2-fleet';
import { CachedConfigSource } from '../../config/cached-config-source';
import { SsmConfigSource } from '../../config/ssm-config-source';
import { SsmSecret } from '../../config/ssm-secret';
import { GitHubPort } from '../../core/github';
import { ReconcilerStateStore } from '../../core/reconciler-state';
import { GitHubApi } from '../../github/github-api';
import { SqsPoolQueue } from '../../queue/sqs-pool-queue';
import { DynamoFleetStore } from '../../state/dynamo-fleet-store';
import { DynamoReconcilerStore } from '../../state/dynamo-reconciler-store';
import { DynamoRunnerStore } from '../../state/dynamo-runner-store';
import { DynamoSharedCache } from '../../state/dynamo-shared-cache';
import { DynamoStateStore } from '../../state/dynamo-state-store';

/** The wiring's own lines (a shared-cache failure); the function's logger carries the request's keys. */
const logger = createLogger();

/** How long a container keeps its GitHub client (and with it the App's id and key). */
const GITHUB_CLIENT_MAX_AGE_MS = 15 * 60 * 1000;

/** What a control-plane function decodes: the shared variables and the optional pacing. */
export const CONTROL_PLANE_AND_PACING = { ...CONTROL_PLANE_ENVIRONMENT, ...PACING_ENVIRONMENT };
export type ControlPlaneEnvironment = EnvironmentValues<typeof CONTROL_PLANE_AND_PACING>;
export type LaunchEnvironment = EnvironmentValues<typeof LAUNCH_ENVIRONMENT>;

/** A DynamoDB document client that leaves undefined attributes out; `config` for a function with SDK timeouts of its own (the webhook). */
export function documentClient(config: DynamoDBClientConfig = {}): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(new DynamoDBClient(config), { marshallOptions: { removeUndefinedValues: true } });
}

/** `launch` is given to the function that launches (the provisioner) only: the others never do. */
export function controlPlaneFrom(
  env: ControlPlaneEnvironment,
  launch?: LaunchEnvironment,
): ControlPlane & { readonly reconcilerState: ReconcilerStateStore } {
  const documents = documentClient();
  const state = new DynamoStateStore(documents, env.tableName);
  const runners = new DynamoRunnerStore(documents, env.tableName);
  const ssm = new SSMClient({});
  const sharedCache = new DynamoSharedCache(documents, env.tableName, systemClock);
  let github: Promise<GitHubPort> | undefined;
  let githubBuiltAt = 0;
  return {
    settings: {
      runnerNamePrefix: env.runnerNamePrefix,
      managedBy: env.managedBy,
      bootTimeoutMs: env.bootTimeoutSeconds * 1000,
      maxLifetimeMs: env.maxLifetimeSeconds * 1000,
    },
    jobs: state,
    runners,
    // The reconciler's state item, which the lifecycle function also writes, on the same client.
    reconcilerState: new DynamoReconcilerStore(documents, env.tableName),
    pools: runners,
    queue: new SqsPoolQueue(new SQSClient({}), env.queueUrl),
    configs: new CachedConfigSource(new SsmConfigSource(ssm, env.runnerConfigPath)),
    compute: new Ec2Fleet({
      client: new EC2Client({}),
      managedBy: env.managedBy,
      subnetIds: launch?.subnetIds ?? [],
      // A config of its own subnets: `,`-joined ids (the construct writes them so).
      subnetIdsFor: (configName) => launch?.configSubnetIds?.[configName]?.split(','),
      launchTemplateFor: (configName) => {
        const id = launch?.launchTemplates[configName];
        if (!id) throw new Error(`no launch template for runner config '${configName}' in ${LAUNCH_ENVIRONMENT.launchTemplates.name}: redeploy the construct`);
        return id;
      },
      warmLaunchTemplateFor: (configName) => {
        const id = launch?.warmLaunchTemplates?.[configName];
        if (!id) throw new Error(`no warm pool launch template for runner config '${configName}' in ${LAUNCH_ENVIRONMENT.warmLaunchTemplates.name}: redeploy the construct`);
        return id;
      },
    }),
    github: () => {
      // Rebuilt now and then, so that a replaced App (a reset: new id and key) reaches warm containers without a redeploy.
      if (systemClock.now() - githubBuiltAt > GITHUB_CLIENT_MAX_AGE_MS) github = undefined;
      if (!github) githubBuiltAt = systemClock.now();
      github ??= Promise.all([
        // The App id comes from the props, or from the parameter the setup page wrote.
        env.githubAppId ?? new SsmSecret(ssm, env.appIdParameterName, 'the GitHub App id').readSecret(),
        new SsmSecret(ssm, env.privateKeyParameterName, 'the GitHub App private key').readSecret(),
      ])
        .then(([id, privateKeyPem]) => new GitHubApi({
          baseUrl: env.githubApiUrl,
          appId: id,
          privateKeyPem,
          writeSpacingMs: env.githubWriteSpacingMs,
          retryAfterBaseMs: env.githubRetryAfterBaseMs,
          retryBaseMs: env.githubRetryBaseMs,
          sharedCache,
          // Read at the first enterprise call only: a container serving organizations never reads it.
          ...(env.enterpriseTokenParameterName !== undefined ? {
            enterpriseToken: () => new SsmSecret(ssm, env.enterpriseTokenParameterName!, 'the enterprise credential').readSecret(),
          } : {}),
          onSharedCacheError: (error) => logger.warn('the shared GitHub cache failed; going on without it', { error: error as Error }),
        }));
      github.catch(() => { github = undefined; });
      return github;
    },
    clock: systemClock,
    fleet: env.maxInstances === undefined ? undefined : { maxInstances: env.maxInstances, store: new DynamoFleetStore(documents, env.tableName) },
  };
}
