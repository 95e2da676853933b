// A runner config's job hooks: scripts the runner itself runs before and after each job
// (ACTIONS_RUNNER_HOOK_JOB_STARTED / ACTIONS_RUNNER_HOOK_JOB_COMPLETED).
import * as fs from 'fs';
import { Token } from 'aws-cdk-lib';

/**
 * The text of a job hook: a bash script. The runner runs it with `bash -e <file>` (falling back to
 * `sh`) as the runner user, outside any job container, so a shebang line is not needed and is not
 * what picks the shell ("Running scripts before or after a job",
 * https://docs.github.com/en/actions/hosting-your-own-runners/managing-self-hosted-runners/running-scripts-before-or-after-a-job).
 *
 * A hook's text is not secret: inline, it travels in the launch template's user data, which anyone
 * allowed `ec2:DescribeLaunchTemplateVersions` in the account can read; as an asset, it sits in the
 * CDK bootstrap bucket; either way it lands as a file on the instance that a job can read. Never put a
 * token, password or key in it; fetch those when the hook runs instead.
 */
export class JobHookScript {
  /**
   * A script given as text, e.g. `JobHookScript.inline('docker system prune -f')`. It goes into the
   * launch template's user data, which EC2 limits to 16 KB with the bootstrap included: a config's
   * two inline hooks share about 7.5 KB. Use {@link JobHookScript.fromAsset} for more.
   */
  static inline(text: string): JobHookScript {
    return new JobHookScript(text, undefined);
  }

  /**
   * A script file of this app, uploaded as an S3 asset at deploy (`cdk deploy` publishes it to the
   * bootstrap bucket). The instance downloads it at boot with its role's credentials; the runner
   * role may read that one object and nothing else of the bucket. Any size. If it cannot be
   * downloaded, the hook the runner gets fails every job with a message saying so (the instance
   * log has the details).
   *
   * @param path the script's path, absolute or relative to the directory `cdk` runs in
   */
  static fromAsset(path: string): JobHookScript {
    return new JobHookScript(undefined, path);
  }

  private constructor(private readonly text: string | undefined, private readonly assetPath: string | undefined) {}

  /** The script's text, for an inline script. @internal */
  _text(): string | undefined {
    return this.text;
  }

  /** The script file's path, for an asset. @internal */
  _assetPath(): string | undefined {
    return this.assetPath;
  }

  /** What is wrong with the script, each naming `prop`, what was found and the fix. @internal */
  _problems(prop: string): string[] {
    if (this.assetPath !== undefined) return assetProblems(prop, this.assetPath);
    const text = this.text;
    if (typeof text !== 'string' || text.trim() === '') {
      return [`${prop} is empty; give the script's text, e.g. JobHookScript.inline('echo "job $GITHUB_JOB"'), or leave it out for no hook.`];
    }
    if (Token.isUnresolved(text)) {
      return [`${prop} holds a deploy-time value (a token); the script's text is written into the user data at synth, `
        + 'so read such values when the hook runs (e.g. `aws ssm get-parameter`, or IMDS) instead of building them into the text.'];
    }
    return textProblems(prop, text);
  }
}

function assetProblems(prop: string, file: string): string[] {
  if (typeof file !== 'string' || file === '' || Token.isUnresolved(file)) {
    return [`${prop} is JobHookScript.fromAsset(${JSON.stringify(file)}); give the path of a bash script file of the app.`];
  }
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    return [`${prop}: the file '${file}' (JobHookScript.fromAsset) does not exist (from ${process.cwd()}); give the path of a bash script file.`];
  }
  if (!stat.isFile()) return [`${prop}: '${file}' (JobHookScript.fromAsset) is not a file; give the path of one bash script.`];
  const text = fs.readFileSync(file, 'utf8');
  if (text.trim() === '') return [`${prop}: the file '${file}' is empty; give a script, or leave the hook out.`];
  return textProblems(`${prop} ('${file}')`, text);
}

function textProblems(prop: string, text: string): string[] {
  const problems: string[] = [];
  if (text.includes('\r')) {
    problems.push(`${prop} has carriage returns (Windows line endings); bash would read each \\r as part of a command: save the script with LF line endings.`);
  }
  if (text.includes('\0')) {
    problems.push(`${prop} has a NUL character, which no bash script can hold; remove it.`);
  }
  return problems;
}

/**
 * Scripts the runner runs around each job of a config: `started` once a job is assigned, before its
 * first step, and `completed` after its last step. Both run synchronously (the job waits for them)
 * with the job's default environment variables (`GITHUB_REPOSITORY`, `GITHUB_JOB`, `RUNNER_NAME`,
 * `GITHUB_EVENT_PATH` …) and may use workflow commands; their output is the job log's
 * "Set up runner" and "Complete runner" entries. A hook that exits with anything but 0 fails the
 * job: a failed `started` hook keeps the job's steps from running. There is no timeout: give
 * long-running hooks one of their own.
 *
 * The bootstrap installs them on the instance (root-owned, outside the runner's directory) and
 * starts the runner with `ACTIONS_RUNNER_HOOK_JOB_STARTED` / `ACTIONS_RUNNER_HOOK_JOB_COMPLETED`
 * pointing at them. They are not secret (see {@link JobHookScript}).
 */
export interface JobHooks {
  /**
   * Runs after a job is assigned to the runner, before the job's first step. A non-zero exit fails
   * the job without running its steps, with the script's output in the job's log.
   *
   * @default - no job-started hook
   */
  readonly started?: JobHookScript;

  /**
   * Runs after the job's last step (whatever the steps concluded), before the job completes. A
   * non-zero exit fails the job. Never power off from it: the job is not complete yet (GitHub's
   * note); the bootstrap powers the instance off once the runner has exited.
   *
   * @default - no job-completed hook
   */
  readonly completed?: JobHookScript;
}

/** Problems of a config's job hooks; `who` names the config. */
export function validateJobHooks(who: string, hooks: JobHooks): string[] {
  return [
    ...(hooks.started?._problems(`${who}: jobHooks.started`) ?? []),
    ...(hooks.completed?._problems(`${who}: jobHooks.completed`) ?? []),
  ];
}
