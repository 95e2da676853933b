import { execFileSync } from 'child_process';
import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { idleCosts } from './idle-cost';
import { VALIDATION_PLUGINS, validationFindings } from './validation';
import { buildApp } from '../../examples/multi-config/app';
import { RunnerConfigDocument } from '../../src/runner-config-document';

describe('examples/multi-config', () => {
  const app = buildApp();
  const stack = app.node.findChild('EphemeralRunnersMultiConfig') as Stack;
  const template = Template.fromStack(stack);

  test('one launch template per config (and one for the warm pool), booting the team\'s own image of the config\'s architecture; no image pipeline', () => {
    template.resourceCountIs('AWS::EC2::LaunchTemplate', 5);
    template.resourceCountIs('AWS::ImageBuilder::ImagePipeline', 0);
    const images = Object.values(template.findResources('AWS::SSM::Parameter'))
      .map((p) => p.Properties.Value)
      .filter((v): v is string => typeof v === 'string' && v.startsWith('{'))
      .map((v) => (JSON.parse(v) as RunnerConfigDocument).image?.parameterName).sort();
    expect(images).toEqual([
      '/platform/runner-images/arm64',
      '/platform/runner-images/x64',
      '/platform/runner-images/x64',
      '/platform/runner-images/x64',
    ]);
    for (const t of Object.values(template.findResources('AWS::EC2::LaunchTemplate'))) expect(t.Properties.LaunchTemplateData.ImageId).toBeUndefined();
  });

  test('each config document carries its strategy, architecture and instance choice', () => {
    const docs = Object.values(template.findResources('AWS::SSM::Parameter'))
      .map((p) => p.Properties.Value)
      .filter((v): v is string => typeof v === 'string' && v.startsWith('{'))
      .map((v) => JSON.parse(v) as RunnerConfigDocument);
    const byName = Object.fromEntries(docs.map((d) => [d.name, d]));
    expect(byName['linux-x64']).toMatchObject({ spot: 'SPOT_PREFERRED', architecture: 'x64', instanceTypes: ['m7i.large', 'm6i.large', 'm6a.large'] });
    expect(byName['linux-x64-large']).toMatchObject({ spot: 'SPOT_ONLY', instanceTypes: [], instanceRequirements: { vCpuMin: 8, vCpuMax: 16, memoryMiBMin: 32768, memoryMiBMax: 65536 } });
    expect(byName['linux-arm64']).toMatchObject({ spot: 'ON_DEMAND_ONLY', architecture: 'arm64' });
    expect(byName['gpu-less-integration']).toMatchObject({ scope: 'repo' });
    expect(byName['linux-x64'].warmPool).toEqual({ size: 10, schedule: { timeZone: 'Europe/Berlin', weekdays: [1, 2, 3, 4, 5], startHour: 8, endHour: 19 } });
  });

  test('the fleet-wide ceiling reaches the provisioner, and jobs waiting on it have an alarm', () => {
    const provisioner = Object.values(template.findResources('AWS::Lambda::Function'))
      .find((f) => f.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME === 'provisioner')!;
    expect(provisioner.Properties.Environment.Variables.MAX_INSTANCES).toBe('60');
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'JobsWaitingOnFleetCap' });
  });

  test('the large config\'s launch template carries its job hooks for the bootstrap; the other configs carry none', () => {
    const userData = Object.entries(template.findResources('AWS::EC2::LaunchTemplate'))
      .map(([id, t]): [string, string] => [id, JSON.stringify(t.Properties.LaunchTemplateData.UserData)]);
    const hooked = userData.filter(([, data]) => data.includes('export JOB_STARTED_HOOK_BASE64='));
    expect(hooked.map(([id]) => id)).toEqual([expect.stringMatching(/LaunchTemplatelinuxx64large/)]);
    const [, started] = /export JOB_STARTED_HOOK_BASE64='([A-Za-z0-9+/=]+)'/.exec(hooked[0][1])!;
    const script = Buffer.from(started, 'base64').toString('utf8');
    expect(script).toContain('less than 40 GiB free on the runner');
    expect(script).toContain('has ${free_gib} GiB free');
    // bash parses it (-n: read, do not run).
    expect(() => execFileSync('bash', ['-n'], { input: script })).not.toThrow();
    // The completed hook is a file of the app: an S3 asset the instance downloads, the one object the runner role may read.
    expect(hooked[0][1]).toContain("export JOB_COMPLETED_HOOK_URL='https://");
    const s3 = Object.values(template.findResources('AWS::IAM::Policy'))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as Array<{ Action: unknown; Resource: unknown }>)
      .filter((st) => JSON.stringify(st.Action).includes('s3:'));
    expect(s3.map((st) => st.Action)).toEqual(['s3:GetObject']);
    expect(JSON.stringify(s3[0].Resource)).toMatch(/\/[0-9a-f]{64}\.sh"/);
  });

  test('the launching role may read the team\'s image parameters', () => {
    const policies = JSON.stringify(template.findResources('AWS::IAM::Policy'));
    expect(policies).toMatch(/parameter\/platform\/runner-images\/x64/);
    expect(policies).toMatch(/parameter\/platform\/runner-images\/arm64/);
  });

  test('alarms go to the team\'s topic', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmActions: [{ Ref: Match.stringLikeRegexp('^RunnerAlarms') }] });
  });

  test('nothing bills by the hour while no job runs', () => {
    expect(idleCosts(template.toJSON())).toEqual([]);
  });

  // A fresh app: the checks run as validation plugins, at its synth.
  const findings = validationFindings(buildApp());

  test.each(VALIDATION_PLUGINS)('%s finds nothing that is not acknowledged in code with a reason', (plugin) => {
    expect(findings[plugin]).toEqual([]);
  });
});
