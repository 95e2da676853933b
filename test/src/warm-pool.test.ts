import { Match, Template } from 'aws-cdk-lib/assertions';
import { RunnerConfig, WarmPoolSchedule, Weekday } from '../../src';
import { synthErrors, synthRunners } from './support/synth';
import { warmPoolSchedulesFrom } from '../../lambda/handlers/reconciler';
import { EnvironmentVariableError } from '../../src/contracts/environment';

const WARM: RunnerConfig = { name: 'linux-x64', labels: ['linux', 'x64'], instanceTypes: ['m7i.large'], maxRunners: 8, warmPool: { size: 5 } };
const COLD: RunnerConfig = { name: 'linux-large', labels: ['linux', 'x64', 'large'], instanceTypes: ['m7i.xlarge'] };

type Statement = { Action: string | string[]; Condition?: unknown; Resource: unknown };

function statementsOf(t: Template, role: RegExp): Statement[] {
  return [...Object.values(t.findResources('AWS::IAM::Policy')), ...Object.values(t.findResources('AWS::IAM::ManagedPolicy'))]
    .filter((p) => (p.Properties.Roles ?? []).some((r: { Ref: string }) => role.test(r.Ref)))
    .flatMap((p) => p.Properties.PolicyDocument.Statement);
}

function variablesOf(t: Template, service: string): Record<string, unknown> {
  const fn = Object.values(t.findResources('AWS::Lambda::Function')).find((f) => f.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME === service);
  return fn!.Properties.Environment.Variables;
}

