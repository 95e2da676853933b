// How a runner config's job hooks reach its instances: inline, as base64 in the launch template's
// user data (16 KB at most, the bootstrap included); from a file, as an S3 asset the bootstrap
// downloads, signed as the runner role, which may read that one object.
import { Stack, Tokenization } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { Construct } from 'constructs';
import { JobHooks, JobHookScript } from '../job-hooks';

/** What the bootstrap is told of a config's hooks (fields of BOOTSTRAP_ENVIRONMENT). */
export interface JobHookSettings {
  readonly jobStartedHook?: string;
  readonly jobCompletedHook?: string;
  readonly jobStartedHookUrl?: string;
  readonly jobCompletedHookUrl?: string;
}

/**
 * "User data is limited to 16 KB, in raw form, before it is base64-encoded"
 * (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instancedata-add-user-data.html).
 */
const MAX_USER_DATA_BYTES = 16 * 1024;

/**
 * What a value known only at deploy (the register URL, the log group's generated name, an asset's
 * bucket) is counted as when the user data's size is checked at synth: a Function URL is about 70
 * characters, the private API's route about 130, a generated log group name
 * `<stack>-<logical id>-<suffix>` rarely more than 200.
 */
const DEPLOY_TIME_VALUE_BYTES = 256;

/** The settings for `config`'s hooks; a hook from a file becomes an asset in `scope` that `role` may read. */
export function jobHookSettings(scope: Construct, role: iam.IRole, config: string, hooks: JobHooks): JobHookSettings {
  return {
    jobStartedHook: base64(hooks.started?._text()),
    jobCompletedHook: base64(hooks.completed?._text()),
    jobStartedHookUrl: hookAsset(scope, role, `JobHook-${config}-started`, hooks.started),
    jobCompletedHookUrl: hookAsset(scope, role, `JobHook-${config}-completed`, hooks.completed),
  };
}

/**
 * A hook given as a file: an S3 asset the instance downloads at boot, signed as the runner role,
 * which may read that one object (s3:GetObject; the CDK bootstrap bucket holds every asset of the
 * account). Answers the object's virtual-hosted-style URL. A hook with problems (a missing file) is
 * reported by the config validation and gets no asset here.
 */
function hookAsset(scope: Construct, role: iam.IRole, id: string, hook: JobHookScript | undefined): string | undefined {
  const file = hook?._assetPath();
  if (file === undefined || hook!._problems('').length > 0) return undefined;
  const asset = new s3assets.Asset(scope, id, { path: file });
  role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [asset.bucket.arnForObjects(asset.s3ObjectKey)] }));
  const stack = Stack.of(scope);
  return `https://${asset.s3BucketName}.s3.${stack.region}.${stack.urlSuffix}/${asset.s3ObjectKey}`;
}

/** A launch template's user data EC2 would refuse, naming the config, the size and the fix: only inline hooks can make it that large. */
export function userDataSizeProblems(config: string, userData: ec2.UserData, hooks: JobHooks = {}): string[] {
  const estimated = Tokenization.reverseString(userData.render())
    .mapTokens({ mapToken: () => 'x'.repeat(DEPLOY_TIME_VALUE_BYTES) })
    .join({ join: (left: unknown, right: unknown) => `${left}${right}` });
  const size = Buffer.byteLength(String(estimated), 'utf8');
  if (size <= MAX_USER_DATA_BYTES) return [];
  const hookBytes = [hooks.started, hooks.completed].reduce((sum, h) => sum + (base64(h?._text())?.length ?? 0), 0);
  return [`runner config '${config}': its launch template's user data would be about ${size} bytes, of which ${hookBytes} are its inline jobHooks `
    + `(as base64), above the ${MAX_USER_DATA_BYTES} bytes EC2 allows (16 KB before base64 encoding, the bootstrap included); `
    + 'give the hooks as files (JobHookScript.fromAsset), or bake the script into the runner image (runnerImage.extraComponentArns, or machineImage) '
    + 'and keep a one-line hook that runs it.'];
}

/** A hook's text as the bootstrap reads it: base64, one line. */
function base64(text: string | undefined): string | undefined {
  return text === undefined ? undefined : Buffer.from(text, 'utf8').toString('base64');
}
