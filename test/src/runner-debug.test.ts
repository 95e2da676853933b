import { RunnerConfig } from '../../src';
import { synthRunners, userDataOf } from './support/synth';

const LOGGED: RunnerConfig = { name: 'linux-debug', labels: ['linux', 'x64', 'debug'], instanceTypes: ['m7i.large'], warmPool: { size: 1 }, debug: { runnerLogs: true } };
const PLAIN: RunnerConfig = { name: 'linux-plain', labels: ['linux', 'x64'], instanceTypes: ['m7i.large'], debug: { runnerLogs: false } };

describe('debug.runnerLogs', () => {
  const template = synthRunners([LOGGED, PLAIN]);
  const userData = Object.entries(userDataOf(template));

  test('the config that asks for the runner\'s logs tells its bootstrap so, in its cold and its warm launch template', () => {
    const logged = userData.filter(([id]) => id.includes('linuxdebug'));
    expect(logged).toHaveLength(2);
    for (const [, data] of logged) expect(data).toContain("export RUNNER_DIAGNOSTIC_LOGS='1'");
  });

  test('a config that does not ask leaves the variable out, and every config names the log group', () => {
    const plain = userData.filter(([id]) => id.includes('linuxplain'));
    expect(plain).toHaveLength(1);
    expect(plain[0][1]).not.toContain('RUNNER_DIAGNOSTIC_LOGS');
    for (const [, data] of userData) expect(data).toContain('export LOG_GROUP_NAME=');
  });

  test('the runner role may write to its log group and nothing more for logs', () => {
    const logStatements = Object.values(template.findResources('AWS::IAM::Policy'))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as Array<{ Action: string | string[]; Resource: unknown }>)
      .filter((s) => [s.Action].flat().some((a) => a.startsWith('logs:')) && JSON.stringify(s.Resource).includes('FleetLogs'));
    expect(logStatements.map((s) => s.Action)).toEqual([['logs:CreateLogStream', 'logs:PutLogEvents']]);
  });
});
