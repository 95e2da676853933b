import * as fs from 'fs';
import * as path from 'path';
import { CodeBlock, codeBlocks, documentationFiles, jsonProblem, typeScriptProblems, yamlProblem } from './code-blocks';

const root = path.resolve(__dirname, '..', '..');
const blocks = documentationFiles(root).flatMap((file) => codeBlocks(file, fs.readFileSync(path.join(root, file), 'utf8')));
const checked = blocks.filter((b) => b.notChecked === undefined);
const ofLang = (...langs: string[]) => checked.filter((b) => langs.includes(b.lang));
const name = (b: CodeBlock) => `${b.file}:${b.line}`;

// A block that must fail, compiled in the same program as the real ones: proof that the check
// sees the package and reports the block's file and line.
const wrong: CodeBlock = {
  file: 'wrong.md',
  line: 10,
  lang: 'ts',
  code: "import { EphemeralRunners } from 'cdk-ephemeral-runners';\n\nnew EphemeralRunners(undefined as any, 'R', { runnerConfigs: [] });",
};
const tsBlocks = ofLang('ts', 'typescript');
const problems = typeScriptProblems(root, [...tsBlocks, wrong]);

describe('code blocks of README.md and docs/', () => {
  test('the docs have TypeScript, YAML and JSON blocks to check, the README sample among them', () => {
    expect(tsBlocks.filter((b) => b.file === 'README.md').length).toBeGreaterThan(0);
    expect(ofLang('yaml', 'yml').length).toBeGreaterThan(0);
    expect(ofLang('json').length).toBeGreaterThan(0);
  });

  test('blocks are found with their language and line, in lists too, and a not-checked comment is read', () => {
    const markdown = 'text\n\n<!-- not-checked: the middle of a stack, not a whole app -->\n```ts\nfoo(\n```\n\n1. step\n\n   ```yaml\n   a: 1\n   ```\n';
    expect(codeBlocks('x.md', markdown)).toEqual([
      { file: 'x.md', line: 4, lang: 'ts', code: 'foo(', notChecked: 'the middle of a stack, not a whole app' },
      { file: 'x.md', line: 10, lang: 'yaml', code: 'a: 1', notChecked: undefined },
    ]);
  });

  test('a block that does not compile is reported with its file and line', () => {
    expect(problems.get(wrong)).toEqual([expect.stringMatching(/^wrong\.md:13: TS2345: .*\bgithub\b/)]);
  });

  test('a wrong YAML or JSON block is reported with its file and line', () => {
    expect(yamlProblem({ ...wrong, lang: 'yaml', code: 'jobs:\n  build: [a\n' })).toMatch(/^wrong\.md:10: YAML block does not parse/);
    expect(jsonProblem({ ...wrong, lang: 'json', code: '{"a": 1,}' })).toMatch(/^wrong\.md:10: JSON block does not parse/);
  });

  test('every block left unchecked says why', () => {
    const unexplained = blocks.filter((b) => b.notChecked !== undefined && b.notChecked.length < 10);
    expect(unexplained.map(name)).toEqual([]);
  });

  test.each(tsBlocks.map((b) => [name(b), b] as const))('%s compiles against the package', (_, block) => {
    expect(problems.get(block)).toEqual([]);
  });

  test.each(ofLang('yaml', 'yml').map((b) => [name(b), b] as const))('%s is YAML', (_, block) => {
    expect(yamlProblem(block)).toBeUndefined();
  });

  test.each(ofLang('json').map((b) => [name(b), b] as const))('%s is JSON', (_, block) => {
    expect(jsonProblem(block)).toBeUndefined();
  });
});
