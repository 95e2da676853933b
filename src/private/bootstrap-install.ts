// The bootstrap as the launch templates' user data installs it. EC2 takes 16 KB of user data, and
// the script shares them with the settings and a config's inline job hooks: so it travels without
// its comment lines (the runner image's copy and the repository keep them) and gzip'd, as base64.
import * as fs from 'fs';
import * as path from 'path';
import { gunzipSync, gzipSync } from 'zlib';

/** Where the instance keeps the bootstrap. */
export const BOOTSTRAP_PATH = '/opt/ephemeral-runners/bootstrap.sh';

/** The heredoc delimiter around the packed script; base64 never contains it. */
export const BOOTSTRAP_DELIMITER = 'EPHEMERAL_RUNNERS_BOOTSTRAP';

/** The script with its whole-line comments left out, the `#!` line kept. No line of it starts a heredoc or a multi-line string, so no such line is text. */
export function withoutComments(script: string): string {
  return script.split('\n').filter((line, i) => i === 0 || !/^\s*#/.test(line)).join('\n');
}

/** The shell commands that write the bootstrap to {@link BOOTSTRAP_PATH} (base64 and gunzip: coreutils and gzip, on every Ubuntu). */
export function bootstrapInstallCommands(): string[] {
  const script = fs.readFileSync(path.join(__dirname, '..', '..', 'image-builder', 'bootstrap.sh'), 'utf8');
  // gzip's header carries no time from Node.js (mtime 0), so the same script packs the same: synth is stable.
  const packed = gzipSync(Buffer.from(withoutComments(script), 'utf8'), { level: 9 }).toString('base64').match(/.{1,76}/g)!;
  return [
    `mkdir -p ${path.posix.dirname(BOOTSTRAP_PATH)}`,
    `base64 -d <<'${BOOTSTRAP_DELIMITER}' | gunzip > ${BOOTSTRAP_PATH}`,
    ...packed,
    BOOTSTRAP_DELIMITER,
    `chmod 755 ${BOOTSTRAP_PATH}`,
  ];
}

/** The bootstrap that user data (as text) installs, unpacked; undefined when it installs none. */
export function unpackBootstrap(userData: string): string | undefined {
  const lines = userData.split('\n');
  const start = lines.findIndex((l) => l.startsWith('base64 -d <<\'' + BOOTSTRAP_DELIMITER + '\''));
  const end = lines.indexOf(BOOTSTRAP_DELIMITER, start + 1);
  return start < 0 || end < 0 ? undefined : gunzipSync(Buffer.from(lines.slice(start + 1, end).join(''), 'base64')).toString('utf8');
}
