import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { synthRunners } from './support/synth';

const SOURCE = fs.readFileSync(path.join(__dirname, '..', '..', 'image-builder', 'bootstrap.sh'), 'utf8');

describe('the bootstrap in the launch templates\' user data', () => {
  const template = synthRunners([{ name: 'linux-x64', labels: ['linux', 'x64'], instanceTypes: ['m7i.large'], warmPool: { size: 1 } }]);
  const userDataTexts = Object.values(template.findResources('AWS::EC2::LaunchTemplate'))
    .map((t) => JSON.stringify(t.Properties.LaunchTemplateData.UserData).replace(/\\n/g, '\n').replace(/\\"/g, '"'));

  test('installs, run by bash, the script with only its comment lines left out', () => {
    expect(userDataTexts).toHaveLength(2);
    for (const text of userDataTexts) {
      const lines = text.split('\n');
      const commands = lines.slice(lines.findIndex((l) => l.startsWith('mkdir -p /opt/ephemeral-runners')), lines.findIndex((l) => l.startsWith('chmod 755 /opt/ephemeral-runners/')) + 1);
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bootstrap-install-'));
      try {
        execFileSync('bash', ['-euo', 'pipefail', '-c', commands.join('\n').split('/opt/ephemeral-runners').join(dir)]);
        const installed = fs.readFileSync(path.join(dir, 'bootstrap.sh'), 'utf8').split('\n');
        expect((fs.statSync(path.join(dir, 'bootstrap.sh')).mode % 0o1000).toString(8)).toBe('755');
        // The installed lines are the source's, in order; what is missing is comment lines only.
        const source = SOURCE.split('\n');
        let at = 0;
        const dropped: string[] = [];
        for (const line of installed) {
          while (at < source.length && source[at] !== line) dropped.push(source[at++]);
          expect(at).toBeLessThan(source.length);
          at++;
        }
        dropped.push(...source.slice(at));
        expect(dropped.length).toBeGreaterThan(0);
        expect(dropped.filter((l) => !/^\s*#/.test(l))).toEqual([]);
        expect(installed[0]).toBe('#!/usr/bin/env bash');
        execFileSync('bash', ['-n', path.join(dir, 'bootstrap.sh')]);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }
  });

  test('leaves most of EC2\'s 16 KB of user data to the settings and inline job hooks', () => {
    for (const text of userDataTexts) expect(Buffer.byteLength(text)).toBeLessThan(8 * 1024);
  });
});
