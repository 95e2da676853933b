import { DEFAULT_SCENARIO, parseScenario, ScenarioError } from '../../sandbox/scenario';

function problems(doc: unknown): string {
  try {
    parseScenario(doc);
  } catch (e) {
    expect(e).toBeInstanceOf(ScenarioError);
    return (e as Error).message;
  }
  throw new Error('expected the scenario to be refused');
}

describe('sandbox scenarios', () => {
  test('an empty document is the demo', () => {
    expect(parseScenario({})).toEqual(DEFAULT_SCENARIO);
  });

  test('missing fields take defaults', () => {
    const scenario = parseScenario({ name: 'x', jobs: [{ labels: ['self-hosted', 'linux', 'x64'] }] });
    expect(scenario.jobs).toEqual([{ repo: 'app', workflow: 'CI', labels: ['self-hosted', 'linux', 'x64'], count: 1, durationMs: 60_000, arrival: { spreadMs: 0, afterMs: 0 }, cancelRate: 0 }]);
    expect(scenario.faults).toEqual(DEFAULT_SCENARIO.faults);
  });

  test('instance types a zone does not offer are a fault of the scenario, for every zone or one', () => {
    const scenario = parseScenario({ faults: { ec2: { unofferedInstanceTypes: ['m7i.2xlarge', 'm6g.large@us-east-1a'] } } });

    expect(scenario.faults.ec2.unofferedInstanceTypes).toEqual(['m7i.2xlarge', 'm6g.large@us-east-1a']);
    expect(problems({ faults: { ec2: { unofferedInstanceTypes: 'm7i.large' } } })).toMatch(/faults\.ec2\.unofferedInstanceTypes: expected a list of non-empty strings/);
  });

  test('StartInstances capacity errors are a fault of the scenario: none by default, a share from 0 to 1', () => {
    expect(DEFAULT_SCENARIO.faults.ec2.startCapacityErrorRate).toBe(0);
    expect(parseScenario({ faults: { ec2: { startCapacityErrorRate: 0.25 } } }).faults.ec2.startCapacityErrorRate).toBe(0.25);
    expect(problems({ faults: { ec2: { startCapacityErrorRate: 2 } } })).toMatch(/faults\.ec2\.startCapacityErrorRate: expected a number from 0 to 1, found 2/);
  });

  test('a runner config\'s job hooks are scripts, each optional, inline unless fromAsset; none by default', () => {
    const [config] = parseScenario({ runnerConfigs: [{ name: 'a', jobHooks: { started: 'echo hi' } }] }).runnerConfigs;
    expect(config.jobHooks).toEqual({ started: 'echo hi', completed: undefined, fromAsset: false });
    expect(parseScenario({ runnerConfigs: [{ name: 'a', jobHooks: { completed: 'x', fromAsset: true } }] }).runnerConfigs[0].jobHooks?.fromAsset).toBe(true);
    expect(DEFAULT_SCENARIO.runnerConfigs.every((c) => c.jobHooks === undefined)).toBe(true);
    expect(problems({ runnerConfigs: [{ name: 'a', jobHooks: { started: '' } }] })).toMatch(/runnerConfigs\[0\]\.jobHooks\.started: expected a non-empty string/);
    expect(problems({ runnerConfigs: [{ name: 'a', jobHooks: { before: 'x' } }] })).toMatch(/jobHooks\.before: unknown field; known fields are started, completed, fromAsset/);
  });

  test('unknown fields are refused, each named with the fields that exist', () => {
    const message = problems({ nmae: 'x', jobs: [{ count: 1, labelz: [] }], faults: { ec2: { bootTime: [1, 2] } } });
    expect(message).toMatch(/scenario\.nmae: unknown field; known fields are name, seed/);
    expect(message).toMatch(/jobs\[0\]\.labelz: unknown field/);
    expect(message).toMatch(/faults\.ec2\.bootTime: unknown field/);
  });

  test.each([
    [{ timeScale: 0 }, /timeScale: expected a number from 0\.0001 to 10, found 0/],
    [{ seed: 1.5 }, /seed: expected a whole number, found 1\.5/],
    [{ runnerConfigs: [{ name: 'a', spot: 'CHEAP' }] }, /runnerConfigs\[0\]\.spot: expected SPOT_ONLY, SPOT_PREFERRED or ON_DEMAND_ONLY, found "CHEAP"/],
    [{ jobs: [{ cancelRate: 2 }] }, /jobs\[0\]\.cancelRate: expected a number from 0 to 1, found 2/],
    [{ faults: { ec2: { bootMs: [5, 1] } } }, /faults\.ec2\.bootMs: expected \[min, max\] with 0 <= min <= max/],
    [{ runnerConfigs: [] }, /runnerConfigs: give at least one runner config/],
    [{ runnerConfigs: [{ name: 'a', warmPool: { size: 0 } }] }, /runnerConfigs\[0\]\.warmPool\.size: expected a number from 1 to 10000, found 0/],
    [{ runnerConfigs: [{ name: 'a', warmPool: {} }] }, /runnerConfigs\[0\]\.warmPool\.size: expected a number from 1 to 10000/],
    [{ runnerConfigs: [{ name: 'a', priority: 1001 }] }, /runnerConfigs\[0\]\.priority: expected a number from 0 to 1000, found 1001/],
    ['not an object', /scenario: expected an object/],
  ])('a bad value %j is refused with what was expected', (doc, message) => {
    expect(problems(doc)).toMatch(message);
  });
});
