// Finds the sample app a reader copies from README.md: the first TypeScript block of its "Use it"
// section. Pure, so the consumer test and its unit test read the README the same way.

/** The README has no such section or block; the message names what was looked for. */
export class ReadmeSampleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReadmeSampleError';
  }
}

/** An open code fence: its marker (``` or ~~~, possibly longer) and whether it is TypeScript. */
interface Fence {
  readonly marker: string;
  readonly typescript: boolean;
}

const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([^\s`]*)/;

/** A level-2 heading's text, or undefined for any other line. */
function level2Heading(line: string): string | undefined {
  const match = /^ {0,3}##\s+(.*?)\s*#*\s*$/.exec(line);
  return match ? match[1].trim().toLowerCase() : undefined;
}

/**
 * The code of the first ```ts (or ```typescript) block under the level-2 heading `heading`,
 * before the next level-2 heading. Subheadings (###) are part of the section; blocks in other
 * languages are skipped whole, so a `##` line inside one does not end the section.
 */
export function extractReadmeSample(readme: string, heading = 'Use it'): string {
  const lines = readme.split(/\r?\n/);
  const start = lines.findIndex((line) => level2Heading(line) === heading.toLowerCase());
  if (start < 0) throw new ReadmeSampleError(`README.md has no "## ${heading}" heading`);

  let fence: Fence | undefined;
  const code: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (!fence) {
      const open = FENCE.exec(line);
      if (open) {
        fence = { marker: open[1], typescript: /^(ts|typescript)$/i.test(open[2]) };
      } else if (level2Heading(line) !== undefined) {
        break;
      }
      continue;
    }
    const close = FENCE.exec(line);
    const closes = close !== null && close[2] === '' && close[1][0] === fence.marker[0] && close[1].length >= fence.marker.length;
    if (closes) {
      if (fence.typescript) return `${code.join('\n')}\n`;
      fence = undefined;
    } else if (fence.typescript) {
      code.push(line);
    }
  }
  if (fence?.typescript) throw new ReadmeSampleError(`the TypeScript block under "## ${heading}" in README.md is never closed`);
  throw new ReadmeSampleError(`README.md has no \`\`\`ts block under "## ${heading}"`);
}
