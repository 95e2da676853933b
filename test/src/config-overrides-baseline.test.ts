// Configs without overrides synthesize as before per-config overrides existed: the fleet's resources
// (launch templates, the runner role and its profiles, security groups, launch and invoke grants, the
// functions' launch and register settings, the config documents) of the examples, logical ids and
// properties, against fixtures/fleet-resources-without-overrides.json, rendered from the code before
// overrides. Regenerate the fixture only for a change meant to alter these resources.
import * as fs from 'fs';
import * as path from 'path';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { fleetResources } from './support/fleet-resources';
import { buildApp as basic } from '../../examples/basic/app';
import { buildApp as multiConfig } from '../../examples/multi-config/app';
import { buildApp as privateNetworking } from '../../examples/private-networking/app';

const before = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'fleet-resources-without-overrides.json'), 'utf8'));

describe.each([['basic', basic], ['multi-config', multiConfig], ['private-networking', privateNetworking]] as const)('examples/%s', (name, build) => {
  test('renders the fleet\'s resources exactly as before per-config overrides', () => {
    const stacks = build().node.children.filter((c): c is Stack => c instanceof Stack).map((s) => Template.fromStack(s).toJSON());
    const withFleet = stacks.find((t) => Object.values(t.Resources as Record<string, { Type: string }>).some((r) => r.Type === 'AWS::EC2::LaunchTemplate'))!;
    const now = JSON.parse(JSON.stringify(fleetResources(withFleet as never)));
    expect(Object.keys(now).sort()).toEqual(Object.keys(before[name]).sort());
    expect(now).toEqual(before[name]);
  });
});