describe('a runner config with a warm pool', () => {
  const template = synthRunners([WARM, COLD]);

  test('gets a second launch template that stops on power-off, with the same role, security group and volume', () => {
    template.resourceCountIs('AWS::EC2::LaunchTemplate', 3);
    const templates = Object.entries(template.findResources('AWS::EC2::LaunchTemplate'));
    const warm = templates.filter(([id]) => id.includes('WarmLaunchTemplate'));
    expect(warm).toHaveLength(1);
    const [, cold] = templates.find(([id]) => id.includes('LaunchTemplatelinuxx64'))!;
    const data = warm[0][1].Properties.LaunchTemplateData;
    expect(data.InstanceInitiatedShutdownBehavior).toBe('stop');
    expect(cold.Properties.LaunchTemplateData.InstanceInitiatedShutdownBehavior).toBe('terminate');
    // Each template has an instance profile of its own, for the one runner role.
    const profiles = Object.entries(template.findResources('AWS::IAM::InstanceProfile')).filter(([id]) => id.includes('LaunchTemplate'));
    expect(profiles).toHaveLength(3);
    const roles = new Set(profiles.map(([, p]) => JSON.stringify(p.Properties.Roles)));
    expect(roles.size).toBe(1);
    expect([...roles][0]).toMatch(/RunnersFleetRole/);
    for (const field of ['SecurityGroupIds', 'BlockDeviceMappings', 'MetadataOptions']) {
      expect(data[field]).toEqual(cold.Properties.LaunchTemplateData[field]);
    }
    expect(data.ImageId).toBeUndefined();
  });

  test('its user data installs the bootstrap as a cloud-init per-boot script and runs it on the first boot', () => {
    const [, warm] = Object.entries(template.findResources('AWS::EC2::LaunchTemplate')).find(([id]) => id.includes('WarmLaunchTemplate'))!;
    const userData = JSON.stringify(warm.Properties.LaunchTemplateData.UserData);
    expect(userData).toContain('cat > /var/lib/cloud/scripts/per-boot/ephemeral-runners.sh');
    expect(userData).toContain('exec /var/lib/cloud/scripts/per-boot/ephemeral-runners.sh');
    expect(userData).toMatch(/export REGISTER_URL=/);
    expect(userData).not.toMatch(/private-key|webhook-secret|BEGIN .*PRIVATE KEY|jitconfig=/i);
  });

  test('its document carries the warm pool; a config without one carries none', () => {
    const documents = Object.values(template.findResources('AWS::SSM::Parameter'))
      .filter((p) => String(p.Properties.Name).includes('/runner-configs/'))
      .map((p) => JSON.parse(p.Properties.Value));
    expect(documents.find((d) => d.name === 'linux-x64').warmPool).toEqual({ size: 5 });
    expect(documents.find((d) => d.name === 'linux-large').warmPool).toBeUndefined();
  });

  test('the provisioner knows the warm template, and may start only this deployment\'s instances', () => {
    const launchTemplates = JSON.stringify(variablesOf(template, 'provisioner').WARM_LAUNCH_TEMPLATES);
    expect(launchTemplates).toMatch(/linux-x64/);
    expect(launchTemplates).toMatch(/WarmLaunchTemplatelinuxx64/);
    const start = statementsOf(template, /ProvisionerHandlerRole/).filter((s) => [s.Action].flat().includes('ec2:StartInstances'));
    expect(start).toEqual([expect.objectContaining({
      Condition: { StringEquals: { 'aws:ResourceTag/ephemeral-runners:managed-by': expect.stringMatching(/^er-[0-9a-f]{10}$/) } },
    })]);
    const all = statementsOf(template, /HandlerRole/).flatMap((s) => [s.Action].flat());
    expect(all).not.toContain('ec2:StopInstances');
    // CreateFleet may launch from the warm template too.
    const createFleet = statementsOf(template, /ProvisionerHandlerRole/).find((s) => [s.Action].flat().includes('ec2:CreateFleet'));
    expect(JSON.stringify(createFleet?.Resource)).toMatch(/WarmLaunchTemplatelinuxx64/);
  });

  test('the reconciler is told which configs keep a warm pool; kept always, none has a schedule to pass', () => {
    expect(variablesOf(template, 'reconciler').WARM_POOL_CONFIGS).toBe('linux-x64');
    expect(variablesOf(template, 'reconciler').WARM_POOL_SCHEDULES).toBeUndefined();
  });

  test('a pool kept on a schedule: the reconciler gets the schedule, and reads back what the config document holds', () => {
    const scheduled = synthRunners([{ ...WARM, warmPool: { size: 2, schedule: WarmPoolSchedule.during({ timeZone: 'Europe/Berlin', endHour: 18 }) } }, COLD]);
    const text = variablesOf(scheduled, 'reconciler').WARM_POOL_SCHEDULES;
    const document = Object.values(scheduled.findResources('AWS::SSM::Parameter'))
      .filter((p) => String(p.Properties.Name).includes('/runner-configs/'))
      .map((p) => JSON.parse(p.Properties.Value))
      .find((d) => d.name === 'linux-x64');

    expect(typeof text).toBe('string');
    expect(warmPoolSchedulesFrom(JSON.parse(text as string))).toEqual({ 'linux-x64': document.warmPool.schedule });
    expect(document.warmPool.schedule).toEqual({ timeZone: 'Europe/Berlin', weekdays: [1, 2, 3, 4, 5], startHour: 8, endHour: 18 });
  });
});

describe('without a warm pool', () => {
  const template = synthRunners([WARM].map(({ warmPool: _, ...config }) => config));

  test('nothing of it is deployed or granted: no warm template, no StartInstances, no index scan for the provisioner', () => {
    template.resourceCountIs('AWS::EC2::LaunchTemplate', 1);
    const provisioner = statementsOf(template, /ProvisionerHandlerRole/).flatMap((s) => [s.Action].flat());
    expect(provisioner).not.toContain('ec2:StartInstances');
    expect(provisioner).not.toContain('dynamodb:Scan');
    expect(variablesOf(template, 'provisioner').WARM_LAUNCH_TEMPLATES).toBeUndefined();
    expect(variablesOf(template, 'reconciler').WARM_POOL_CONFIGS).toBeUndefined();
    template.hasResourceProperties('AWS::EC2::LaunchTemplate', { LaunchTemplateData: Match.objectLike({ InstanceInitiatedShutdownBehavior: 'terminate' }) });
  });
});

