// The runner's job hooks, as the real runner runs them: the files named by ACTIONS_RUNNER_HOOK_JOB_STARTED
// and ACTIONS_RUNNER_HOOK_JOB_COMPLETED, with `bash -e <file>`, synchronously, with the job's default
// variables, their output kept as the job log's "Set up runner" / "Complete runner" entries; any exit
// but 0 fails the job ("Running scripts before or after a job",
// https://docs.github.com/en/actions/hosting-your-own-runners/managing-self-hosted-runners/running-scripts-before-or-after-a-job;
// actions/runner docs/adrs/1751-runner-job-hooks.md).
import { spawn } from 'child_process';

/** The hook files a runner was started with (the values of the two variables). */
export interface RunnerHooks {
  readonly started?: string;
  readonly completed?: string;
}

/** One hook's run, as the job's log shows it. */
export interface HookStep {
  readonly name: 'Set up runner' | 'Complete runner';
  readonly file: string;
  readonly exitCode: number;
  /** stdout and stderr, interleaved as written (at most 4 KB kept). */
  readonly output: string;
}

const MAX_OUTPUT = 4096;

/**
 * Runs `file` with bash -e (the runner's command for a .sh hook) and `env` (the job's default
 * variables); resolves with its exit code and output. `onStart` is handed what kills it (the
 * instance stops under it). A file that is not .sh, missing or unreadable fails as the runner's
 * would: the runner only runs .sh and .ps1 files, and a hook it cannot run fails the job.
 */
export function runHook(
  name: HookStep['name'],
  file: string,
  env: Readonly<Record<string, string>>,
  onStart: (kill: () => void) => void,
): Promise<HookStep> {
  if (!file.endsWith('.sh')) {
    return Promise.resolve({ name, file, exitCode: 1, output: `${file}: a Linux runner runs .sh hooks only` });
  }
  return new Promise((resolve) => {
    let output = '';
    const keep = (chunk: Buffer) => {
      if (output.length < MAX_OUTPUT) output = (output + chunk.toString('utf8')).slice(0, MAX_OUTPUT);
    };
    const child = spawn('bash', ['-e', file], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    onStart(() => child.kill('SIGKILL'));
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', (err) => resolve({ name, file, exitCode: 127, output: `${output}${err.message}` }));
    child.on('close', (code, signal) => resolve({ name, file, exitCode: code ?? (signal ? 128 + 9 : 1), output }));
  });
}
