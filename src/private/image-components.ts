// The Image Builder component documents of the runner image that are written here rather than
// kept as files: the bootstrap and the CA certificates embedded, the pre-pulled images listed.
import * as fs from 'fs';
import * as path from 'path';

const COMPONENTS_DIR = path.join(__dirname, '..', '..', 'image-builder', 'components');

export function fileComponent(file: string): string {
  return fs.readFileSync(path.join(COMPONENTS_DIR, file), 'utf8');
}

/** The bootstrap in the image, so an instance needs nothing from the network before it registers. */
export function bootstrapComponent(): string {
  const script = fs.readFileSync(path.join(__dirname, '..', '..', 'image-builder', 'bootstrap.sh'), 'utf8');
  return [
    'name: ephemeral-runners-bootstrap',
    'description: The bootstrap that registers the runner just in time, runs one job and powers off.',
    'schemaVersion: 1.0',
    'phases:',
    '  - name: build',
    '    steps:',
    '      - name: WriteBootstrap',
    '        action: CreateFile',
    '        inputs:',
    '          - path: /opt/ephemeral-runners/bootstrap.sh',
    '            permissions: 755',
    '            overwrite: true',
    '            content: |',
    ...script.trimEnd().split('\n').map((line) => (line.length > 0 ? `              ${line}` : '')),
    '',
  ].join('\n');
}

export function caComponent(pem: string): string {
  return [
    'name: ephemeral-runners-ca-certificates',
    'description: Extra certificate authorities the runner trusts (a GHES behind a private CA).',
    'schemaVersion: 1.0',
    'phases:',
    '  - name: build',
    '    steps:',
    '      - name: WriteCertificates',
    '        action: CreateFile',
    '        inputs:',
    '          - path: /usr/local/share/ca-certificates/ephemeral-runners.crt',
    '            overwrite: true',
    '            content: |',
    ...pem.trim().split('\n').map((line) => `              ${line.trim()}`),
    '      - name: Trust',
    '        action: ExecuteBash',
    '        inputs:',
    '          commands:',
    '            - update-ca-certificates',
    '',
  ].join('\n');
}

/** Image references as docker accepts them: no spaces or quotes, nothing a shell would read. */
const IMAGE_REFERENCE = /^[a-z0-9]+([._\-/:@][a-zA-Z0-9_.\-]+)*$/;

export function prePullComponent(images: string[]): string {
  const bad = images.filter((i) => !IMAGE_REFERENCE.test(i));
  if (bad.length > 0) throw new Error(`prePulledImages holds entries that are not image references: ${bad.map((b) => JSON.stringify(b)).join(', ')}`);
  return [
    'name: ephemeral-runners-pre-pull',
    'description: Container images pulled ahead of time, so jobs that use them start at once.',
    'schemaVersion: 1.0',
    'phases:',
    '  - name: build',
    '    steps:',
    '      - name: Pull',
    '        action: ExecuteBash',
    '        inputs:',
    '          commands:',
    ...images.map((image) => `            - docker pull '${image}'`),
    '',
  ].join('\n');
}
