// The relative links of the README and docs/, checked as GitHub renders them: the file a link names
// exists, and the heading it points at has the anchor GitHub gives it (github-slugger, the slugs of
// GitHub's own markdown headings). A document with a contents list lists every section, in order.
import * as fs from 'fs';
import * as path from 'path';
import GithubSlugger from 'github-slugger';

/** A link of a markdown file: inline `[text](target)` or a reference definition `[name]: target`. */
export interface Link {
  readonly line: number;
  readonly target: string;
}

/** A markdown file's lines, fenced blocks blanked (the numbering stays). */
function outsideFences(markdown: string): string[] {
  let fence: string | undefined;
  return markdown.split('\n').map((line) => {
    if (fence !== undefined) {
      if (line.trim().startsWith(fence)) fence = undefined;
      return '';
    }
    const open = /^\s*(`{3,}|~{3,})/.exec(line);
    if (open) fence = open[1];
    return open ? '' : line;
  });
}

/** Headings' text as GitHub renders it: no code ticks, emphasis or link targets. */
function headingText(markdown: string): string {
  return markdown.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/[`*]/g, '').trim();
}

/** The anchors of a markdown file: one per heading, as GitHub makes them, and explicit `<a name|id>`. */
export function anchorsOf(markdown: string): string[] {
  const slugger = new GithubSlugger();
  const anchors: string[] = [];
  for (const line of outsideFences(markdown)) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading) anchors.push(slugger.slug(headingText(heading[1])));
    for (const explicit of line.matchAll(/<a\s+(?:name|id)="([^"]+)"/g)) anchors.push(explicit[1]);
  }
  return anchors;
}

/** The `## ` sections of a markdown file, as anchors, in order. */
function sectionsOf(markdown: string): string[] {
  const slugger = new GithubSlugger();
  const sections: string[] = [];
  for (const line of outsideFences(markdown)) {
    const heading = /^(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const slug = slugger.slug(headingText(heading[2]));
    if (heading[1] === '##') sections.push(slug);
  }
  return sections;
}

/** Every link of a markdown file, outside code. */
export function linksOf(markdown: string): Link[] {
  const links: Link[] = [];
  // Inline code is blanked: a `[x](y)` there is text, not a link.
  outsideFences(markdown).map((l) => l.replace(/`[^`]*`/g, (code) => ' '.repeat(code.length))).forEach((text, i) => {
    for (const m of text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) links.push({ line: i + 1, target: m[1] });
    const definition = /^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+"[^"]*")?\s*$/.exec(text);
    if (definition) links.push({ line: i + 1, target: definition[1] });
  });
  return links;
}

/**
 * What is wrong with the relative links of `file` (relative to `root`): a file that does not exist,
 * an anchor no heading of the target has. Each problem names the file and line.
 */
export function linkProblems(root: string, file: string, markdown: string, read: (file: string) => string | undefined = readFile(root)): string[] {
  const problems: string[] = [];
  for (const { line, target } of linksOf(markdown)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto: …
    const [pathPart, anchor] = splitAnchor(target);
    const targetFile = pathPart === '' ? file : path.posix.normalize(path.posix.join(path.posix.dirname(file), decodeURI(pathPart)));
    const text = pathPart === '' ? markdown : read(targetFile);
    if (text === undefined) {
      problems.push(`${file}:${line}: ${target}: ${targetFile} does not exist`);
      continue;
    }
    if (anchor !== undefined && targetFile.endsWith('.md') && !anchorsOf(text).includes(anchor)) {
      problems.push(`${file}:${line}: ${target}: ${targetFile} has no heading with the anchor #${anchor}`);
    }
  }
  return problems;
}

/**
 * A contents list (links to `#…` in list items before the first `## `) that does not list every
 * `## ` section in order; none for a document without one.
 */
export function contentsProblems(file: string, markdown: string): string[] {
  const lines = outsideFences(markdown);
  const first = lines.findIndex((l) => l.startsWith('## '));
  const contents = lines.slice(0, first < 0 ? lines.length : first)
    .flatMap((l) => [.../^\s*[-*]\s+\[[^\]]*\]\(#([^)]+)\)/.exec(l)?.slice(1) ?? []]);
  if (contents.length === 0) return [];
  const sections = sectionsOf(markdown);
  if (contents.join('\n') === sections.join('\n')) return [];
  const missing = sections.filter((s) => !contents.includes(s));
  const extra = contents.filter((c) => !sections.includes(c));
  return [`${file}: the contents list is not the document's sections in order` +
    `${missing.length ? `; missing ${missing.map((s) => `#${s}`).join(', ')}` : ''}` +
    `${extra.length ? `; no such section: ${extra.map((s) => `#${s}`).join(', ')}` : ''}`];
}

function splitAnchor(target: string): [string, string | undefined] {
  const hash = target.indexOf('#');
  return hash < 0 ? [target, undefined] : [target.slice(0, hash), target.slice(hash + 1)];
}

function readFile(root: string): (file: string) => string | undefined {
  return (file) => {
    const full = path.join(root, file);
    if (!fs.existsSync(full)) return undefined;
    return fs.statSync(full).isDirectory() ? '' : fs.readFileSync(full, 'utf8');
  };
}
