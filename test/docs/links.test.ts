import * as fs from 'fs';
import * as path from 'path';
import { documentationFiles } from './code-blocks';
import { anchorsOf, contentsProblems, linkProblems, linksOf } from './links';

const root = path.resolve(__dirname, '..', '..');
const files = documentationFiles(root).map((file) => ({ file, markdown: fs.readFileSync(path.join(root, file), 'utf8') }));

describe('links of README.md and docs/', () => {
  test('every relative link names a file that exists and, in a markdown file, a heading it has', () => {
    expect(files.flatMap(({ file, markdown }) => linkProblems(root, file, markdown))).toEqual([]);
  });

  test('a document with a contents list lists every section, in order', () => {
    expect(files.flatMap(({ file, markdown }) => contentsProblems(file, markdown))).toEqual([]);
  });

  test('the docs link to each other by anchor: the check has links to check', () => {
    const anchored = files.flatMap(({ markdown }) => linksOf(markdown)).filter((l) => /^[^:]*\.md#|^#/.test(l.target));
    expect(anchored.length).toBeGreaterThan(50);
  });
});

describe('the check itself', () => {
  const other = '# Other\n\n## A fleet-wide cap: `maxInstances`\n\n## Setup around `cdk deploy`\n\n## Twice\n\n## Twice\n';
  const read = (file: string) => (file === 'docs/other.md' ? other : undefined);

  test('anchors are GitHub\'s: code ticks dropped, punctuation removed, a repeated heading numbered', () => {
    expect(anchorsOf(other)).toEqual(['other', 'a-fleet-wide-cap-maxinstances', 'setup-around-cdk-deploy', 'twice', 'twice-1']);
  });

  test('a missing file and a missing anchor are reported with file and line; links in code and absolute URLs are not checked', () => {
    const markdown = [
      '# Doc',
      'See [cap](other.md#a-fleet-wide-cap-maxinstances), [twice](other.md#twice-1) and [here](#doc).',
      'Broken: [gone](missing.md), [no anchor](other.md#what-synth-refuses) and [self](#nowhere).',
      '`[not a link](nowhere.md)` and [web](https://example.com/#x)',
      '```md',
      '[in a block](nowhere.md)',
      '```',
      '[ref]: other.md#nope',
    ].join('\n');

    expect(linkProblems(root, 'docs/doc.md', markdown, read)).toEqual([
      'docs/doc.md:3: missing.md: docs/missing.md does not exist',
      'docs/doc.md:3: other.md#what-synth-refuses: docs/other.md has no heading with the anchor #what-synth-refuses',
      'docs/doc.md:3: #nowhere: docs/doc.md has no heading with the anchor #nowhere',
      'docs/doc.md:8: other.md#nope: docs/other.md has no heading with the anchor #nope',
    ]);
  });

  test('a contents list that leaves a section out, or names one that is not there, is reported', () => {
    const markdown = '# Doc\n\n- [One](#one)\n- [Three](#three)\n\n## One\n\n## Two\n';

    expect(contentsProblems('doc.md', markdown)).toEqual(['doc.md: the contents list is not the document\'s sections in order; missing #two; no such section: #three']);
    expect(contentsProblems('doc.md', '# Doc\n\n## One\n')).toEqual([]);
  });
});
