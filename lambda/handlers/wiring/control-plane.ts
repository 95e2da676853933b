// The adapters every control-plane function (provisioner, register, lifecycle, reconciler) shares,
// built from the function's environment once per container. The GitHub client is built on first
// use: a cold start that needs no GitHub call reads no private key.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { systemClock } from '../../common/clock';
import { ControlPlane } from '../../common/control-plane';
import { readEnvironment, readOptionalMilliseconds } from '../../common/env';
import { Ec2Fleet } from '../../compute/ec2-fleet';
import { CachedConfigSource } from '../../config/cached-config-source';
import { SsmConfigSource } from '../../config/ssm-config-source';
import { SsmSecret } from '../../config/ssm-secret';
import { GitHubPort } from '../../core/github';
import { GitHubApi } from '../../github/github-api';
import { SqsPoolQueue } from '../../queue/sqs-pool-queue';
import { DynamoRunnerStore } from '../../state/dynamo-runner-store';
import { DynamoStateStore } from '../../state/dynamo-state-store';

/** Variables every control-plane function gets from the construct. */
export const CONTROL_PLANE_ENVIRONMENT = [
  'TABLE_NAME', 'QUEUE_URL', 'RUNNER_CONFIG_PATH', 'GITHUB_API_URL', 'GITHUB_APP_ID', 'PRIVATE_KEY_PARAMETER_NAME',
  'RUNNER_NAME_PREFIX', 'MANAGED_BY', 'BOOT_TIMEOUT_SECONDS', 'MAX_LIFETIME_SECONDS',
] as const;

/** Variables only the launching function (the provisioner) gets: where and from what to launch. */
export const LAUNCH_ENVIRONMENT = ['SUBNET_IDS', 'LAUNCH_TEMPLATES'] as const;

/**
 * Optional timing variables, in milliseconds. The construct sets none of them: unset, each is the
 * pace GitHub asks integrators to keep. They are for a control plane run at another pace — the
 * offline sandbox runs every function in one process on a scaled clock (docs/sandbox.md).
 *
 * - `GITHUB_WRITE_SPACING_MS`: least time between two GitHub writes of one container (1000);
 * - `GITHUB_RETRY_AFTER_BASE_MS`: what one second of a rate limit's `retry-after` stands for (1000);
 * - `GITHUB_RETRY_BASE_MS`: base of the retry backoff of a failed GitHub call (1000);
 * - `RECONCILER_GITHUB_SWEEP_MS`: the reconciler's GitHub sweep interval (two minutes);
 * - `RECONCILER_REDELIVERY_SPACING_MS`: the least time between two redeliveries of one delivery (three minutes).
 */
export const TIMING_ENVIRONMENT = [
  'GITHUB_WRITE_SPACING_MS', 'GITHUB_RETRY_AFTER_BASE_MS', 'GITHUB_RETRY_BASE_MS',
  'RECONCILER_GITHUB_SWEEP_MS', 'RECONCILER_REDELIVERY_SPACING_MS',
] as const;

/** The timing variables that are set; throws `EnvironmentError` naming any that is not a whole number. */
export function timingFromEnvironment(env: NodeJS.ProcessEnv = process.env) {
  return readOptionalMilliseconds(TIMING_ENVIRONMENT, env);
}

export function controlPlaneFromEnvironment(env: NodeJS.ProcessEnv = process.env): ControlPlane {
  const e = readEnvironment(CONTROL_PLANE_ENVIRONMENT, env);
  const timing = timingFromEnvironment(env);
  const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } });
  const state = new DynamoStateStore(documents, e.TABLE_NAME);
  const runners = new DynamoRunnerStore(documents, e.TABLE_NAME);
  const ssm = new SSMClient({});
  // Functions that never launch do not get these; their absence surfaces only if one tries.
  const launchTemplates = JSON.parse(env.LAUNCH_TEMPLATES ?? '{}') as Record<string, string>;
  let github: Promise<GitHubPort> | undefined;
  return {
    settings: {
      runnerNamePrefix: e.RUNNER_NAME_PREFIX,
      managedBy: e.MANAGED_BY,
      bootTimeoutMs: Number(e.BOOT_TIMEOUT_SECONDS) * 1000,
      maxLifetimeMs: Number(e.MAX_LIFETIME_SECONDS) * 1000,
    },
    jobs: state,
    runners,
    pools: runners,
    queue: new SqsPoolQueue(new SQSClient({}), e.QUEUE_URL),
    configs: new CachedConfigSource(new SsmConfigSource(ssm, e.RUNNER_CONFIG_PATH)),
    compute: new Ec2Fleet({
      client: new EC2Client({}),
      managedBy: e.MANAGED_BY,
      subnetIds: (env.SUBNET_IDS ?? '').split(',').filter(Boolean),
      launchTemplateFor: (configName) => {
        const id = launchTemplates[configName];
        if (!id) throw new Error(`no launch template for runner config '${configName}' in LAUNCH_TEMPLATES: redeploy the construct`);
        return id;
      },
    }),
    github: () => {
      github ??= new SsmSecret(ssm, e.PRIVATE_KEY_PARAMETER_NAME, 'the GitHub App private key').readSecret()
        .then((privateKeyPem) => new GitHubApi({
          baseUrl: e.GITHUB_API_URL,
          appId: e.GITHUB_APP_ID,
          privateKeyPem,
          writeSpacingMs: timing.GITHUB_WRITE_SPACING_MS,
          retryAfterBaseMs: timing.GITHUB_RETRY_AFTER_BASE_MS,
          retryBaseMs: timing.GITHUB_RETRY_BASE_MS,
        }));
      github.catch(() => { github = undefined; });
      return github;
    },
    clock: systemClock,
  };
}
