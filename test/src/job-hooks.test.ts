import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Lazy } from 'aws-cdk-lib';
import { JobHookScript, RunnerConfig } from '../../src';
import { synthErrors, synthRunners, userDataOf } from './support/synth';

const STARTED = 'echo "job $GITHUB_JOB starts on $RUNNER_NAME"\ndocker system prune -f\n';
const COMPLETED = 'echo "job $GITHUB_JOB done"\n';
const HOOKED: RunnerConfig = {
  name: 'linux-hooked',
  labels: ['linux', 'x64'],
  instanceTypes: ['m7i.large'],
  maxRunners: 8,
  jobHooks: { started: JobHookScript.inline(STARTED), completed: JobHookScript.inline(COMPLETED) },
};
const PLAIN: RunnerConfig = { name: 'linux-large', labels: ['linux', 'x64', 'large'], instanceTypes: ['m7i.xlarge'] };

const base64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

describe('a runner config with job hooks', () => {
  const template = synthRunners([HOOKED, { ...PLAIN, warmPool: { size: 1 }, jobHooks: { completed: JobHookScript.inline(COMPLETED) } }]);
  const userData = userDataOf(template);
  const of = (fragment: string) => Object.entries(userData).filter(([id]) => id.includes(fragment)).map(([, data]) => data);

  test('its launch template exports each hook to the bootstrap as base64', () => {
    const [hooked] = of('LaunchTemplatelinuxhooked');
    expect(hooked).toContain(`export JOB_STARTED_HOOK_BASE64='${base64(STARTED)}'`);
    expect(hooked).toContain(`export JOB_COMPLETED_HOOK_BASE64='${base64(COMPLETED)}'`);
  });

  test('each config gets its own hooks, in its cold and its warm launch template alike', () => {
    const large = of('linuxlarge');
    expect(large).toHaveLength(2);
    for (const data of large) {
      expect(data).toContain(`export JOB_COMPLETED_HOOK_BASE64='${base64(COMPLETED)}'`);
      expect(data).not.toContain('export JOB_STARTED_HOOK_BASE64');
    }
  });

  test('the hooks stay out of the runner config documents the functions read', () => {
    const documents = Object.values(template.findResources('AWS::SSM::Parameter'))
      .filter((p) => String(p.Properties.Name).includes('/runner-configs/'))
      .map((p) => String(p.Properties.Value));
    expect(documents).toHaveLength(2);
    for (const document of documents) expect(document).not.toMatch(/GITHUB_JOB|ZWNobyAiam9i/);
  });
});

test('a config without job hooks exports none', () => {
  const userData = Object.values(userDataOf(synthRunners([PLAIN])));
  expect(userData).toHaveLength(1);
  expect(userData[0]).toContain('export REGISTER_URL=');
  expect(userData[0]).not.toMatch(/export JOB_\w+_HOOK_BASE64/);
});

