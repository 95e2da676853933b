import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { EphemeralRunners, RunnerConfig } from '../../src';
import { VALIDATION_PLUGINS, validationFindings } from '../examples/validation';
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

describe('debug.sessionManager', () => {
  const SSM: RunnerConfig = { name: 'linux-ssm', labels: ['linux', 'x64', 'ssm'], instanceTypes: ['m7i.large'], debug: { sessionManager: true } };
  const PLAIN_X: RunnerConfig = { name: 'linux-x64', labels: ['linux', 'x64'], instanceTypes: ['m7i.large'] };

  type Statement = { Action: string | string[]; Resource: unknown };
  /** Statements of the inline policies attached to roles whose logical id matches. */
  const statementsOf = (t: Template, role: RegExp): Statement[] => Object.values(t.findResources('AWS::IAM::Policy'))
    .filter((p) => (p.Properties.Roles as Array<{ Ref: string }>).some((r) => role.test(r.Ref)))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
  const actions = (statements: Statement[]) => statements.flatMap((s) => [s.Action].flat()).sort();
  const SESSION_ACTIONS = ['logs:DescribeLogGroups', 'logs:DescribeLogStreams', 'ssm:UpdateInstanceInformation',
    'ssmmessages:CreateControlChannel', 'ssmmessages:CreateDataChannel', 'ssmmessages:OpenControlChannel', 'ssmmessages:OpenDataChannel'];

  test('gives the config a role of its own with exactly the documented permissions added; the shared role gets none', () => {
    const template = synthRunners([SSM, PLAIN_X]);
    const own = actions(statementsOf(template, /^RunnersFleetRolelinuxssm/));
    const shared = actions(statementsOf(template, /^RunnersFleetRole[0-9A-F]{8}$/));
    // Every runner role: its log streams and the register endpoint.
    expect(shared).toEqual(['lambda:InvokeFunction', 'lambda:InvokeFunctionUrl', 'logs:CreateLogStream', 'logs:PutLogEvents']);
    expect(own).toEqual([...shared, ...SESSION_ACTIONS].sort());
    const resources = Object.fromEntries(statementsOf(template, /^RunnersFleetRolelinuxssm/).flatMap((s) => [s.Action].flat().map((a) => [a, JSON.stringify(s.Resource)])));
    expect(resources['ssm:UpdateInstanceInformation']).toMatch(/:ec2:.*:instance\/\*/);
    expect(resources['ssmmessages:OpenDataChannel']).toBe('"*"');
    expect(resources['logs:DescribeLogStreams']).toMatch(/RunnersFleetLogs/);
    // The config's launch template carries that role's profile, not the shared one.
    const profiles = Object.entries(template.findResources('AWS::IAM::InstanceProfile'));
    expect(profiles.filter(([, p]) => JSON.stringify(p.Properties.Roles).includes('RunnersFleetRolelinuxssm'))).toHaveLength(1);
  });

  test('adds a Session document that runs sessions as the runner user and streams them to the runner log group, named in an output', () => {
    const template = synthRunners([SSM, PLAIN_X]);
    template.hasResourceProperties('AWS::SSM::Document', {
      DocumentType: 'Session',
      Content: Match.objectLike({
        sessionType: 'Standard_Stream',
        inputs: Match.objectLike({ cloudWatchLogGroupName: { Ref: Match.stringLikeRegexp('^RunnersFleetLogs') }, cloudWatchStreamingEnabled: true, runAsEnabled: true, runAsDefaultUser: 'runner' }),
      }),
    });
    template.hasOutput('SessionDocumentName', { Value: { Ref: Match.stringLikeRegexp('SessionDocument') } });
  });

  test('without it nothing of Session Manager is in the template', () => {
    const template = synthRunners([PLAIN_X, { ...SSM, debug: { runnerLogs: true } }]);
    template.resourceCountIs('AWS::SSM::Document', 0);
    const all = actions(Object.values(template.findResources('AWS::IAM::Policy')).flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]));
    expect(all.filter((a) => a.startsWith('ssmmessages:') || a === 'ssm:UpdateInstanceInformation')).toEqual([]);
    expect(Object.keys(template.findOutputs('SessionDocumentName'))).toEqual([]);
  });

  test('cdk-nag and the CloudFormation schema find nothing about it', () => {
    const app = new App();
    const stack = new Stack(app, 'Test');
    const vpc = new ec2.Vpc(stack, 'Vpc', { natGateways: 0, subnetConfiguration: [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC }] });
    new EphemeralRunners(stack, 'Runners', { github: { url: 'https://ghes.example.com', appId: '12' }, vpc, runnerConfigs: [SSM, PLAIN_X] });
    const findings = validationFindings(app);
    for (const plugin of VALIDATION_PLUGINS) expect(findings[plugin].filter((f) => /linux-ssm|SessionDocument/.test(f))).toEqual([]);
  });
});
