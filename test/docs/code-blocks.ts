// The code blocks of the README and docs/, checked the way a reader would use them: TypeScript
// compiled against this package, YAML and JSON parsed.
import * as fs from 'fs';
import * as path from 'path';
import * as yaml from 'js-yaml';
import * as ts from 'typescript';

/** A fenced block of a markdown file. */
export interface CodeBlock {
  /** The markdown file, relative to the repository root. */
  readonly file: string;
  /** 1-based line of the block's opening fence. */
  readonly line: number;
  /** The fence's info string, lower-cased: `ts`, `yaml`, `` (none) … */
  readonly lang: string;
  readonly code: string;
  /** The reason given by a `<!-- not-checked: reason -->` comment right before the block. */
  readonly notChecked?: string;
}

const NOT_CHECKED = /^<!--\s*not-checked:\s*(.*?)\s*-->$/;

/** Every fenced block of `markdown`, with the line it starts at. */
export function codeBlocks(file: string, markdown: string): CodeBlock[] {
  const lines = markdown.split('\n');
  const blocks: CodeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*([^\s`]*)/.exec(lines[i]);
    if (!open) continue;
    const [, indent, fence, info] = open;
    let end = i + 1;
    while (end < lines.length && !lines[end].trim().startsWith(fence)) end++;
    let previous = i - 1;
    while (previous >= 0 && lines[previous].trim() === '') previous--;
    const marker = previous >= 0 ? NOT_CHECKED.exec(lines[previous].trim()) : null;
    blocks.push({
      file,
      line: i + 1,
      lang: info.toLowerCase(),
      // A block inside a list item is indented: the code is what is left of each line.
      code: lines.slice(i + 1, end).map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l)).join('\n'),
      notChecked: marker ? marker[1] : undefined,
    });
    i = end;
  }
  return blocks;
}

/** The README and every markdown file of docs/, relative to `root`. */
export function documentationFiles(root: string): string[] {
  const docs = fs.readdirSync(path.join(root, 'docs')).filter((f) => f.endsWith('.md')).sort();
  return ['README.md', ...docs.map((f) => `docs/${f}`)];
}

/** Why a YAML block does not parse, or undefined. */
export function yamlProblem(block: CodeBlock): string | undefined {
  return parseProblem(block, 'YAML', (code) => yaml.loadAll(code));
}

/** Why a JSON block does not parse, or undefined. */
export function jsonProblem(block: CodeBlock): string | undefined {
  return parseProblem(block, 'JSON', (code) => JSON.parse(code));
}

function parseProblem(block: CodeBlock, language: string, parse: (code: string) => unknown): string | undefined {
  try {
    parse(block.code);
    return undefined;
  } catch (e) {
    return `${block.file}:${block.line}: ${language} block does not parse: ${(e as Error).message}`;
  }
}

/**
 * Type-checks TypeScript blocks in one program, each as a module of its own (so two blocks may
 * both declare `app`), with the project's dev tsconfig: `cdk-ephemeral-runners` resolves to
 * src/index.ts, as it does for the examples. Returns the problems of each block, by block.
 */
export function typeScriptProblems(root: string, blocks: CodeBlock[]): Map<CodeBlock, string[]> {
  const configPath = path.join(root, 'tsconfig.dev.json');
  const config = ts.getParsedCommandLineOfConfigFile(configPath, {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  })!;
  const virtual = new Map<string, { block: CodeBlock; text: string }>();
  blocks.forEach((block, i) => {
    // Under test/ so the dev tsconfig's rootDir and paths apply; never written to disk.
    const fileName = path.join(root, 'test', 'docs', `.block-${i}-${block.file.replace(/[^A-Za-z0-9]/g, '_')}-L${block.line}.ts`);
    virtual.set(fileName, { block, text: `${block.code}\nexport {};\n` });
  });
  const options: ts.CompilerOptions = { ...config.options, noEmit: true, incremental: false, tsBuildInfoFile: undefined };
  const host = ts.createCompilerHost(options, true);
  const getSourceFile = host.getSourceFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  const readFile = host.readFile.bind(host);
  host.getSourceFile = (fileName, languageVersion, ...rest) => {
    const v = virtual.get(path.resolve(fileName));
    return v ? ts.createSourceFile(fileName, v.text, languageVersion, true) : getSourceFile(fileName, languageVersion, ...rest);
  };
  host.fileExists = (fileName) => virtual.has(path.resolve(fileName)) || fileExists(fileName);
  host.readFile = (fileName) => virtual.get(path.resolve(fileName))?.text ?? readFile(fileName);
  const program = ts.createProgram({ rootNames: [...virtual.keys()], options, host });

  const problems = new Map<CodeBlock, string[]>();
  for (const [fileName, { block }] of virtual) {
    const source = program.getSourceFile(fileName)!;
    const diagnostics = [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)];
    problems.set(block, diagnostics.map((d) => {
      // The fence is line `block.line`; the block's first line is the one after it.
      const at = d.start === undefined ? block.line + 1 : block.line + 1 + source.getLineAndCharacterOfPosition(d.start).line;
      return `${block.file}:${at}: TS${d.code}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;
    }));
  }
  return problems;
}
