// The install-runner Image Builder component: image-builder/install-runner.sh written into the
// image, run in the build phase (resolve, check the floor, download, verify, unpack) and in the
// test phase (report the image's runner version to SSM). Component parameters are fixed in the
// recipe, so what changes between builds — the newest release, the server's version — is resolved
// by the script when it runs. The test phase runs on an instance of the new image once it is built,
// before distribution ("tests run following the image build, before image distribution":
// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-imagebuilder-image-imagetestsconfiguration.html),
// so the version it reports is the image's, and a build that fails earlier reports nothing.
import * as fs from 'fs';
import * as path from 'path';
import { RunnerRelease } from '../runner-version';

const SCRIPT = path.join(__dirname, '..', '..', 'image-builder', 'install-runner.sh');
const SCRIPT_IN_IMAGE = '/opt/ephemeral-runners/install-runner.sh';

/** `Version` is `latest` for the newest release; the sums are `none` then (the script reads GitHub's). */
export function installRunnerParameters(release: RunnerRelease | undefined, names: { minimum: string; floor: string; version: string }) {
  return [
    { name: 'Version', value: [release?.version ?? 'latest'] },
    { name: 'Sha256X64', value: [release?.sha256X64 ?? 'none'] },
    { name: 'Sha256Arm64', value: [release?.sha256Arm64 ?? 'none'] },
    { name: 'MinimumVersion', value: [names.minimum] },
    { name: 'FloorParameter', value: [names.floor] },
    { name: 'VersionParameter', value: [names.version] },
  ];
}

/** The component document; every parameter value is checked at synth (versions, hex, SSM names), so quoting them is safe. */
export function installRunnerComponent(): string {
  const script = fs.readFileSync(SCRIPT, 'utf8');
  const parameter = (name: string, description: string) => [`  - ${name}:`, '      type: string', `      description: ${description}`];
  return [
    'name: ephemeral-runners-install-runner',
    'description: The GitHub Actions runner, newest or pinned, verified by its SHA-256 and never older than the GitHub server ships.',
    'schemaVersion: 1.0',
    'parameters:',
    ...parameter('Version', 'latest, or a runner version such as 2.329.0.'),
    ...parameter('Sha256X64', 'SHA-256 of the pinned linux-x64 archive; none for latest.'),
    ...parameter('Sha256Arm64', 'SHA-256 of the pinned linux-arm64 archive; none for latest.'),
    ...parameter('MinimumVersion', 'No runner older than this is installed.'),
    ...parameter('FloorParameter', 'SSM parameter with the runner version the GitHub server ships; no runner older than it is installed.'),
    ...parameter('VersionParameter', 'SSM parameter the test phase writes the image runner version to.'),
    'phases:',
    '  - name: build',
    '    steps:',
    '      - name: WriteScript',
    '        action: CreateFile',
    '        inputs:',
    `          - path: ${SCRIPT_IN_IMAGE}`,
    '            permissions: 755',
    '            overwrite: true',
    '            content: |',
    ...script.trimEnd().split('\n').map((line) => (line.length > 0 ? `              ${line}` : '')),
    '      - name: ResolveVerifyInstall',
    '        action: ExecuteBash',
    '        inputs:',
    '          commands:',
    `            - RUNNER_VERSION='{{ Version }}' RUNNER_SHA256_X64='{{ Sha256X64 }}' RUNNER_SHA256_ARM64='{{ Sha256Arm64 }}' MINIMUM_VERSION='{{ MinimumVersion }}' FLOOR_PARAMETER='{{ FloorParameter }}' ${SCRIPT_IN_IMAGE} install`,
    '  - name: validate',
    '    steps:',
    '      - name: RunnerPresent',
    '        action: ExecuteBash',
    '        inputs:',
    '          commands:',
    '            - test -x /opt/actions-runner/run.sh',
    '            - /opt/actions-runner/bin/Runner.Listener --version',
    '  - name: test',
    '    steps:',
    '      - name: ReportVersion',
    '        action: ExecuteBash',
    '        inputs:',
    '          commands:',
    `            - VERSION_PARAMETER='{{ VersionParameter }}' ${SCRIPT_IN_IMAGE} report`,
    '',
  ].join('\n');
}