describe('warm pool validation', () => {
  test('a size of 0, a fraction or above maxRunners fails synth naming the prop, the value and the fix', () => {
    const message = synthErrors([
      { ...WARM, warmPool: { size: 0 } },
      { ...COLD, name: 'b', labels: ['b'], warmPool: { size: 2.5 } },
      { ...COLD, name: 'c', labels: ['c'], maxRunners: 3, warmPool: { size: 4 } },
    ]);
    expect(message).toMatch(/runner config 'linux-x64' \(runnerConfigs\[0\]\): warmPool\.size is 0; give a whole number of at least 1/);
    expect(message).toMatch(/runner config 'b' \(runnerConfigs\[1\]\): warmPool\.size is 2\.5/);
    expect(message).toMatch(/runner config 'c' \(runnerConfigs\[2\]\): warmPool\.size is 4, above maxRunners \(3\).*lower warmPool\.size or raise maxRunners/);
  });

  test('a schedule with an unknown time zone, no weekday or hours out of order fails synth with each problem', () => {
    const message = synthErrors([{
      ...WARM,
      warmPool: { size: 2, schedule: WarmPoolSchedule.during({ timeZone: 'Mars/Olympus', weekdays: [], startHour: 19, endHour: 8 }) },
    }]);
    expect(message).toMatch(/warmPool\.schedule\.timeZone is "Mars\/Olympus", which is not an IANA time zone/);
    expect(message).toMatch(/warmPool\.schedule\.weekdays is empty/);
    expect(message).toMatch(/warmPool\.schedule\.endHour is 8; give a whole hour from 1 to 24, after startHour \(19\)/);
  });

  test('a schedule is written as ISO weekdays and hours in its time zone; the default is working hours on weekdays', () => {
    const template = synthRunners([
      { ...WARM, warmPool: { size: 2, schedule: WarmPoolSchedule.during({ timeZone: 'Europe/Berlin' }) } },
      { ...COLD, name: 'weekend', labels: ['weekend'], warmPool: { size: 1, schedule: WarmPoolSchedule.during({ timeZone: 'UTC', weekdays: [Weekday.SUNDAY, Weekday.SATURDAY], startHour: 0, endHour: 24 }) } },
      { ...COLD, name: 'always', labels: ['always'], warmPool: { size: 1, schedule: WarmPoolSchedule.always() } },
    ]);
    const documents = Object.values(template.findResources('AWS::SSM::Parameter'))
      .filter((p) => String(p.Properties.Name).includes('/runner-configs/'))
      .map((p) => JSON.parse(p.Properties.Value));
    const byName = Object.fromEntries(documents.map((d) => [d.name, d.warmPool]));
    expect(byName['linux-x64']).toEqual({ size: 2, schedule: { timeZone: 'Europe/Berlin', weekdays: [1, 2, 3, 4, 5], startHour: 8, endHour: 19 } });
    expect(byName.weekend).toEqual({ size: 1, schedule: { timeZone: 'UTC', weekdays: [6, 7], startHour: 0, endHour: 24 } });
    expect(byName.always).toEqual({ size: 1 });
  });
});

describe('the reconciler reading WARM_POOL_SCHEDULES', () => {
  test('a value that is not a schedule is refused, naming the variable and the fix', () => {
    for (const text of ['not json', '{"timeZone":"UTC"}', '{"timeZone":"UTC","weekdays":["MONDAY"],"startHour":8,"endHour":19}']) {
      expect(() => warmPoolSchedulesFrom({ 'linux-x64': text })).toThrow(EnvironmentVariableError);
    }
    expect(() => warmPoolSchedulesFrom({ 'linux-x64': 'not json' })).toThrow(/WARM_POOL_SCHEDULES: the schedule of linux-x64 .*deploy it again/);
    expect(warmPoolSchedulesFrom(undefined)).toEqual({});
  });
});