describe('job hooks are checked at synth', () => {
  test('an empty script is refused, naming the config and the hook', () => {
    const message = synthErrors([{ ...PLAIN, jobHooks: { started: JobHookScript.inline('  \n') } }]);
    expect(message).toContain("runner config 'linux-large' (runnerConfigs[0]): jobHooks.started is empty");
    expect(message).toContain('leave it out for no hook');
  });

  test('Windows line endings, a NUL and a deploy-time value are refused, each with its fix', () => {
    const message = synthErrors([{
      ...PLAIN,
      jobHooks: {
        started: JobHookScript.inline('echo one\r\necho two\0\r\n'),
        completed: JobHookScript.inline(`echo ${Lazy.string({ produce: () => 'late' })}`),
      },
    }]);
    expect(message).toContain('jobHooks.started has carriage returns (Windows line endings)');
    expect(message).toContain('save the script with LF line endings');
    expect(message).toContain('jobHooks.completed holds a deploy-time value (a token)');
    expect(message).toContain('jobHooks.started has a NUL character');
  });

  test('hooks that would take the user data past 16 KB are refused, naming the config, the size and the fix', () => {
    // 10 KB of script is 13.3 KB of base64: with the bootstrap, more than EC2's 16 KB of user data.
    const big = `# ${'x'.repeat(10 * 1024)}\n`;
    const message = synthErrors([PLAIN, { ...HOOKED, jobHooks: { started: JobHookScript.inline(big) } }]);
    const [problem] = message.split('\n').filter((line) => line.includes("runner config 'linux-hooked': its launch template's user data"));
    expect(problem).toMatch(/would be about (\d+) bytes, of which (\d+) are its inline jobHooks \(as base64\), above the 16384 bytes EC2 allows/);
    const [, size, hooks] = /about (\d+) bytes, of which (\d+)/.exec(problem)!;
    expect(Number(size)).toBeGreaterThan(16384);
    expect(Number(hooks)).toBe(base64(big).length);
    expect(problem).toContain('give the hooks as files (JobHookScript.fromAsset), or bake the script into the runner image');
    // The config without hooks is not named.
    expect(message).not.toContain("runner config 'linux-large': its launch template's user data");
  });

  test('about 7 KB of hooks fit', () => {
    const fits = `# ${'x'.repeat(3584)}\n`;
    const hooks = { started: JobHookScript.inline(fits), completed: JobHookScript.inline(fits) };
    expect(() => synthRunners([{ ...HOOKED, jobHooks: hooks }])).not.toThrow();
  });
});

describe('a job hook from an S3 asset', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'job-hook-asset-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string) => {
    const at = path.join(dir, name);
    fs.writeFileSync(at, text);
    return at;
  };

  test('the bootstrap is given the object\'s URL, and the runner role may read that one object only', () => {
    const template = synthRunners([{ ...PLAIN, jobHooks: { started: JobHookScript.fromAsset(file('started.sh', 'echo "from S3"\n')) } }]);

    const [userData] = Object.values(userDataOf(template));
    expect(userData).toContain("export JOB_STARTED_HOOK_URL='https://");
    expect(userData).toMatch(/\.s3\.".*\.sh'/);
    expect(userData).not.toContain('export JOB_STARTED_HOOK_BASE64');
    const s3Statements = Object.values(template.findResources('AWS::IAM::Policy'))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as Array<{ Action: unknown; Resource: unknown }>)
      .filter((st) => JSON.stringify(st.Action).includes('s3:'));
    expect(s3Statements).toHaveLength(1);
    expect(s3Statements[0].Action).toBe('s3:GetObject');
    // The object's ARN: the bootstrap bucket and the asset's key (its content hash), no wildcard.
    const resource = JSON.stringify(s3Statements[0].Resource);
    expect(resource).toMatch(/cdk-hnb659fds-assets-.*\/[0-9a-f]{64}\.sh/);
    expect(resource).not.toContain('*');
  });

  test('a missing file, a directory and an empty file are refused at synth, each naming the config and the path', () => {
    const missing = path.join(dir, 'nowhere.sh');
    const message = synthErrors([
      { ...PLAIN, jobHooks: { started: JobHookScript.fromAsset(missing), completed: JobHookScript.fromAsset(dir) } },
      { ...HOOKED, labels: ['arm64'], jobHooks: { started: JobHookScript.fromAsset(file('empty.sh', '\n')) } },
    ]);
    expect(message).toContain(`runner config 'linux-large' (runnerConfigs[0]): jobHooks.started: the file '${missing}' (JobHookScript.fromAsset) does not exist`);
    expect(message).toContain(`jobHooks.completed: '${dir}' (JobHookScript.fromAsset) is not a file`);
    expect(message).toContain("runner config 'linux-hooked' (runnerConfigs[1]): jobHooks.started: the file");
    expect(message).toContain('is empty; give a script, or leave the hook out');
  });

  test('a script file with Windows line endings is refused', () => {
    const message = synthErrors([{ ...PLAIN, jobHooks: { completed: JobHookScript.fromAsset(file('crlf.sh', 'echo hi\r\n')) } }]);
    expect(message).toContain('has carriage returns (Windows line endings)');
  });
});
