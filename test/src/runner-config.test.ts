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
    expect(errors).toEqual([expect.stringMatching(/'linux-x64' and 'other' have the same labels \[linux,x64\].*merge them/)]);
  });

  test('configs tied for a shared subset are ambiguous, and the error names the runs-on and the fix', () => {
    const errors = validateRunnerConfigs([x64, { name: 'linux-arm64', labels: ['linux', 'arm64'] }]);
    expect(errors).toEqual([
      expect.stringMatching(/'linux-arm64' and 'linux-x64' both match a job with runs-on \["linux"\] equally well.*add a config whose labels are exactly \["linux"\]/),
    ]);
  });

  test('a config whose labels are exactly the shared subset resolves the ambiguity', () => {
    const configs = [x64, { name: 'linux-arm64', labels: ['linux', 'arm64'] }, { name: 'linux', labels: ['linux'] }];
    expect(validateRunnerConfigs(configs)).toEqual([]);
  });

  test('a subset config is not ambiguous: the most specific one wins', () => {
    expect(validateRunnerConfigs([{ name: 'linux', labels: ['linux'] }, x64])).toEqual([]);
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
    expect(toRunnerConfigDocument({ name: 'arm', labels: ['arm64'], architecture: RunnerArchitecture.ARM64 }).instanceTypes).toEqual(['m7g.large', 'm6g.large', 'm8g.large']);
  });

  test('instance requirements replace the type list: EC2 chooses within the ranges; both at once, or ranges upside down, are refused', () => {
    const requirements = { vCpuMin: 2, vCpuMax: 8, memoryMiBMin: 8192 };
    expect(toRunnerConfigDocument({ ...x64, instanceTypes: undefined, instanceRequirements: requirements })).toMatchObject({
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
    expect(toRunnerConfigDocument({ name: 'gpu', labels: ['Linux', 'GPU', 'self-hosted'] })).toEqual({
      version: 1,
      name: 'gpu',
      labels: ['gpu', 'linux'],
      runnerLabels: ['self-hosted', 'Linux', 'GPU'],
      instanceTypes: ['m7i.large', 'm6i.large', 'm6a.large', 'm5.large'],
      architecture: 'x64',
      spot: SpotStrategy.SPOT_PREFERRED,
      maxRunners: 10,
      scope: RunnerScope.ORGANIZATION,
      runnerGroupId: 1,
    });
  });
});
