import * as fs from 'fs';
import * as path from 'path';
import { extractReadmeSample, ReadmeSampleError } from './readme-sample';

describe('the README sample the consumer test synthesizes', () => {
  test('the project README has a TypeScript sample under "Use it" that imports the library', () => {
    const readme = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');

    const sample = extractReadmeSample(readme);

    expect(sample).toMatch(/from 'cdk-ephemeral-runners'/);
    expect(sample).toMatch(/new EphemeralRunners\(/);
  });

  test('the first ts block of the section is taken, after blocks in other languages and subheadings', () => {
    const readme = [
      '# Title', '', '```ts', 'const notThis = 1;', '```',
      '## Use it', '', '```sh', '## not a heading', 'npm i x', '```',
      '### Details', '', '~~~~typescript', 'const sample = 1;', '```', 'const still = 2;', '~~~~',
      '```ts', 'const second = 3;', '```',
    ].join('\n');

    const sample = extractReadmeSample(readme);

    expect(sample).toBe('const sample = 1;\n```\nconst still = 2;\n');
  });

  test('a ts block after the next level-2 heading is not the sample', () => {
    const readme = ['## Use it', 'Prose only.', '## Later', '```ts', 'const later = 1;', '```'].join('\n');

    expect(() => extractReadmeSample(readme)).toThrow(new ReadmeSampleError('README.md has no ```ts block under "## Use it"'));
  });

  test('a missing heading and an unclosed block are named', () => {
    expect(() => extractReadmeSample('## Install\n```ts\nx\n```\n')).toThrow('README.md has no "## Use it" heading');
    expect(() => extractReadmeSample('## Use it\n```ts\nconst x = 1;\n')).toThrow('is never closed');
  });
});
