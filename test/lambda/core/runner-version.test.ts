import { spawnSync } from 'child_process';
import * as fc from 'fast-check';
import {
  compareRunnerVersions, imageRunnerStatus, parseRunnerVersion, RunnerDownload, serverRunnerVersion,
} from '../../../lambda/core/runner-version';

const version = fc.tuple(fc.nat(30), fc.nat(400), fc.nat(20)).map(([a, b, c]) => `${a}.${b}.${c}`);
const download = (os: string, architecture: string, v: string, extension = 'tar.gz'): RunnerDownload =>
  ({ os, architecture, filename: `actions-runner-${os}-${architecture}-${v}.${extension}` });

describe('comparing runner versions', () => {
  test('is numeric per part, not textual: 2.10.0 is newer than 2.9.0, 2.329.0 than 2.33.9', () => {
    expect(compareRunnerVersions('2.10.0', '2.9.0')).toBeGreaterThan(0);
    expect(compareRunnerVersions('2.329.0', '2.33.9')).toBeGreaterThan(0);
    expect(compareRunnerVersions('2.329.0', '2.329.0')).toBe(0);
  });

  test('is a total order: antisymmetric, transitive, zero only for the same version', () => {
    fc.assert(fc.property(version, version, version, (a, b, c) => {
      expect(Math.sign(compareRunnerVersions(a, b))).toBe(-Math.sign(compareRunnerVersions(b, a)));
      expect(compareRunnerVersions(a, b) === 0).toBe(a === b);
      if (compareRunnerVersions(a, b) <= 0 && compareRunnerVersions(b, c) <= 0) expect(compareRunnerVersions(a, c)).toBeLessThanOrEqual(0);
    }));
  });

  test('agrees with the image build\'s comparison (sort -V in install-runner.sh)', () => {
    fc.assert(fc.property(fc.array(version, { minLength: 2, maxLength: 8 }), (versions) => {
      const bySortV = spawnSync('sort', ['-V'], { input: versions.join('\n') + '\n', encoding: 'utf8' }).stdout.trim().split('\n');
      expect([...versions].sort(compareRunnerVersions)).toEqual(bySortV);
    }), { numRuns: 30 });
  });

  test('refuses anything that is not x.y.z', () => {
    for (const text of ['2.329', 'v2.329.0', '2.329.0-beta', '', '2.329.0 ']) expect(parseRunnerVersion(text)).toBeUndefined();
    expect(() => compareRunnerVersions('2.329', '2.329.0')).toThrow(RangeError);
  });
});

describe('the version the server ships', () => {
  test('is read from its Linux archives\' file names, whatever else it lists', () => {
    const downloads = [download('osx', 'x64', '2.330.0'), download('linux', 'x64', '2.330.0'), download('linux', 'arm64', '2.330.0'), download('win', 'x64', '2.330.0', 'zip')];

    expect(serverRunnerVersion(downloads)).toBe('2.330.0');
  });

  test('is the newest of them when they differ, and none without a Linux archive', () => {
    fc.assert(fc.property(fc.array(version, { minLength: 1, maxLength: 5 }), (versions) => {
      const newest = [...versions].sort(compareRunnerVersions).pop();
      expect(serverRunnerVersion(versions.map((v) => download('linux', 'x64', v)))).toBe(newest);
    }));
    expect(serverRunnerVersion([download('osx', 'x64', '2.330.0'), { os: 'linux', architecture: 'x64', filename: 'runner.tar.gz' }])).toBeUndefined();
  });
});

describe('the images against the server', () => {
  test('an image is behind exactly when its runner is older than the server\'s; images not built yet are left out', () => {
    fc.assert(fc.property(version.filter((v) => v !== '0.0.0'), version, (image, server) => {
      const [status] = imageRunnerStatus({ x64: image, arm64: '0.0.0' }, server, '0.0.0');
      expect(status).toEqual({ architecture: 'x64', imageVersion: image, behind: compareRunnerVersions(image, server) < 0 });
    }));
    expect(imageRunnerStatus({ x64: 'not-a-version' }, '2.330.0', '0.0.0')).toEqual([]);
  });
});
