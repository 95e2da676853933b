import { describeRoutingTies } from '../../src/private/routing-ties';
import { RunnerArchitecture, RunnerConfig, RunnerScope, SpotStrategy, toRunnerConfigDocument, validateRunnerConfigs } from '../../src/runner-config';

const x64: RunnerConfig = { name: 'linux-x64', labels: ['linux', 'x64'] };
const arm: RunnerConfig = { name: 'linux-arm64-large', labels: ['linux', 'arm64', 'large'] };

describe('runner config validation', () => {
  test('a sound set of configs has no errors', () => {
    expect(validateRunnerConfigs([x64, arm])).toEqual([]);
  });

  test('an empty set asks for a config', () => {
    expect(validateRunnerConfigs([])).toEqual([expect.stringMatching(/runnerConfigs is empty/)]);
  });

  test('a duplicate name names the config and asks for unique names', () => {
    const errors = validateRunnerConfigs([x64, { ...arm, name: 'linux-x64' }]);
    expect(errors).toEqual([expect.stringMatching(/'linux-x64' is used 2 times; give each config a unique name/)]);
  });

  test('identical label sets, compared case-insensitively and without self-hosted, are refused', () => {
    const errors = validateRunnerConfigs([x64, { name: 'other', labels: ['self-hosted', 'X64', 'Linux'] }]);
    expect(errors).toEqual([expect.stringMatching(/'linux-x64' and 'other' have the same labels \[linux,x64\], so one of them could never receive a job.*merge them/)]);
  });

  test('identical label sets are refused whatever their priorities: the lower one would never receive a job', () => {
    const errors = validateRunnerConfigs([x64, { name: 'other', labels: ['linux', 'x64'], priority: 5 }]);
    expect(errors).toEqual([expect.stringMatching(/'linux-x64' and 'other' have the same labels \[linux,x64\].*whatever their priority/)]);
  });

  test('configs tied for a shared subset are valid: the tie is described with the job, the configs and the first listed as winner', () => {
    const configs = [x64, { name: 'linux-arm64', labels: ['linux', 'arm64'] }];
    expect(validateRunnerConfigs(configs)).toEqual([]);
    expect(describeRoutingTies(configs)).toEqual([
      "runner configs 'linux-x64', 'linux-arm64' match a job with runs-on [\"linux\"] equally well (the same number of labels beyond it); "
      + "it goes to 'linux-x64', listed first in runnerConfigs (runnerConfigs[0]). "
      + 'To send it elsewhere, give another of them a higher priority, or add a config whose labels are exactly ["linux"].',
    ]);
  });

  test('a higher priority wins a tie whatever the order; among equal priorities the first listed', () => {
    const arm64 = { name: 'linux-arm64', labels: ['linux', 'arm64'] };
    expect(describeRoutingTies([x64, { ...arm64, priority: 1 }])).toEqual([expect.stringMatching(/goes to 'linux-arm64', whose priority 1 is the highest\./)]);
    const gpu = { name: 'linux-gpu', labels: ['linux', 'gpu'] };
    expect(describeRoutingTies([{ ...x64, priority: 0 }, { ...arm64, priority: 2 }, { ...gpu, priority: 2 }]))
      .toEqual([expect.stringMatching(/^runner configs 'linux-arm64', 'linux-gpu', 'linux-x64' .*goes to 'linux-arm64', listed first \(runnerConfigs\[1\]\) of those with the highest priority, 2\./)]);
  });

  test('a config whose labels are exactly the shared subset leaves no tie', () => {
    const configs = [x64, { name: 'linux-arm64', labels: ['linux', 'arm64'] }, { name: 'linux', labels: ['linux'] }];
    expect(validateRunnerConfigs(configs)).toEqual([]);
    expect(describeRoutingTies(configs)).toEqual([]);
  });

  test('a subset config is no tie: the most specific one wins', () => {
    expect(describeRoutingTies([{ name: 'linux', labels: ['linux'] }, x64])).toEqual([]);
  });

  test.each([-1, 1001, 1.5, Number.NaN])('priority %p is refused with the range', (priority) => {
    expect(validateRunnerConfigs([{ ...x64, priority }])).toEqual([expect.stringMatching(/'linux-x64' \(runnerConfigs\[0\]\): priority is .*; give a whole number from 0 to 1000/)]);
  });

  test('labels that name nothing but self-hosted are refused', () => {
    expect(validateRunnerConfigs([{ name: 'empty', labels: [] }])).toEqual([expect.stringMatching(/'empty'.*name nothing but 'self-hosted'/)]);
    expect(validateRunnerConfigs([{ name: 'only', labels: ['Self-Hosted'] }])).toEqual([expect.stringMatching(/'only'.*name nothing but 'self-hosted'/)]);
  });

  test.each([
    ['a comma', 'linux,x64'],
    ['a space', 'linux x64'],
    ['a newline', 'linux\nx64'],
    ['a Kelvin sign', '\u212Aubernetes'],
    ['a shell metacharacter', '$(reboot)'],
    ['65 characters', 'a'.repeat(65)],
  ])('a label with %s is refused with the allowed characters named', (_what, label) => {
    const errors = validateRunnerConfigs([{ name: 'bad', labels: ['linux', label] }]);
    expect(errors).toEqual([expect.stringMatching(/'bad'.*are not valid; use 1-64 letters, digits, '\.', '_' or '-'/)]);
  });

  test('a label repeated in another case is refused', () => {
    expect(validateRunnerConfigs([{ name: 'twice', labels: ['linux', 'Linux'] }])).toEqual([expect.stringMatching(/'twice'.*labels repeat \["linux"\]/)]);
  });

  test.each(['m7i', 'M7i.large', 'm7i.large ', '.large', 'm7i..large', ''])('malformed instance type %j is refused with an example', (type) => {
    const errors = validateRunnerConfigs([{ ...x64, instanceTypes: ['m6i.large', type] }]);
    expect(errors).toEqual([expect.stringMatching(/'linux-x64'.*instance types .* are malformed;.*'m7i\.large'/)]);
  });

  test.each(['c7i.16xlarge', 'u-6tb1.metal', 'm7i-flex.large', 'g5.xlarge'])('well-formed x64 instance type %s is accepted', (type) => {
    expect(validateRunnerConfigs([{ ...x64, instanceTypes: [type] }])).toEqual([]);
  });

  test.each(['c7gn.16xlarge', 'm7g.large', 't4g.micro', 'a1.large', 'r8gd.xlarge'])('Graviton type %s is accepted for arm64', (type) => {
    expect(validateRunnerConfigs([{ ...x64, architecture: RunnerArchitecture.ARM64, instanceTypes: [type] }])).toEqual([]);
  });

  test.each([
    ['m7x.large', "no instance family 'm7x'"],
    ['m7i.huge', "no instance size 'huge'"],
    ['m7i.3xlarges', "no instance size '3xlarges'"],
    ['parallel5-extended.large', "no instance family 'parallel5-extended'"],
  ])('instance type %s, which does not exist, is refused naming the config, the value and the fix', (type, reason) => {
    const errors = validateRunnerConfigs([{ ...x64, instanceTypes: ['m6i.large', type] }]);

    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain(`runner config 'linux-x64' (runnerConfigs[0]): instance types '${type}' (${reason}) do not exist`);
    expect(errors[0]).toMatch(/use a type from the EC2 instance types list, e\.g\. 'm7i\.large'/);
  });

  test.each(['m6a.large', 'm7i.2xlarge', 'r7i.4xlarge', 't3.micro', 'm7i.metal-24xl', 'c7i-flex.large', 'u7i-6tb.112xlarge'])(
    'real x64 instance type %s is accepted', (type) => {
      expect(validateRunnerConfigs([{ ...x64, instanceTypes: [type] }])).toEqual([]);
    });

  test('the architecture check follows aws-cdk-lib: g5g (Graviton GPU) is arm64, g4dn is x64', () => {
    expect(validateRunnerConfigs([{ ...x64, instanceTypes: ['g5g.xlarge'] }])).toEqual([expect.stringMatching(/\["g5g\.xlarge"\] do not match the architecture x64/)]);
    expect(validateRunnerConfigs([{ ...x64, instanceTypes: ['g4dn.xlarge'] }])).toEqual([]);
  });

  test('instance types of the other architecture are refused, naming the setting that fixes it', () => {
    expect(validateRunnerConfigs([{ ...x64, instanceTypes: ['m7i.large', 'm7g.large'] }]))
      .toEqual([expect.stringMatching(/\["m7g\.large"\] do not match the architecture x64; set architecture: RunnerArchitecture\.ARM64/)]);
    expect(validateRunnerConfigs([{ ...x64, architecture: RunnerArchitecture.ARM64, instanceTypes: ['m7i.large'] }]))
      .toEqual([expect.stringMatching(/\["m7i\.large"\] do not match the architecture arm64/)]);
  });

  test('arm64 configs default to Graviton instance types', () => {
    expect(toRunnerConfigDocument({ name: 'arm', labels: ['arm64'], architecture: RunnerArchitecture.ARM64 }, 0).instanceTypes).toEqual(['m7g.large', 'm6g.large', 'm8g.large']);
  });

  test('instance requirements replace the type list: EC2 chooses within the ranges; both at once, or ranges upside down, are refused', () => {
    const requirements = { vCpuMin: 2, vCpuMax: 8, memoryMiBMin: 8192 };
    expect(toRunnerConfigDocument({ ...x64, instanceTypes: undefined, instanceRequirements: requirements }, 0)).toMatchObject({
      instanceTypes: [], instanceRequirements: requirements,
    });
    expect(validateRunnerConfigs([{ ...x64, instanceTypes: undefined, instanceRequirements: requirements }])).toEqual([]);
    expect(validateRunnerConfigs([{ ...x64, instanceTypes: ['m7i.large'], instanceRequirements: requirements }]))
      .toEqual([expect.stringMatching(/give instanceTypes or instanceRequirements, not both/)]);
    const upsideDown = { vCpuMin: 4, vCpuMax: 2, memoryMiBMin: -1 };
    expect(validateRunnerConfigs([{ ...x64, instanceTypes: undefined, instanceRequirements: upsideDown }])).toEqual([
      expect.stringMatching(/vCpuMax is 2; give a whole number no smaller than vCpuMin \(4\)/),
      expect.stringMatching(/memoryMiBMin is -1/),
    ]);
  });

  test('an empty instance type list is refused', () => {
    expect(validateRunnerConfigs([{ ...x64, instanceTypes: [] }])).toEqual([expect.stringMatching(/'linux-x64' \(runnerConfigs\[0\]\): instanceTypes is empty/)]);
  });

  test.each([0, -1, 1.5, Number.NaN])('maxRunners %p is refused', (maxRunners) => {
    expect(validateRunnerConfigs([{ ...x64, maxRunners }])).toEqual([expect.stringMatching(/'linux-x64'.*maxRunners is .*at least 1/)]);
  });

  test.each(['Linux-X64', 'linux_x64', '-linux', 'linux-', 'a'.repeat(33)])('config name %j is refused with a suggestion', (name) => {
    expect(validateRunnerConfigs([{ ...x64, name }])).toEqual([expect.stringMatching(/name must be 1-32 lower-case letters.*rename it, e\.g\. '[a-z0-9-]+'/)]);
  });

  test('every problem of every config is reported at once', () => {
    const errors = validateRunnerConfigs([
      { name: 'A', labels: [], maxRunners: 0 },
      { name: 'b', labels: ['x'], instanceTypes: ['nope'] },
    ]);
    expect(errors).toHaveLength(4);
  });
});

describe('runner config document', () => {
  test('applies the defaults and keeps the runner labels as written, self-hosted first', () => {
    expect(toRunnerConfigDocument({ name: 'gpu', labels: ['Linux', 'GPU', 'self-hosted'] }, 3)).toEqual({
      version: 1,
      name: 'gpu',
      labels: ['gpu', 'linux'],
      runnerLabels: ['self-hosted', 'Linux', 'GPU'],
      priority: 0,
      order: 3,
      instanceTypes: ['m7i.large', 'm6i.large', 'm6a.large', 'm5.large'],
      architecture: 'x64',
      spot: SpotStrategy.SPOT_PREFERRED,
      maxRunners: 10,
      scope: RunnerScope.ORGANIZATION,
      runnerGroupId: 1,
    });
  });
});
